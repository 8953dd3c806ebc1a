/* Topic creation with rd_kafka_CreateTopics ("already exists" is success), then
 * a wait for the topics to subscribe to. */
#include "resilience/sidecar/topics.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/kafkaconf.h"
#include "svc/clock.h"
#include "svc/config.h"
#include "svc/events.h"
#include "svc/log.h"

#define SC_MAX_TOPICS       64
#define SC_ADMIN_TIMEOUT_MS 30000
#define SC_TOPIC_LIST_MAX   2048

static const char *const standard_topics[] = {
        TOPIC_ORDER_EVENTS,
        TOPIC_INVENTORY_COMMANDS,
        TOPIC_INVENTORY_EVENTS,
        TOPIC_PAYMENT_COMMANDS,
        TOPIC_PAYMENT_EVENTS,
        TOPIC_NOTIFICATION_EVENTS,
        "order.dlq",
        "inventory.dlq",
        "payment.dlq",
        "notification.dlq",
};

struct topics_args {
	long partitions;
	long replication;
	long wait_s;                      /* keep trying this long (0: one attempt) */
	struct sc_config cfg;             /* KAFKA_* (brokers and security), SUBSCRIBE_TOPICS */
	const char *names[SC_MAX_TOPICS]; /* to create */
	size_t n;
	const char *needed[SC_MAX_TOPICS]; /* to wait for: SUBSCRIBE_TOPICS */
	size_t nneeded;
	char create_list[SC_TOPIC_LIST_MAX]; /* CREATE_TOPICS, split in place */
	char subscribe_list[SC_TOPIC_LIST_MAX];
};

/* Splits the comma-separated `list` (copied into buf) into names[*n...]. 0, or
 * -1 when it does not fit. */
static int split_list(const char *var, const char *list, char *buf, size_t size, const char **names,
                      size_t *n)
{
	char *save = NULL;

	if (strlen(list) >= size) {
		svc_error("create-topics: %s is longer than %zu bytes", var, size - 1);
		return -1;
	}
	memcpy(buf, list, strlen(list) + 1);
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (*n >= SC_MAX_TOPICS) {
			svc_error("create-topics: more than %d topics", SC_MAX_TOPICS);
			return -1;
		}
		names[(*n)++] = t;
	}
	return 0;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;

	if (!s)
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, struct topics_args *a)
{
	const char *create = svc_env_str("CREATE_TOPICS", NULL);

	sc_config_from_env(&a->cfg);
	a->partitions = svc_env_long("TOPIC_PARTITIONS", 6, 1, 10000);
	a->replication = svc_env_long("TOPIC_REPLICATION", 1, 1, 100);
	a->wait_s = 0;
	a->n = 0;
	a->nneeded = 0;
	if (create) {
		if (split_list("CREATE_TOPICS", create, a->create_list, sizeof(a->create_list),
		               a->names, &a->n) != 0)
			return -1;
	} else {
		for (size_t i = 0; i < sizeof(standard_topics) / sizeof(standard_topics[0]); i++)
			a->names[a->n++] = standard_topics[i];
	}
	if (split_list("SUBSCRIBE_TOPICS", a->cfg.subscribe, a->subscribe_list,
	               sizeof(a->subscribe_list), a->needed, &a->nneeded) != 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--partitions") == 0) {
			if (!parse_long(i + 1 < argc ? argv[++i] : NULL, 1, 10000, &a->partitions))
				return -1;
		} else if (strcmp(arg, "--replication") == 0) {
			if (!parse_long(i + 1 < argc ? argv[++i] : NULL, 1, 100, &a->replication))
				return -1;
		} else if (strcmp(arg, "--wait") == 0) {
			if (!parse_long(i + 1 < argc ? argv[++i] : NULL, 0, 86400, &a->wait_s))
				return -1;
		} else if (strcmp(arg, "--brokers") == 0) {
			if (i + 1 >= argc)
				return -1;
			a->cfg.kafka.brokers = argv[++i];
		} else if (arg[0] == '-' || a->n >= SC_MAX_TOPICS) {
			return -1;
		} else {
			a->names[a->n++] = arg;
		}
	}
	return 0;
}

/* Reads the CreateTopics result: number of topics that do not exist. */
static size_t count_failures(rd_kafka_event_t *ev)
{
	const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
	size_t n = 0, failed = 0;

	if (!res) {
		svc_error("create-topics: %s", rd_kafka_event_error_string(ev));
		return SIZE_MAX;
	}
	const rd_kafka_topic_result_t **topics = rd_kafka_CreateTopics_result_topics(res, &n);
	for (size_t i = 0; i < n; i++) {
		rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[i]);
		const char *name = rd_kafka_topic_result_name(topics[i]);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			svc_info("create-topics: %s created", name);
		} else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			svc_info("create-topics: %s already exists", name);
		} else {
			svc_error("create-topics: %s: %s", name,
			          rd_kafka_topic_result_error_string(topics[i]));
			failed++;
		}
	}
	return failed;
}

/* Creates a->names. 0 when every one exists afterwards, else 1. */
static int create_topics(rd_kafka_t *rk, const struct topics_args *a)
{
	char err[512];
	rd_kafka_NewTopic_t *topics[SC_MAX_TOPICS] = {0};
	rd_kafka_AdminOptions_t *opts = NULL;
	rd_kafka_queue_t *queue = NULL;
	rd_kafka_event_t *ev = NULL;
	int rc = 1;

	if (a->n == 0)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		topics[i] = rd_kafka_NewTopic_new(a->names[i], (int)a->partitions,
		                                  (int)a->replication, err, sizeof(err));
		if (!topics[i]) {
			svc_error("create-topics: %s: %s", a->names[i], err);
			goto out;
		}
	}
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (rd_kafka_AdminOptions_set_operation_timeout(opts, SC_ADMIN_TIMEOUT_MS, err,
	                                                sizeof(err)) ||
	    rd_kafka_AdminOptions_set_request_timeout(opts, SC_ADMIN_TIMEOUT_MS, err,
	                                              sizeof(err))) {
		svc_error("create-topics: %s", err);
		goto out;
	}
	queue = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, topics, a->n, opts, queue);
	ev = rd_kafka_queue_poll(queue, SC_ADMIN_TIMEOUT_MS + 5000);
	if (!ev) {
		svc_error("create-topics: no answer from %s", a->cfg.kafka.brokers);
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		svc_error("create-topics: %s", rd_kafka_event_error_string(ev));
		goto out;
	}
	rc = count_failures(ev) == 0 ? 0 : 1;
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (queue)
		rd_kafka_queue_destroy(queue);
	if (opts)
		rd_kafka_AdminOptions_destroy(opts);
	for (size_t i = 0; i < a->n; i++)
		if (topics[i])
			rd_kafka_NewTopic_destroy(topics[i]);
	return rc;
}

static bool listed(const struct rd_kafka_metadata *md, const char *name)
{
	for (int i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, name) == 0)
			return md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
			       md->topics[i].partition_cnt > 0;
	return false;
}

/* Checks once that every topic the sidecar will subscribe to exists, each
 * being created by the create-topics of the service that produces it, so the
 * sidecar starts with all of them in place. 0 when they all do, else 1 (the
 * caller tries again). The metadata lists only the topics this principal may
 * describe. */
static int check_needed(rd_kafka_t *rk, const struct topics_args *a)
{
	const struct rd_kafka_metadata *md = NULL;
	size_t missing = 0;
	rd_kafka_resp_err_t err;

	if (a->nneeded == 0)
		return 0;
	err = rd_kafka_metadata(rk, 1, NULL, &md, SC_ADMIN_TIMEOUT_MS);
	if (err) {
		svc_error("create-topics: metadata: %s", rd_kafka_err2str(err));
		return 1;
	}
	for (size_t i = 0; i < a->nneeded; i++) {
		if (listed(md, a->needed[i])) {
			svc_info("create-topics: %s (subscribed) exists", a->needed[i]);
		} else {
			svc_info("create-topics: %s (subscribed) does not exist yet, or this "
			         "principal may not describe it",
			         a->needed[i]);
			missing++;
		}
	}
	rd_kafka_metadata_destroy(md);
	return missing == 0 ? 0 : 1;
}

/* One attempt: create a->names, then check a->needed. 0 when both are done. */
static int attempt(const struct topics_args *a)
{
	static const char who[] = "create-topics";
	char err[512];
	rd_kafka_conf_t *conf = sc_kafka_conf_new(&a->cfg.kafka, a->cfg.log_name, who);
	rd_kafka_t *rk = NULL;
	int rc;

	if (!conf)
		return 1;
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		svc_error("create-topics: %s", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rc = create_topics(rk, a);
	if (rc == 0)
		rc = check_needed(rk, a);
	rd_kafka_destroy(rk);
	return rc;
}

int sc_topics_main(int argc, char **argv)
{
	static struct topics_args a; /* large; holds the configuration */
	time_t deadline;
	int rc;

	if (parse_args(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: sidecar create-topics [--partitions N] [--replication R] "
		                "[--brokers LIST] [--wait SECONDS] [topic...]\n");
		return 2;
	}
	deadline = time(NULL) + (time_t)a.wait_s; /* seconds: coarse is enough here */
	/* A broker that is still starting refuses or times out: try again until
	 * the deadline (a Kubernetes init container waits for Kafka this way). */
	while ((rc = attempt(&a)) != 0 && time(NULL) + 2 < deadline) {
		svc_info("create-topics: retrying in 2 s (%lld s left)",
		         (long long)(deadline - time(NULL)));
		svc_sleep_ms(2000);
	}
	return rc;
}
