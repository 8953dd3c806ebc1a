/*
 * A test double of the sidecar's Kafka producer (resilience/sidecar/
 * producer.h) at its function boundary: the test binary defines
 * sc_ack_group_* and sc_producer_send, so the linker takes these instead of
 * producer.o from the sidecar's archive (a link-time substitute: the
 * producer's own table of librdkafka calls is not this test's to fake).
 * Every send is recorded; its delivery report comes at once, from a script.
 *
 * Include it in exactly one test file of a binary, which must not use any
 * other function of producer.c.
 */
#ifndef SIDECAR_FAKE_PRODUCER_H
#define SIDECAR_FAKE_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "resilience/sidecar/producer.h"
#include "svc/error.h"

#define FAKE_SENDS_MAX 64

struct fake_send {
	char topic[64];
	char key[64];
	char payload[128];
	rd_kafka_resp_err_t err; /* what the send got: at once or in its report */
};

static struct {
	pthread_mutex_t mu;
	struct fake_send sends[FAKE_SENDS_MAX];
	size_t nsends;
	/* A send whose payload is `payload` (on any topic but `except_topic`)
	 * fails with `err`, `times` times (0: always): at once when `at_once`
	 * (the call returns `rc`), else in its delivery report. */
	struct {
		const char *payload, *except_topic;
		rd_kafka_resp_err_t err;
		bool at_once;
		int rc;
		unsigned times;
	} refuse;
} fake_producer = {.mu = PTHREAD_MUTEX_INITIALIZER};

static inline void fake_producer_reset(void)
{
	pthread_mutex_lock(&fake_producer.mu);
	fake_producer.nsends = 0;
	memset(&fake_producer.refuse, 0, sizeof(fake_producer.refuse));
	pthread_mutex_unlock(&fake_producer.mu);
}

/* The index of the first send of `payload` to `topic` from `from` on, or -1. */
static inline long fake_producer_find(const char *topic, const char *payload, size_t from)
{
	long found = -1;

	pthread_mutex_lock(&fake_producer.mu);
	for (size_t i = from; i < fake_producer.nsends && found < 0; i++)
		if (!strcmp(fake_producer.sends[i].topic, topic) &&
		    !strcmp(fake_producer.sends[i].payload, payload))
			found = (long)i;
	pthread_mutex_unlock(&fake_producer.mu);
	return found;
}

/* How many sends of `payload` (NULL: any) went to `topic`. */
static inline size_t fake_producer_count(const char *topic, const char *payload)
{
	size_t n = 0;

	pthread_mutex_lock(&fake_producer.mu);
	for (size_t i = 0; i < fake_producer.nsends; i++)
		n += !strcmp(fake_producer.sends[i].topic, topic) &&
		     (!payload || !strcmp(fake_producer.sends[i].payload, payload));
	pthread_mutex_unlock(&fake_producer.mu);
	return n;
}

int sc_ack_group_init(struct sc_ack_group *g)
{
	g->pending = 0;
	if (pthread_mutex_init(&g->mu, NULL) != 0)
		return SVC_ENOMEM;
	if (pthread_cond_init(&g->cond, NULL) != 0) {
		pthread_mutex_destroy(&g->mu);
		return SVC_ENOMEM;
	}
	return 0;
}

void sc_ack_group_release(struct sc_ack_group *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mu);
}

void sc_ack_group_wait(struct sc_ack_group *g)
{
	pthread_mutex_lock(&g->mu);
	while (g->pending > 0)
		pthread_cond_wait(&g->cond, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

int sc_producer_send(struct sc_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *payload, size_t len, rd_kafka_headers_t *hdrs, struct sc_ack *ack)
{
	struct fake_send s = {0};
	int rc = 0;

	(void)p;
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	snprintf(s.topic, sizeof(s.topic), "%s", topic);
	snprintf(s.key, sizeof(s.key), "%.*s", (int)(key ? keylen : 0),
	         key ? (const char *)key : "");
	snprintf(s.payload, sizeof(s.payload), "%.*s", (int)(payload ? len : 0),
	         payload ? (const char *)payload : "");
	pthread_mutex_lock(&fake_producer.mu);
	if (fake_producer.refuse.payload && !strcmp(s.payload, fake_producer.refuse.payload) &&
	    !(fake_producer.refuse.except_topic &&
	      !strcmp(topic, fake_producer.refuse.except_topic))) {
		s.err = fake_producer.refuse.err;
		rc = fake_producer.refuse.at_once ? fake_producer.refuse.rc : 0;
		if (fake_producer.refuse.times && --fake_producer.refuse.times == 0)
			fake_producer.refuse.payload = NULL;
	}
	if (fake_producer.nsends < FAKE_SENDS_MAX)
		fake_producer.sends[fake_producer.nsends++] = s;
	pthread_mutex_unlock(&fake_producer.mu);
	/* the report arrives at once: nothing stays pending in the group */
	ack->err = s.err;
	return rc;
}

#endif
