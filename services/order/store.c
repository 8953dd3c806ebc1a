/*
 * SQL for orders, order_lines and saga_transitions (see store.h).
 */
#include "services/order/store.h"

#include <errno.h>
#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/log.h"

/* A DATETIME(3) column as "2026-11-24T20:17:04.123Z" (NULL stays NULL). */
#define ISO(col)                                                                                   \
	"CONCAT(DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(" col                 \
	") DIV 1000, 3, '0'), 'Z')"

/* The SELECTs of the GET representation, each followed by the quoted id. */
// clang-format off
static const char order_select[] =
	"SELECT order_id, user_id, status, step, " ISO("step_deadline") ", total_amount, "
	"currency, cancel_reason, " ISO("created_at") ", " ISO("updated_at") " "
	"FROM orders WHERE order_id = ";
static const char history_select[] =
	"SELECT from_status, to_status, step, event_type, event_id, detail, " ISO("created_at") " "
	"FROM saga_transitions WHERE order_id = ";
// clang-format on

/* Runs the statement built in `b` (releasing it). */
static int exec_buf(MYSQL *conn, struct svc_buf *b)
{
	int rc = b->failed ? SVC_ENOMEM : svc_db_exec(conn, svc_buf_str(b));

	svc_buf_release(b);
	return rc;
}

static int query_buf(MYSQL *conn, struct svc_buf *b, MYSQL_RES **out)
{
	int rc = b->failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(b), out);

	svc_buf_release(b);
	return rc;
}

/* json string of a nullable column */
static json_t *col_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* New orders and their lines are only appended: deferred to the commit
 * when the caller defers (svc/defer.h), so that the orders of one
 * transaction go in one INSERT per table. */
static const char ORDER_INSERT[] = "INSERT INTO orders (order_id, user_id, status, step, "
                                   "step_deadline, total_amount, currency, cancel_reason, "
                                   "idempotency_key, request_hash, created_at, updated_at) VALUES ";
static const char LINE_INSERT[] = "INSERT INTO order_lines (order_id, line_no, product_id, "
                                  "quantity, unit_price) VALUES ";

/* Runs svc_defer_insert() with the tuple built in `b` (releasing it). */
static int defer_buf(struct svc_tx *tx, const char *head, struct svc_buf *b)
{
	int rc = b->failed ? SVC_ENOMEM : svc_defer_insert(tx, head, b->data, b->len);

	svc_buf_release(b);
	return rc;
}

int order_store_insert(struct svc_tx *tx, const struct order_new *o)
{
	MYSQL *conn = tx->conn;
	const struct order_request *req = o->req;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "(");
	svc_sql_add_str(&b, conn, o->order_id);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, req->user_id);
	svc_buf_addf(&b, ", '%s', '%s', UTC_TIMESTAMP(3) + INTERVAL %ld * 1000 MICROSECOND, %lld, ",
	             order_state_name(ORDER_PENDING), order_state_step(ORDER_PENDING),
	             o->deadline_ms, (long long)o->total);
	svc_sql_add_str(&b, conn, o->currency);
	svc_buf_adds(&b, ", NULL, ");
	svc_sql_add_str(&b, conn, o->idempotency_key);
	if (o->idempotency_key) {
		svc_buf_adds(&b, ", SHA2(");
		svc_sql_add_str(&b, conn, o->canonical);
		svc_buf_adds(&b, ", 256)");
	} else {
		svc_buf_adds(&b, ", NULL");
	}
	svc_buf_adds(&b, ", UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))");
	rc = defer_buf(tx, ORDER_INSERT, &b);
	if (rc != 0) {
		if (svc_db_errno(conn) == ER_DUP_ENTRY)
			rc = SVC_ECONFLICT;
		return rc;
	}
	for (size_t i = 0; i < req->nitems && rc == 0; i++) {
		svc_buf_init(&b);
		svc_buf_adds(&b, "(");
		svc_sql_add_str(&b, conn, o->order_id);
		svc_buf_addf(&b, ", %zu, ", i + 1);
		svc_sql_add_str(&b, conn, req->items[i].product_id);
		svc_buf_addf(&b, ", %d, %lld)", req->items[i].quantity,
		             (long long)o->unit_prices[i]);
		rc = defer_buf(tx, LINE_INSERT, &b);
	}
	return rc;
}

int order_store_find_by_key(MYSQL *conn, const char *user_id, const char *key,
                            const char *canonical, char order_id[37], bool *same_request)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT order_id, request_hash = SHA2(");
	svc_sql_add_str(&b, conn, canonical);
	svc_buf_adds(&b, ", 256) FROM orders WHERE user_id = ");
	svc_sql_add_str(&b, conn, user_id);
	svc_buf_adds(&b, " AND idempotency_key = ");
	svc_sql_add_str(&b, conn, key);
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	row = svc_db_fetch_row(res);
	if (!row || !row[0]) {
		rc = SVC_ENOTFOUND;
		goto free_res;
	}
	snprintf(order_id, 37, "%s", row[0]);
	*same_request = row[1] && strcmp(row[1], "1") == 0;
free_res:
	svc_db_free_result(res);
	return rc;
}

/* The index in o[0..n) of `id` as the database compares order ids
 * (ascii_general_ci: case-insensitively), trying `hint` first; n when absent. */
static size_t find_locked(const struct order_locked *o, size_t n, const char *id, size_t hint)
{
	if (hint < n && strcasecmp(o[hint].row.order_id, id) == 0)
		return hint;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(o[i].row.order_id, id) == 0)
			return i;
	return n;
}

/* Fills *out from a row of the SELECT in order_store_lock_many(). */
static int parse_order_row(MYSQL_ROW row, struct order_row *out)
{
	snprintf(out->order_id, sizeof(out->order_id), "%s", row[0] ? row[0] : "");
	snprintf(out->user_id, sizeof(out->user_id), "%s", row[1] ? row[1] : "");
	if (!order_state_parse(row[2], &out->state)) {
		svc_error("order %s has an unknown status '%s'", out->order_id,
		          row[2] ? row[2] : "");
		return SVC_EPERMANENT;
	}
	out->total = svc_db_col_i64(row[3]);
	snprintf(out->currency, sizeof(out->currency), "%s", row[4] ? row[4] : "");
	snprintf(out->reason, sizeof(out->reason), "%s", row[5] ? row[5] : "");
	snprintf(out->payment_id, sizeof(out->payment_id), "%s", row[6] ? row[6] : "");
	out->age_us = svc_db_col_i64(row[7]);
	out->in_state_us = svc_db_col_i64(row[8]);
	return 0;
}

/* The lines of the orders asked with_items, as one JSON array per order of
 * {"n": line_no, "p", "q", "u"} in no particular order (NULL for none). A
 * subquery: a locking read does not lock what its subqueries read (MySQL and
 * MariaDB alike), so new orders' lines are never blocked by it. */
static void add_lines_column(struct svc_buf *b, MYSQL *conn, const struct order_locked *o, size_t n)
{
	size_t asked = 0;

	for (size_t i = 0; i < n; i++) {
		if (!o[i].with_items)
			continue;
		svc_buf_adds(b, asked++ ? ", "
		                        : ", (SELECT JSON_ARRAYAGG(JSON_OBJECT('n', l.line_no, "
		                          "'p', l.product_id, 'q', l.quantity, 'u', l.unit_price)) "
		                          "FROM order_lines l WHERE l.order_id = orders.order_id "
		                          "AND l.order_id IN (");
		svc_sql_add_str(b, conn, o[i].row.order_id);
	}
	svc_buf_adds(b, asked ? "))" : ", NULL");
}

static int cmp_line_no(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "n"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "n"));

	return (x > y) - (x < y);
}

/* An order's lines from add_lines_column()'s text (NULL: none) as
 * order_store_items() gives them; NULL when unreadable or out of memory. */
static json_t *parse_lines(const char *text)
{
	json_t *agg = text ? json_loads(text, 0, NULL) : json_array();
	size_t n = json_array_size(agg), i;
	json_t **lines = calloc(n ? n : 1, sizeof(*lines));
	json_t *items = json_is_array(agg) && lines ? json_array() : NULL;

	for (i = 0; items && i < n; i++)
		lines[i] = json_array_get(agg, i);
	if (items)
		qsort(lines, n, sizeof(*lines), cmp_line_no);
	for (i = 0; items && i < n; i++) {
		const char *product = json_string_value(json_object_get(lines[i], "p"));
		json_t *q = json_object_get(lines[i], "q"), *u = json_object_get(lines[i], "u");
		json_t *it = product && json_is_integer(q) && json_is_integer(u)
		                     ? json_pack("{s:s, s:O, s:O}", "productId", product,
		                                 "quantity", q, "unitPrice", u)
		                     : NULL;

		if (!it || json_array_append_new(items, it) != 0) {
			json_decref(items);
			items = NULL;
		}
	}
	free(lines);
	json_decref(agg);
	return items;
}

int order_store_lock_many(MYSQL *conn, struct order_locked *o, size_t n)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct svc_buf b;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		o[i].code = SVC_ENOTFOUND;
		o[i].items = NULL;
	}
	if (n == 0)
		return 0;
	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT order_id, user_id, status, total_amount, currency, cancel_reason, "
	                 "payment_id, TIMESTAMPDIFF(MICROSECOND, created_at, UTC_TIMESTAMP(6)), "
	                 "TIMESTAMPDIFF(MICROSECOND, updated_at, UTC_TIMESTAMP(6))");
	add_lines_column(&b, conn, o, n);
	svc_buf_adds(&b, " FROM orders WHERE order_id IN (");
	for (i = 0; i < n; i++) {
		svc_buf_adds(&b, i ? ", " : "");
		svc_sql_add_str(&b, conn, o[i].row.order_id);
	}
	/* One lock order for every transaction: two of them cannot deadlock. */
	svc_buf_adds(&b, ") ORDER BY order_id FOR UPDATE");
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	/* Rows come in id order, mostly the order o[] is in. */
	for (i = 0; (row = svc_db_fetch_row(res)); i++) {
		struct order_row r = {0};
		int code = parse_order_row(row, &r);

		i = find_locked(o, n, r.order_id, i);
		if (i == n)
			continue;
		o[i].row = r;
		o[i].code = code;
		/* Unreadable lines are left to order_store_items(). */
		if (code == 0 && o[i].with_items)
			o[i].items = parse_lines(row[9]);
	}
	svc_db_free_result(res);
	return 0;
}

int order_store_lock(MYSQL *conn, const char *order_id, struct order_row *row)
{
	struct order_locked o = {.with_items = false};
	int rc;

	if (strlen(order_id) >= sizeof(o.row.order_id))
		return SVC_ENOTFOUND;
	snprintf(o.row.order_id, sizeof(o.row.order_id), "%s", order_id);
	rc = order_store_lock_many(conn, &o, 1);
	if (rc == 0 && o.code == 0)
		*row = o.row;
	return rc ? rc : o.code;
}

int order_store_lock_due(MYSQL *conn, size_t max, char (*ids)[37], size_t *n)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct svc_buf b;
	int rc;

	*n = 0;
	svc_buf_init(&b);
	svc_buf_addf(&b,
	             "SELECT order_id FROM orders WHERE status IN ('%s', '%s', '%s') AND "
	             "step_deadline < UTC_TIMESTAMP(3) ORDER BY step_deadline LIMIT %zu "
	             "FOR UPDATE SKIP LOCKED",
	             order_state_name(ORDER_PENDING), order_state_name(ORDER_PAYMENT_PENDING),
	             order_state_name(ORDER_COMPENSATING), max);
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	while ((row = svc_db_fetch_row(res)) && *n < max) {
		if (row[0])
			snprintf(ids[(*n)++], 37, "%s", row[0]);
	}
	svc_db_free_result(res);
	return 0;
}

/* The expression an order's new step_deadline is (deadline_ms >= 0). */
static void add_deadline(struct svc_buf *b, long deadline_ms)
{
	if (deadline_ms > 0)
		svc_buf_addf(b, "UTC_TIMESTAMP(3) + INTERVAL %ld * 1000 MICROSECOND", deadline_ms);
	else
		svc_buf_adds(b, "NULL");
}

static bool has_text(const char *s)
{
	return s && s[0];
}

/* The columns a change may set. */
enum change_col { SET_STATUS, SET_STEP, SET_DEADLINE, SET_REASON, SET_PAYMENT_ID };

static bool change_sets(const struct order_change *c, enum change_col col)
{
	return (col != SET_DEADLINE || c->deadline_ms >= 0) &&
	       (col != SET_REASON || has_text(c->reason)) &&
	       (col != SET_PAYMENT_ID || has_text(c->payment_id));
}

static void add_value(struct svc_buf *b, MYSQL *conn, const struct order_change *c,
                      enum change_col col)
{
	switch (col) {
	case SET_STATUS:
		svc_sql_add_str(b, conn, order_state_name(c->state));
		break;
	case SET_STEP:
		svc_sql_add_str(b, conn, c->step);
		break;
	case SET_DEADLINE:
		add_deadline(b, c->deadline_ms);
		break;
	case SET_REASON:
		svc_buf_adds(b, "LEFT(");
		svc_sql_add_str(b, conn, c->reason);
		svc_buf_adds(b, ", 255)");
		break;
	case SET_PAYMENT_ID:
		svc_sql_add_str(b, conn, c->payment_id);
		break;
	}
}

/* ", name = CASE order_id WHEN <id> THEN <value> ... ELSE name END" over the
 * changes that set the column; nothing when none does. */
static void add_case(struct svc_buf *b, MYSQL *conn, enum change_col col,
                     const struct order_change *c, size_t n)
{
	static const char *const names[] = {
	        [SET_STATUS] = "status",          [SET_STEP] = "step",
	        [SET_DEADLINE] = "step_deadline", [SET_REASON] = "cancel_reason",
	        [SET_PAYMENT_ID] = "payment_id",
	};
	size_t set = 0;

	for (size_t i = 0; i < n; i++) {
		if (!change_sets(&c[i], col))
			continue;
		svc_buf_addf(b, set++ ? " WHEN " : ", %s = CASE order_id WHEN ", names[col]);
		svc_sql_add_str(b, conn, c[i].order_id);
		svc_buf_adds(b, " THEN ");
		add_value(b, conn, &c[i], col);
	}
	if (set)
		svc_buf_addf(b, " ELSE %s END", names[col]);
}

int order_store_update_many(MYSQL *conn, const struct order_change *c, size_t n)
{
	struct svc_buf b;

	if (n == 0)
		return 0;
	svc_buf_init(&b);
	svc_buf_adds(&b, "UPDATE orders SET updated_at = UTC_TIMESTAMP(3)");
	add_case(&b, conn, SET_STATUS, c, n);
	add_case(&b, conn, SET_STEP, c, n);
	add_case(&b, conn, SET_DEADLINE, c, n);
	add_case(&b, conn, SET_REASON, c, n);
	add_case(&b, conn, SET_PAYMENT_ID, c, n);
	svc_buf_adds(&b, " WHERE order_id IN (");
	for (size_t i = 0; i < n; i++) {
		svc_buf_adds(&b, i ? ", " : "");
		svc_sql_add_str(&b, conn, c[i].order_id);
	}
	svc_buf_adds(&b, ")");
	return exec_buf(conn, &b);
}

int order_store_update(MYSQL *conn, const char *order_id, enum order_state state, const char *step,
                       long deadline_ms, const char *reason)
{
	const struct order_change c = {
	        .order_id = order_id,
	        .state = state,
	        .step = step,
	        .deadline_ms = deadline_ms,
	        .reason = reason,
	};

	return order_store_update_many(conn, &c, 1);
}

int order_store_set_payment_id(MYSQL *conn, const char *order_id, const char *payment_id)
{
	struct svc_buf b;

	svc_buf_init(&b);
	svc_buf_adds(&b, "UPDATE orders SET payment_id = ");
	svc_sql_add_str(&b, conn, payment_id);
	svc_buf_adds(&b, " WHERE order_id = ");
	svc_sql_add_str(&b, conn, order_id);
	return exec_buf(conn, &b);
}

/* History rows are only appended: deferred to the commit when the consumer
 * batches (svc/defer.h). */
static const char HISTORY_INSERT[] = "INSERT INTO saga_transitions (order_id, from_status, "
                                     "to_status, step, event_type, event_id, detail, "
                                     "created_at) VALUES ";

int order_store_add_history(struct svc_tx *tx, const char *order_id, const struct order_history *h)
{
	MYSQL *conn = tx->conn;
	struct svc_buf b;

	svc_buf_init(&b);
	svc_buf_adds(&b, "(");
	svc_sql_add_str(&b, conn, order_id);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, h->from);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, h->to);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, h->step);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, h->event_type);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, h->event_id && h->event_id[0] ? h->event_id : NULL);
	svc_buf_adds(&b, ", LEFT(");
	svc_sql_add_str(&b, conn, h->detail);
	svc_buf_adds(&b, ", 255), UTC_TIMESTAMP(3))");
	return defer_buf(tx, HISTORY_INSERT, &b);
}

int order_store_items(MYSQL *conn, const char *order_id, json_t **out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	json_t *items = NULL;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT product_id, quantity, unit_price FROM order_lines WHERE "
	                 "order_id = ");
	svc_sql_add_str(&b, conn, order_id);
	svc_buf_adds(&b, " ORDER BY line_no");
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	items = json_array();
	while (items && (row = svc_db_fetch_row(res))) {
		json_t *it = json_pack("{s:s, s:I, s:I}", "productId", row[0] ? row[0] : "",
		                       "quantity", (json_int_t)svc_db_col_i64(row[1]), "unitPrice",
		                       (json_int_t)svc_db_col_i64(row[2]));
		if (!it || json_array_append_new(items, it) != 0) {
			json_decref(items);
			items = NULL;
		}
	}
	svc_db_free_result(res);
	if (!items)
		return SVC_ENOMEM;
	*out = items;
	return 0;
}

static int load_history(MYSQL *conn, const char *order_id, json_t **out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	json_t *hist = NULL;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, history_select);
	svc_sql_add_str(&b, conn, order_id);
	svc_buf_adds(&b, " ORDER BY id");
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	hist = json_array();
	while (hist && (row = svc_db_fetch_row(res))) {
		json_t *h =
		        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "from", col_json(row[0]),
		                  "to", col_json(row[1]), "step", col_json(row[2]), "event",
		                  col_json(row[3]), "eventId", col_json(row[4]), "detail",
		                  col_json(row[5]), "at", col_json(row[6]));
		if (!h || json_array_append_new(hist, h) != 0) {
			json_decref(hist);
			hist = NULL;
		}
	}
	svc_db_free_result(res);
	if (!hist)
		return SVC_ENOMEM;
	*out = hist;
	return 0;
}

int order_store_load_json(MYSQL *conn, const char *order_id, json_t **out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	json_t *doc = NULL, *items = NULL, *hist = NULL;
	bool cancelled;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, order_select);
	svc_sql_add_str(&b, conn, order_id);
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	row = svc_db_fetch_row(res);
	if (!row) {
		rc = SVC_ENOTFOUND;
		goto free_res;
	}
	rc = order_store_items(conn, order_id, &items);
	if (rc == 0)
		rc = load_history(conn, order_id, &hist);
	if (rc != 0)
		goto free_res;
	cancelled = row[2] && strcmp(row[2], order_state_name(ORDER_CANCELLED)) == 0;
	doc = json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:O, s:o, s:o, s:o, s:O}", "orderId",
	                col_json(row[0]), "userId", col_json(row[1]), "status", col_json(row[2]),
	                "step", col_json(row[3]), "stepDeadline", col_json(row[4]), "totalAmount",
	                (json_int_t)svc_db_col_i64(row[5]), "currency", col_json(row[6]), "items",
	                items, "cancellationReason", col_json(cancelled ? row[7] : NULL),
	                "createdAt", col_json(row[8]), "updatedAt", col_json(row[9]), "history",
	                hist);
	rc = doc ? 0 : SVC_ENOMEM;
	*out = doc;
free_res:
	json_decref(items);
	json_decref(hist);
	svc_db_free_result(res);
	return rc;
}
