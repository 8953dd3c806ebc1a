/*
 * payments table access (store.h). Statements are built with svc_buf and
 * escaped literals; timestamps are written as UTC.
 */
#include "services/payment/store.h"

#include <errno.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int pay_row_load(MYSQL *conn, const char *order_id, bool lock, struct pay_row *row)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	memset(row, 0, sizeof(*row));
	copy_field(row->order_id, sizeof(row->order_id), order_id);
	row->status = PAY_NONE;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT payment_id, amount, currency, status, gateway_ref, reason, "
	                   "refunded_amount, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), "
	                   "DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%fZ') "
	                   "FROM payments WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	if (lock)
		svc_buf_adds(&sql, " FOR UPDATE");
	rc = sql.failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(&sql), &res);
	if (rc)
		goto release;
	r = mysql_fetch_row(res);
	if (!r)
		goto release;
	copy_field(row->payment_id, sizeof(row->payment_id), r[0]);
	row->amount = svc_db_col_i64(r[1]);
	copy_field(row->currency, sizeof(row->currency), r[2]);
	if (pay_status_parse(r[3], &row->status)) {
		rc = SVC_EPERMANENT; /* only this service writes the column */
		goto release;
	}
	copy_field(row->gateway_ref, sizeof(row->gateway_ref), r[4]);
	copy_field(row->reason, sizeof(row->reason), r[5]);
	row->refunded = svc_db_col_i64(r[6]);
	copy_field(row->created_at, sizeof(row->created_at), r[7]);
	copy_field(row->updated_at, sizeof(row->updated_at), r[8]);
release:
	if (res)
		mysql_free_result(res);
	svc_buf_release(&sql);
	return rc;
}

/* Appends `s` as a literal, or NULL when empty. */
static void add_opt(struct svc_buf *sql, MYSQL *conn, const char *s)
{
	svc_sql_add_str(sql, conn, *s ? s : NULL);
}

int pay_row_insert(MYSQL *conn, const struct pay_row *row)
{
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql,
	             "INSERT INTO payments (order_id, payment_id, amount, currency, status, "
	             "gateway_ref, reason, refunded_amount, created_at, updated_at) VALUES (");
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
	svc_buf_addf(&sql, ", %lld, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))", (long long)row->refunded);
	rc = sql.failed ? SVC_ENOMEM : svc_db_exec(conn, svc_buf_str(&sql));
	if (rc == SVC_EPERMANENT && mysql_errno(conn) == ER_DUP_ENTRY)
		rc = SVC_DUPLICATE;
	svc_buf_release(&sql);
	return rc;
}

int pay_row_update(MYSQL *conn, const struct pay_row *row)
{
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "UPDATE payments SET status = ");
	svc_sql_add_str(&sql, conn, pay_status_name(row->status));
	svc_buf_adds(&sql, ", gateway_ref = ");
	add_opt(&sql, conn, row->gateway_ref);
	svc_buf_adds(&sql, ", reason = ");
	add_opt(&sql, conn, row->reason);
	svc_buf_addf(&sql,
	             ", refunded_amount = %lld, updated_at = UTC_TIMESTAMP(3) WHERE order_id = ",
	             (long long)row->refunded);
	svc_sql_add_str(&sql, conn, row->order_id);
	rc = sql.failed ? SVC_ENOMEM : svc_db_exec(conn, svc_buf_str(&sql));
	svc_buf_release(&sql);
	return rc;
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
	return o;
}
