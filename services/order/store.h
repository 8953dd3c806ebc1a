/*
 * The Order service's tables (migrations/): orders, order_lines,
 * saga_transitions. Every function runs its statements on the
 * caller's connection, inside the caller's transaction when one is open;
 * none commits. Results: 0, SVC_ENOTFOUND, SVC_ECONFLICT (where said),
 * SVC_ETRANSIENT (retry: connection lost, deadlock) or SVC_EPERMANENT.
 * Times are stored in UTC and read as ISO-8601 with milliseconds.
 */
#ifndef ORDER_STORE_H
#define ORDER_STORE_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/order/request.h"
#include "services/order/saga.h"
#include "svc/tx.h"

#define ORDER_KEY_MAX 128 /* longest Idempotency-Key */

/* A new order, as the API validated and priced it. Pointers are borrowed. */
struct order_new {
	char order_id[37];
	const struct order_request *req;
	const int64_t *unit_prices; /* one per req->items[] */
	int64_t total;
	const char *currency;
	const char *idempotency_key; /* NULL: none */
	const char *canonical;       /* order_request_canonical(); hashed with the key */
	long deadline_ms;            /* inventory step deadline from now */
};

/*
 * Inserts the order (PENDING, step INVENTORY) and its lines. SVC_ECONFLICT
 * when the idempotency key is already taken (the unique index decides races
 * between concurrent requests). When `tx` defers (svc/defer.h) the rows
 * are only collected: a failure, a taken key too, comes at the flush.
 */
int order_store_insert(struct svc_tx *tx, const struct order_new *o);

/*
 * Looks up the order `user_id` created with Idempotency-Key `key` (keys are
 * per user). 0 with order_id filled and *same_request telling whether it was
 * created from the same canonical request; SVC_ENOTFOUND when the key is
 * unused.
 */
int order_store_find_by_key(MYSQL *conn, const char *user_id, const char *key,
                            const char *canonical, char order_id[37], bool *same_request);

/* The fields of an order the saga needs. */
struct order_row {
	char order_id[37];
	char user_id[SVC_ID_MAX + 1];
	enum order_state state;
	int64_t total;
	char currency[4];
	char reason[ORDER_REASON_MAX]; /* cancel_reason, "" when none */
	char payment_id[37];           /* the payment the saga asked for, "" when none */
	/* Microseconds since the order was created and since it last changed, by
	 * the database's clock when the row was read (metrics.h). */
	int64_t age_us, in_state_us;
};

/* Reads and row-locks (FOR UPDATE) the order: needs an open transaction. */
int order_store_lock(MYSQL *conn, const char *order_id, struct order_row *row);

/* One order of order_store_lock_many(). */
struct order_locked {
	struct order_row row; /* in: row.order_id; out: the row, its order_id as stored */
	bool with_items;      /* in: read its lines too */
	int code;             /* out: 0, SVC_ENOTFOUND or SVC_EPERMANENT (unreadable) */
	json_t *items;        /* out, caller owns: its lines as order_store_items() gives
	                       * them when with_items and found (NULL if unreadable) */
};

/*
 * order_store_lock() for the n orders o[] (distinct ids; ids compare
 * case-insensitively) in one statement, which locks them in order_id order
 * so that two such transactions cannot deadlock; their lines, where asked,
 * come with them without being locked. 0 or the statement's failure (no
 * items then).
 */
int order_store_lock_many(MYSQL *conn, struct order_locked *o, size_t n);

/*
 * Locks up to `max` orders in a waiting state whose step deadline has passed
 * (FOR UPDATE SKIP LOCKED: rows another instance or a consumer holds are
 * left to them) and writes their ids to ids[]. Needs an open transaction.
 */
int order_store_lock_due(MYSQL *conn, size_t max, char (*ids)[37], size_t *n);

/* New state of an order. deadline_ms > 0: now + that; 0: none; < 0: unchanged.
 * `reason` NULL or "": unchanged. (The payment id: order_store_set_payment_id.) */
int order_store_update(MYSQL *conn, const char *order_id, enum order_state state, const char *step,
                       long deadline_ms, const char *reason);

/* One order_store_update(); pointers borrowed. */
struct order_change {
	const char *order_id;
	enum order_state state;
	const char *step;
	long deadline_ms;
	const char *reason;
	const char *payment_id; /* NULL or "": unchanged */
};
/* The n changes, of distinct orders, in one UPDATE. */
int order_store_update_many(MYSQL *conn, const struct order_change *c, size_t n);

/* Records the payment the saga asks for (orders.payment_id). */
int order_store_set_payment_id(MYSQL *conn, const char *order_id, const char *payment_id);

/* One saga_transitions row. `from` NULL for the creation; event_id and
 * detail may be NULL (detail is cut to 255 characters). */
struct order_history {
	const char *from;
	const char *to;
	const char *step;
	const char *event_type;
	const char *event_id;
	const char *detail;
};
int order_store_add_history(struct svc_tx *tx, const char *order_id, const struct order_history *h);

/* The order's lines as [{"productId","quantity","unitPrice"}] (new reference). */
int order_store_items(MYSQL *conn, const char *order_id, json_t **out);

/*
 * The order as GET /api/orders/{orderId} shows it: orderId, userId, status,
 * step, stepDeadline, totalAmount, currency, items, cancellationReason (null
 * unless CANCELLED), createdAt, updatedAt, history[{from,to,step,event,
 * eventId,detail,at}]. New reference in *out.
 */
int order_store_load_json(MYSQL *conn, const char *order_id, json_t **out);

#endif
