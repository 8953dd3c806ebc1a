/*
 * The saga console: one page (static/) for operators and the JSON API it
 * polls, which gathers what the system already exposes: order_db (read
 * only), the order service's and the sidecars' metrics, the sidecars'
 * dead-letter queues and Kafka's offsets. docs/observability.md, "Console".
 *
 *   GET  /, /console.js, /console.css    the page (public: it holds no data)
 *   GET  /api/console/overview           orders/s, completion percentiles,
 *                                        each sidecar's breakers and dead letters
 *   GET  /api/console/sagas?limit=10     sagas in flight by state, the oldest
 *                                        with their history (store.h)
 *   GET  /api/console/topics             topics, offsets, lag per group (kafka.h)
 *   GET  /api/console/dlq?limit=50       every sidecar's dead letters (sidecars.h)
 *   POST /api/console/dlq/{service}/redrive
 *                                        {"partition","offset"} or {"all":true},
 *                                        forwarded to that sidecar
 *   GET  /api/console/orders/{orderId}   one order's journey (store.h)
 *
 * Every API route is admin-only; calls to the sidecars' admin routes carry
 * the caller's own token.
 */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stddef.h>

#include "services/console/config.h"
#include "svc/http.h"

struct console_app {
	struct console_config cfg;
	struct console_sampler *sampler;
	struct console_kafka *kafka; /* NULL: Kafka not configured or refused */
};

extern const struct svc_http_route console_routes[];
extern const size_t console_nroutes;

#endif
