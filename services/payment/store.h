/*
 * The payments table (migrations/001_payment.sql): one row per order, so an
 * order is captured at most once. Plain reads and writes; which transitions
 * are allowed is decided in state.c.
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

struct pay_row {
	char order_id[37];
	char payment_id[37];
	int64_t amount; /* 0 for a VOIDED tombstone */
	char currency[4];
	enum pay_status status; /* PAY_NONE when there is no row */
	char gateway_ref[65];   /* charge id, "" when none */
	char reason[256];
	int64_t refunded;
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
/* Inserts `row`. 0, SVC_DUPLICATE when the order already has a row, or an error. */
int pay_row_insert(MYSQL *conn, const struct pay_row *row);
/* Inserts n rows in one statement: 0, or SVC_DUPLICATE (none inserted) when
 * one of the orders has a row already, or an error. */
int pay_rows_insert(MYSQL *conn, const struct pay_row *const *rows, size_t n);
/* Writes status, gateway_ref, reason and refunded_amount of the order's row. */
int pay_row_update(MYSQL *conn, const struct pay_row *row);
/* The same for n existing rows of distinct orders in one statement. */
int pay_rows_update(MYSQL *conn, const struct pay_row *const *rows, size_t n);
/* That statement into `sql` (initialized by the caller; tests). 0 or SVC_ENOMEM. */
int pay_rows_update_sql(struct svc_buf *sql, MYSQL *conn, const struct pay_row *const *rows,
                        size_t n);

/* The API representation {"orderId","paymentId","amount",...} (new reference). */
json_t *pay_row_json(const struct pay_row *row);

#endif
