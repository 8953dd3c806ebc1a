/* SQL for contacts and notifications. */
#include "services/notification/store.h"

#include <mysqld_error.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"

/* The columns of the API representation, in row order. */
#define NOTIF_COLUMNS                                                                              \
	"notification_id, order_id, event_id, kind, channel, recipient, subject, body, status, "   \
	"error, CONCAT(DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.'), "                            \
	"LPAD(FLOOR(MICROSECOND(created_at) / 1000), 3, '0'), 'Z')"

static const char *const notif_fields[] = {"notificationId", "orderId",   "eventId",  "kind",
                                           "channel",        "recipient", "subject",  "body",
                                           "status",         "error",     "createdAt"};

static json_t *row_to_json(MYSQL_ROW row)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < sizeof(notif_fields) / sizeof(notif_fields[0]); i++)
		json_object_set_new(o, notif_fields[i], row[i] ? json_string(row[i]) : json_null());
	return o;
}

/* Runs `sql` (a complete statement in `b`) and returns its rows as JSON. */
static int query_rows(MYSQL *conn, struct svc_buf *b, json_t **out)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	json_t *arr = NULL;
	int rc;

	if (b->failed)
		return SVC_ENOMEM;
	rc = svc_db_query(conn, svc_buf_str(b), &res);
	if (rc != 0)
		goto out;
	arr = json_array();
	while (arr && (row = mysql_fetch_row(res)) != NULL)
		json_array_append_new(arr, row_to_json(row));
	if (!arr) {
		rc = SVC_ENOMEM;
		goto out;
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	if (res)
		mysql_free_result(res);
	return rc;
}

int notif_store_event_seen(MYSQL *conn, const char *event_id)
{
	struct svc_buf b;
	MYSQL_RES *res = NULL;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT 1 FROM notifications WHERE event_id = ");
	svc_sql_add_str(&b, conn, event_id);
	if (b.failed) {
		rc = SVC_ENOMEM;
		goto out;
	}
	rc = svc_db_query(conn, svc_buf_str(&b), &res);
	if (rc == 0 && mysql_num_rows(res) > 0)
		rc = SVC_DUPLICATE;
out:
	if (res)
		mysql_free_result(res);
	svc_buf_release(&b);
	return rc;
}

int notif_store_contact_email(MYSQL *conn, const char *user_id, char *out, size_t outlen)
{
	struct svc_buf b;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT email FROM contacts WHERE user_id = ");
	svc_sql_add_str(&b, conn, user_id);
	if (b.failed) {
		rc = SVC_ENOMEM;
		goto out;
	}
	rc = svc_db_query(conn, svc_buf_str(&b), &res);
	if (rc != 0)
		goto out;
	row = mysql_fetch_row(res);
	if (!row || !row[0] || row[0][0] == '\0' || strlen(row[0]) >= outlen) {
		rc = SVC_ENOTFOUND;
		goto out;
	}
	snprintf(out, outlen, "%s", row[0]);
out:
	if (res)
		mysql_free_result(res);
	svc_buf_release(&b);
	return rc;
}

/* Appends `s` as a literal, or NULL when it is NULL or empty. */
static void add_opt(struct svc_buf *b, MYSQL *conn, const char *s)
{
	svc_sql_add_str(b, conn, s && s[0] ? s : NULL);
}

int notif_store_insert(MYSQL *conn, const struct notif_record *r)
{
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "INSERT INTO notifications (notification_id, order_id, event_id, kind, "
	                 "channel, recipient, subject, body, status, error, created_at) VALUES (");
	svc_sql_add_str(&b, conn, r->notification_id);
	svc_buf_adds(&b, ", ");
	add_opt(&b, conn, r->order_id);
	svc_buf_adds(&b, ", ");
	add_opt(&b, conn, r->event_id);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, r->kind);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, r->channel);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, r->recipient);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, r->subject);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, r->body);
	svc_buf_adds(&b, ", ");
	svc_sql_add_str(&b, conn, r->status);
	svc_buf_adds(&b, ", ");
	add_opt(&b, conn, r->error);
	svc_buf_adds(&b, ", UTC_TIMESTAMP(3))");
	if (b.failed) {
		rc = SVC_ENOMEM;
		goto out;
	}
	rc = svc_db_exec(conn, svc_buf_str(&b));
	if (rc == SVC_EPERMANENT && mysql_errno(conn) == ER_DUP_ENTRY)
		rc = SVC_DUPLICATE;
out:
	svc_buf_release(&b);
	return rc;
}

int notif_store_get(MYSQL *conn, const char *notification_id, json_t **out)
{
	struct svc_buf b;
	json_t *rows = NULL;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT " NOTIF_COLUMNS " FROM notifications WHERE notification_id = ");
	svc_sql_add_str(&b, conn, notification_id);
	rc = query_rows(conn, &b, &rows);
	if (rc != 0)
		goto out;
	if (json_array_size(rows) == 0) {
		rc = SVC_ENOTFOUND;
		goto out;
	}
	*out = json_incref(json_array_get(rows, 0));
out:
	json_decref(rows);
	svc_buf_release(&b);
	return rc;
}

int notif_store_list(MYSQL *conn, const char *order_id, unsigned limit, json_t **out)
{
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT " NOTIF_COLUMNS " FROM notifications");
	if (order_id) {
		svc_buf_adds(&b, " WHERE order_id = ");
		svc_sql_add_str(&b, conn, order_id);
	}
	/* UUIDv7 ids are time-ordered: they break ties within one millisecond. */
	svc_buf_addf(&b, " ORDER BY created_at DESC, notification_id DESC LIMIT %u", limit);
	rc = query_rows(conn, &b, out);
	svc_buf_release(&b);
	return rc;
}
