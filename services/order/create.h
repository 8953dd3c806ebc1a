/*
 * Writing new orders (POST /api/orders) with group commit: an order's row,
 * its lines, its first history row and its OrderCreated outbox row go in
 * one transaction, which it shares with the orders other requests are
 * creating at the same moment (svc/combine.h). The first request to come
 * finds no transaction running and writes its order at once, alone; the
 * requests that come while a transaction runs queue up, and the next one
 * takes them all: six statements (multi-row INSERTs: svc/defer.h), however
 * many orders it holds. Under load a transaction thus holds many orders.
 * At a low rate requests rarely meet, so a lone request waits
 * ORDER_CREATE_LINGER_MS (25) for company (svc_combine_linger; so does a
 * lone price look-up, pricing.h, whose group then comes here at once), but
 * only while fewer than ORDER_CREATE_LINGER_BELOW (300) creates came in the
 * last second: the wait holds the request's HTTP thread, which a busy
 * service cannot spare, and a busy service's requests meet anyway
 * (docs/benchmarks.md, tenth round).
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
 * in the price look-ups' (pricing.h): ORDER_CREATE_LINGER_MS while the rate
 * is under ORDER_CREATE_LINGER_BELOW, else 0; 0 when `app` is NULL (some
 * tests). `count` counts the request in the rate: once per create. */
long order_create_linger_ms(const struct order_app *app, bool count);

/* Requests queued for the next transaction, not yet taken (tests). */
size_t order_create_waiting(void);

#endif
