/*
 * The order service's saga metrics (docs/observability.md), on top of what
 * every service has (svc/service.h):
 *   saga_step_duration_seconds{step}      time an order spent in a step
 *                                         (INVENTORY, PAYMENT, COMPENSATION)
 *                                         before the transition that ended it
 *   saga_completion_seconds{outcome}      creation to a terminal state
 *                                         (CONFIRMED, CANCELLED)
 *   saga_in_flight{state}                 orders in each waiting state, read
 *                                         from the database at a scrape, at
 *                                         most every SAGA_IN_FLIGHT_REFRESH_MS
 * Durations are measured by the database's clock when the order's row was
 * read for the transition; a transition whose transaction is rolled back and
 * retried is observed again.
 */
#ifndef ORDER_METRICS_H
#define ORDER_METRICS_H

#include <pthread.h>
#include <stdint.h>

#include "services/order/saga.h"

struct svc_ctx;
struct svc_prom_metric;
struct order_row;

struct order_metrics {
	struct svc_prom_metric *step, *completion; /* NULL: not counted */
	/* saga_in_flight's counts as last read, and when (svc_mono_ms; 0:
	 * never). The query reads every waiting order's index entry (about a
	 * thousand at 1000 orders/s) and the console scrapes every second, so
	 * a scrape within refresh_ms of the last read shows its counts. */
	struct svc_ctx *ctx;
	long refresh_ms;
	pthread_mutex_t lock;
	int64_t in_flight[ORDER_STATE_COUNT];
	uint64_t read_at;
};

/* Registers the metrics in ctx->prom and the in-flight gauge's collect
 * function (which borrows `m` and ctx: both must outlive the registry); the
 * gauge reads the database at most every `refresh_ms` (0: at every scrape). */
void order_metrics_init(struct order_metrics *m, struct svc_ctx *ctx, long refresh_ms);
/* Observes the transition of `row` (as read, before it) to `next`. */
void order_metrics_transition(const struct order_metrics *m, const struct order_row *row,
                              enum order_state next);

#endif
