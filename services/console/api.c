/* The console's page and JSON API (console.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/console/console.h"
#include "services/console/kafka.h"
#include "services/console/sampler.h"
#include "services/console/sidecars.h"
#include "services/console/store.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/service.h"

#define PATH_LEN 1024

/* What the page may load: its own files and API, nothing inline. */
static const char page_policy[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                                  "img-src 'self' data:; connect-src 'self'; "
                                  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

static void reply_static(const struct svc_ctx *ctx, const char *name, struct svc_http_response *res)
{
	const struct console_app *app = ctx->user;
	char path[PATH_LEN];
	int n = snprintf(path, sizeof(path), "%s/%s", app->cfg.static_dir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		svc_http_reply_problem(res, 404, NULL, NULL, "no such file");
		return;
	}
	svc_http_reply_file(res, path);
	if (res->status != 200)
		return;
	svc_http_add_header(res, "Cache-Control", "no-cache");
	svc_http_add_header(res, "Content-Security-Policy", page_policy);
	svc_http_add_header(res, "X-Content-Type-Options", "nosniff");
	svc_http_add_header(res, "Referrer-Policy", "no-referrer");
}

static void get_page(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)req;
	reply_static(ctx, "index.html", res);
}

static void get_script(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)req;
	reply_static(ctx, "console.js", res);
}

static void get_style(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)req;
	reply_static(ctx, "console.css", res);
}

/* A number, or null for NaN (JSON has no NaN). */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *orders_json(struct console_sampler *sampler)
{
	struct console_summary s;
	bool up = false;

	console_sampler_summary(sampler, &s, &up);
	return json_pack(
	        "{s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "up", up,
	        "known", s.known, "rateWindowS", num(s.rate_s), "createdPerS", num(s.created_per_s),
	        "confirmedPerS", num(s.finished_per_s[CONSOLE_CONFIRMED]), "cancelledPerS",
	        num(s.finished_per_s[CONSOLE_CANCELLED]), "createdTotal", num(s.created_total),
	        "confirmedTotal", num(s.finished_total[CONSOLE_CONFIRMED]), "cancelledTotal",
	        num(s.finished_total[CONSOLE_CANCELLED]), "percentileWindowS", num(s.pct_s),
	        "completions", num(s.completions), "p50", num(s.p50), "p95", num(s.p95), "p99",
	        num(s.p99));
}

static void get_overview(void *vctx, const struct svc_http_request *req,
                         struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	struct console_app *app = ctx->user;
	json_t *doc;

	(void)req;
	doc = json_pack("{s:o, s:o}", "orders", orders_json(app->sampler), "sidecars",
	                console_sidecars_status(&app->cfg));
	if (!doc) {
		svc_http_reply_problem(res, 503, NULL, NULL, "out of memory");
		return;
	}
	svc_http_reply_json(res, 200, doc);
}

/* ?name= as an integer in [min, max], else `def`; false (answered 400) when
 * present but not one. */
static bool query_int(const struct svc_http_request *req, struct svc_http_response *res,
                      const char *name, long min, long max, long def, long *out)
{
	const char *v = svc_http_query(req, name);
	char *end;
	long n;

	*out = def;
	if (!v)
		return true;
	n = strtol(v, &end, 10);
	if (end == v || *end || n < min || n > max) {
		svc_http_reply_problem(res, 400, NULL, name,
		                       "%s must be an integer from %ld to %ld", name, min, max);
		return false;
	}
	*out = n;
	return true;
}

/* Runs a read of order_db and answers with its document. */
static void reply_from_db(struct svc_ctx *ctx, struct svc_http_response *res,
                          int (*read)(MYSQL *, const void *, json_t **), const void *arg)
{
	json_t *doc = NULL;
	MYSQL *conn = svc_db_acquire(ctx->db);
	int rc;

	if (!conn) {
		svc_http_reply_error(res, SVC_ETRANSIENT, "the order database");
		return;
	}
	rc = read(conn, arg, &doc);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	if (rc == SVC_ENOTFOUND)
		svc_http_reply_problem(res, 404, NULL, NULL, "no such order");
	else if (rc != 0)
		svc_http_reply_error(res, rc, "the order database");
	else
		svc_http_reply_json(res, 200, doc);
}

static int read_sagas(MYSQL *conn, const void *arg, json_t **out)
{
	return console_store_sagas(conn, (int)*(const long *)arg, out);
}

static int read_journey(MYSQL *conn, const void *arg, json_t **out)
{
	return console_store_journey(conn, arg, out);
}

static void get_sagas(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	long limit;

	if (query_int(req, res, "limit", 1, CONSOLE_OLDEST_MAX, 10, &limit))
		reply_from_db(ctx, res, read_sagas, &limit);
}

static void get_order(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	const char *order_id = req->params[0];

	if (!svc_uuid_valid(order_id)) {
		svc_http_reply_problem(res, 400, NULL, "orderId", "orderId must be a UUID");
		return;
	}
	reply_from_db(ctx, res, read_journey, order_id);
}

static void get_topics(void *vctx, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	struct console_app *app = ctx->user;
	json_t *doc;

	(void)req;
	if (!app->kafka) {
		svc_http_reply_problem(res, 503, NULL, NULL, "no Kafka client (see the log)");
		return;
	}
	doc = console_kafka_snapshot(app->kafka);
	if (!doc) {
		svc_http_reply_problem(res, 503, NULL, NULL, "out of memory");
		return;
	}
	svc_http_reply_json(res, 200, doc);
}

static void get_dlq(void *vctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	struct console_app *app = ctx->user;
	json_t *list;
	long limit;

	if (!query_int(req, res, "limit", 1, 1000, 50, &limit))
		return;
	list = console_sidecars_dlq(&app->cfg, svc_http_header(req, "Authorization"), limit);
	if (!list) {
		svc_http_reply_problem(res, 503, NULL, NULL, "out of memory");
		return;
	}
	svc_http_reply_json(res, 200, json_pack("{s:o}", "services", list));
}

static void post_redrive(void *vctx, const struct svc_http_request *req,
                         struct svc_http_response *res)
{
	struct svc_ctx *ctx = vctx;
	struct console_app *app = ctx->user;
	const struct console_target *t = console_config_sidecar(&app->cfg, req->params[0]);
	json_t *body;

	if (!t) {
		svc_http_reply_problem(res, 404, NULL, "service", "no sidecar named %s",
		                       req->params[0]);
		return;
	}
	/* a well-formed object only; the sidecar validates its members */
	body = svc_http_parse_json(req, res);
	if (!body)
		return;
	json_decref(body);
	console_sidecar_redrive(&app->cfg, t, svc_http_header(req, "Authorization"), req->body,
	                        req->body_len, res);
}

const struct svc_http_route console_routes[] = {
        {"GET", "/", get_page, SVC_HTTP_PUBLIC},
        {"GET", "/console.js", get_script, SVC_HTTP_PUBLIC},
        {"GET", "/console.css", get_style, SVC_HTTP_PUBLIC},
        {"GET", "/api/console/overview", get_overview, SVC_HTTP_ADMIN},
        {"GET", "/api/console/sagas", get_sagas, SVC_HTTP_ADMIN},
        {"GET", "/api/console/topics", get_topics, SVC_HTTP_ADMIN},
        {"GET", "/api/console/dlq", get_dlq, SVC_HTTP_ADMIN},
        {"POST", "/api/console/dlq/{service}/redrive", post_redrive, SVC_HTTP_ADMIN},
        {"GET", "/api/console/orders/{orderId}", get_order, SVC_HTTP_ADMIN},
};
const size_t console_nroutes = sizeof(console_routes) / sizeof(console_routes[0]);
