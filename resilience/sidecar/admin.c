/* Health, metrics, DLQ and egress routes of the sidecar's HTTP server. */
#include "resilience/sidecar/admin.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/dlq_admin.h"
#include "resilience/sidecar/inbound.h"
#include "resilience/sidecar/stop.h"
#include "svc/auth.h"
#include "svc/clock.h"
#include "svc/config.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/url.h"

#define SC_ADMIN_MAX_BODY     (1024 * 1024)
#define SC_SERVICE_CACHE_MS   1000
#define SC_SERVICE_TIMEOUT_MS 1000

struct sc_admin {
	const struct sc_config *cfg;
	struct sc_producer *producer;
	struct svc_db *db;
	struct sc_egress *egress;
	struct sc_inbound *inbound; /* NULL: no consumption */
	struct sc_metrics *metrics;
	struct svc_prom *prom;
	struct sc_dlq_admin dlq;
	struct svc_http_server *srv;
	struct svc_auth *auth; /* verifies the admin tokens of the DLQ routes */
	char live_url[SC_URL_MAX + 32];
	pthread_mutex_t mu;          /* guards the cached service check */
	uint64_t service_checked_ms; /* 0 = never */
	bool service_ok;
};

/* GET SERVICE_URL/health/live, cached for about a second. */
static bool service_live(struct sc_admin *a)
{
	uint64_t now = svc_mono_ms();
	bool ok;

	pthread_mutex_lock(&a->mu);
	if (a->service_checked_ms != 0 && now - a->service_checked_ms < SC_SERVICE_CACHE_MS) {
		ok = a->service_ok;
	} else {
		struct svc_httpc_response res = {0};
		ok = svc_httpc_request("GET", a->live_url, NULL, NULL, 0, SC_SERVICE_TIMEOUT_MS,
		                       &res) == 0 &&
		     res.status == 200;
		svc_httpc_response_release(&res);
		a->service_ok = ok;
		a->service_checked_ms = svc_mono_ms();
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static const char *up(bool ok)
{
	return ok ? "UP" : "DOWN";
}

/* Live unless the producer is beyond repair: then only a restart helps. */
static void handle_live(void *ctx, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	struct sc_admin *a = ctx;
	bool ok = sc_producer_healthy(a->producer);

	(void)req;
	svc_http_reply_json(res, ok ? 200 : 503, json_pack("{s:s}", "status", up(ok)));
}

/* "inbound": the delivery breaker towards the service and its counters. */
static void add_inbound(struct sc_admin *a, json_t *body)
{
	json_t *inbound = json_object(), *service;

	sc_inbound_status(a->inbound, inbound);
	/* sc_inbound_status names its object "service"; here that key is taken */
	service = json_object_get(inbound, "service");
	if (service)
		json_object_set(body, "inbound", service);
	json_decref(inbound);
}

static void handle_ready(void *ctx, const struct svc_http_request *req,
                         struct svc_http_response *res)
{
	struct sc_admin *a = ctx;
	json_t *body = json_object(), *egress = json_object();
	bool kafka = sc_producer_healthy(a->producer) && sc_producer_reachable(a->producer);
	bool service = service_live(a);
	/* ?kafka=optional (the Kubernetes readiness probe): Kafka is reported, not
	 * required. Without the broker the service still takes its requests (its
	 * events wait in the outbox, its deliveries resume when Kafka is back);
	 * were every pod taken out of its Service meanwhile, a broker restart
	 * would refuse every order (docs/chaos.md, kafka-kill). */
	const char *need = svc_http_query(req, "kafka");
	bool ready = (kafka || (need && !strcmp(need, "optional"))) && service;

	json_object_set_new(body, "kafka", json_string(up(kafka)));
	if (a->db) {
		bool db = svc_db_ping(a->db);
		json_object_set_new(body, "database", json_string(up(db)));
		ready = ready && db;
	}
	json_object_set_new(body, "service", json_string(up(service)));
	sc_egress_status(a->egress, egress);
	json_object_set_new(body, "egress", egress);
	add_inbound(a, body);
	json_object_set_new(body, "status", json_string(up(ready)));
	svc_http_reply_json(res, ready ? 200 : 503, body);
}

static void handle_metrics(void *ctx, const struct svc_http_request *req,
                           struct svc_http_response *res)
{
	struct sc_admin *a = ctx;
	const char *format = svc_http_query(req, "format");
	json_t *body, *egress;

	if (!format || strcmp(format, "json") != 0) {
		svc_http_reply_metrics(res, a->prom);
		return;
	}
	body = sc_metrics_json(a->metrics);
	egress = json_object();
	sc_egress_status(a->egress, egress);
	json_object_set_new(body, "egress", egress);
	add_inbound(a, body);
	json_object_set_new(body, "service", json_string(a->cfg->service));
	svc_http_reply_json(res, 200, body);
}

static void handle_dlq_list(void *ctx, const struct svc_http_request *req,
                            struct svc_http_response *res)
{
	struct sc_admin *a = ctx;

	sc_dlq_admin_http_list(&a->dlq, req, res);
}

static void handle_dlq_redrive(void *ctx, const struct svc_http_request *req,
                               struct svc_http_response *res)
{
	struct sc_admin *a = ctx;

	sc_dlq_admin_http_redrive(&a->dlq, req, res);
}

/* /egress/{route}/<rest> and /egress/{route}: params[0] is the route, params[1] the rest. */
static void handle_egress(void *ctx, const struct svc_http_request *req,
                          struct svc_http_response *res)
{
	struct sc_admin *a = ctx;

	sc_egress_handle(a->egress, req->params[0], req->nparams > 1 ? req->params[1] : NULL, req,
	                 res);
}

/* /egress-batch/{route}: many requests to the route in one call. */
static void handle_egress_batch(void *ctx, const struct svc_http_request *req,
                                struct svc_http_response *res)
{
	struct sc_admin *a = ctx;

	sc_egress_batch_handle(a->egress, req->params[0], req, res);
}

/* Egress is the pod's own way out (to the payment gateway, to inventory's
 * prices): from the service container beside it only, never a proxy for
 * whoever reaches the port. */
#define EGRESS_ROUTES(method)                                                                      \
	{method, "/egress/{route}/*", handle_egress, SVC_HTTP_LOCAL},                              \
	{                                                                                          \
		method, "/egress/{route}", handle_egress, SVC_HTTP_LOCAL                           \
	}

static const struct svc_http_route routes[] = {
        {"GET", "/health/live", handle_live, SVC_HTTP_PUBLIC},
        {"GET", "/health/ready", handle_ready, SVC_HTTP_PUBLIC},
        {"GET", "/metrics", handle_metrics, SVC_HTTP_PUBLIC},
        {"GET", "/dlq", handle_dlq_list, SVC_HTTP_ADMIN},
        {"POST", "/dlq/redrive", handle_dlq_redrive, SVC_HTTP_ADMIN},
        EGRESS_ROUTES("GET"),
        EGRESS_ROUTES("POST"),
        EGRESS_ROUTES("PUT"),
        EGRESS_ROUTES("PATCH"),
        EGRESS_ROUTES("DELETE"),
        EGRESS_ROUTES("HEAD"),
        {"POST", "/egress-batch/{route}", handle_egress_batch, SVC_HTTP_LOCAL},
};

struct sc_admin *sc_admin_start(const struct sc_config *cfg, struct sc_producer *producer,
                                struct svc_db *db, struct sc_egress *egress,
                                struct sc_inbound *inbound, struct sc_metrics *metrics,
                                struct svc_prom *prom)
{
	struct sc_admin *a = calloc(1, sizeof(*a));
	struct svc_http_server_config http = {
	        .bind_addr = NULL,
	        .port = cfg->port,
	        /* egress calls block a thread each for their upstream's time, and
	         * MHD keeps each connection on one thread: room for every caller
	         * (the payment service's PREPARE_WORKERS gateway calls at once) */
	        .threads = (unsigned)svc_env_long("SIDECAR_HTTP_THREADS", 64, 1, 1024),
	        .max_body = SC_ADMIN_MAX_BODY,
	        .prom = prom,
	};

	if (!a)
		return NULL;
	a->auth = svc_auth_from_env(); /* the DLQ routes are an admin's */
	if (!a->auth || pthread_mutex_init(&a->mu, NULL) != 0) {
		svc_auth_free(a->auth);
		free(a);
		return NULL;
	}
	http.auth = a->auth;
	a->cfg = cfg;
	a->producer = producer;
	a->db = db;
	a->egress = egress;
	a->inbound = inbound;
	a->metrics = metrics;
	a->prom = prom;
	sc_dlq_admin_init(&a->dlq, cfg, producer, db);
	/* Fits: sc_config_check() bounds SERVICE_URL. */
	svc_url_join(a->live_url, sizeof(a->live_url), cfg->service_url, "/health/live");
	a->srv = svc_http_server_start(&http, routes, sizeof(routes) / sizeof(routes[0]), a);
	if (!a->srv) {
		pthread_mutex_destroy(&a->mu);
		svc_auth_free(a->auth);
		free(a);
		return NULL;
	}
	svc_info("admin: listening on port %u", cfg->port);
	return a;
}

void sc_admin_free(struct sc_admin *a)
{
	if (!a)
		return;
	svc_http_server_free(a->srv);
	pthread_mutex_destroy(&a->mu);
	svc_auth_free(a->auth);
	free(a);
}
