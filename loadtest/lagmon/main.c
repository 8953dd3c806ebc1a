/*
 * lagmon: consumer-group lag over time, for the benchmark report.
 *
 *   lagmon [--brokers B] [--interval-ms 1000] GROUP=TOPIC[,TOPIC...] ...
 *
 * Every interval prints one JSON line {"t_ms":<wall clock>,"lag":{GROUP:N}}
 * where N is the sum over the group's partitions of the high watermark minus
 * the committed offset (the log start when nothing is committed yet). Stops
 * on SIGINT/SIGTERM. The sidecars commit stored offsets every second, so the
 * figure trails the true position by up to a second of traffic.
 *
 *   lagmon --once [--brokers B] GROUP=TOPIC[,TOPIC...] ...
 *
 * prints one line {"t_ms":..,"lag":{GROUP:N},"end":{GROUP:E}} and exits, E
 * being the sum of the high watermarks (messages ever produced to the
 * group's topics): make profile takes it before and after its workload.
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadtest/loadgen/stats.h"
#include "resilience/sidecar/kafka.h"
#include "svc/clock.h"

#define MAX_GROUPS 16
#define MAX_PARTS  256 /* per group */

struct group {
	const char *name;
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *parts;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static rd_kafka_t *consumer(const char *brokers, const char *group)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "lagmon: %s\n", err);
	return rk;
}

/* adds every partition of topic to g->parts; 0 or -1 */
static int add_topic(struct group *g, const char *topic)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = rd_kafka_topic_new(g->rk, topic, NULL);
	int rc = -1;

	if (t && rd_kafka_metadata(g->rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    md->topic_cnt == 1 && !md->topics[0].err) {
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			rd_kafka_topic_partition_list_add(g->parts, topic,
			                                  md->topics[0].partitions[p].id);
		rc = 0;
	} else {
		fprintf(stderr, "lagmon: no metadata for topic %s\n", topic);
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
	return rc;
}

/* GROUP=TOPIC,TOPIC -> g; 0 or -1 */
static int group_init(struct group *g, const char *brokers, char *spec)
{
	char *eq = strchr(spec, '='), *save = NULL, *topic;

	if (!eq)
		return -1;
	*eq = '\0';
	g->name = spec;
	g->rk = consumer(brokers, spec);
	g->parts = rd_kafka_topic_partition_list_new(8);
	if (!g->rk)
		return -1;
	for (topic = strtok_r(eq + 1, ",", &save); topic; topic = strtok_r(NULL, ",", &save))
		if (add_topic(g, topic))
			return -1;
	return 0;
}

/* sum over g's partitions of high watermark - committed offset (the log start
 * when nothing is committed); *end gets the sum of the high watermarks. The
 * watermarks of all of g's partitions come in one request (two when a
 * partition has nothing committed): sidecar/kafka.h. */
static long group_lag(struct group *g, long *end)
{
	int64_t lags[MAX_PARTS], ends[MAX_PARTS];
	long lag = 0;

	*end = 0;
	if (g->parts->cnt > MAX_PARTS ||
	    rd_kafka_committed(g->rk, g->parts, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    sc_kafka_lags(&sc_kafka_librdkafka, g->rk, g->parts, lags, ends, 5000) !=
	            RD_KAFKA_RESP_ERR_NO_ERROR)
		return -1;
	for (int i = 0; i < g->parts->cnt; i++) {
		if (lags[i] == SC_KAFKA_UNREAD)
			return -1;
		lag += (long)lags[i];
		*end += (long)ends[i];
	}
	return lag;
}

int main(int argc, char **argv)
{
	const char *brokers = getenv("KAFKA_BROKERS");
	long interval_ms = 1000;
	struct group groups[MAX_GROUPS];
	int n = 0, rc = 1;
	bool once = false;

	memset(groups, 0, sizeof(groups));
	if (!brokers)
		brokers = "127.0.0.1:9092";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
			brokers = argv[++i];
		} else if (!strcmp(argv[i], "--once")) {
			once = true;
		} else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
			if (lt_parse_long(argv[++i], 10, 3600000, &interval_ms))
				goto usage;
		} else if (n < MAX_GROUPS && strchr(argv[i], '=')) {
			if (group_init(&groups[n++], brokers, argv[i]))
				goto out;
		} else {
			goto usage;
		}
	}
	if (n == 0)
		goto usage;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stopping) {
		int64_t next = lt_now_us() + interval_ms * 1000;
		long end[MAX_GROUPS];
		printf("{\"t_ms\":%lld,\"lag\":{", (long long)lt_wall_ms());
		for (int g = 0; g < n; g++)
			printf("%s\"%s\":%ld", g ? "," : "", groups[g].name,
			       group_lag(&groups[g], &end[g]));
		printf("},\"end\":{");
		for (int g = 0; g < n; g++)
			printf("%s\"%s\":%ld", g ? "," : "", groups[g].name, end[g]);
		printf("}}\n");
		fflush(stdout);
		if (once)
			break;
		int64_t left = next - lt_now_us();
		if (left > 0)
			svc_sleep_ms((uint64_t)(left / 1000));
	}
	rc = 0;
	goto out;
usage:
	fprintf(stderr,
	        "usage: lagmon [--once] [--brokers B] [--interval-ms N] GROUP=TOPIC[,TOPIC] ...\n");
	rc = 2;
out:
	for (int g = 0; g < n; g++) {
		if (groups[g].parts)
			rd_kafka_topic_partition_list_destroy(groups[g].parts);
		if (groups[g].rk)
			rd_kafka_destroy(groups[g].rk);
	}
	return rc;
}
