/*
 * Inventory table access (stock.h). Statements are built with svc_buf and
 * escaped literals; counts are written as the absolute values computed from
 * the rows locked in the same transaction, many rows per statement (IN
 * lists, UPDATE ... SET c = CASE key WHEN .. THEN .. END).
 */
#include "services/inventory/stock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/inventory/batch.h"
#include "svc/buf.h"
#include "svc/db.h"
#include "svc/defer.h"
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

/*
 * Statements over a batch's rows name at most this many keys: MariaDB turns
 * a longer IN list into a join with a temporary table
 * (in_predicate_conversion_threshold, 1000), and a locking read through it
 * locks every row it scans. Runs of keys go in key order, so locks are still
 * taken in that order.
 */
#define KEYS_PER_STATEMENT 500

/* Selects entries of a batch array (orders or products). */
typedef bool (*entry_pred)(const void *entry);

/* The entries [from, to) of a batch array (n entries of `size` bytes, the
 * key string first) that `keep` accepts. */
struct span {
	const char *base;
	size_t n, size;
	entry_pred keep;
	size_t from, to;
};

static const void *entry_at(const struct span *s, size_t i)
{
	return s->base + i * s->size;
}

static struct span orders_where(const struct inv_batch *b, entry_pred keep)
{
	return (struct span){(const char *)b->orders, b->norders, sizeof(b->orders[0]), keep, 0, 0};
}

static struct span products_where(const struct inv_batch *b, entry_pred keep)
{
	return (struct span){
	        (const char *)b->products, b->nproducts, sizeof(b->products[0]), keep, 0, 0};
}

/* Moves the span to the next run of at most KEYS_PER_STATEMENT accepted
 * entries; false when none is left. */
static bool next_run(struct span *s)
{
	size_t count = 0;

	for (s->from = s->to; s->from < s->n && !s->keep(entry_at(s, s->from)); s->from++)
		;
	for (s->to = s->from; s->to < s->n && count < KEYS_PER_STATEMENT; s->to++)
		count += s->keep(entry_at(s, s->to));
	return s->from < s->n;
}

/* Appends the quoted keys of the span's accepted entries, comma separated. */
static void add_keys(struct svc_buf *sql, MYSQL *conn, const struct span *s)
{
	size_t i, count = 0;

	for (i = s->from; i < s->to; i++) {
		if (!s->keep(entry_at(s, i)))
			continue;
		svc_buf_adds(sql, count++ ? ", " : "");
		svc_sql_add_str(sql, conn, entry_at(s, i));
	}
}

/* Appends one entry's value to a CASE (add_case()); `arg` is the caller's. */
typedef void (*entry_value)(struct svc_buf *sql, MYSQL *conn, const void *entry, const void *arg);

/* Appends "col = CASE keycol WHEN <key> THEN <value> ... END" over the
 * span's accepted entries. */
static void add_case(struct svc_buf *sql, MYSQL *conn, const struct span *s, const char *col,
                     const char *keycol, entry_value value, const void *arg)
{
	size_t i;

	svc_buf_addf(sql, "%s = CASE %s", col, keycol);
	for (i = s->from; i < s->to; i++) {
		if (!s->keep(entry_at(s, i)))
			continue;
		svc_buf_adds(sql, " WHEN ");
		svc_sql_add_str(sql, conn, entry_at(s, i));
		svc_buf_adds(sql, " THEN ");
		value(sql, conn, entry_at(s, i), arg);
	}
	svc_buf_adds(sql, " END");
}

/*
 * One statement per run of the span's keys: head, then (for an UPDATE) what
 * `set` appends, " WHERE keycol IN (<keys>)", tail. With `load`, each
 * result set is handed to it with `b` (NULL without a loader). 0 or the
 * first failure (nothing more runs).
 */
struct keyed_stmt {
	const char *head;
	void (*set)(struct svc_buf *sql, MYSQL *conn, const struct span *s);
	const char *keycol;
	const char *tail;
	int (*load)(struct inv_batch *b, MYSQL_RES *res);
};

static int run_keyed(MYSQL *conn, const struct keyed_stmt *st, struct span s, struct inv_batch *b)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	int rc = 0;

	while (rc == 0 && next_run(&s)) {
		svc_buf_init(&sql);
		svc_buf_adds(&sql, st->head);
		if (st->set)
			st->set(&sql, conn, &s);
		svc_buf_addf(&sql, " WHERE %s IN (", st->keycol);
		add_keys(&sql, conn, &s);
		svc_buf_adds(&sql, ")");
		svc_buf_adds(&sql, st->tail);
		rc = run(conn, &sql, st->load ? &res : NULL);
		if (rc == 0 && st->load) {
			rc = st->load(b, res);
			svc_db_free_result(res);
		}
	}
	return rc;
}

static bool every(const void *e)
{
	(void)e;
	return true;
}

static bool reserved_order(const void *e)
{
	const struct inv_batch_order *o = e;

	return o->loaded && o->status == INV_RES_RESERVED;
}

static bool reserved_without_lines(const void *e)
{
	const struct inv_batch_order *o = e;

	return reserved_order(e) && o->nlines == 0;
}

static bool changed_order(const void *e)
{
	const struct inv_batch_order *o = e;

	return o->changed && o->status != INV_RES_NONE;
}

static bool unused_placeholder(const void *e)
{
	const struct inv_batch_order *o = e;

	return o->may_create && o->status == INV_RES_NONE;
}

static bool changed_product(const void *e)
{
	return ((const struct inv_batch_product *)e)->changed;
}

static bool product_not_found(const void *e)
{
	return !((const struct inv_batch_product *)e)->p.c.found;
}

/*
 * Inserts a placeholder (status NONE) for each order that may be created,
 * in order_id order, unless it has a row: then that row is locked. Sets
 * *inserted to the number of placeholders inserted (a row that was there
 * counts 0: its update changes nothing, and the pool's connections do not
 * ask for found rows).
 */
static int insert_placeholders(MYSQL *conn, const struct inv_batch *b, uint64_t *inserted)
{
	struct svc_buf sql;
	size_t i, n = 0;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "INSERT INTO order_reservations (order_id, status, created_at, "
	                   "updated_at) VALUES ");
	for (i = 0; i < b->norders; i++) {
		if (!b->orders[i].may_create)
			continue;
		svc_buf_adds(&sql, n++ ? ", (" : "(");
		svc_sql_add_str(&sql, conn, b->orders[i].order_id);
		svc_buf_addf(&sql, ", '%s', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
		             inv_res_status_name(INV_RES_NONE));
	}
	svc_buf_adds(&sql, " ON DUPLICATE KEY UPDATE order_id = order_id");
	rc = n ? run(conn, &sql, NULL) : 0;
	svc_buf_release(&sql);
	*inserted = rc == 0 && n ? (uint64_t)svc_db_affected_rows(conn) : 0;
	return rc;
}

/* Fills the batch's orders from rows (order_id, status, reason). */
static int load_orders(struct inv_batch *b, MYSQL_RES *res)
{
	struct inv_batch_order *o;
	MYSQL_ROW r;

	while ((r = svc_db_fetch_row(res))) {
		o = inv_batch_order(b, r[0] ? r[0] : "");
		if (!o)
			continue;
		if (r[1] && !strcmp(r[1], inv_res_status_name(INV_RES_NONE)))
			o->status = INV_RES_NONE;
		else if (inv_res_status_parse(r[1], &o->status))
			return SVC_EPERMANENT;
		free(o->reason);
		o->reason = r[2] ? strdup(r[2]) : NULL;
		if (r[2] && !o->reason)
			return SVC_ENOMEM;
		o->has_row = true;
	}
	return 0;
}

/* Appends rows (order_id, product_id, quantity, unit_price) to their orders' lines. */
static int load_lines(struct inv_batch *b, MYSQL_RES *res)
{
	struct inv_batch_order *o;
	struct inv_item line;
	MYSQL_ROW r;

	while ((r = svc_db_fetch_row(res))) {
		o = inv_batch_order(b, r[0] ? r[0] : "");
		if (!o)
			continue;
		memset(&line, 0, sizeof(line));
		snprintf(line.product_id, sizeof(line.product_id), "%s", r[1] ? r[1] : "");
		line.quantity = svc_db_col_i64(r[2]);
		line.unit_price = svc_db_col_i64(r[3]);
		if (inv_batch_order_load_line(o, &line))
			return SVC_ENOMEM;
	}
	return 0;
}

/* Fills the batch's products from rows (product_id, name, available,
 * reserved, sold, price, version). */
static int load_products(struct inv_batch *b, MYSQL_RES *res)
{
	struct inv_batch_product *row;
	MYSQL_ROW r;

	while ((r = svc_db_fetch_row(res))) {
		row = inv_batch_product(b, r[0] ? r[0] : "");
		if (!row)
			continue;
		snprintf(row->p.name, sizeof(row->p.name), "%s", r[1] ? r[1] : "");
		row->p.c.found = true;
		row->p.c.available = svc_db_col_i64(r[2]);
		row->p.c.reserved = svc_db_col_i64(r[3]);
		row->p.c.sold = svc_db_col_i64(r[4]);
		row->p.c.price = svc_db_col_i64(r[5]);
		row->p.c.version = svc_db_col_i64(r[6]);
	}
	return 0;
}

static const struct keyed_stmt lock_orders = {
        .head = "SELECT order_id, status, reason FROM order_reservations",
        .keycol = "order_id",
        .tail = " ORDER BY order_id FOR UPDATE",
        .load = load_orders,
};

/*
 * The lines of the RESERVED orders are read without locks: a locking read
 * of an order's lines is a range read, and in REPEATABLE READ it also locks
 * the gaps around them, where a concurrent batch inserts the lines of its
 * new orders (ids that sort between ours once events are late): that
 * insert then waits for us while we wait for its products, a deadlock.
 * Lines are written only with their order's RESERVED status, in the same
 * transaction, and never change; their order's row is locked by now. A
 * plain read sees the transaction's snapshot, taken at its first plain read:
 * this one, run after the order rows were locked, so it holds the lines of
 * every order seen RESERVED. Should an earlier plain read ever have taken
 * the snapshot (a batch once read lines like that after another event's
 * read: a release then gave nothing back), a RESERVED order would show no
 * lines at all (all of them commit together): those are read again with a
 * locking read, which sees the latest committed rows.
 */
#define LINES_SELECT "SELECT order_id, product_id, quantity, unit_price FROM stock_reservations"
#define LINES_ORDER  " ORDER BY order_id, product_id"

static const struct keyed_stmt read_lines = {
        .head = LINES_SELECT,
        .keycol = "order_id",
        .tail = LINES_ORDER,
        .load = load_lines,
};

static const struct keyed_stmt lock_lines = {
        .head = LINES_SELECT,
        .keycol = "order_id",
        .tail = LINES_ORDER " FOR UPDATE",
        .load = load_lines,
};

#define PRODUCTS_SELECT                                                                            \
	"SELECT product_id, name, available, reserved, sold, price, version FROM products"

static const struct keyed_stmt lock_products = {
        .head = PRODUCTS_SELECT,
        .keycol = "product_id",
        .tail = " ORDER BY product_id FOR UPDATE",
        .load = load_products,
};

static const struct keyed_stmt read_products = {
        .head = PRODUCTS_SELECT,
        .keycol = "product_id",
        .tail = "",
        .load = load_products,
};

int inv_stock_lock_orders(MYSQL *conn, struct inv_batch *b)
{
	uint64_t inserted = 0;
	size_t i, placeholders = 0;
	bool all_new;
	int rc;

	for (i = 0; i < b->norders; i++) {
		b->orders[i].has_row = b->orders[i].may_create;
		placeholders += b->orders[i].may_create;
	}
	rc = insert_placeholders(conn, b, &inserted);
	/* Every order just got its placeholder: there is nothing to read. */
	all_new = placeholders == b->norders && inserted == placeholders &&
	          !(conn->client_flag & CLIENT_FOUND_ROWS);
	if (rc == 0 && !all_new)
		rc = run_keyed(conn, &lock_orders, orders_where(b, every), b);
	for (i = 0; rc == 0 && i < b->norders; i++)
		b->orders[i].loaded = true; /* not read: it has no reservation */
	if (rc == 0)
		rc = run_keyed(conn, &read_lines, orders_where(b, reserved_order), b);
	if (rc == 0)
		rc = run_keyed(conn, &lock_lines, orders_where(b, reserved_without_lines), b);
	return rc;
}

int inv_stock_lock_products(MYSQL *conn, struct inv_batch *b)
{
	return run_keyed(conn, &lock_products, products_where(b, every), b);
}

int inv_stock_read_products(MYSQL *conn, struct inv_batch *b)
{
	return run_keyed(conn, &read_products, products_where(b, product_not_found), b);
}

/* The count columns written back, and where each is in struct inv_counts. */
static const struct count_col {
	const char *col;
	size_t off;
} count_cols[] = {
        {"available", offsetof(struct inv_counts, available)},
        {"reserved", offsetof(struct inv_counts, reserved)},
        {"sold", offsetof(struct inv_counts, sold)},
        {"version", offsetof(struct inv_counts, version)},
};

/* Appends the count column `arg` (a struct count_col) of a product row. */
static void add_count(struct svc_buf *sql, MYSQL *conn, const void *e, const void *arg)
{
	const struct inv_batch_product *row = e;
	const struct count_col *cc = arg;
	int64_t v;

	(void)conn;
	memcpy(&v, (const char *)&row->p.c + cc->off, sizeof(v));
	svc_buf_addf(sql, "%lld", (long long)v);
}

static void set_counts(struct svc_buf *sql, MYSQL *conn, const struct span *s)
{
	size_t i;

	for (i = 0; i < sizeof(count_cols) / sizeof(count_cols[0]); i++) {
		add_case(sql, conn, s, count_cols[i].col, "product_id", add_count, &count_cols[i]);
		svc_buf_adds(sql, ", ");
	}
	svc_buf_adds(sql, "updated_at = UTC_TIMESTAMP(3)");
}

static void add_status(struct svc_buf *sql, MYSQL *conn, const void *e, const void *arg)
{
	(void)arg;
	svc_sql_add_str(sql, conn,
	                inv_res_status_name(((const struct inv_batch_order *)e)->status));
}

static void add_reason(struct svc_buf *sql, MYSQL *conn, const void *e, const void *arg)
{
	(void)arg;
	svc_sql_add_str(sql, conn, ((const struct inv_batch_order *)e)->reason);
}

static void set_status(struct svc_buf *sql, MYSQL *conn, const struct span *s)
{
	add_case(sql, conn, s, "status", "order_id", add_status, NULL);
	svc_buf_adds(sql, ", ");
	add_case(sql, conn, s, "reason", "order_id", add_reason, NULL);
	svc_buf_adds(sql, ", updated_at = UTC_TIMESTAMP(3)");
}

static const struct keyed_stmt write_products = {
        .head = "UPDATE products SET ",
        .set = set_counts,
        .keycol = "product_id",
        .tail = "",
};

static const struct keyed_stmt write_orders = {
        .head = "UPDATE order_reservations SET ",
        .set = set_status,
        .keycol = "order_id",
        .tail = "",
};

static const struct keyed_stmt delete_orders = {
        .head = "DELETE FROM order_reservations",
        .keycol = "order_id",
        .tail = "",
};

static const char LINES_INSERT[] = "INSERT INTO stock_reservations (order_id, product_id, "
                                   "quantity, unit_price) VALUES ";

/* The lines reserved in this batch, through svc_defer_insert(). */
static int insert_lines(struct svc_tx *tx, const struct inv_batch *b)
{
	MYSQL *conn = tx->conn;
	struct svc_buf t;
	size_t i, j;
	int rc = 0;

	svc_buf_init(&t);
	for (i = 0; i < b->norders && rc == 0; i++) {
		const struct inv_batch_order *o = &b->orders[i];

		for (j = 0; o->new_lines && j < o->nlines && rc == 0; j++) {
			svc_buf_release(&t);
			svc_buf_adds(&t, "(");
			svc_sql_add_str(&t, conn, o->order_id);
			svc_buf_adds(&t, ", ");
			svc_sql_add_str(&t, conn, o->lines[j].product_id);
			svc_buf_addf(&t, ", %lld, %lld)", (long long)o->lines[j].quantity,
			             (long long)o->lines[j].unit_price);
			rc = t.failed ? SVC_ENOMEM
			              : svc_defer_insert(tx, LINES_INSERT, t.data, t.len);
		}
	}
	svc_buf_release(&t);
	return rc;
}

int inv_stock_write(struct svc_tx *tx, const struct inv_batch *b)
{
	MYSQL *conn = tx->conn;
	size_t i;
	int rc;

	/* Only an order that may be created gets a status without having had
	 * a row (the consumer's rules): never let an UPDATE miss one. */
	for (i = 0; i < b->norders; i++)
		if (changed_order(&b->orders[i]) && !b->orders[i].has_row)
			return SVC_EPERMANENT;
	/* no loader: run_keyed() needs no batch to fill */
	rc = run_keyed(conn, &write_products, products_where(b, changed_product), NULL);

	if (rc == 0)
		rc = run_keyed(conn, &write_orders, orders_where(b, changed_order), NULL);
	if (rc == 0)
		rc = run_keyed(conn, &delete_orders, orders_where(b, unused_placeholder), NULL);
	if (rc == 0)
		rc = insert_lines(tx, b);
	return rc;
}

int inv_product_get(MYSQL *conn, const char *product_id, struct inv_product *p)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc;

	memset(p, 0, sizeof(*p));
	svc_buf_init(&sql);
	svc_buf_adds(&sql, PRODUCTS_SELECT " WHERE product_id = ");
	svc_sql_add_str(&sql, conn, product_id);
	rc = run(conn, &sql, &res);
	if (rc)
		return rc;
	r = svc_db_fetch_row(res);
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
	svc_db_free_result(res);
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
