/* SQL for contacts and notifications. */
#include "services/notification/store.h"

#include <mysqld_error.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"

/* The columns of the API representation, in row order. */
#define NOTIF_COLUMNS                                                                              \
	"notification_id, order_id, user_id, event_id, kind, channel, recipient, subject, body, "  \
	"status, error, CONCAT(DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.'), "                    \
	"LPAD(FLOOR(MICROSECOND(created_at) / 1000), 3, '0'), 'Z')"

static const char *const notif_fields[] = {"notificationId", "orderId", "userId",    "eventId",
                                           "kind",           "channel", "recipient", "subject",
                                           "body",           "status",  "error",     "createdAt"};

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
	while (arr && (row = svc_db_fetch_row(res)) != NULL)
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
		svc_db_free_result(res);
	return rc;
}

/* Whether an address from the contacts table can be used as is. */
static bool email_usable(const char *email, size_t cap)
{
	return email && email[0] != '\0' && strlen(email) < cap;
}

int notif_store_contact_emails(MYSQL *conn, struct notif_contact *const *cs, size_t n)
{
	struct svc_buf b;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		cs[i]->rc = SVC_ENOTFOUND;
		cs[i]->email[0] = '\0';
	}
	if (n == 0)
		return 0;
	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT user_id, email FROM contacts WHERE user_id IN (");
	for (i = 0; i < n; i++) {
		svc_buf_adds(&b, i ? ", " : "");
		svc_sql_add_str(&b, conn, cs[i]->user_id);
	}
	svc_buf_adds(&b, ")");
	rc = b.failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(&b), &res);
	while (rc == 0 && (row = svc_db_fetch_row(res)) != NULL) {
		if (!row[0] || !email_usable(row[1], sizeof(cs[0]->email)))
			continue;
		/* Several requests may ask for one user: fill them all. The
		 * column's collation ignores case: so does the match (user ids
		 * are ASCII, svc_id_valid). */
		for (i = 0; i < n; i++) {
			if (strcasecmp(cs[i]->user_id, row[0]) == 0) {
				memcpy(cs[i]->email, row[1], strlen(row[1]) + 1);
				cs[i]->rc = 0;
			}
		}
	}
	if (res)
		svc_db_free_result(res);
	svc_buf_release(&b);
	return rc;
}

/* Appends `s` as a literal, or NULL when it is NULL or empty. */
static void add_opt(struct svc_buf *b, MYSQL *conn, const char *s)
{
	svc_sql_add_str(b, conn, s && s[0] ? s : NULL);
}

static const char NOTIF_INSERT[] = "INSERT INTO notifications (notification_id, order_id, "
                                   "user_id, event_id, kind, channel, recipient, subject, body, "
                                   "status, error, created_at) VALUES ";

int notif_store_insert(struct svc_tx *tx, const struct notif_record *r)
{
	MYSQL *conn = tx->conn;
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "(");
	svc_sql_add_str(&b, conn, r->notification_id);
	svc_buf_adds(&b, ", ");
	add_opt(&b, conn, r->order_id);
	svc_buf_adds(&b, ", ");
	add_opt(&b, conn, r->user_id);
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
	/* Deferred to the commit in a batch transaction (nothing reads it back). */
	rc = svc_defer_insert(tx, NOTIF_INSERT, b.data, b.len);
	if (rc == SVC_EPERMANENT && svc_db_errno(conn) == ER_DUP_ENTRY)
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

int notif_store_list(MYSQL *conn, const struct notif_list_filter *f, unsigned limit, json_t **out)
{
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc_buf_adds(&b, "SELECT " NOTIF_COLUMNS " FROM notifications WHERE TRUE");
	if (f->user_id) {
		svc_buf_adds(&b, " AND user_id = ");
		svc_sql_add_str(&b, conn, f->user_id);
	}
	if (f->order_id) {
		svc_buf_adds(&b, " AND order_id = ");
		svc_sql_add_str(&b, conn, f->order_id);
	}
	/* UUIDv7 ids are time-ordered: they break ties within one millisecond. */
	svc_buf_addf(&b, " ORDER BY created_at DESC, notification_id DESC LIMIT %u", limit);
	rc = query_rows(conn, &b, out);
	svc_buf_release(&b);
	return rc;
}
