/*
 * The sidecar's Prometheus metrics (GET /metrics; docs/observability.md),
 * set from what the sidecar already keeps, at every scrape, so the relay
 * and delivery paths pay nothing more than their atomic counters:
 *   saga_outbox_relayed_total            outbox messages Kafka acknowledged
 *   saga_outbox_relay_failed_total       messages whose produce failed (kept)
 *   saga_dlq_messages_total{stage}       dead-lettered: relay | delivery
 *   saga_delivered_total                 inbound messages the service finished
 *   saga_delivery_retried_total          inbound messages sent again
 *   saga_delivery_batches_total          POSTs to the service
 *   saga_relay_batches_total             relay rounds that found rows
 *   saga_delivery_inflight, saga_delivery_queued, saga_delivery_paused_partitions
 *   saga_outbox_backlog                  unsent outbox messages (in the first
 *                                        SC_BACKLOG_CAP rows), when the relay runs
 *   saga_breaker_state{route}            0 closed, 1 half-open, 2 open: each
 *                                        egress route and "service" (delivery)
 *   saga_consumer_lag{topic,partition}   lag.h
 *   svc_db_pool_in_use, svc_db_pool_size the relay's pool
 */
#ifndef SC_SCRAPE_H
#define SC_SCRAPE_H

#include "resilience/sidecar/egress.h"
#include "resilience/sidecar/lag.h"
#include "resilience/sidecar/metrics.h"
#include "svc/db.h"

#define SC_BACKLOG_CAP 1000000

struct sc_inbound;
struct svc_prom;

/* What the metrics are read from; borrowed, NULL members are left out. */
struct sc_scrape {
	struct sc_metrics *metrics;
	struct sc_egress *egress;
	struct sc_inbound *inbound;
	struct svc_db *db; /* the relay's */
	struct sc_lag *lag;
};

/* Registers the collect functions reading `s` (borrowed: must outlive the
 * registry's last render). 0 or SVC_ENOMEM. */
int sc_scrape_register(struct svc_prom *r, struct sc_scrape *s);

/* The gauge value of a breaker state name ("closed" 0, "half-open" 1,
 * "open" 2; -1 unknown). Pure. */
int sc_scrape_breaker_value(const char *state);

#endif
