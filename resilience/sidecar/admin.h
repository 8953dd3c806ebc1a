/*
 * The sidecar's own HTTP server on SIDECAR_PORT:
 * Health and metrics are open; the DLQ routes need an admin token (JWT_SECRET
 * or JWT_PUBLIC_KEY_FILE, svc/auth.h; the sidecar does not start without
 * one); egress answers connections from the pod itself (loopback) only.
 *   GET /health/live      200 while the process runs; 503 once the producer
 *                         had a fatal error (only a restart helps)
 *   GET /health/ready     200 when Kafka, the database (if the relay runs) and
 *                         the service answer, else 503; JSON details either
 *                         way, including the egress breakers
 *   GET /metrics          Prometheus text (format 0.0.4) of the registry
 *                         given to sc_admin_start (scrape.h); with
 *                         ?format=json the counters (metrics.h) and egress
 *                         breaker status as JSON
 *   GET /dlq, POST /dlq/redrive   dead letters: list, re-drive (dlq_admin.h)
 *   ANY /egress/{route}/...  the egress proxy (egress.h)
 */
#ifndef SC_ADMIN_H
#define SC_ADMIN_H

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/egress.h"
#include "resilience/sidecar/metrics.h"
#include "resilience/sidecar/producer.h"
#include "svc/db.h"

struct sc_admin;
struct sc_inbound;
struct svc_prom;

/* Starts serving (SIDECAR_HTTP_THREADS threads, default 16). All pointers are borrowed and must
 * outlive the server; `db` is NULL when there is no relay, `inbound` when there is no consumption.
 * `prom`: the metrics GET /metrics renders and the HTTP server counts into (NULL: none).
 * NULL (logged) when the port cannot be bound or on OOM. */
struct sc_admin *sc_admin_start(const struct sc_config *cfg, struct sc_producer *producer,
                                struct svc_db *db, struct sc_egress *egress,
                                struct sc_inbound *inbound, struct sc_metrics *metrics,
                                struct svc_prom *prom);
/* Stops the server (waiting for running handlers) and frees. Accepts NULL. */
void sc_admin_free(struct sc_admin *a);

#endif
