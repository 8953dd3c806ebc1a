/*
 * Service bootstrap: everything the four services share about starting,
 * serving and stopping, so that each main.c only says what is its own.
 *
 * svc_run():
 *   1. logging (svc_log_init), curl global init;
 *   2. database pool from DB_* and migrations: services/common/migrations
 *      (component "common": outbox_messages, processed_messages) then the
 *      service's own MIGRATIONS_DIR (component = service name), retried
 *      until the database answers (DB_WAIT_S, default 60); none for a
 *      service that reads another's database (svc->reads_foreign_db);
 *   3. Redis when REDIS_HOST or REDIS_SOCKET is set;
 *   4. svc->start() for background threads;
 *   5. HTTP on HTTP_PORT with the service's routes, each with its access
 *      (svc/http.h; tokens verified with JWT_SECRET or JWT_PUBLIC_KEY_FILE,
 *      svc/auth.h: the service does not start without one), plus these
 *      open ones:
 *        GET  /health/live        200 while the process runs
 *        GET  /health/ready       200 when the database answers and
 *                                 svc->ready() agrees; 503 otherwise; JSON
 *                                 details either way. Redis, when used, is
 *                                 reported ("redis": "UP|DOWN") but does not
 *                                 make the service unready: it is a cache
 *        GET  /metrics            Prometheus text (format 0.0.4) of ctx->prom:
 *                                 svc_http_* (svc/http.h), saga_events_total
 *                                 {type,outcome} (consumers), svc_db_pool_*
 *                                 and what the service registers itself
 *                                 (docs/observability.md)
 *        GET  /metrics?format=json
 *                                 {"service": name,
 *                                  "http": {"requests": n, "errors5xx": n},
 *                                  "events": {"ok", "duplicate", "ignored",
 *                                             "retry", "rejected"}}
 *                                 (counts since start; events when
 *                                 svc->consumer is set) plus what
 *                                 svc->metrics() adds
 *        GET  /openapi.json       OPENAPI_FILE (default services/<name>/openapi.json)
 *        GET  /swagger-ui.html    Swagger UI page for /openapi.json
 *        GET  /swagger-ui/<file>  SWAGGER_UI_DIR (default .deps/swagger-ui)
 *        POST /internal/events    svc/consumer.h (when svc->consumer is set),
 *                                 only on the internal listener: 127.0.0.1,
 *                                 INTERNAL_HTTP_PORT, which a consumer must
 *                                 have (it does not start without one);
 *                                 bodies up to INTERNAL_MAX_BODY (4 MiB, never
 *                                 less than HTTP_MAX_BODY), events applied
 *                                 up to CONSUMER_TX_MAX (100) per transaction;
 *                                 the inbox's claims kept INBOX_RETENTION_HOURS
 *                                 (192) and older ones deleted by a job
 *                                 (svc/inbox_retention.h)
 *   6. waits for SIGTERM/SIGINT, then stops HTTP, calls svc->stop(), frees.
 */
#ifndef SVC_SERVICE_H
#define SVC_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/consumer.h"
#include "svc/db.h"
#include "svc/http.h"
#include "svc/prom.h"
#include "svc/redis.h"

struct svc_ctx {
	const struct svc_service *svc;
	struct svc_db *db;
	struct svc_redis *redis; /* NULL when Redis is not configured */
	void *user;              /* the service's own state */
	/* Answers to inbound events, counted by the consumer; NULL = not
	 * counted. Set by svc_run(). */
	struct svc_consumer_stats *events;
	/* Most events applied in one transaction (CONSUMER_TX_MAX); 0 means
	 * SVC_CONSUMER_TX_MAX_DEFAULT. Set by svc_run(). */
	unsigned consumer_tx_max;
	/* How long the inbox remembers a claim, in ms (INBOX_RETENTION_HOURS,
	 * svc/inbox_retention.h): older events are rejected. 0 = for ever (no
	 * check). Set by svc_run(). */
	int64_t inbox_keep_ms;
	/* The process's metrics (GET /metrics), for the service to register its
	 * own in start(); NULL when out of memory (every svc_prom call then does
	 * nothing). Set by svc_run(). */
	struct svc_prom *prom;
	/* saga_events_total{type,outcome}: see svc_ctx_count_event(). */
	struct svc_prom_metric *event_outcomes;
};

struct svc_service {
	const char *name;                    /* "order": log name, migration component */
	const char *source;                  /* "order-service": metadata.source of its events */
	unsigned default_port;               /* HTTP_PORT default */
	const struct svc_http_route *routes; /* handlers get the struct svc_ctx * */
	size_t nroutes;
	const struct svc_consumer_ops *consumer; /* NULL: no inbound events */
	/* The database is another service's, read with a read-only user (the
	 * console reads order_db): no migrations are applied. */
	bool reads_foreign_db;
	/* Optional: after migrations, before HTTP. Non-zero aborts start-up. */
	int (*start)(struct svc_ctx *ctx);
	/* Optional: after HTTP stopped. */
	void (*stop)(struct svc_ctx *ctx);
	/* Optional: extra readiness; add details to `details`. */
	bool (*ready)(struct svc_ctx *ctx, json_t *details);
	/* Optional: adds the service's own members to the GET /metrics object
	 * `out` (e.g. breaker states). */
	void (*metrics)(struct svc_ctx *ctx, json_t *out);
};

/* The GET /metrics object (new reference; NULL on OOM) from the counters;
 * `events` may be NULL (no "events" member). Pure; exposed for tests. */
json_t *svc_metrics_json(const char *name, const struct svc_http_stats *http,
                         const struct svc_consumer_stats *events);

/* Counts one inbound event's answer into saga_events_total: `type` its event
 * type (NULL or "" when it could not be decoded: "unknown"), `outcome` ok,
 * duplicate, ignored, retry or rejected. */
void svc_ctx_count_event(struct svc_ctx *ctx, const char *type, const char *outcome);

/* Runs the service until SIGTERM/SIGINT. Returns the process exit code. */
int svc_run(const struct svc_service *svc, void *user);

/* Parses a request body as a JSON object, or replies 400 problem and returns NULL. */
json_t *svc_http_parse_json(const struct svc_http_request *req, struct svc_http_response *res);

#endif
