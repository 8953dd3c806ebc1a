/*
 * Inventory table access (stock.h). Statements are built with svc_buf and
 * escaped literals; counts are written as the absolute values computed from
 * the rows locked in the same transaction.
 */
#include "services/inventory/stock.h"

#include <errno.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"

/* Runs the statement in `sql` (SVC_ENOMEM if building it failed) and releases it. */
static int run(MYSQL *conn, struct svc_buf *sql, MYSQL_RES **res)
{
	int rc;

	if (sql->failed)
		rc = SVC_ENOMEM;
	else if (res)
		rc = svc_db_query(conn, svc_buf_str(sql), res);
	else
		rc = svc_db_exec(conn, svc_buf_str(sql));
	svc_buf_release(sql);
	return rc;
}

int inv_stock_lock(MYSQL *conn, const struct inv_item *items, size_t n, struct inv_counts *out)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	size_t i;
	int rc;

	memset(out, 0, n * sizeof(*out));
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT product_id, available, reserved, sold, price, version "
	                   "FROM products WHERE product_id IN (");
	for (i = 0; i < n; i++) {
		if (i)
			svc_buf_adds(&sql, ", ");
		svc_sql_add_str(&sql, conn, items[i].product_id);
	}
	svc_buf_adds(&sql, ") ORDER BY product_id FOR UPDATE");
	rc = run(conn, &sql, &res);
	if (rc)
		return rc;
	while ((r = mysql_fetch_row(res))) {
		for (i = 0; i < n && strcmp(items[i].product_id, r[0] ? r[0] : ""); i++)
			;
		if (i == n)
			continue;
		out[i].found = true;
		out[i].available = svc_db_col_i64(r[1]);
		out[i].reserved = svc_db_col_i64(r[2]);
		out[i].sold = svc_db_col_i64(r[3]);
		out[i].price = svc_db_col_i64(r[4]);
		out[i].version = svc_db_col_i64(r[5]);
	}
	mysql_free_result(res);
	return 0;
}

int inv_stock_write(MYSQL *conn, const char *product_id, const struct inv_counts *c)
{
	struct svc_buf sql;

	svc_buf_init(&sql);
	svc_buf_addf(&sql,
	             "UPDATE products SET available = %lld, reserved = %lld, sold = %lld, "
	             "version = %lld, updated_at = UTC_TIMESTAMP(3) WHERE product_id = ",
	             (long long)c->available, (long long)c->reserved, (long long)c->sold,
	             (long long)c->version);
	svc_sql_add_str(&sql, conn, product_id);
	return run(conn, &sql, NULL);
}

int inv_reservation_lock(MYSQL *conn, const char *order_id, enum inv_res_status *out)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	*out = INV_RES_NONE;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT status FROM order_reservations WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	svc_buf_adds(&sql, " FOR UPDATE");
	rc = run(conn, &sql, &res);
	if (rc)
		return rc;
	r = mysql_fetch_row(res);
	if (r && inv_res_status_parse(r[0], out))
		rc = SVC_EPERMANENT;
	mysql_free_result(res);
	return rc;
}

int inv_reservation_insert(MYSQL *conn, const char *order_id, enum inv_res_status s,
                           const char *reason)
{
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "INSERT INTO order_reservations (order_id, status, reason, created_at, "
	                   "updated_at) VALUES (");
	svc_sql_add_str(&sql, conn, order_id);
	svc_buf_adds(&sql, ", ");
	svc_sql_add_str(&sql, conn, inv_res_status_name(s));
	svc_buf_adds(&sql, ", ");
	svc_sql_add_str(&sql, conn, reason);
	svc_buf_adds(&sql, ", UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))");
	rc = run(conn, &sql, NULL);
	if (rc == SVC_EPERMANENT && mysql_errno(conn) == ER_DUP_ENTRY)
		rc = SVC_ETRANSIENT;
	return rc;
}

int inv_reservation_set(MYSQL *conn, const char *order_id, enum inv_res_status s,
                        const char *reason)
{
	struct svc_buf sql;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "UPDATE order_reservations SET status = ");
	svc_sql_add_str(&sql, conn, inv_res_status_name(s));
	if (reason) {
		svc_buf_adds(&sql, ", reason = ");
		svc_sql_add_str(&sql, conn, reason);
	}
	svc_buf_adds(&sql, ", updated_at = UTC_TIMESTAMP(3) WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	return run(conn, &sql, NULL);
}

int inv_reservation_add_lines(MYSQL *conn, const char *order_id, const struct inv_item *items,
                              size_t n)
{
	struct svc_buf sql;
	size_t i;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "INSERT INTO stock_reservations (order_id, product_id, quantity, "
	                   "unit_price) VALUES ");
	for (i = 0; i < n; i++) {
		svc_buf_adds(&sql, i ? ", (" : "(");
		svc_sql_add_str(&sql, conn, order_id);
		svc_buf_adds(&sql, ", ");
		svc_sql_add_str(&sql, conn, items[i].product_id);
		svc_buf_addf(&sql, ", %lld, %lld)", (long long)items[i].quantity,
		             (long long)items[i].unit_price);
	}
	return run(conn, &sql, NULL);
}

int inv_reservation_lines(MYSQL *conn, const char *order_id, struct inv_item *out, size_t max,
                          size_t *n)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	*n = 0;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT product_id, quantity, unit_price FROM stock_reservations "
	                   "WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	/* A locking read: it sees the latest committed lines. A plain read would
	 * see the transaction's snapshot, which in a batch of events can predate
	 * the reservation of an order being released concurrently: the release
	 * would then give nothing back and leave the stock reserved for good. */
	svc_buf_adds(&sql, " ORDER BY product_id FOR UPDATE");
	rc = run(conn, &sql, &res);
	if (rc)
		return rc;
	while ((r = mysql_fetch_row(res)) && *n < max) {
		memset(&out[*n], 0, sizeof(out[*n]));
		snprintf(out[*n].product_id, sizeof(out[*n].product_id), "%s", r[0] ? r[0] : "");
		out[*n].quantity = svc_db_col_i64(r[1]);
		out[*n].unit_price = svc_db_col_i64(r[2]);
		(*n)++;
	}
	mysql_free_result(res);
	return 0;
}

int inv_product_get(MYSQL *conn, const char *product_id, struct inv_product *p)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	memset(p, 0, sizeof(*p));
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT product_id, name, available, reserved, sold, price, version "
	                   "FROM products WHERE product_id = ");
	svc_sql_add_str(&sql, conn, product_id);
	rc = run(conn, &sql, &res);
	if (rc)
		return rc;
	r = mysql_fetch_row(res);
	if (!r) {
		rc = SVC_ENOTFOUND;
		goto release;
	}
	snprintf(p->product_id, sizeof(p->product_id), "%s", r[0] ? r[0] : "");
	snprintf(p->name, sizeof(p->name), "%s", r[1] ? r[1] : "");
	p->c.found = true;
	p->c.available = svc_db_col_i64(r[2]);
	p->c.reserved = svc_db_col_i64(r[3]);
	p->c.sold = svc_db_col_i64(r[4]);
	p->c.price = svc_db_col_i64(r[5]);
	p->c.version = svc_db_col_i64(r[6]);
release:
	mysql_free_result(res);
	return rc;
}

int inv_product_put(MYSQL *conn, const char *product_id, int64_t available, int64_t price,
                    const char *name)
{
	struct svc_buf sql;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "INSERT INTO products (product_id, name, price, available, reserved, "
	                   "sold, version, updated_at) VALUES (");
	svc_sql_add_str(&sql, conn, product_id);
	svc_buf_adds(&sql, ", ");
	svc_sql_add_str(&sql, conn, name ? name : product_id);
	svc_buf_addf(&sql,
	             ", %lld, %lld, 0, 0, 1, UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE "
	             "available = %lld, price = %lld, version = version + 1, "
	             "updated_at = UTC_TIMESTAMP(3)",
	             (long long)price, (long long)available, (long long)available,
	             (long long)price);
	if (name) {
		svc_buf_adds(&sql, ", name = ");
		svc_sql_add_str(&sql, conn, name);
	}
	return run(conn, &sql, NULL);
}
