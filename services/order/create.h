/*
 * Writing new orders (POST /api/orders) with group commit: an order's row,
 * its lines, its first history row and its OrderCreated outbox row go in
 * one transaction, which it shares with the orders other requests are
 * creating at the same moment (svc/combine.h). The first request to come
 * finds no transaction running and writes its order at once, alone; the
 * requests that come while a transaction runs queue up, and the next one
 * takes them all: six statements (multi-row INSERTs: svc/defer.h), however
 * many orders it holds. Under load a transaction thus holds many orders.
 * Requests that come one at a time rarely meet, so a lone request waits for
 * company (svc_combine_linger; so does a lone price look-up, pricing.h,
 * whose group then comes here at once): as long as ORDER_CREATE_LINGER_GROUP
 * (8) creates take to come at the last second's rate, at most
 * ORDER_CREATE_LINGER_MS (25). So 25 ms up to 320 creates a second, 10 ms
 * at 800/s, 4 ms at 2000/s: a group of about eight at any rate, and about
 * eight HTTP threads held by the waits whatever the rate, since a wait
 * holds its request's thread (docs/benchmarks.md, tenth and fifteenth
 * rounds).
 *
 * A shared transaction that one of its orders may have failed (a taken
 * idempotency key, a row too big) is rolled back and its orders written one
 * transaction each, so that one order cannot fail the others. A transient
 * failure (the database unreachable, a deadlock) fails them all, as it would
 * have failed each alone.
 */
#ifndef ORDER_CREATE_H
#define ORDER_CREATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/order/store.h"
#include "svc/service.h"

struct order_app;

/*
 * Writes `o` (borrowed until the call returns) as above; blocks until it is
 * committed or failed, holding no database connection while it waits.
 * 0; SVC_ECONFLICT when o's idempotency key is taken (the unique index
 * settles races between requests); or the failure (SVC_ETRANSIENT, ...),
 * nothing written then.
 */
int order_create(struct svc_ctx *ctx, const struct order_new *o);

/* How long a lone request may wait for company, in the create combiner and
 * in the price look-ups' (pricing.h): order_linger_for_rate() of the
 * configuration and the rate of creates; 0 when `app` is NULL (some tests).
 * `count` counts the request in the rate: once per create. */
long order_create_linger_ms(const struct order_app *app, bool count);

/* The wait for company at `rate` requests a second: the time `group` of
 * them take to come, rounded up to a millisecond, at most `max_ms`;
 * `max_ms` when the rate is 0 (not known yet, or quiet); 0 when `max_ms`
 * or `group` is 0. Pure. */
long order_linger_for_rate(long max_ms, unsigned group, unsigned rate);

/* Requests queued for the next transaction, not yet taken (tests). */
size_t order_create_waiting(void);

#endif
