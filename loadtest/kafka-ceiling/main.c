/*
 * kafka-ceiling: raw Kafka produce->consume throughput of this machine, the
 * broker's ceiling for docs/benchmarks.md.
 *
 *   kafka-ceiling [--brokers B] [--duration 10] [--size 300] [--partitions 6]
 *
 * Creates a private topic, produces --size byte messages as fast as the
 * idempotent producer takes them (acks=all, linger.ms=5, the settings a
 * relay would use) for --duration seconds while one consumer reads them back,
 * then deletes the topic. Prints one JSON object: produced/s, consumed/s
 * (end to end) and the produce->consume latency summary.
 */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadtest/loadgen/stats.h"

#define MAX_SAMPLES 4000000

struct ctx {
	const char *brokers;
	char topic[64];
	long partitions, size, duration;
	atomic_long produced, delivered, consumed;
	atomic_bool producing_done;
	int64_t t0, last_consumed_us;
	double *samples;
	long nsamples;
};

static rd_kafka_t *client(const char *brokers, rd_kafka_type_t type, const char *group)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
	if (type == RD_KAFKA_PRODUCER) {
		rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
		rd_kafka_conf_set(conf, "acks", "all", err, sizeof(err));
		rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
	} else {
		rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
		rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
	}
	rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "kafka-ceiling: %s\n", err);
	return rk;
}

/* creates (delete = false) or deletes the private topic; 0 or -1 */
static int admin_topic(rd_kafka_t *rk, const char *topic, long partitions, bool delete)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_event_t *ev = NULL;
	char err[256];
	int rc = -1;

	if (delete) {
		rd_kafka_DeleteTopic_t *d = rd_kafka_DeleteTopic_new(topic);
		rd_kafka_DeleteTopics(rk, &d, 1, NULL, q);
		rd_kafka_DeleteTopic_destroy(d);
	} else {
		rd_kafka_NewTopic_t *t =
		        rd_kafka_NewTopic_new(topic, (int)partitions, 1, err, sizeof(err));
		rd_kafka_CreateTopics(rk, &t, 1, NULL, q);
		rd_kafka_NewTopic_destroy(t);
	}
	ev = rd_kafka_queue_poll(q, 30000);
	if (ev && !rd_kafka_event_error(ev))
		rc = 0;
	else
		fprintf(stderr, "kafka-ceiling: topic admin failed: %s\n",
		        ev ? rd_kafka_event_error_string(ev) : "timeout");
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	return rc;
}

static void *consume_main(void *arg)
{
	struct ctx *c = arg;
	rd_kafka_t *rk = client(c->brokers, RD_KAFKA_CONSUMER, c->topic);
	rd_kafka_topic_partition_list_t *parts =
	        rd_kafka_topic_partition_list_new((int)c->partitions);
	int64_t idle_since = 0;

	if (!rk)
		goto out;
	for (long p = 0; p < c->partitions; p++)
		rd_kafka_topic_partition_list_add(parts, c->topic, (int32_t)p)->offset =
		        RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	for (;;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		int64_t now = lt_now_us();
		if (!m) {
			if (atomic_load(&c->producing_done) &&
			    atomic_load(&c->consumed) >= atomic_load(&c->delivered))
				break;
			if (atomic_load(&c->producing_done) && !idle_since)
				idle_since = now;
			if (idle_since && now - idle_since > 10000000)
				break;
			continue;
		}
		if (!m->err && m->len >= sizeof(int64_t)) {
			int64_t sent;
			memcpy(&sent, m->payload, sizeof(sent));
			if (c->nsamples < MAX_SAMPLES)
				c->samples[c->nsamples++] = (double)(now - sent) / 1000.0;
			atomic_fetch_add(&c->consumed, 1);
			c->last_consumed_us = now;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
out:
	rd_kafka_topic_partition_list_destroy(parts);
	return NULL;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ctx *c = opaque;
	(void)rk;
	if (!m->err)
		atomic_fetch_add(&c->delivered, 1);
}

static void produce(struct ctx *c, rd_kafka_t *rk)
{
	char *payload = calloc(1, (size_t)c->size);
	int64_t end = c->t0 + c->duration * 1000000;

	if (!payload)
		return;
	memset(payload, 'x', (size_t)c->size);
	while (lt_now_us() < end) {
		int64_t now = lt_now_us();
		char key[24];
		int kn = snprintf(key, sizeof(key), "%ld", atomic_load(&c->produced));
		memcpy(payload, &now, sizeof(now));
		if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(c->topic),
		                      RD_KAFKA_V_VALUE(payload, (size_t)c->size),
		                      RD_KAFKA_V_KEY(key, (size_t)kn),
		                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                      RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR)
			atomic_fetch_add(&c->produced, 1);
		else
			rd_kafka_poll(rk, 1);
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 30000);
	free(payload);
}

int main(int argc, char **argv)
{
	struct ctx c = {
	        .brokers = getenv("KAFKA_BROKERS"), .partitions = 6, .size = 300, .duration = 10};
	rd_kafka_conf_t *conf;
	rd_kafka_t *prod = NULL;
	pthread_t th;
	struct lt_summary s;
	char err[256];
	double produce_s;
	int rc = 1;

	if (!c.brokers)
		c.brokers = "127.0.0.1:9092";
	for (int i = 1; i + 1 < argc; i += 2) {
		if ((!strcmp(argv[i], "--duration") &&
		     !lt_parse_long(argv[i + 1], 1, 3600, &c.duration)) ||
		    (!strcmp(argv[i], "--size") &&
		     !lt_parse_long(argv[i + 1], 16, 1000000, &c.size)) ||
		    (!strcmp(argv[i], "--partitions") &&
		     !lt_parse_long(argv[i + 1], 1, 1000, &c.partitions)))
			continue;
		if (!strcmp(argv[i], "--brokers")) {
			c.brokers = argv[i + 1];
			continue;
		}
		fprintf(stderr, "usage: kafka-ceiling [--brokers B] [--duration S] [--size BYTES] "
		                "[--partitions N]\n");
		return 2;
	}
	snprintf(c.topic, sizeof(c.topic), "bench.ceiling.%ld", (long)getpid());
	c.samples = malloc(MAX_SAMPLES * sizeof(double));
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", c.brokers, err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
	rd_kafka_conf_set(conf, "acks", "all", err, sizeof(err));
	rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, &c);
	prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!prod || !c.samples) {
		fprintf(stderr, "kafka-ceiling: %s\n", prod ? "out of memory" : err);
		goto out;
	}
	if (admin_topic(prod, c.topic, c.partitions, false))
		goto out;
	sleep(1); /* let the new partitions get their leader */
	c.t0 = lt_now_us();
	if (pthread_create(&th, NULL, consume_main, &c))
		goto drop_topic;
	produce(&c, prod);
	produce_s = (double)(lt_now_us() - c.t0) / 1e6;
	atomic_store(&c.producing_done, true);
	pthread_join(th, NULL);
	lt_summarize(c.samples, (size_t)c.nsamples, &s);
	printf("{\"message_bytes\":%ld,\"partitions\":%ld,\"produced\":%ld,\"delivered\":%ld,"
	       "\"consumed\":%ld,\"produce_per_s\":%.0f,\"consume_per_s\":%.0f,"
	       "\"latency_ms\":{\"avg\":%.2f,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}}\n",
	       c.size, c.partitions, atomic_load(&c.produced), atomic_load(&c.delivered),
	       atomic_load(&c.consumed), (double)atomic_load(&c.delivered) / produce_s,
	       c.last_consumed_us > c.t0 ? (double)atomic_load(&c.consumed) /
	                                           ((double)(c.last_consumed_us - c.t0) / 1e6)
	                                 : 0.0,
	       s.avg, s.p50, s.p99, s.max);
	rc = 0;
drop_topic:
	admin_topic(prod, c.topic, 0, true);
out:
	if (prod)
		rd_kafka_destroy(prod);
	free(c.samples);
	return rc;
}
