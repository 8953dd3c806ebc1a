/*
 * payments and order_outcomes access (store.h). Statements are built with
 * svc_buf and escaped literals; timestamps are written as UTC.
 */
#include "services/payment/store.h"

#include <errno.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* A DATETIME(3) column as "2026-11-24T20:36:01.774000Z". */
#define ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

/* The columns row_parse() reads, in its order. */
#define PAY_ROW_COLUMNS                                                                            \
	"order_id, payment_id, amount, currency, status, gateway_ref, reason, "                    \
	"refunded_amount, " ISO("created_at") ", " ISO(                                            \
	        "updated_at") ", user_id, unconfirmed_since IS NOT NULL"

/* Fills `row` from a fetched row of PAY_ROW_COLUMNS. 0 or SVC_EPERMANENT. */
static int row_parse(MYSQL_ROW r, struct pay_row *row)
{
	copy_field(row->order_id, sizeof(row->order_id), r[0]);
	copy_field(row->payment_id, sizeof(row->payment_id), r[1]);
	row->amount = svc_db_col_i64(r[2]);
	copy_field(row->currency, sizeof(row->currency), r[3]);
	if (pay_status_parse(r[4], &row->status))
		return SVC_EPERMANENT; /* only this service writes the column */
	copy_field(row->gateway_ref, sizeof(row->gateway_ref), r[5]);
	copy_field(row->reason, sizeof(row->reason), r[6]);
	row->refunded = svc_db_col_i64(r[7]);
	copy_field(row->created_at, sizeof(row->created_at), r[8]);
	copy_field(row->updated_at, sizeof(row->updated_at), r[9]);
	copy_field(row->user_id, sizeof(row->user_id), r[10]);
	row->unconfirmed = r[11] && strcmp(r[11], "1") == 0;
	return 0;
}

/* Sets rows[0..n) to "absent" for the order ids they hold. */
static void rows_clear(struct pay_row *rows, size_t n)
{
	char order_id[sizeof(rows->order_id)];

	for (size_t i = 0; i < n; i++) {
		memcpy(order_id, rows[i].order_id, sizeof(order_id));
		memset(&rows[i], 0, sizeof(rows[i]));
		memcpy(rows[i].order_id, order_id, sizeof(order_id));
		rows[i].status = PAY_NONE;
	}
}

int pay_row_cmp(const void *a, const void *b)
{
	/* order_id is ascii_general_ci: case does not tell two orders apart */
	return strcasecmp(((const struct pay_row *)a)->order_id,
	                  ((const struct pay_row *)b)->order_id);
}

int pay_rows_lock(MYSQL *conn, struct pay_row *rows, size_t n)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	struct pay_row *found;
	size_t i;
	int rc = 0;

	rows_clear(rows, n);
	if (n == 0)
		return 0;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT " PAY_ROW_COLUMNS " FROM payments WHERE order_id IN (");
	for (i = 0; i < n; i++) {
		svc_buf_adds(&sql, i ? ", " : "");
		svc_sql_add_str(&sql, conn, rows[i].order_id);
	}
	/* Key order: concurrent batches lock in the same order, cannot deadlock. */
	svc_buf_adds(&sql, ") ORDER BY order_id FOR UPDATE");
	rc = sql.failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(&sql), &res);
	while (rc == 0 && (r = svc_db_fetch_row(res))) {
		struct pay_row key = {0};

		copy_field(key.order_id, sizeof(key.order_id), r[0]);
		found = bsearch(&key, rows, n, sizeof(*rows), pay_row_cmp);
		if (found)
			rc = row_parse(r, found);
	}
	if (res)
		svc_db_free_result(res);
	svc_buf_release(&sql);
	return rc;
}

int pay_row_load(MYSQL *conn, const char *order_id, bool lock, struct pay_row *row)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	copy_field(row->order_id, sizeof(row->order_id), order_id);
	rows_clear(row, 1);
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT " PAY_ROW_COLUMNS " FROM payments WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	if (lock)
		svc_buf_adds(&sql, " FOR UPDATE");
	rc = sql.failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(&sql), &res);
	if (rc == 0 && (r = svc_db_fetch_row(res)))
		rc = row_parse(r, row);
	if (res)
		svc_db_free_result(res);
	svc_buf_release(&sql);
	return rc;
}

/* Appends `s` as a literal, or NULL when empty. */
static void add_opt(struct svc_buf *sql, MYSQL *conn, const char *s)
{
	svc_sql_add_str(sql, conn, *s ? s : NULL);
}

int pay_rows_insert(MYSQL *conn, const struct pay_row *const *rows, size_t n)
{
	struct svc_buf sql;
	int rc;

	if (n == 0)
		return 0;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "INSERT INTO payments (order_id, payment_id, amount, currency, status, "
	                   "gateway_ref, reason, refunded_amount, user_id, created_at, "
	                   "updated_at) VALUES ");
	for (size_t i = 0; i < n; i++) {
		const struct pay_row *row = rows[i];

		svc_buf_adds(&sql, i ? ", (" : "(");
		svc_sql_add_str(&sql, conn, row->order_id);
		svc_buf_adds(&sql, ", ");
		svc_sql_add_str(&sql, conn, row->payment_id);
		svc_buf_addf(&sql, ", %lld, ", (long long)row->amount);
		svc_sql_add_str(&sql, conn, row->currency);
		svc_buf_adds(&sql, ", ");
		svc_sql_add_str(&sql, conn, pay_status_name(row->status));
		svc_buf_adds(&sql, ", ");
		add_opt(&sql, conn, row->gateway_ref);
		svc_buf_adds(&sql, ", ");
		add_opt(&sql, conn, row->reason);
		svc_buf_addf(&sql, ", %lld, ", (long long)row->refunded);
		add_opt(&sql, conn, row->user_id);
		svc_buf_adds(&sql, ", UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))");
	}
	rc = sql.failed ? SVC_ENOMEM : svc_db_exec_dup_ok(conn, svc_buf_str(&sql));
	/* The order has a row (primary key), or its payment id is another
	 * order's (uq_payments_payment_id: a command naming a taken id). */
	if (rc == SVC_EPERMANENT && svc_db_errno(conn) == ER_DUP_ENTRY)
		rc = strstr(svc_db_error(conn), "uq_payments_payment_id") ? SVC_ECONFLICT
		                                                          : SVC_DUPLICATE;
	svc_buf_release(&sql);
	return rc;
}

int pay_row_insert(MYSQL *conn, const struct pay_row *row)
{
	return pay_rows_insert(conn, &row, 1);
}

/* Appends "CASE order_id WHEN <id> THEN <value> ... END" for rows[0..n). */
static void add_case(struct svc_buf *sql, MYSQL *conn, const struct pay_row *const *rows, size_t n,
                     void (*value)(struct svc_buf *, MYSQL *, const struct pay_row *))
{
	svc_buf_adds(sql, "CASE order_id");
	for (size_t i = 0; i < n; i++) {
		svc_buf_adds(sql, " WHEN ");
		svc_sql_add_str(sql, conn, rows[i]->order_id);
		svc_buf_adds(sql, " THEN ");
		value(sql, conn, rows[i]);
	}
	svc_buf_adds(sql, " END");
}

static void add_status(struct svc_buf *sql, MYSQL *conn, const struct pay_row *row)
{
	svc_sql_add_str(sql, conn, pay_status_name(row->status));
}

static void add_gateway_ref(struct svc_buf *sql, MYSQL *conn, const struct pay_row *row)
{
	add_opt(sql, conn, row->gateway_ref);
}

static void add_reason(struct svc_buf *sql, MYSQL *conn, const struct pay_row *row)
{
	add_opt(sql, conn, row->reason);
}

static void add_refunded(struct svc_buf *sql, MYSQL *conn, const struct pay_row *row)
{
	(void)conn;
	svc_buf_addf(sql, "%lld", (long long)row->refunded);
}

/* Since when a capture is unconfirmed: kept once set. */
static void add_unconfirmed(struct svc_buf *sql, MYSQL *conn, const struct pay_row *row)
{
	(void)conn;
	svc_buf_adds(sql,
	             row->unconfirmed ? "IFNULL(unconfirmed_since, UTC_TIMESTAMP(3))" : "NULL");
}

int pay_rows_update_sql(struct svc_buf *sql, MYSQL *conn, const struct pay_row *const *rows,
                        size_t n)
{
	svc_buf_adds(sql, "UPDATE payments SET status = ");
	add_case(sql, conn, rows, n, add_status);
	svc_buf_adds(sql, ", gateway_ref = ");
	add_case(sql, conn, rows, n, add_gateway_ref);
	svc_buf_adds(sql, ", reason = ");
	add_case(sql, conn, rows, n, add_reason);
	svc_buf_adds(sql, ", refunded_amount = ");
	add_case(sql, conn, rows, n, add_refunded);
	svc_buf_adds(sql, ", unconfirmed_since = ");
	add_case(sql, conn, rows, n, add_unconfirmed);
	svc_buf_adds(sql, ", updated_at = UTC_TIMESTAMP(3) WHERE order_id IN (");
	for (size_t i = 0; i < n; i++) {
		svc_buf_adds(sql, i ? ", " : "");
		svc_sql_add_str(sql, conn, rows[i]->order_id);
	}
	svc_buf_adds(sql, ")");
	return sql->failed ? SVC_ENOMEM : 0;
}

int pay_rows_update(MYSQL *conn, const struct pay_row *const *rows, size_t n)
{
	struct svc_buf sql;
	int rc;

	if (n == 0)
		return 0;
	svc_buf_init(&sql);
	rc = pay_rows_update_sql(&sql, conn, rows, n);
	if (rc == 0)
		rc = svc_db_exec(conn, svc_buf_str(&sql));
	svc_buf_release(&sql);
	return rc;
}

int pay_row_update(MYSQL *conn, const struct pay_row *row)
{
	return pay_rows_update(conn, &row, 1);
}

json_t *pay_row_json(const struct pay_row *row)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "orderId", row->order_id,
	                      "paymentId", row->payment_id, "amount", (json_int_t)row->amount,
	                      "currency", row->currency, "status", pay_status_name(row->status),
	                      "refundedAmount", (json_int_t)row->refunded, "createdAt",
	                      row->created_at, "updatedAt", row->updated_at);

	if (o && row->gateway_ref[0])
		json_object_set_new(o, "gatewayRef", json_string(row->gateway_ref));
	if (o && row->reason[0])
		json_object_set_new(o, "reason", json_string(row->reason));
	if (o && row->user_id[0])
		json_object_set_new(o, "userId", json_string(row->user_id));
	return o;
}

/* Outcomes are only appended, deferred to the commit when the consumer
 * batches; IGNORE keeps the first (an order ends once). */
static const char OUTCOME_INSERT[] = "INSERT IGNORE INTO order_outcomes (order_id, status, at) "
                                     "VALUES ";

int pay_outcome_record(struct svc_tx *tx, const char *order_id, enum pay_order_outcome outcome)
{
	MYSQL *conn = tx->conn;
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "(");
	svc_sql_add_str(&sql, conn, order_id);
	svc_buf_adds(&sql, ", ");
	svc_sql_add_str(&sql, conn, pay_order_outcome_name(outcome));
	svc_buf_adds(&sql, ", UTC_TIMESTAMP(3))");
	rc = sql.failed ? SVC_ENOMEM : svc_defer_insert(tx, OUTCOME_INSERT, sql.data, sql.len);
	svc_buf_release(&sql);
	return rc;
}

int pay_outcome_load(MYSQL *conn, const char *order_id, enum pay_order_outcome *out)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	*out = PAY_ORDER_UNKNOWN;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT status FROM order_outcomes WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	rc = sql.failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(&sql), &res);
	if (rc == 0 && (r = svc_db_fetch_row(res)))
		*out = pay_order_outcome_parse(r[0]);
	if (res)
		svc_db_free_result(res);
	svc_buf_release(&sql);
	return rc;
}

int pay_reconcile_sql(struct svc_buf *sql, long unknown_s, size_t limit)
{
	/* rows with o.order_id set are on cancelled orders (the WHERE) */
	svc_buf_adds(sql, limit ? "SELECT p.order_id, o.order_id IS NOT NULL, p.payment_id, "
	                          "p.amount, p.currency, " ISO("p.unconfirmed_since")
	                        : "SELECT COUNT(o.order_id), COUNT(*) - COUNT(o.order_id)");
	svc_buf_addf(sql,
	             " FROM payments p LEFT JOIN order_outcomes o ON o.order_id = p.order_id "
	             "WHERE p.unconfirmed_since IS NOT NULL AND p.status = '%s' "
	             "AND p.refunded_amount < p.amount AND (o.status = '%s' OR (o.order_id IS NULL "
	             "AND p.unconfirmed_since < UTC_TIMESTAMP(3) - INTERVAL %ld SECOND))",
	             pay_status_name(PAY_CAPTURED), pay_order_outcome_name(PAY_ORDER_CANCELLED),
	             unknown_s);
	if (limit)
		svc_buf_addf(sql, " ORDER BY p.unconfirmed_since LIMIT %zu", limit);
	return sql->failed ? SVC_ENOMEM : 0;
}

/* Runs pay_reconcile_sql(unknown_s, limit) into *res. */
static int reconcile_query(MYSQL *conn, long unknown_s, size_t limit, MYSQL_RES **res)
{
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	rc = pay_reconcile_sql(&sql, unknown_s, limit);
	if (rc == 0)
		rc = svc_db_query(conn, svc_buf_str(&sql), res);
	svc_buf_release(&sql);
	return rc;
}

int pay_reconcile_count(MYSQL *conn, long unknown_s, struct pay_reconciliation *out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc = reconcile_query(conn, unknown_s, 0, &res);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && (r = svc_db_fetch_row(res))) {
		out->captured_on_cancelled = svc_db_col_i64(r[0]);
		out->captured_without_outcome = svc_db_col_i64(r[1]);
	}
	if (res)
		svc_db_free_result(res);
	return rc;
}

int pay_reconcile_list(MYSQL *conn, long unknown_s, size_t limit, json_t **out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	json_t *list = NULL;
	int rc = reconcile_query(conn, unknown_s, limit ? limit : 1, &res);

	if (rc != 0)
		return rc;
	list = json_array();
	while (list && (r = svc_db_fetch_row(res))) {
		bool cancelled = r[1] && strcmp(r[1], "1") == 0;
		json_t *o = json_pack(
		        "{s:s, s:s, s:s, s:I, s:s, s:s}", "orderId", r[0] ? r[0] : "", "problem",
		        cancelled ? "capturedOnCancelled" : "capturedWithoutOutcome", "paymentId",
		        r[2] ? r[2] : "", "amount", (json_int_t)svc_db_col_i64(r[3]), "currency",
		        r[4] ? r[4] : "", "capturedAt", r[5] ? r[5] : "");

		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	svc_db_free_result(res);
	if (!list)
		return SVC_ENOMEM;
	*out = list;
	return 0;
}
