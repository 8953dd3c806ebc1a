/*
 * The order service's saga metrics (docs/observability.md), on top of what
 * every service has (svc/service.h):
 *   saga_step_duration_seconds{step}      time an order spent in a step
 *                                         (INVENTORY, PAYMENT, COMPENSATION)
 *                                         before the transition that ended it
 *   saga_completion_seconds{outcome}      creation to a terminal state
 *                                         (CONFIRMED, CANCELLED)
 *   saga_in_flight{state}                 orders in each waiting state, read
 *                                         from the database at every scrape
 * Durations are measured by the database's clock when the order's row was
 * read for the transition; a transition whose transaction is rolled back and
 * retried is observed again.
 */
#ifndef ORDER_METRICS_H
#define ORDER_METRICS_H

#include "services/order/saga.h"

struct svc_ctx;
struct svc_prom_metric;
struct order_row;

struct order_metrics {
	struct svc_prom_metric *step, *completion; /* NULL: not counted */
};

/* Registers the metrics in ctx->prom and the in-flight gauge's collect
 * function (which borrows ctx: must outlive the registry). */
void order_metrics_init(struct order_metrics *m, struct svc_ctx *ctx);
/* Observes the transition of `row` (as read, before it) to `next`. */
void order_metrics_transition(const struct order_metrics *m, const struct order_row *row,
                              enum order_state next);

#endif
