/*
 * The sidecar's counters, shared by the relay, inbound delivery and the admin
 * server. Lock-free: each field is updated atomically on its own.
 */
#ifndef SC_METRICS_H
#define SC_METRICS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

struct sc_metrics {
	atomic_uint_fast64_t relayed;             /* outbox messages acknowledged by Kafka */
	atomic_uint_fast64_t relay_failures;      /* messages whose produce failed (left unsent) */
	atomic_uint_fast64_t relay_dead_lettered; /* messages Kafka refused for good: to the DLQ */
	atomic_uint_fast64_t relay_batches;       /* relay rounds that found rows */
	atomic_uint_fast64_t relay_inflight;      /* messages of the batch being relayed now */
	atomic_uint_fast64_t relay_last_ms;       /* duration of the last relay round */
	atomic_uint_fast64_t delivered;           /* inbound messages the service finished */
	atomic_uint_fast64_t retried;             /* inbound messages sent again after "retry" */
	atomic_uint_fast64_t dead_lettered;       /* inbound messages routed to the DLQ */
	atomic_uint_fast64_t delivery_inflight;   /* messages held by delivery workers now */
	atomic_uint_fast64_t delivery_queued;     /* messages waiting in partition queues */
	atomic_uint_fast64_t delivery_paused;     /* partitions paused: queue over its bound */
	atomic_uint_fast64_t delivery_batches;    /* POSTs to /internal/events */
	atomic_uint_fast64_t delivery_split;      /* batches halved after HTTP 413 */
	atomic_uint_fast64_t delivery_combined;   /* POSTs carrying several partitions */
};

/* Zeroes every counter. */
void sc_metrics_init(struct sc_metrics *m);
/* The counters as a JSON object (new reference; NULL on OOM). */
json_t *sc_metrics_json(struct sc_metrics *m);

#endif
