/*
 * Service bootstrap (see svc/service.h): logging, database and migrations,
 * Redis, the HTTP server with the routes every service has, and an orderly
 * stop on SIGTERM/SIGINT.
 */
#include "svc/clock.h"
#include "svc/service.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prepare_pool.h"
#include "svc/auth.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/inbox_retention.h"
#include "svc/json.h"
#include "svc/log.h"

#define PATH_LEN 1024
/* Body limits: public requests are small; the sidecar's event batches
 * (POST /internal/events) are up to its byte cap per batch. */
#define HTTP_MAX_BODY_DEFAULT     (64L * 1024)
#define INTERNAL_MAX_BODY_DEFAULT (4L * 1024 * 1024)
#define MAX_BODY_CEILING          (64L * 1024 * 1024)
/* Handlers block their thread and each connection stays on one thread, so
 * the public pool is sized for the concurrent requests of ~1000 orders/s;
 * the internal one serves the sidecar's few delivery workers. */
#define HTTP_THREADS_DEFAULT          128
#define INTERNAL_HTTP_THREADS_DEFAULT 16

/* What svc_run owns. The server's handler context is &run->ctx (first
 * member), so the built-in handlers can reach the rest. */
struct svc_run_state {
	struct svc_ctx ctx;
	char openapi_file[PATH_LEN];
	const char *swagger_dir;
	struct svc_http_route *routes;
	size_t nroutes;
	struct svc_http_stats http_stats;
	struct svc_consumer_stats events;
	struct svc_http_body_limit events_limit; /* POST /internal/events */
	struct svc_auth *auth;                   /* JWT_SECRET / JWT_PUBLIC_KEY_FILE */
};

static const char swagger_page[] =
        "<!DOCTYPE html>\n"
        "<html lang=\"en\">\n"
        "<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<title>API documentation</title>\n"
        "<link rel=\"stylesheet\" href=\"/swagger-ui/swagger-ui.css\">\n"
        "</head>\n"
        "<body>\n"
        "<div id=\"swagger-ui\"></div>\n"
        "<script src=\"/swagger-ui/swagger-ui-bundle.js\"></script>\n"
        "<script src=\"/swagger-ui/swagger-ui-standalone-preset.js\"></script>\n"
        "<script>\n"
        "window.onload = function () {\n"
        "  window.ui = SwaggerUIBundle({\n"
        "    url: \"/openapi.json\",\n"
        "    dom_id: \"#swagger-ui\",\n"
        "    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],\n"
        "    layout: \"StandaloneLayout\",\n"
        "    persistAuthorization: true\n"
        "  });\n"
        "};\n"
        "</script>\n"
        "</body>\n"
        "</html>\n";

json_t *svc_http_parse_json(const struct svc_http_request *req, struct svc_http_response *res)
{
	json_error_t err;
	json_t *v;

	if (!req->body || req->body_len == 0) {
		svc_http_reply_problem(res, 400, NULL, NULL, "a JSON request body is required");
		return NULL;
	}
	v = svc_json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!v) {
		svc_http_reply_problem(res, 400, NULL, NULL,
		                       "malformed JSON at line %d column %d: %s", err.line,
		                       err.column, err.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		svc_http_reply_problem(res, 400, NULL, NULL,
		                       "the request body must be a JSON object");
		return NULL;
	}
	return v;
}

/* ---- built-in routes ------------------------------------------------- */

static void on_live(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	svc_http_reply_json(res, 200, json_pack("{s:s}", "status", "UP"));
}

static const char *up_down(bool up)
{
	return up ? "UP" : "DOWN";
}

static void on_ready(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	struct svc_ctx *c = ctx;
	json_t *checks = json_object();
	bool up, ok;

	(void)req;
	if (!checks) {
		svc_http_reply_problem(res, 503, NULL, NULL, "out of memory");
		return;
	}
	up = svc_db_ping(c->db);
	json_object_set_new(checks, "database", json_string(up_down(up)));
	/* Reported, not required: Redis is a cache and every miss is served
	 * from the database. */
	if (c->redis)
		json_object_set_new(checks, "redis",
		                    json_string(up_down(svc_redis_ping(c->redis))));
	if (c->svc->ready) {
		ok = c->svc->ready(c, checks);
		json_object_set_new(checks, "service", json_string(up_down(ok)));
		up = up && ok;
	}
	svc_http_reply_json(res, up ? 200 : 503,
	                    json_pack("{s:s, s:o}", "status", up_down(up), "checks", checks));
}

/* Adds {name: counter} to obj (a failed add leaves it out). */
static void put_counter(json_t *obj, const char *name, const atomic_uint_fast64_t *counter)
{
	json_object_set_new(obj, name, json_integer((json_int_t)atomic_load(counter)));
}

json_t *svc_metrics_json(const char *name, const struct svc_http_stats *http,
                         const struct svc_consumer_stats *events)
{
	json_t *out = json_pack("{s:s, s:{}}", "service", name ? name : "", "http");
	json_t *ev = NULL;

	if (!out)
		return NULL;
	put_counter(json_object_get(out, "http"), "requests", &http->requests);
	put_counter(json_object_get(out, "http"), "errors5xx", &http->errors5xx);
	if (events) {
		ev = json_object();
		put_counter(ev, "ok", &events->ok);
		put_counter(ev, "duplicate", &events->duplicate);
		put_counter(ev, "ignored", &events->ignored);
		put_counter(ev, "retry", &events->retry);
		put_counter(ev, "rejected", &events->rejected);
		json_object_set_new(out, "events", ev);
	}
	return out;
}

void svc_ctx_count_event(struct svc_ctx *ctx, const char *type, const char *outcome)
{
	svc_prom_inc(svc_prom_at(ctx->event_outcomes, type && *type ? type : "unknown", outcome));
}

/* GET /metrics: Prometheus text, or with ?format=json the JSON counters. */
static void on_metrics(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	struct svc_run_state *run = ctx;
	const char *format = svc_http_query(req, "format");
	json_t *out;

	if (!format || strcmp(format, "json") != 0) {
		svc_http_reply_metrics(res, run->ctx.prom);
		return;
	}
	out = svc_metrics_json(run->ctx.svc->name, &run->http_stats, run->ctx.events);
	if (!out) {
		svc_http_reply_problem(res, 503, NULL, NULL, "out of memory");
		return;
	}
	if (run->ctx.svc->metrics)
		run->ctx.svc->metrics(&run->ctx, out);
	svc_http_reply_json(res, 200, out);
}

static void on_openapi(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	const struct svc_run_state *run = ctx;

	(void)req;
	svc_http_reply_file(res, run->openapi_file);
}

static void on_swagger_page(void *ctx, const struct svc_http_request *req,
                            struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	svc_http_reply_raw(res, 200, "text/html; charset=utf-8", swagger_page,
	                   sizeof(swagger_page) - 1);
}

/* A file name under the Swagger UI directory: no way up or out of it. */
static bool asset_name_safe(const char *name)
{
	return *name && *name != '/' && !strstr(name, "..") && !strchr(name, '\\');
}

static void on_swagger_asset(void *ctx, const struct svc_http_request *req,
                             struct svc_http_response *res)
{
	const struct svc_run_state *run = ctx;
	char path[PATH_LEN];
	const char *name = req->params[0];
	int n;

	if (!asset_name_safe(name)) {
		svc_http_reply_problem(res, 404, NULL, NULL, "no such file");
		return;
	}
	n = snprintf(path, sizeof(path), "%s/%s", run->swagger_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		svc_http_reply_problem(res, 404, NULL, NULL, "no such file");
		return;
	}
	svc_http_reply_file(res, path);
	if (res->status == 200)
		svc_http_add_header(res, "Cache-Control", "public, max-age=86400");
}

static void on_events(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	int status = 400;
	json_t *out = svc_consumer_handle_batch(ctx, req->body, req->body_len, &status);

	if (!out) {
		svc_http_reply_problem(res, status, NULL, NULL,
		                       status == 400 ? "expected {\"messages\":[...]}"
		                                     : "cannot handle the batch now");
		return;
	}
	svc_http_reply_json(res, status, out);
}

static const struct svc_http_route builtin_routes[] = {
        {"GET", "/health/live", on_live, SVC_HTTP_PUBLIC},
        {"GET", "/health/ready", on_ready, SVC_HTTP_PUBLIC},
        {"GET", "/openapi.json", on_openapi, SVC_HTTP_PUBLIC},
        {"GET", "/swagger-ui.html", on_swagger_page, SVC_HTTP_PUBLIC},
        {"GET", "/swagger-ui/*", on_swagger_asset, SVC_HTTP_PUBLIC},
        {"GET", "/metrics", on_metrics, SVC_HTTP_PUBLIC},
};
/* From the sidecar only: the internal listener is on 127.0.0.1, and the
 * route is LOCAL besides. */
static const struct svc_http_route events_route = {"POST", "/internal/events", on_events,
                                                   SVC_HTTP_LOCAL};

/* The service's routes first, then the built-in ones, then (a consumer)
 * POST /internal/events last: start_http leaves it off the public
 * listener. */
static int build_routes(struct svc_run_state *run)
{
	const struct svc_service *svc = run->ctx.svc;
	size_t nbuiltin = sizeof(builtin_routes) / sizeof(builtin_routes[0]);
	size_t n = svc->nroutes;

	run->routes = calloc(svc->nroutes + nbuiltin + 1, sizeof(*run->routes));
	if (!run->routes)
		return SVC_ENOMEM;
	if (svc->nroutes)
		memcpy(run->routes, svc->routes, svc->nroutes * sizeof(*run->routes));
	memcpy(run->routes + n, builtin_routes, sizeof(builtin_routes));
	n += nbuiltin;
	if (svc->consumer)
		run->routes[n++] = events_route;
	run->nroutes = n;
	return 0;
}

/* ---- start-up -------------------------------------------------------- */

/* Applies one migration directory, retrying while the database is not
 * reachable until `deadline` (svc_mono_ms). */
static int migrate_until(struct svc_db *db, const char *component, const char *dir,
                         uint64_t deadline)
{
	int rc;

	for (;;) {
		rc = svc_db_migrate(db, component, dir);
		if (rc != SVC_ETRANSIENT || svc_mono_ms() >= deadline)
			break;
		svc_warn("migrations (%s): database not reachable yet; retrying", component);
		svc_sleep_ms(1000);
	}
	if (rc != 0)
		svc_error("migrations (%s) from %s failed: %s", component, dir, svc_strerror(rc));
	return rc;
}

static int open_database(struct svc_run_state *run)
{
	const char *name = run->ctx.svc->name;
	struct svc_db_config cfg = {0};
	char own_dir[PATH_LEN];
	uint64_t deadline;
	int rc;

	svc_db_config_from_env(&cfg);
	run->ctx.db = svc_db_open(&cfg);
	if (!run->ctx.db)
		return SVC_ENOMEM;
	if (run->ctx.svc->reads_foreign_db)
		return 0;
	deadline = svc_mono_ms() + (uint64_t)svc_env_long("DB_WAIT_S", 60, 0, 86400) * 1000u;
	snprintf(own_dir, sizeof(own_dir), "services/%s/migrations", name);
	rc = migrate_until(run->ctx.db, "common",
	                   svc_env_str("SVC_COMMON_MIGRATIONS_DIR", "services/common/migrations"),
	                   deadline);
	if (rc == 0)
		rc = migrate_until(run->ctx.db, name, svc_env_str("MIGRATIONS_DIR", own_dir),
		                   deadline);
	return rc;
}

static int open_redis(struct svc_run_state *run)
{
	struct svc_redis_config cfg;

	if (!svc_env_str("REDIS_HOST", NULL) && !svc_env_str("REDIS_SOCKET", NULL))
		return 0;
	svc_redis_config_from_env(&cfg);
	run->ctx.redis = svc_redis_open(&cfg);
	return run->ctx.redis ? 0 : SVC_ENOMEM;
}

/* INTERNAL_HTTP_PORT, or 0 when unset (svc_run refuses to start a consumer
 * without it). */
static unsigned internal_port(const struct svc_run_state *run)
{
	if (!run->ctx.svc->consumer)
		return 0;
	return (unsigned)svc_env_long("INTERNAL_HTTP_PORT", 0, 0, 65535);
}

/*
 * The public listener (HTTP_PORT, all interfaces, HTTP_THREADS), or with
 * `internal` the sidecar's own one (INTERNAL_HTTP_PORT on 127.0.0.1, which
 * the pod shares with its sidecar; INTERNAL_HTTP_THREADS). Handlers block
 * their MHD thread, and MHD ties each connection to one thread: on a
 * listener of their own, event deliveries never queue behind client requests
 * (order creates waiting on prices and commits). When there is one,
 * POST /internal/events is served there only: a client of the public port
 * cannot inject events.
 */
static struct svc_http_server *start_http(struct svc_run_state *run, bool internal)
{
	struct svc_http_server_config cfg = {
	        .bind_addr = NULL, /* all interfaces: probes and port-forwards reach it */
	        .port = (unsigned)svc_env_long("HTTP_PORT", (long)run->ctx.svc->default_port, 1,
	                                       65535),
	        .threads = (unsigned)svc_env_long("HTTP_THREADS", HTTP_THREADS_DEFAULT, 1, 1024),
	        .max_connections = (unsigned)svc_env_long(
	                "HTTP_MAX_CONNECTIONS", SVC_HTTP_MAX_CONNECTIONS_DEFAULT, 16, 1000000),
	        .max_body = (size_t)svc_env_long("HTTP_MAX_BODY", HTTP_MAX_BODY_DEFAULT, 1,
	                                         MAX_BODY_CEILING),
	        .stats = &run->http_stats,
	        .auth = run->auth,
	        .prom = run->ctx.prom,
	};
	size_t limit, nroutes = run->nroutes;

	if (internal) {
		cfg.bind_addr = "127.0.0.1";
		cfg.port = internal_port(run);
		cfg.threads = (unsigned)svc_env_long("INTERNAL_HTTP_THREADS",
		                                     INTERNAL_HTTP_THREADS_DEFAULT, 1, 1024);
	} else if (run->ctx.svc->consumer) {
		nroutes--; /* events_route, the last one (build_routes) */
	}
	if (run->ctx.svc->consumer) {
		limit = (size_t)svc_env_long("INTERNAL_MAX_BODY", INTERNAL_MAX_BODY_DEFAULT, 1,
		                             MAX_BODY_CEILING);
		/* Never below the public limit: raising HTTP_MAX_BODY raises both. */
		run->events_limit = (struct svc_http_body_limit){
		        .method = events_route.method,
		        .pattern = events_route.pattern,
		        .max_body = limit > cfg.max_body ? limit : cfg.max_body,
		};
		cfg.body_limits = &run->events_limit;
		cfg.nbody_limits = 1;
	}
	return svc_http_server_start(&cfg, run->routes, nroutes, &run->ctx);
}

/* Blocks until SIGTERM or SIGINT arrives (they are blocked in every thread). */
static void wait_for_stop(const sigset_t *stop)
{
	int sig = 0;

	while (sigwait(stop, &sig) != 0)
		;
	svc_info("received %s; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

int svc_run(const struct svc_service *svc, void *user)
{
	struct svc_run_state run = {.ctx = {.svc = svc, .user = user}};
	struct svc_http_server *http = NULL, *internal = NULL;
	struct svc_inbox_pruner *pruner = NULL;
	sigset_t blocked, stop;
	bool started = false;
	char default_openapi[PATH_LEN];
	int exit_code = 1;

	/* Before any thread exists, so that every thread inherits the mask:
	 * SIGTERM/SIGINT are taken by sigwait here, SIGPIPE never kills us. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	blocked = stop;
	sigaddset(&blocked, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);

	svc_log_init(svc->name);
	if (svc_httpc_global_init() != 0) {
		svc_error("curl initialisation failed");
		goto release;
	}
	snprintf(default_openapi, sizeof(default_openapi), "services/%s/openapi.json", svc->name);
	snprintf(run.openapi_file, sizeof(run.openapi_file), "%s",
	         svc_env_str("OPENAPI_FILE", default_openapi));
	run.swagger_dir = svc_env_str("SWAGGER_UI_DIR", ".deps/swagger-ui");
	atomic_init(&run.http_stats.requests, 0);
	atomic_init(&run.http_stats.errors5xx, 0);
	atomic_init(&run.events.ok, 0);
	atomic_init(&run.events.duplicate, 0);
	atomic_init(&run.events.ignored, 0);
	atomic_init(&run.events.retry, 0);
	atomic_init(&run.events.rejected, 0);
	if (svc->consumer)
		run.ctx.events = &run.events;
	run.ctx.prom = svc_prom_new();
	if (svc->consumer)
		run.ctx.event_outcomes = svc_prom_counter(
		        run.ctx.prom, "saga_events_total",
		        "Inbound events answered, by event type and outcome (ok, duplicate, "
		        "ignored, retry, rejected).",
		        "type,outcome");
	run.ctx.consumer_tx_max =
	        (unsigned)svc_env_long("CONSUMER_TX_MAX", SVC_CONSUMER_TX_MAX_DEFAULT, 1, 10000);
	if (svc->consumer)
		run.ctx.inbox_keep_ms =
		        (int64_t)svc_env_long("INBOX_RETENTION_HOURS",
		                              SVC_INBOX_RETENTION_HOURS_DEFAULT, 0, 24L * 3650) *
		        3600000;

	if (svc->consumer && internal_port(&run) == 0) {
		svc_error("INTERNAL_HTTP_PORT is not set: events are delivered only on a listener "
		          "of their own on 127.0.0.1");
		goto release;
	}
	run.auth = svc_auth_from_env();
	if (!run.auth)
		goto release;
	if (open_database(&run) != 0 || open_redis(&run) != 0 || build_routes(&run) != 0)
		goto release;
	svc_prom_on_collect(run.ctx.prom, svc_db_collect_metrics, run.ctx.db);
	svc_prom_on_collect(run.ctx.prom, svc_auth_collect_metrics, run.auth);
	if (svc->start && svc->start(&run.ctx) != 0) {
		svc_error("start-up of %s failed", svc->name);
		goto release;
	}
	started = true;
	if (run.ctx.inbox_keep_ms > 0 && !svc->reads_foreign_db &&
	    !(pruner = svc_inbox_pruner_start(
	              &run.ctx, run.ctx.inbox_keep_ms,
	              svc_env_long("INBOX_PRUNE_INTERVAL_MS", SVC_INBOX_PRUNE_INTERVAL_MS, 100,
	                           86400000L),
	              (unsigned)svc_env_long("INBOX_PRUNE_BATCH", SVC_INBOX_PRUNE_BATCH, 1,
	                                     100000))))
		goto release;
	http = start_http(&run, false);
	if (!http)
		goto release;
	if (svc->consumer && !(internal = start_http(&run, true)))
		goto release;
	svc_info("%s started", svc->name);
	wait_for_stop(&stop);
	exit_code = 0;
release:
	svc_http_server_free(internal);
	svc_http_server_free(http);
	/* No delivery runs any more: the inbox's prepare threads can go. */
	svc__prepare_pool_stop();
	svc_inbox_pruner_stop(pruner);
	if (started && svc->stop)
		svc->stop(&run.ctx);
	svc_auth_free(run.auth);
	if (run.ctx.redis)
		svc_redis_free(run.ctx.redis);
	svc_db_free(run.ctx.db);
	svc_prom_free(run.ctx.prom);
	free(run.routes);
	svc_info("%s stopped", svc->name);
	return exit_code;
}
