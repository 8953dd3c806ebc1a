/*
 * SQL for orders, order_lines and saga_transitions (see store.h).
 */
#include "services/order/store.h"

#include <errno.h>
#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>

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

int order_store_insert(MYSQL *conn, const struct order_new *o)
{
	const struct order_request *req = o->req;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "INSERT INTO orders (order_id, user_id, status, step, step_deadline, "
	                 "total_amount, currency, cancel_reason, idempotency_key, request_hash, "
	                 "created_at, updated_at) VALUES (");
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
	rc = exec_buf(conn, &b);
	if (rc != 0) {
		if (mysql_errno(conn) == ER_DUP_ENTRY)
			rc = SVC_ECONFLICT;
		return rc;
	}

	/* All lines in one multi-row INSERT. */
	svc_buf_init(&b);
	svc_buf_adds(&b, "INSERT INTO order_lines (order_id, line_no, product_id, quantity, "
	                 "unit_price) VALUES ");
	for (size_t i = 0; i < req->nitems; i++) {
		svc_buf_adds(&b, i ? ", (" : "(");
		svc_sql_add_str(&b, conn, o->order_id);
		svc_buf_addf(&b, ", %zu, ", i + 1);
		svc_sql_add_str(&b, conn, req->items[i].product_id);
		svc_buf_addf(&b, ", %d, %lld)", req->items[i].quantity,
		             (long long)o->unit_prices[i]);
	}
	return exec_buf(conn, &b);
}

int order_store_find_by_key(MYSQL *conn, const char *key, const char *canonical, char order_id[37],
                            bool *same_request)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT order_id, request_hash = SHA2(");
	svc_sql_add_str(&b, conn, canonical);
	svc_buf_adds(&b, ", 256) FROM orders WHERE idempotency_key = ");
	svc_sql_add_str(&b, conn, key);
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	row = mysql_fetch_row(res);
	if (!row || !row[0]) {
		rc = SVC_ENOTFOUND;
		goto free_res;
	}
	snprintf(order_id, 37, "%s", row[0]);
	*same_request = row[1] && strcmp(row[1], "1") == 0;
free_res:
	mysql_free_result(res);
	return rc;
}

int order_store_lock(MYSQL *conn, const char *order_id, struct order_row *out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT order_id, user_id, status, total_amount, currency, cancel_reason "
	                 "FROM orders WHERE order_id = ");
	svc_sql_add_str(&b, conn, order_id);
	svc_buf_adds(&b, " FOR UPDATE");
	rc = query_buf(conn, &b, &res);
	if (rc != 0)
		return rc;
	row = mysql_fetch_row(res);
	if (!row) {
		rc = SVC_ENOTFOUND;
		goto free_res;
	}
	snprintf(out->order_id, sizeof(out->order_id), "%s", row[0]);
	snprintf(out->user_id, sizeof(out->user_id), "%s", row[1]);
	if (!order_state_parse(row[2], &out->state)) {
		svc_error("order %s has an unknown status '%s'", order_id, row[2] ? row[2] : "");
		rc = SVC_EPERMANENT;
		goto free_res;
	}
	out->total = svc_db_col_i64(row[3]);
	snprintf(out->currency, sizeof(out->currency), "%s", row[4] ? row[4] : "");
	snprintf(out->reason, sizeof(out->reason), "%s", row[5] ? row[5] : "");
free_res:
	mysql_free_result(res);
	return rc;
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
	while ((row = mysql_fetch_row(res)) && *n < max) {
		if (row[0])
			snprintf(ids[(*n)++], 37, "%s", row[0]);
	}
	mysql_free_result(res);
	return 0;
}

int order_store_update(MYSQL *conn, const char *order_id, enum order_state state, const char *step,
                       long deadline_ms, const char *reason)
{
	struct svc_buf b;

	svc_buf_init(&b);
	svc_buf_adds(&b, "UPDATE orders SET status = ");
	svc_sql_add_str(&b, conn, order_state_name(state));
	svc_buf_adds(&b, ", step = ");
	svc_sql_add_str(&b, conn, step);
	if (deadline_ms > 0)
		svc_buf_addf(&b,
		             ", step_deadline = UTC_TIMESTAMP(3) + INTERVAL %ld * 1000 "
		             "MICROSECOND",
		             deadline_ms);
	else if (deadline_ms == 0)
		svc_buf_adds(&b, ", step_deadline = NULL");
	if (reason && reason[0]) {
		svc_buf_adds(&b, ", cancel_reason = LEFT(");
		svc_sql_add_str(&b, conn, reason);
		svc_buf_adds(&b, ", 255)");
	}
	svc_buf_adds(&b, ", updated_at = UTC_TIMESTAMP(3) WHERE order_id = ");
	svc_sql_add_str(&b, conn, order_id);
	return exec_buf(conn, &b);
}

/* History rows are only appended: deferred to the commit when the consumer
 * batches (svc/defer.h). */
static const char HISTORY_INSERT[] = "INSERT INTO saga_transitions (order_id, from_status, "
                                     "to_status, step, event_type, event_id, detail, "
                                     "created_at) VALUES ";

int order_store_add_history(MYSQL *conn, const char *order_id, const struct order_history *h)
{
	struct svc_buf b;
	int rc;

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
	rc = b.failed ? SVC_ENOMEM : svc_defer_insert(conn, HISTORY_INSERT, b.data, b.len);
	svc_buf_release(&b);
	return rc;
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
	while (items && (row = mysql_fetch_row(res))) {
		json_t *it = json_pack("{s:s, s:I, s:I}", "productId", row[0] ? row[0] : "",
		                       "quantity", (json_int_t)svc_db_col_i64(row[1]), "unitPrice",
		                       (json_int_t)svc_db_col_i64(row[2]));
		if (!it || json_array_append_new(items, it) != 0) {
			json_decref(items);
			items = NULL;
		}
	}
	mysql_free_result(res);
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
	while (hist && (row = mysql_fetch_row(res))) {
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
	mysql_free_result(res);
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
	row = mysql_fetch_row(res);
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
	mysql_free_result(res);
	return rc;
}
