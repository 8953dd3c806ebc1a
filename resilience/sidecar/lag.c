/* Consumer lag from committed offsets and watermarks (lag.h). */
#include "resilience/sidecar/lag.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/kafka.h"
#include "svc/log.h"
#include "svc/prom.h"

struct sc_lag {
	const struct sc_config *cfg;
	const struct sc_kafka_ops *kafka;
	rd_kafka_t *rk;
};

struct sc_lag *sc_lag_new(const struct sc_config *cfg)
{
	static const char who[] = "kafka lag client";
	struct sc_lag *lag = NULL;
	rd_kafka_conf_t *conf = NULL;
	char err[512], client_id[sizeof(cfg->log_name) + 8];

	if (!sc_config_has_inbound(cfg))
		return NULL;
	snprintf(client_id, sizeof(client_id), "%s-lag", cfg->log_name);
	conf = sc_kafka_conf_new(&cfg->kafka, client_id, who);
	if (!conf)
		return NULL;
	/* The group's id to read its offsets; without subscribe() or assign()
	 * it never joins the group. */
	if (sc_kafka_conf_set(conf, who, "group.id", cfg->group) ||
	    sc_kafka_conf_set(conf, who, "enable.auto.commit", "false"))
		goto fail_conf;
	lag = calloc(1, sizeof(*lag));
	if (!lag)
		goto fail_conf;
	lag->cfg = cfg;
	lag->kafka = sc_kafka_ops_of(&cfg->kafka);
	lag->rk = lag->kafka->new_client(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!lag->rk) {
		svc_error("%s: %s", who, err);
		free(lag);
		goto fail_conf;
	}
	return lag;

fail_conf:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

void sc_lag_free(struct sc_lag *lag)
{
	if (!lag)
		return;
	lag->kafka->destroy(lag->rk);
	free(lag);
}

/* Adds every partition of `topic` to `parts`. */
static void add_topic(struct sc_lag *lag, const char *topic, rd_kafka_topic_partition_list_t *parts)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = lag->kafka->topic_new(lag->rk, topic, NULL);

	if (t &&
	    lag->kafka->metadata(lag->rk, 0, t, &md, SC_LAG_TIMEOUT_MS) ==
	            RD_KAFKA_RESP_ERR_NO_ERROR &&
	    md->topic_cnt == 1 && !md->topics[0].err)
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			rd_kafka_topic_partition_list_add(parts, topic,
			                                  md->topics[0].partitions[p].id);
	if (md)
		lag->kafka->metadata_destroy(md);
	if (t)
		lag->kafka->topic_destroy(t);
}

void sc_lag_collect(struct svc_prom *r, void *arg)
{
	struct sc_lag *lag = arg;
	struct svc_prom_metric *g = svc_prom_gauge(
	        r, "saga_consumer_lag",
	        "Messages of a partition not yet committed by the sidecar's consumer group.",
	        "topic,partition");
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
	const char *p = lag->cfg->subscribe;
	int64_t *lags = NULL, *ends = NULL;
	size_t n;

	if (!parts)
		return;
	while (*p) {
		size_t len = strcspn(p, ",");
		char topic[256];

		if (len > 0 && len < sizeof(topic)) {
			memcpy(topic, p, len);
			topic[len] = '\0';
			add_topic(lag, topic, parts);
		}
		p += len + (p[len] == ',');
	}
	if (parts->cnt == 0 ||
	    lag->kafka->committed(lag->rk, parts, SC_LAG_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
		goto release;
	n = parts->cnt > 0 ? (size_t)parts->cnt : 1;
	lags = calloc(n, sizeof(*lags));
	ends = calloc(n, sizeof(*ends));
	if (!lags || !ends ||
	    sc_kafka_lags(lag->kafka, lag->rk, parts, lags, ends, SC_LAG_TIMEOUT_MS) !=
	            RD_KAFKA_RESP_ERR_NO_ERROR)
		goto release;
	for (int i = 0; i < parts->cnt; i++) {
		char partition[16];

		if (lags[i] == SC_KAFKA_UNREAD)
			continue;
		snprintf(partition, sizeof(partition), "%d", (int)parts->elems[i].partition);
		svc_prom_set(svc_prom_at(g, parts->elems[i].topic, partition), lags[i]);
	}
release:
	free(lags);
	free(ends);
	rd_kafka_topic_partition_list_destroy(parts);
}
