/* HTTP handlers of the notification API (see api.h). */
#include "services/notification/api.h"

#include <string.h>

#include "services/notification/format.h"
#include "services/notification/notify.h"
#include "services/notification/request.h"
#include "services/notification/store.h"
#include "svc/auth.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/service.h"

#define NOTIF_LIST_MAX 100

/* Records `n` in one transaction and wakes the outbox relay. */
static int record(struct svc_db *db, const struct notif_outgoing *n)
{
	MYSQL *conn = svc_db_acquire(db);
	struct svc_tx tx;
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	svc_tx_init(&tx, conn); /* not deferring: the rows go in at once */
	rc = svc_db_begin(conn);
	if (rc == 0)
		rc = notif_record(&tx, n, NULL);
	if (rc == 0)
		rc = svc_db_commit(conn);
	else
		svc_db_rollback(conn);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	if (rc == 0)
		svc_outbox_wake();
	return rc;
}

/* Replies with the stored record `id` and `status`, or 404 (the body of an
 * unknown id) when `who` may not see it: a customer sees its own, an admin
 * all, and a record without a user is an admin's only. */
static void reply_record(struct svc_db *db, const char *id, int status,
                         const struct svc_principal *who, struct svc_http_response *res)
{
	MYSQL *conn = svc_db_acquire(db);
	json_t *doc = NULL;
	char location[80];
	int rc;

	if (!conn) {
		svc_http_reply_error(res, SVC_ETRANSIENT, "the notification database");
		return;
	}
	rc = notif_store_get(conn, id, &doc);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	if (rc == 0 &&
	    !svc_principal_owns(who, json_string_value(json_object_get(doc, "userId")))) {
		json_decref(doc);
		rc = SVC_ENOTFOUND; /* as if absent: ids of others' records tell nothing */
	}
	if (rc == SVC_ENOTFOUND) {
		svc_http_reply_problem(res, 404, "Not Found", NULL, "no notification %s", id);
		return;
	}
	if (rc != 0) {
		svc_http_reply_error(res, rc, "the notification database");
		return;
	}
	if (status == 201) {
		snprintf(location, sizeof(location), "/api/notifications/%s", id);
		svc_http_add_header(res, "Location", location);
	}
	svc_http_reply_json(res, status, doc);
}

static void handle_create(void *vctx, const struct svc_http_request *req,
                          struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	struct notif_service *ns = ctx->user;
	struct notif_request in;
	struct svc_problem bad;
	struct notif_outgoing n = {0};
	const struct notif_channel *ch;
	json_t *body;
	char why[256];
	int rc;

	body = svc_http_parse_json(req, res);
	if (!body)
		return;
	if (notif_request_parse(body, &in, &bad) != 0) {
		svc_http_reply_invalid(res, &bad);
		goto out;
	}
	ch = in.channel ? notif_channels_find(&ns->channels, in.channel) : ns->channels.dflt;
	if (!ch) {
		svc_http_reply_problem(res, 422, "Unprocessable Entity", "channel",
		                       "channel %s is not configured on this instance", in.channel);
		goto out;
	}
	if (notif_outgoing_init(&n, NOTIF_KIND_MANUAL, ch, in.subject, in.message) != 0) {
		svc_http_reply_problem(res, 500, "Internal Server Error", NULL, "out of memory");
		goto out;
	}
	if (in.order_id)
		snprintf(n.order_id, sizeof(n.order_id), "%s", in.order_id);
	/* Only ever to the contact stored for the user (request.h refuses a
	 * recipient); the user id is valid, so only the look-up can fail. */
	rc = notif_outgoing_address(&n, &ns->contacts, in.user_id);
	if (rc != 0) {
		svc_http_reply_error(res, rc, "the notification database");
		goto out;
	}
	if (notif_deliver(&n, why, sizeof(why)) != 0) {
		svc_http_reply_problem(res, 503, "Service Unavailable", NULL,
		                       "channel %s is unavailable, nothing was sent: %s", ch->name,
		                       why);
		goto out;
	}
	/* A permanent failure is recorded too; the record says FAILED and why. */
	rc = record(ctx->db, &n);
	if (rc != 0) {
		svc_http_reply_error(res, rc, "the notification database");
		goto out;
	}
	reply_record(ctx->db, n.notification_id, 201, req->principal, res);
out:
	notif_outgoing_release(&n);
	json_decref(body);
}

static void handle_list(void *vctx, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	struct notif_list_filter f = {.order_id = svc_http_query(req, "orderId")};
	struct svc_problem bad;
	json_t *items = NULL;
	MYSQL *conn;
	int rc;

	if (f.order_id && !svc_uuid_valid(f.order_id)) {
		svc_http_reply_problem(res, 400, "Bad Request", "orderId",
		                       "orderId must be a UUID");
		return;
	}
	if (notif_list_user(req->principal, svc_http_query(req, "userId"), &f.user_id, &bad) != 0) {
		svc_http_reply_invalid(res, &bad);
		return;
	}
	conn = svc_db_acquire(ctx->db);
	if (!conn) {
		svc_http_reply_error(res, SVC_ETRANSIENT, "the notification database");
		return;
	}
	rc = notif_store_list(conn, &f, NOTIF_LIST_MAX, &items);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	if (rc != 0) {
		svc_http_reply_error(res, rc, "the notification database");
		return;
	}
	svc_http_reply_json(res, 200, json_pack("{s:o}", "items", items));
}

static void handle_get(void *vctx, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	const char *id = req->params[0];

	if (!svc_uuid_valid(id)) {
		svc_http_reply_problem(res, 400, "Bad Request", "notificationId",
		                       "notificationId must be a UUID");
		return;
	}
	reply_record(ctx->db, id, 200, req->principal, res);
}

const struct svc_http_route notif_api_routes[] = {
        {"POST", "/api/notifications", handle_create, SVC_HTTP_ADMIN},
        {"GET", "/api/notifications", handle_list, SVC_HTTP_CUSTOMER},
        {"GET", "/api/notifications/{notificationId}", handle_get, SVC_HTTP_CUSTOMER},
};
const size_t notif_api_nroutes = sizeof(notif_api_routes) / sizeof(notif_api_routes[0]);
