/*
 * Gateway simulator HTTP handlers (api.h). A charge is decided by
 * gw_decide (rules.c); its first answer is stored under the request's
 * Idempotency-Key so a repeated request gets the same answer and never a
 * second capture. Simulated failures (503) are not stored: a retry may pass.
 */
#include "services/gateway-sim/api.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "svc/clock.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"
#include "svc/service.h"

#define GW_MAX_KEY          200
#define GW_DEFAULT_CAPACITY 200000

int gw_app_init(struct gw_app *app)
{
	const char *ledger = svc_env_str("GATEWAY_LEDGER_FILE", "");
	int rc = SVC_ENOMEM;

	memset(app, 0, sizeof(*app));
	gw_config_from_env(&app->cfg);
	app->store = gw_store_new(
	        (size_t)svc_env_long("GATEWAY_MAX_ENTRIES", GW_DEFAULT_CAPACITY, 1, 100000000));
	if (!app->store)
		return SVC_ENOMEM;
	if (*ledger && (rc = gw_store_journal(app->store, ledger,
	                                      svc_env_long("GATEWAY_LEDGER_FSYNC", 0, 0, 1))))
		goto fail_store;
	rc = SVC_ENOMEM;
	if (pthread_mutex_init(&app->cfg_lock, NULL) != 0)
		goto fail_store;
	if (pthread_mutex_init(&app->refund_lock, NULL) != 0)
		goto fail_cfg_lock;
	return 0;

fail_cfg_lock:
	pthread_mutex_destroy(&app->cfg_lock);
fail_store:
	gw_store_free(app->store);
	app->store = NULL;
	return rc;
}

void gw_app_release(struct gw_app *app)
{
	gw_store_free(app->store);
	pthread_mutex_destroy(&app->cfg_lock);
	pthread_mutex_destroy(&app->refund_lock);
}

/* Uniform draw in [0,1): xorshift64* per thread, seeded from time and stack. */
static double draw(void)
{
	static _Thread_local uint64_t state;

	if (!state)
		state = ((uint64_t)svc_now_ms() << 16) ^ (uint64_t)(uintptr_t)&state ^
		        0x9E3779B97F4A7C15ULL;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (double)((state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Replies with a stored answer, or 409 when the key was used for another request. */
static void reply_stored(struct svc_http_response *res, int status, int64_t stored_fp, int64_t fp,
                         json_t *body)
{
	if (stored_fp != fp) {
		json_decref(body);
		svc_http_reply_problem(res, 409, "Idempotency key reused", "Idempotency-Key",
		                       "the key was first used for a request with amount %lld",
		                       (long long)stored_fp);
		return;
	}
	svc_http_add_header(res, "Idempotent-Replayed", "true");
	svc_http_reply_json(res, status, body);
}

/* Required member `name` as a positive integer, or a problem reply and -1. */
static int64_t positive_amount(json_t *req, const char *name, struct svc_http_response *res)
{
	json_t *v = json_object_get(req, name);

	if (!json_is_integer(v)) {
		svc_http_reply_problem(res, 400, "Invalid request", name,
		                       "%s is required and must be an integer (minor units)", name);
		return -1;
	}
	if (json_integer_value(v) <= 0) {
		svc_http_reply_problem(res, 422, "Invalid amount", name, "%s must be positive",
		                       name);
		return -1;
	}
	return json_integer_value(v);
}

/* Builds the answer for a fresh charge; *status gets 201 or 402. NULL on OOM. */
static json_t *new_charge(enum gw_verdict v, int64_t amount, const char *order_id,
                          const char *currency, int *status)
{
	char uuid[37], id[48];

	if (v != GW_CAPTURE) {
		*status = 402;
		return json_pack("{s:s, s:s, s:I}", "status", "declined", "reason",
		                 gw_verdict_reason(v), "amount", (json_int_t)amount);
	}
	svc_uuid7(uuid);
	snprintf(id, sizeof(id), "ch_%s", uuid);
	*status = 201;
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "id", id, "status", "captured", "amount",
	                 (json_int_t)amount, "currency", currency, "orderId", order_id, "refunded",
	                 (json_int_t)0);
}

static void handle_charge(void *ctx, const struct svc_http_request *req,
                          struct svc_http_response *res)
{
	struct gw_app *app = ctx;
	const char *key = svc_http_header(req, "Idempotency-Key");
	json_t *body = NULL, *answer = NULL;
	struct gw_config cfg;
	char idem[GW_MAX_KEY + 16], byid[64];
	const char *order_id, *currency;
	int64_t amount, stored_fp;
	int status, rc;

	if (!key || !*key || strlen(key) > GW_MAX_KEY) {
		svc_http_reply_problem(res, 400, "Idempotency-Key required", "Idempotency-Key",
		                       "send an Idempotency-Key header of 1-%d characters",
		                       GW_MAX_KEY);
		return;
	}
	body = svc_http_parse_json(req, res);
	if (!body)
		return;
	if ((amount = positive_amount(body, "amount", res)) < 0)
		goto out;
	order_id = json_string_value(json_object_get(body, "orderId"));
	currency = json_string_value(json_object_get(body, "currency"));
	if (!currency || strlen(currency) != 3)
		currency = "USD";
	if (!order_id)
		order_id = "";
	snprintf(idem, sizeof(idem), "charge:%s", key);
	if (gw_store_get(app->store, idem, &status, &stored_fp, &answer)) {
		reply_stored(res, status, stored_fp, amount, answer);
		goto out;
	}

	pthread_mutex_lock(&app->cfg_lock);
	cfg = app->cfg;
	pthread_mutex_unlock(&app->cfg_lock);
	svc_sleep_ms((uint64_t)cfg.latency_ms);
	enum gw_verdict v = gw_decide(&cfg, amount, draw(), draw());
	if (v == GW_FAIL) {
		svc_http_reply_problem(res, 503, "Gateway unavailable", NULL,
		                       "simulated failure (failRate %.2f)", cfg.fail_rate);
		goto out;
	}
	answer = new_charge(v, amount, order_id, currency, &status);
	if (!answer) {
		svc_http_reply_problem(res, 500, "Out of memory", NULL, "cannot build the answer");
		goto out;
	}
	rc = gw_store_put(app->store, idem, status, amount, json_incref(answer));
	if (rc != 0 && rc != SVC_DUPLICATE) { /* not recorded: not charged */
		svc_http_reply_problem(res, 503, "Gateway unavailable", NULL,
		                       "cannot record the charge (%s); retry", svc_strerror(rc));
		goto out;
	}
	if (rc == SVC_DUPLICATE) {
		/* A concurrent request with the same key answered first: give its answer. */
		json_decref(answer);
		answer = NULL;
		if (gw_store_get(app->store, idem, &status, &stored_fp, &answer))
			reply_stored(res, status, stored_fp, amount, answer);
		else
			svc_http_reply_problem(res, 503, "Gateway busy", NULL, "retry the request");
		goto out;
	}
	if (status == 201) {
		snprintf(byid, sizeof(byid), "id:%s",
		         json_string_value(json_object_get(answer, "id")));
		rc = gw_store_put(app->store, byid, 200, amount, json_deep_copy(answer));
		if (rc) /* the key's answer stands; only the lookup by id is lost */
			svc_error("charge %s: not recorded by id (%s)", byid + 3, svc_strerror(rc));
	}
	/* a capture is routine (debug); a decline says why (info) */
	svc_log(status == 201 ? SVC_LOG_DEBUG : SVC_LOG_INFO,
	        "charge key=%s order=%s amount=%lld -> %s", key, order_id, (long long)amount,
	        status == 201 ? "captured" : gw_verdict_reason(v));
	svc_http_reply_json(res, status, answer);
out:
	json_decref(body);
}

struct refund_arg {
	int64_t amount;
};

/* Under the store lock: books the refund on the charge if it fits. */
static int book_refund(json_t *charge, void *argp)
{
	struct refund_arg *arg = argp;
	int64_t captured = json_integer_value(json_object_get(charge, "amount"));
	int64_t refunded = json_integer_value(json_object_get(charge, "refunded"));

	if (arg->amount > captured - refunded)
		return SVC_ERANGE;
	refunded += arg->amount;
	json_object_set_new(charge, "refunded", json_integer(refunded));
	json_object_set_new(charge, "status",
	                    json_string(refunded == captured ? "refunded" : "partially_refunded"));
	return 0;
}

static void handle_refund(void *ctx, const struct svc_http_request *req,
                          struct svc_http_response *res)
{
	struct gw_app *app = ctx;
	const char *key = svc_http_header(req, "Idempotency-Key");
	json_t *body = NULL, *answer = NULL;
	char idem[GW_MAX_KEY + 16], byid[64], uuid[37], id[48];
	const char *charge_id;
	struct refund_arg arg;
	int64_t stored_fp;
	int status, rc;

	if (key && (!*key || strlen(key) > GW_MAX_KEY)) {
		svc_http_reply_problem(res, 400, "Invalid Idempotency-Key", "Idempotency-Key",
		                       "an Idempotency-Key has 1-%d characters", GW_MAX_KEY);
		return;
	}
	body = svc_http_parse_json(req, res);
	if (!body)
		return;
	charge_id = json_string_value(json_object_get(body, "chargeId"));
	if (!charge_id || strlen(charge_id) > 48) {
		svc_http_reply_problem(res, 400, "Invalid request", "chargeId",
		                       "chargeId is required and must be a charge id");
		goto out;
	}
	if ((arg.amount = positive_amount(body, "amount", res)) < 0)
		goto out;
	snprintf(idem, sizeof(idem), "refund:%s", key ? key : "");
	snprintf(byid, sizeof(byid), "id:%s", charge_id);

	pthread_mutex_lock(&app->refund_lock);
	if (key && gw_store_get(app->store, idem, &status, &stored_fp, &answer)) {
		pthread_mutex_unlock(&app->refund_lock);
		reply_stored(res, status, stored_fp, arg.amount, answer);
		goto out;
	}
	rc = gw_store_update(app->store, byid, book_refund, &arg);
	if (rc == 0) {
		svc_uuid7(uuid);
		snprintf(id, sizeof(id), "re_%s", uuid);
		answer = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "status", "refunded",
		                   "chargeId", charge_id, "amount", (json_int_t)arg.amount);
		if (key && answer &&
		    gw_store_put(app->store, idem, 201, arg.amount, json_incref(answer)) != 0)
			svc_error("refund %s: its Idempotency-Key not recorded", id);
	}
	pthread_mutex_unlock(&app->refund_lock);

	if (rc == SVC_ENOTFOUND)
		svc_http_reply_problem(res, 404, "Unknown charge", "chargeId", "no charge %s",
		                       charge_id);
	else if (rc == SVC_ERANGE)
		svc_http_reply_problem(res, 422, "Refund too large", "amount",
		                       "amount exceeds what is left to refund on %s", charge_id);
	else if (rc)
		svc_http_reply_problem(res, 503, "Gateway unavailable", NULL,
		                       "cannot record the refund (%s); retry", svc_strerror(rc));
	else if (!answer)
		svc_http_reply_problem(res, 500, "Out of memory", NULL, "cannot build the answer");
	else {
		svc_info("refund charge=%s amount=%lld", charge_id, (long long)arg.amount);
		svc_http_reply_json(res, 201, answer);
	}
out:
	json_decref(body);
}

static void handle_get_charge(void *ctx, const struct svc_http_request *req,
                              struct svc_http_response *res)
{
	struct gw_app *app = ctx;
	json_t *charge = NULL;
	char byid[64];
	int64_t fp;
	int status;

	snprintf(byid, sizeof(byid), "id:%s", req->params[0]);
	if (strlen(req->params[0]) > 48 || !gw_store_get(app->store, byid, &status, &fp, &charge)) {
		svc_http_reply_problem(res, 404, "Unknown charge", NULL, "no charge %s",
		                       req->params[0]);
		return;
	}
	svc_http_reply_json(res, 200, charge);
}

static void handle_get_config(void *ctx, const struct svc_http_request *req,
                              struct svc_http_response *res)
{
	struct gw_app *app = ctx;
	json_t *out;

	(void)req;
	pthread_mutex_lock(&app->cfg_lock);
	out = gw_config_json(&app->cfg);
	pthread_mutex_unlock(&app->cfg_lock);
	svc_http_reply_json(res, 200, out);
}

static void handle_set_config(void *ctx, const struct svc_http_request *req,
                              struct svc_http_response *res)
{
	struct gw_app *app = ctx;
	json_t *patch = svc_http_parse_json(req, res);
	char field[32], err[128];
	int rc;

	if (!patch)
		return;
	pthread_mutex_lock(&app->cfg_lock);
	rc = gw_config_patch(&app->cfg, patch, field, sizeof(field), err, sizeof(err));
	pthread_mutex_unlock(&app->cfg_lock);
	json_decref(patch);
	if (rc) {
		svc_http_reply_problem(res, 422, "Invalid configuration", field, "%s", err);
		return;
	}
	svc_info("configuration changed");
	handle_get_config(ctx, req, res);
}

static void handle_live(void *ctx, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	svc_http_reply_json(res, 200, json_pack("{s:s}", "status", "UP"));
}

static void handle_ready(void *ctx, const struct svc_http_request *req,
                         struct svc_http_response *res)
{
	struct gw_app *app = ctx;

	(void)req;
	svc_http_reply_json(res, 200,
	                    json_pack("{s:s, s:I}", "status", "UP", "entries",
	                              (json_int_t)gw_store_count(app->store)));
}

static void handle_openapi(void *ctx, const struct svc_http_request *req,
                           struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	svc_http_reply_file(res, svc_env_str("OPENAPI_FILE", "services/gateway-sim/openapi.json"));
}

const struct svc_http_route gw_routes[] = {
        {"POST", "/v1/charges", handle_charge, SVC_HTTP_PUBLIC},
        {"GET", "/v1/charges/{chargeId}", handle_get_charge, SVC_HTTP_PUBLIC},
        {"POST", "/v1/refunds", handle_refund, SVC_HTTP_PUBLIC},
        {"GET", "/admin/config", handle_get_config, SVC_HTTP_ADMIN},
        {"POST", "/admin/config", handle_set_config, SVC_HTTP_ADMIN},
        {"GET", "/health/live", handle_live, SVC_HTTP_PUBLIC},
        {"GET", "/health/ready", handle_ready, SVC_HTTP_PUBLIC},
        {"GET", "/openapi.json", handle_openapi, SVC_HTTP_PUBLIC},
};
const size_t gw_nroutes = sizeof(gw_routes) / sizeof(gw_routes[0]);

const struct svc_http_route gw_admin_routes[] = {
        {"GET", "/admin/config", handle_get_config, SVC_HTTP_ADMIN},
        {"POST", "/admin/config", handle_set_config, SVC_HTTP_ADMIN},
        {"GET", "/health/live", handle_live, SVC_HTTP_PUBLIC},
        {"GET", "/health/ready", handle_ready, SVC_HTTP_PUBLIC},
};
const size_t gw_admin_nroutes = sizeof(gw_admin_routes) / sizeof(gw_admin_routes[0]);
