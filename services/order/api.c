/*
 * The public API: POST /api/orders and GET /api/orders/{orderId}
 * (services/order/openapi.json describes both).
 *
 * Creating an order writes the order, its lines, its first history row and
 * the OrderCreated outbox row in one transaction (create.h: shared with the
 * orders other requests create at the same time); the saga then runs on
 * events. With an Idempotency-Key header the same key and the same request
 * give back the order created first (200) and never start a second saga;
 * the same key with another request is refused (422). Keys are the
 * ordering user's own; the unique index on orders (user_id, idempotency_key)
 * settles races between concurrent requests.
 *
 * Callers hold a token (svc/auth.h): a customer orders for itself (the
 * userId is the token's subject; a body naming another user is refused) and
 * reads its own orders only (404 for any other: no existence leak); an
 * admin orders for anyone and reads everything. POST /api/orders is rate
 * limited per user (ORDER_RATE_PER_S, ORDER_RATE_BURST): 429 + Retry-After.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "services/order/create.h"
#include "services/order/order.h"
#include "services/order/pricing.h"
#include "services/order/request.h"
#include "services/order/store.h"
#include "svc/auth.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/ratelimit.h"

static void add_location(struct svc_http_response *res, const char *order_id)
{
	char loc[64];

	snprintf(loc, sizeof(loc), "/api/orders/%s", order_id);
	svc_http_add_header(res, "Location", loc);
}

/* Idempotency-Key: 1..128 visible ASCII characters. */
static bool key_valid(const char *k)
{
	size_t n = 0;

	for (; k[n] != '\0'; n++) {
		if (n >= ORDER_KEY_MAX || !isgraph((unsigned char)k[n]))
			return false;
	}
	return n > 0;
}

/* Answers with the stored order (GET representation) and `status`, or 404
 * when `who` may not see it. Returns the database outcome (SVC_ETRANSIENT:
 * the connection is suspect). */
static int reply_order(struct svc_http_response *res, MYSQL *conn, const char *order_id, int status,
                       const struct svc_principal *who)
{
	json_t *doc = NULL;
	int rc = svc_db_begin(conn); /* one snapshot for the order, lines and history */

	if (rc == 0)
		rc = order_store_load_json(conn, order_id, &doc);
	if (rc == 0)
		rc = svc_db_commit(conn);
	else
		svc_db_rollback(conn);
	if (rc == 0 &&
	    !svc_principal_owns(who, json_string_value(json_object_get(doc, "userId")))) {
		json_decref(doc);
		rc = SVC_ENOTFOUND; /* as if absent: ids of others' orders tell nothing */
	}
	if (rc == SVC_ENOTFOUND) {
		svc_http_reply_problem(res, 404, "Not Found", NULL, "no order %s", order_id);
	} else if (rc != 0) {
		json_decref(doc);
		svc_http_reply_error(res, rc, "the order database");
	} else {
		svc_http_reply_json(res, status, doc);
		add_location(res, order_id);
	}
	return rc;
}

/*
 * The answer to a request whose Idempotency-Key was used before: the first
 * order again (200), or 422 when it was created from another request.
 * Returns false when the key is unused (nothing answered).
 */
static bool replay_by_key(struct svc_http_response *res, MYSQL *conn,
                          const struct svc_http_request *req, const struct order_request *oreq,
                          const char *key, const char *canonical, int *rc)
{
	char order_id[37];
	bool same = false;

	*rc = order_store_find_by_key(conn, oreq->user_id, key, canonical, order_id, &same);
	if (*rc == SVC_ENOTFOUND) {
		*rc = 0;
		return false;
	}
	if (*rc != 0)
		svc_http_reply_error(res, *rc, "the order database");
	else if (!same)
		svc_http_reply_problem(res, 422, "Unprocessable Entity", "Idempotency-Key",
		                       "Idempotency-Key already used for another request "
		                       "(order %s)",
		                       order_id);
	else
		*rc = reply_order(res, conn, order_id, 200, req->principal);
	return true;
}

/* The ordering user: the token's subject when the body names none; a
 * customer naming another user is refused (403). False when answered. */
static bool set_user(json_t *body, const struct svc_http_request *req,
                     struct svc_http_response *res)
{
	const struct svc_principal *who = req->principal;
	const json_t *named = json_object_get(body, "userId");

	if (!named) {
		if (json_object_set_new(body, "userId", json_string(who->subject)) == 0)
			return true;
		svc_http_reply_problem(res, 500, NULL, NULL, "out of memory");
		return false;
	}
	if (json_is_string(named) && !svc_principal_owns(who, json_string_value(named))) {
		svc_http_reply_problem(res, 403, NULL, "userId",
		                       "a customer places orders for itself only (userId %s)",
		                       who->subject);
		return false;
	}
	return true;
}

/* 202 {"orderId","status","totalAmount","currency","items"} + Location. */
static void reply_created(struct svc_http_response *res, const struct order_new *o)
{
	const struct order_request *req = o->req;
	json_t *items = json_array(), *body;

	for (size_t i = 0; items && i < req->nitems; i++)
		json_array_append_new(items, json_pack("{s:s, s:i, s:I}", "productId",
		                                       req->items[i].product_id, "quantity",
		                                       req->items[i].quantity, "unitPrice",
		                                       (json_int_t)o->unit_prices[i]));
	body = json_pack("{s:s, s:s, s:I, s:s, s:o}", "orderId", o->order_id, "status",
	                 order_state_name(ORDER_PENDING), "totalAmount", (json_int_t)o->total,
	                 "currency", o->currency, "items", items);
	if (!body) {
		svc_http_reply_problem(res, 500, NULL, NULL, "out of memory");
		return;
	}
	svc_http_reply_json(res, 202, body);
	add_location(res, o->order_id);
}

bool order_rate_allow(const struct order_app *app, const struct svc_principal *who,
                      struct svc_http_response *res)
{
	long wait_s = svc_ratelimit_take(app->rate, who->subject, -1);
	char retry[24];

	if (wait_s == 0)
		return true;
	snprintf(retry, sizeof(retry), "%ld", wait_s);
	svc_http_reply_problem(res, 429, NULL, NULL, "too many orders from %s; retry in %ld s",
	                       who->subject, wait_s);
	svc_http_add_header(res, "Retry-After", retry);
	return false;
}

static void post_order(void *vctx, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	const struct order_app *app = ctx->user;
	const char *key = svc_http_header(req, "Idempotency-Key");
	struct order_request *oreq = NULL;
	struct svc_problem problem;
	int64_t prices[ORDER_MAX_ITEMS];
	struct order_new o = {0};
	char *canonical = NULL;
	json_t *body = NULL;
	MYSQL *conn = NULL;
	int rc = 0;

	body = svc_http_parse_json(req, res);
	if (!body || !set_user(body, req, res))
		goto free_body;
	if (!order_rate_allow(app, req->principal, res))
		goto free_body;
	oreq = malloc(sizeof(*oreq));
	if (!oreq)
		goto oom;
	if (order_request_parse(body, oreq, &problem) != 0) {
		svc_http_reply_invalid(res, &problem);
		goto free_body;
	}
	if (key && !key_valid(key)) {
		svc_http_reply_problem(res, 400, "Bad Request", "Idempotency-Key",
		                       "Idempotency-Key must be 1 to %d visible ASCII characters",
		                       ORDER_KEY_MAX);
		goto free_body;
	}
	canonical = order_request_canonical(oreq);
	if (!canonical)
		goto oom;

	/* A known key needs no pricing: answer from the database. */
	if (key) {
		conn = svc_db_acquire(ctx->db);
		if (!conn) {
			svc_http_reply_error(res, SVC_ETRANSIENT, "the order database");
			goto free_body;
		}
		if (replay_by_key(res, conn, req, oreq, key, canonical, &rc))
			goto release_conn;
		svc_db_release(ctx->db, conn, false);
		conn = NULL; /* no connection held during the HTTP calls */
	}

	if (order_pricing_quote(app, oreq, prices, &o.total, &problem) != 0) {
		svc_http_reply_invalid(res, &problem);
		goto free_body;
	}
	svc_uuid7(o.order_id);
	svc_log_context_order(o.order_id); /* cleared by the server after the handler */
	o.req = oreq;
	o.unit_prices = prices;
	o.currency = app->cfg.currency;
	o.idempotency_key = key;
	o.canonical = canonical;
	o.deadline_ms = order_config_step_timeout(&app->cfg, ORDER_PENDING);

	rc = order_create(ctx, &o);
	if (rc == SVC_ECONFLICT && key) {
		/* A concurrent request with the same key won the race. */
		conn = svc_db_acquire(ctx->db);
		if (!conn || !replay_by_key(res, conn, req, oreq, key, canonical, &rc))
			svc_http_reply_error(res, SVC_ETRANSIENT, "the order database");
		goto release_conn;
	}
	if (rc != 0) {
		svc_http_reply_error(res, rc, "the order database");
		goto free_body;
	}
	svc_outbox_wake();
	svc_debug("order %s created for %s: %zu lines, total %lld", o.order_id, oreq->user_id,
	          oreq->nitems, (long long)o.total);
	reply_created(res, &o);
	rc = 0;
release_conn:
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	goto free_body;
oom:
	svc_http_reply_problem(res, 500, NULL, NULL, "out of memory");
free_body:
	free(canonical);
	free(oreq);
	json_decref(body);
}

static void get_order(void *vctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	const char *order_id = req->params[0];
	MYSQL *conn;
	int rc;

	if (!svc_uuid_valid(order_id)) {
		svc_http_reply_problem(res, 400, "Bad Request", "orderId",
		                       "orderId must be a UUID");
		return;
	}
	svc_log_context_order(order_id);
	conn = svc_db_acquire(ctx->db);
	if (!conn) {
		svc_http_reply_error(res, SVC_ETRANSIENT, "the order database");
		return;
	}
	rc = reply_order(res, conn, order_id, 200, req->principal);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
}

const struct svc_http_route order_routes[] = {
        {"POST", "/api/orders", post_order, SVC_HTTP_CUSTOMER},
        {"GET", "/api/orders/{orderId}", get_order, SVC_HTTP_CUSTOMER},
};
const size_t order_nroutes = sizeof(order_routes) / sizeof(order_routes[0]);
