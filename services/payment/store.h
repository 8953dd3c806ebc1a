/*
 * The payments table (migrations/): one row per order, so an order is
 * captured at most once; and order_outcomes, how each order ended as
 * order.events told. Plain reads and writes; which transitions are allowed
 * is decided in state.c.
 */
#ifndef PAY_STORE_H
#define PAY_STORE_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/payment/state.h"
#include "svc/buf.h"
#include "svc/tx.h"
#include "svc/validate.h"

struct pay_row {
	char order_id[37];
	char payment_id[37]; /* the saga's (ProcessPayment's paymentId), else made here */
	int64_t amount;      /* 0 for a VOIDED tombstone */
	char currency[4];
	enum pay_status status; /* PAY_NONE when there is no row */
	char gateway_ref[65];   /* charge id, "" when none */
	char reason[256];
	int64_t refunded;
	char user_id[SVC_ID_MAX + 1]; /* who pays; "" unknown: only admins see the row */
	/* A capture its order has not confirmed (yet): column unconfirmed_since
	 * set (to when it became one), which the reconciliation reads. */
	bool unconfirmed;
	char created_at[32]; /* ISO-8601 UTC, filled by pay_row_load */
	char updated_at[32];
};

/*
 * Reads the order's row (FOR UPDATE when `lock`, inside the caller's
 * transaction). 0 with row->status PAY_NONE when absent; SVC_ETRANSIENT or
 * SVC_EPERMANENT on database errors.
 */
int pay_row_load(MYSQL *conn, const char *order_id, bool lock, struct pay_row *row);
/* Orders rows by order id as the column compares them (qsort, bsearch). */
int pay_row_cmp(const void *a, const void *b);
/*
 * Reads the rows of n orders FOR UPDATE in one statement, locking them in
 * order_id order (concurrent callers cannot deadlock). The caller sets
 * rows[i].order_id, sorted by pay_row_cmp and distinct; each row is filled,
 * status PAY_NONE when the order has none. 0, SVC_ETRANSIENT or
 * SVC_EPERMANENT.
 */
int pay_rows_lock(MYSQL *conn, struct pay_row *rows, size_t n);
/* Inserts `row`. 0, SVC_DUPLICATE when the order already has a row,
 * SVC_ECONFLICT when another order's row has its payment id, or an error. */
int pay_row_insert(MYSQL *conn, const struct pay_row *row);
/* Inserts n rows in one statement: 0, or SVC_DUPLICATE / SVC_ECONFLICT (none
 * inserted) as pay_row_insert() for one of them, or an error. */
int pay_rows_insert(MYSQL *conn, const struct pay_row *const *rows, size_t n);
/* Writes status, gateway_ref, reason, refunded_amount and unconfirmed_since
 * (kept while unconfirmed, else cleared) of the order's row. */
int pay_row_update(MYSQL *conn, const struct pay_row *row);
/* The same for n existing rows of distinct orders in one statement. */
int pay_rows_update(MYSQL *conn, const struct pay_row *const *rows, size_t n);
/* That statement into `sql` (initialized by the caller; tests). 0 or SVC_ENOMEM. */
int pay_rows_update_sql(struct svc_buf *sql, MYSQL *conn, const struct pay_row *const *rows,
                        size_t n);

/* The API representation {"orderId","paymentId","amount",...} (new reference). */
json_t *pay_row_json(const struct pay_row *row);

/* Records that the order ended so (CONFIRMED or CANCELLED), appended at the
 * commit when `tx` defers (svc/defer.h). The first outcome recorded
 * stays: an order ends once. */
int pay_outcome_record(struct svc_tx *tx, const char *order_id, enum pay_order_outcome outcome);
/* The order's recorded outcome; PAY_ORDER_UNKNOWN when none. */
int pay_outcome_load(MYSQL *conn, const char *order_id, enum pay_order_outcome *out);

/*
 * Reconciliation: captures (CAPTURED, refunded_amount < amount) that must
 * not stay so, which are
 *   on a cancelled order: its recorded outcome is CANCELLED;
 *   on an unknown order:  no outcome recorded `unknown_s` seconds after the
 *                         capture.
 * Both read only the captures not yet confirmed (unconfirmed_since set,
 * index ix_payments_unconfirmed): in flight for a moment, or offending.
 */
struct pay_reconciliation {
	int64_t captured_on_cancelled;
	int64_t captured_without_outcome;
};
int pay_reconcile_count(MYSQL *conn, long unknown_s, struct pay_reconciliation *out);
/* The offending captures, oldest first, at most `limit`, as
 * [{"orderId","problem":"capturedOnCancelled"|"capturedWithoutOutcome",
 *   "paymentId","amount","currency","capturedAt"}] (new reference). */
int pay_reconcile_list(MYSQL *conn, long unknown_s, size_t limit, json_t **out);
/* The statement of _count (limit 0) or _list into `sql` (initialized by the
 * caller; tests). 0 or SVC_ENOMEM. */
int pay_reconcile_sql(struct svc_buf *sql, long unknown_s, size_t limit);

#endif
