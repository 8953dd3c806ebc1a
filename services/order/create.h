/*
 * Writing new orders (POST /api/orders) with group commit: an order's row,
 * its lines, its first history row and its OrderCreated outbox row go in
 * one transaction, which it shares with the orders other requests are
 * creating at the same moment (svc/combine.h). The first request to come
 * finds no transaction running and writes its order at once, alone; the
 * requests that come while a transaction runs queue up, and the next one
 * takes them all: six statements (multi-row INSERTs: svc/defer.h), however
 * many orders it holds. Under load a transaction thus holds many orders;
 * one request at a time still costs what it did, unless
 * ORDER_CREATE_LINGER_MS makes a lone request wait that long for company
 * (svc_combine_linger; off by default: it holds an HTTP thread meanwhile).
 *
 * A shared transaction that one of its orders may have failed (a taken
 * idempotency key, a row too big) is rolled back and its orders written one
 * transaction each, so that one order cannot fail the others. A transient
 * failure (the database unreachable, a deadlock) fails them all, as it would
 * have failed each alone.
 */
#ifndef ORDER_CREATE_H
#define ORDER_CREATE_H

#include <stddef.h>

#include "services/order/store.h"
#include "svc/service.h"

/*
 * Writes `o` (borrowed until the call returns) as above; blocks until it is
 * committed or failed, holding no database connection while it waits.
 * 0; SVC_ECONFLICT when o's idempotency key is taken (the unique index
 * settles races between requests); or the failure (SVC_ETRANSIENT, ...),
 * nothing written then.
 */
int order_create(struct svc_ctx *ctx, const struct order_new *o);

/* Requests queued for the next transaction, not yet taken (tests). */
size_t order_create_waiting(void);

#endif
