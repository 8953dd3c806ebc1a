/* The console's read-only queries of order_db (store.h). */
#include "services/console/store.h"

#include <stdio.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"

/* A DATETIME(3) column as RFC 3339 UTC with milliseconds (the columns hold UTC). */
#define ISO(col) "CONCAT(LEFT(DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')"

/* One order, by its id (appended). */
static const char order_select[] =
        "SELECT order_id, user_id, status, step, total_amount, currency, cancel_reason, "
        "payment_id, idempotency_key, " ISO("created_at") ", " ISO("updated_at") ", " ISO(
                "step_deadline") " FROM orders WHERE order_id = ";

/* The oldest sagas in flight: the status index, then a sort of those rows
 * (the LIMIT appended). */
static const char oldest_select[] =
        "SELECT order_id, user_id, status, step, " ISO("created_at") ", " ISO(
                "updated_at") ", " ISO("step_deadline") ", TIMESTAMPDIFF(MICROSECOND, created_at, "
                                                        "UTC_TIMESTAMP(3)) DIV 1000 "
                                                        "FROM orders WHERE status IN ('PENDING', "
                                                        "'PAYMENT_PENDING', 'COMPENSATING') "
                                                        "ORDER BY created_at LIMIT ";

static const char *const waiting[] = {"PENDING", "PAYMENT_PENDING", "COMPENSATING"};

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *int_or_null(const char *s)
{
	return s ? json_integer((json_int_t)svc_db_col_i64(s)) : json_null();
}

/* Runs `sql` (a svc_buf that may have failed) into *res. */
static int query(MYSQL *conn, const struct svc_buf *sql, MYSQL_RES **res)
{
	if (sql->failed)
		return SVC_ENOMEM;
	return svc_db_query(conn, sql->data, res);
}

#define TRANSITION_COLUMNS                                                                         \
	"t.order_id, t.from_status, t.to_status, t.step, t.event_type, t.event_id, "               \
	"t.detail, " ISO("t.created_at") ", p.topic, p.kafka_partition, p.kafka_offset, " ISO(     \
	        "p.processed_at")

static json_t *transition_json(MYSQL_ROW row)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "from",
	                 str_or_null(row[1]), "to", str_or_null(row[2]), "step",
	                 str_or_null(row[3]), "eventType", str_or_null(row[4]), "eventId",
	                 str_or_null(row[5]), "detail", str_or_null(row[6]), "at",
	                 str_or_null(row[7]), "topic", str_or_null(row[8]), "partition",
	                 int_or_null(row[9]), "offset", int_or_null(row[10]), "processedAt",
	                 str_or_null(row[11]));
}

/* Appends to sql "('id1','id2',...)" from the "orderId" members of orders[]. */
static void add_id_list(struct svc_buf *sql, MYSQL *conn, json_t *orders)
{
	size_t i;
	json_t *o;

	svc_buf_adds(sql, "(");
	json_array_foreach(orders, i, o)
	{
		if (i)
			svc_buf_adds(sql, ",");
		svc_sql_add_str(sql, conn, json_string_value(json_object_get(o, "orderId")));
	}
	svc_buf_adds(sql, ")");
}

/* Fills each order's "transitions" (an array already there) in one query. */
static int load_transitions(MYSQL *conn, json_t *orders, json_t *by_id)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	if (json_array_size(orders) == 0)
		return 0;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT " TRANSITION_COLUMNS " FROM saga_transitions t "
	                   "LEFT JOIN processed_messages p ON p.event_id = t.event_id "
	                   "WHERE t.order_id IN ");
	add_id_list(&sql, conn, orders);
	svc_buf_adds(&sql, " ORDER BY t.order_id, t.id");
	rc = query(conn, &sql, &res);
	while (rc == 0 && (row = svc_db_fetch_row(res))) {
		json_t *list = json_object_get(json_object_get(by_id, row[0]), "transitions");

		if (list)
			json_array_append_new(list, transition_json(row));
	}
	if (res)
		svc_db_free_result(res);
	svc_buf_release(&sql);
	return rc;
}

static int in_flight(MYSQL *conn, json_t *counts)
{
	char sql[256];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]); i++)
		json_object_set_new(counts, waiting[i], json_integer(0));
	snprintf(sql, sizeof(sql),
	         "SELECT status, COUNT(*) FROM orders WHERE status IN ('%s', '%s', '%s') "
	         "GROUP BY status",
	         waiting[0], waiting[1], waiting[2]);
	rc = svc_db_query(conn, sql, &res);
	while (rc == 0 && (row = svc_db_fetch_row(res)))
		json_object_set_new(counts, row[0],
		                    json_integer((json_int_t)svc_db_col_i64(row[1])));
	if (res)
		svc_db_free_result(res);
	return rc;
}

static int oldest(MYSQL *conn, int limit, json_t *orders, json_t *by_id)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, oldest_select);
	svc_buf_addf(&sql, "%d", limit);
	rc = query(conn, &sql, &res);
	svc_buf_release(&sql);
	while (rc == 0 && (row = svc_db_fetch_row(res))) {
		json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[]}", "orderId",
		                      row[0], "userId", str_or_null(row[1]), "status",
		                      str_or_null(row[2]), "step", str_or_null(row[3]), "createdAt",
		                      str_or_null(row[4]), "updatedAt", str_or_null(row[5]),
		                      "stepDeadline", str_or_null(row[6]), "ageMs",
		                      int_or_null(row[7]), "transitions");

		if (!o) {
			rc = SVC_ENOMEM;
			break;
		}
		json_array_append(orders, o);
		json_object_set_new(by_id, row[0], o);
	}
	if (res)
		svc_db_free_result(res);
	return rc;
}

int console_store_sagas(MYSQL *conn, int limit, json_t **out)
{
	json_t *doc = json_pack("{s:{}, s:[]}", "inFlight", "oldest");
	json_t *by_id = json_object();
	int rc = doc && by_id ? svc_db_begin(conn) : SVC_ENOMEM;

	if (rc == 0) {
		rc = in_flight(conn, json_object_get(doc, "inFlight"));
		if (rc == 0)
			rc = oldest(conn, limit, json_object_get(doc, "oldest"), by_id);
		if (rc == 0)
			rc = load_transitions(conn, json_object_get(doc, "oldest"), by_id);
		if (rc == 0)
			rc = svc_db_commit(conn);
		else
			svc_db_rollback(conn);
	}
	json_decref(by_id);
	if (rc != 0) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

static int load_order(MYSQL *conn, const char *order_id, json_t **doc)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, order_select);
	svc_sql_add_str(&sql, conn, order_id);
	rc = query(conn, &sql, &res);
	svc_buf_release(&sql);
	if (rc != 0)
		return rc;
	row = svc_db_fetch_row(res);
	if (!row) {
		svc_db_free_result(res);
		return SVC_ENOTFOUND;
	}
	*doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[], s:[]}",
	                 "orderId", row[0], "userId", str_or_null(row[1]), "status",
	                 str_or_null(row[2]), "step", str_or_null(row[3]), "totalAmount",
	                 int_or_null(row[4]), "currency", str_or_null(row[5]), "cancelReason",
	                 str_or_null(row[6]), "paymentId", str_or_null(row[7]), "idempotencyKey",
	                 str_or_null(row[8]), "createdAt", str_or_null(row[9]), "updatedAt",
	                 str_or_null(row[10]), "stepDeadline", str_or_null(row[11]), "lines",
	                 "transitions");
	svc_db_free_result(res);
	return *doc ? 0 : SVC_ENOMEM;
}

static int load_lines(MYSQL *conn, const char *order_id, json_t *lines)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT product_id, quantity, unit_price FROM order_lines "
	                   "WHERE order_id = ");
	svc_sql_add_str(&sql, conn, order_id);
	svc_buf_adds(&sql, " ORDER BY line_no");
	rc = query(conn, &sql, &res);
	while (rc == 0 && (row = svc_db_fetch_row(res)))
		json_array_append_new(lines,
		                      json_pack("{s:o, s:o, s:o}", "productId", str_or_null(row[0]),
		                                "quantity", int_or_null(row[1]), "unitPrice",
		                                int_or_null(row[2])));
	if (res)
		svc_db_free_result(res);
	svc_buf_release(&sql);
	return rc;
}

int console_store_journey(MYSQL *conn, const char *order_id, json_t **out)
{
	json_t *doc = NULL, *list, *by_id = NULL;
	int rc = svc_db_begin(conn);

	if (rc != 0)
		return rc;
	rc = load_order(conn, order_id, &doc);
	if (rc == 0)
		rc = load_lines(conn, order_id, json_object_get(doc, "lines"));
	if (rc == 0) {
		list = json_pack("[O]", doc);
		by_id = json_pack("{s:O}", order_id, doc);
		rc = list && by_id ? load_transitions(conn, list, by_id) : SVC_ENOMEM;
		json_decref(list);
		json_decref(by_id);
	}
	if (rc == 0)
		rc = svc_db_commit(conn);
	else
		svc_db_rollback(conn);
	if (rc != 0) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return 0;
}
