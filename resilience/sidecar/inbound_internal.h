/*
 * Shared by the inbound delivery's files (inbound.c: consumer, queues, poll
 * thread, lifecycle; inbound_worker.c: the delivery workers). Not an
 * interface: see inbound.h.
 */
#ifndef SC_INBOUND_INTERNAL_H
#define SC_INBOUND_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "resilience/backoff.h"
#include "resilience/breaker.h"
#include "resilience/sidecar/batch.h"
#include "resilience/sidecar/config.h"
#include "resilience/sidecar/delivery.h"
#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/kafka.h"
#include "resilience/sidecar/metrics.h"
#include "resilience/sidecar/partq.h"
#include "resilience/sidecar/stop.h"
#include "svc/url.h"

struct sc_inbound;

/* One delivery thread and the batch it works on. */
/* A partition a worker holds: its oldest messages are msgs[first, first + count),
 * the `done` first of them finished (offsets stored or dead-lettered). */
struct sc_held {
	struct sc_partq *q;
	size_t first, count, done;
};

struct sc_worker {
	struct sc_inbound *in;
	pthread_t thread;
	bool started;
	struct sc_held *held;               /* the partitions taken together (in->combine) */
	size_t nheld;                       /* 0 between batches */
	struct sc_partq *q;                 /* the one process_batch() works on, or NULL */
	rd_kafka_message_t **msgs;          /* their oldest messages (owned by the queues) */
	unsigned *attempts;                 /* deliveries tried, per message */
	struct sc_delivery_result *results; /* verdict per message of the batch */
	struct sc_delivery_result *answers; /* the service's answers, per sent message */
	size_t *sent;                       /* batch index of each sent message */
	struct sc_batch batch;              /* the request body */
};

struct sc_inbound {
	const struct sc_config *cfg;
	const struct sc_kafka_ops *kafka; /* cfg->kafka's table (kafka.h) */
	rd_kafka_t *rk;
	struct sc_metrics *metrics;
	struct sc_stop *stop;
	struct sc_dlq dlq;
	struct rs_backoff backoff;
	struct rs_breaker *breaker;  /* "service": around every delivery POST */
	pthread_mutex_t status_lock; /* guards last_error */
	bool status_lock_ready;
	char last_error[320]; /* why the last failed delivery failed, "" if none */
	char url[SC_URL_MAX + 32];
	size_t cap;       /* DELIVERY_BATCH_MAX */
	size_t combine;   /* DELIVERY_COMBINE_PARTITIONS */
	size_t high, low; /* a queue longer than high pauses its partition, until low */
	pthread_t thread; /* the poll thread */
	bool thread_started;
	rd_kafka_message_t **polled; /* one poll round, before it is queued */
	size_t npolled;              /* entries of polled in use (NULL: dropped) */
	/* lock guards parts and every worker's q */
	pthread_mutex_t lock;
	pthread_cond_t work; /* a partition became ready, or stop */
	pthread_cond_t idle; /* a worker let go of a partition */
	bool lock_ready;
	struct sc_partq_set parts;
	struct sc_worker *workers;
	size_t nworkers;
};

/* Publishes the queued message count (delivery_queued). Caller holds in->lock. */
void sc__inbound_publish_queued(struct sc_inbound *in);

/* A delivery worker's thread (arg: its struct sc_worker): takes a ready
 * partition, delivers its oldest messages, lets it go; until stop. */
void *sc__inbound_worker_main(void *arg);

#endif
