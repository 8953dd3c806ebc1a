/*
 * The sidecar's one Kafka producer, shared by the outbox relay and DLQ
 * routing: idempotent (enable.idempotence, acks=all), lz4, linger.ms from
 * KAFKA_LINGER_MS, with a thread that serves its callbacks (rd_kafka_poll).
 *
 * Sends are asynchronous; a caller that must know the outcome gives each
 * message a struct sc_ack in a struct sc_ack_group and waits on the group
 * until every delivery report has arrived.
 */
#ifndef SC_PRODUCER_H
#define SC_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "resilience/sidecar/config.h"

struct sc_ack_group {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	size_t pending; /* sends whose delivery report has not arrived yet */
};

struct sc_ack {
	struct sc_ack_group *group;
	rd_kafka_resp_err_t err; /* outcome once the report arrived */
};

/* 0 or SVC_ENOMEM. */
int sc_ack_group_init(struct sc_ack_group *g);
/* The group must have no pending sends. */
void sc_ack_group_release(struct sc_ack_group *g);
/* Blocks until every send of the group has its delivery report. Reports
 * always arrive, at the latest after KAFKA_MESSAGE_TIMEOUT_MS. */
void sc_ack_group_wait(struct sc_ack_group *g);

struct sc_producer;

/* Creates the producer and starts its poll thread. NULL (logged) on a bad
 * configuration or allocation failure. */
struct sc_producer *sc_producer_new(const struct sc_config *cfg);
/* Flushes outstanding messages (up to 10 s), stops the poll thread, frees.
 * Accepts NULL. */
void sc_producer_free(struct sc_producer *p);

/*
 * Enqueues one message (key and payload are copied). Takes ownership of
 * `hdrs` (may be NULL) in every case. On 0, `ack->err` is filled in and the
 * group's pending count drops when the delivery report arrives; on failure
 * (SVC_ETRANSIENT, e.g. queue full for too long, or SVC_EPERMANENT for an
 * unknown topic or a too-large message) the ack is not counted, ack->err says
 * why and no report will come.
 */
int sc_producer_send(struct sc_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *payload, size_t len, rd_kafka_headers_t *hdrs, struct sc_ack *ack);

/* False once the producer hit a fatal error (e.g. the idempotence
 * guarantee could not be kept): nothing more can be sent, the process must
 * restart. The error is logged the first time it is seen. */
bool sc_producer_healthy(struct sc_producer *p);

/* True when a broker answered a metadata request recently (cached ~1 s). */
bool sc_producer_reachable(struct sc_producer *p);

#endif
