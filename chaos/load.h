/*
 * The load a chaos scenario runs under: POST /api/orders at a steady rate
 * (an open model: request i is sent at start + i / rate whatever happened
 * to the ones before, up to max_inflight at once; an arrival finding them
 * all busy is dropped and counted), each as one of many customers (the
 * per-user rate limit stays far away), each on a fresh connection as
 * independent clients would. One thread drives every request through
 * libcurl's multi interface. No request is retried: errors are what
 * clients saw.
 */
#ifndef CHAOS_LOAD_H
#define CHAOS_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "chaos/orders.h"

#define CHAOS_STATUS_DROPPED (-1) /* never sent: max_inflight reached */

struct chaos_request {
	int64_t sent_ms;             /* wall clock */
	int32_t latency_ms;          /* -1 when dropped */
	int16_t status;              /* HTTP status; 0: no answer; CHAOS_STATUS_DROPPED */
	uint16_t product;            /* index into the load's products */
	char order_id[CHAOS_ID_MAX]; /* "" unless accepted */
};

struct chaos_load_config {
	const char *url; /* http://.../api/orders */
	double rate;     /* orders per second */
	long timeout_ms; /* per request */
	size_t max_inflight;
	const char *const *auth; /* "Authorization: Bearer <token>" of each user, borrowed */
	size_t nusers;
	const char *const *products; /* product ids, borrowed; see chaos_load_product */
	size_t nproducts;
	int decline_every;
	const char *key_prefix; /* Idempotency-Key of request i: <prefix>-<i> */
};

/*
 * The product of request i: with decline_every > 0, every decline_every-th
 * request (i % decline_every == decline_every - 1) gets the last product
 * (the one priced to be declined) and the others cycle through the rest;
 * else all cycle through all of them.
 */
size_t chaos_load_product(size_t i, size_t nproducts, int decline_every);

struct chaos_load;

/* Starts the load (cfg and what it points to must outlive it); NULL on
 * failure (logged). */
struct chaos_load *chaos_load_start(const struct chaos_load_config *cfg);

/* Stops sending, waits for the requests in flight (at most timeout_ms)
 * and for the thread. */
void chaos_load_stop(struct chaos_load *l);

/* After chaos_load_stop: every request in order (owned by l), and when the
 * first was due (wall clock, ms). */
const struct chaos_request *chaos_load_requests(const struct chaos_load *l, size_t *n);
int64_t chaos_load_started_ms(const struct chaos_load *l);

void chaos_load_free(struct chaos_load *l);

#endif
