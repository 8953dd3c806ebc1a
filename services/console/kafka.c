/* Topics, offsets and consumer lag from the brokers (kafka.h). */
#include "services/console/kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/kafka.h"
#include "svc/clock.h"
#include "svc/log.h"

struct console_kafka {
	const struct console_config *cfg;
	rd_kafka_t *meta;                       /* metadata and watermarks */
	rd_kafka_t *groups[CONSOLE_GROUPS_MAX]; /* one per group: its committed offsets */
	pthread_mutex_t lock;                   /* one snapshot at a time */
	json_t *cached;                         /* under lock */
	uint64_t cached_at;
};

static rd_kafka_t *client(const struct console_config *cfg, const char *group)
{
	static const char who[] = "kafka console client";
	rd_kafka_conf_t *conf = sc_kafka_conf_new(&cfg->kafka, "saga-console", who);
	rd_kafka_t *rk;
	char err[512];

	if (!conf)
		return NULL;
	/* group.id only to read the group's offsets: without subscribe() or
	 * assign() the client never joins it */
	if (sc_kafka_conf_set(conf, who, "group.id", group) ||
	    sc_kafka_conf_set(conf, who, "enable.auto.commit", "false")) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		svc_error("%s: %s", who, err);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

struct console_kafka *console_kafka_new(const struct console_config *cfg)
{
	struct console_kafka *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->cfg = cfg;
	if (pthread_mutex_init(&k->lock, NULL) != 0) {
		free(k);
		return NULL;
	}
	k->meta = client(cfg, "saga-console");
	for (size_t i = 0; k->meta && i < cfg->ngroups; i++)
		if (!(k->groups[i] = client(cfg, cfg->groups[i]))) {
			console_kafka_free(k);
			return NULL;
		}
	if (!k->meta) {
		console_kafka_free(k);
		return NULL;
	}
	return k;
}

void console_kafka_free(struct console_kafka *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < CONSOLE_GROUPS_MAX; i++)
		if (k->groups[i])
			rd_kafka_destroy(k->groups[i]);
	if (k->meta)
		rd_kafka_destroy(k->meta);
	json_decref(k->cached);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static int by_name(const void *a, const void *b)
{
	const struct rd_kafka_metadata_topic *x = *(const struct rd_kafka_metadata_topic *const *)a;
	const struct rd_kafka_metadata_topic *y = *(const struct rd_kafka_metadata_topic *const *)b;

	return strcmp(x->topic, y->topic);
}

/* The topics worth showing, sorted by name, in *out (caller frees). */
static int sorted_topics(const struct rd_kafka_metadata *md,
                         const struct rd_kafka_metadata_topic ***out)
{
	const struct rd_kafka_metadata_topic **t = calloc((size_t)md->topic_cnt + 1, sizeof(*t));
	int n = 0;

	if (!t)
		return -1;
	for (int i = 0; i < md->topic_cnt; i++)
		if (!md->topics[i].err && strncmp(md->topics[i].topic, "__", 2) != 0)
			t[n++] = &md->topics[i];
	qsort(t, (size_t)n, sizeof(*t), by_name);
	*out = t;
	return n;
}

/* Each group's committed offsets for every partition of `parts` (a copy
 * per group, NULL when the group's read failed). */
static void read_committed(struct console_kafka *k, const rd_kafka_topic_partition_list_t *parts,
                           rd_kafka_topic_partition_list_t **committed)
{
	for (size_t g = 0; g < k->cfg->ngroups; g++) {
		committed[g] = rd_kafka_topic_partition_list_copy(parts);
		if (committed[g] &&
		    rd_kafka_committed(k->groups[g], committed[g], CONSOLE_KAFKA_TIMEOUT_MS) !=
		            RD_KAFKA_RESP_ERR_NO_ERROR) {
			rd_kafka_topic_partition_list_destroy(committed[g]);
			committed[g] = NULL;
		}
	}
}

/* One partition: its log start `lo` and end `hi` (-1 when not read) and
 * each group's committed offset and lag. */
static json_t *partition_json(struct console_kafka *k, const char *topic, int32_t partition,
                              int64_t lo, int64_t hi, rd_kafka_topic_partition_list_t **committed)
{
	json_t *groups = json_array(), *p;

	for (size_t g = 0; groups && g < k->cfg->ngroups; g++) {
		rd_kafka_topic_partition_t *tp =
		        committed[g]
		                ? rd_kafka_topic_partition_list_find(committed[g], topic, partition)
		                : NULL;

		if (!tp || tp->offset < 0)
			continue; /* the group does not consume it */
		json_array_append_new(
		        groups, json_pack("{s:s, s:I, s:o}", "group", k->cfg->groups[g],
		                          "committed", (json_int_t)tp->offset, "lag",
		                          hi >= 0 ? json_integer(hi - tp->offset) : json_null()));
	}
	p = json_pack("{s:i, s:I, s:I, s:o}", "partition", (int)partition, "start", (json_int_t)lo,
	              "end", (json_int_t)hi, "groups", groups ? groups : json_array());
	return p;
}

static json_t *take_snapshot(struct console_kafka *k)
{
	const struct rd_kafka_metadata *md = NULL;
	const struct rd_kafka_metadata_topic **topics = NULL;
	rd_kafka_topic_partition_list_t *parts = NULL, *committed[CONSOLE_GROUPS_MAX] = {0};
	json_t *out = json_pack("{s:[], s:[]}", "topics", "groups"), *jt;
	int64_t *lo = NULL, *hi = NULL;
	rd_kafka_resp_err_t err;
	int n;

	if (!out)
		return NULL;
	for (size_t g = 0; g < k->cfg->ngroups; g++)
		json_array_append_new(json_object_get(out, "groups"),
		                      json_string(k->cfg->groups[g]));
	err = rd_kafka_metadata(k->meta, 1, NULL, &md, CONSOLE_KAFKA_TIMEOUT_MS);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		json_object_set_new(out, "error", json_string(rd_kafka_err2str(err)));
		return out;
	}
	n = sorted_topics(md, &topics);
	parts = rd_kafka_topic_partition_list_new(64);
	if (n < 0 || !parts)
		goto release;
	for (int i = 0; i < n; i++)
		for (int p = 0; p < topics[i]->partition_cnt; p++)
			rd_kafka_topic_partition_list_add(parts, topics[i]->topic,
			                                  topics[i]->partitions[p].id);
	read_committed(k, parts, committed);
	lo = calloc(parts->cnt > 0 ? (size_t)parts->cnt : 1, sizeof(*lo));
	hi = calloc(parts->cnt > 0 ? (size_t)parts->cnt : 1, sizeof(*hi));
	if (!lo || !hi)
		goto release;
	/* every partition's start and end in two requests (sidecar/kafka.h) */
	sc_kafka_watermarks(&sc_kafka_librdkafka, k->meta, parts, lo, hi, CONSOLE_KAFKA_TIMEOUT_MS);
	for (int i = 0, at = 0; i < n; i++) {
		json_t *jp = json_array();

		for (int p = 0; p < topics[i]->partition_cnt; p++, at++)
			if (jp)
				json_array_append_new(jp,
				                      partition_json(k, topics[i]->topic,
				                                     topics[i]->partitions[p].id,
				                                     lo[at], hi[at], committed));
		jt = json_pack("{s:s, s:o}", "name", topics[i]->topic, "partitions",
		               jp ? jp : json_array());
		json_array_append_new(json_object_get(out, "topics"), jt);
	}
release:
	for (size_t g = 0; g < CONSOLE_GROUPS_MAX; g++)
		if (committed[g])
			rd_kafka_topic_partition_list_destroy(committed[g]);
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	free(lo);
	free(hi);
	free(topics);
	rd_kafka_metadata_destroy(md);
	return out;
}

json_t *console_kafka_snapshot(struct console_kafka *k)
{
	json_t *out;

	pthread_mutex_lock(&k->lock);
	if (!k->cached || svc_mono_ms() - k->cached_at >= CONSOLE_KAFKA_CACHE_MS) {
		json_t *fresh = take_snapshot(k);

		if (fresh) {
			json_decref(k->cached);
			k->cached = fresh;
			k->cached_at = svc_mono_ms();
		}
	}
	out = k->cached ? json_deep_copy(k->cached) : NULL;
	pthread_mutex_unlock(&k->lock);
	return out;
}
