/*
 * Reconciliation of the captures against the orders' outcomes (store.h,
 * pay_reconcile_*): a capture on a cancelled order, or one whose order has
 * told no outcome RECONCILE_UNKNOWN_S (default 600) seconds after it, is
 * money the saga should not keep. A thread counts them every
 * RECONCILE_INTERVAL_MS (default 10000; 0: only on demand) for GET /metrics
 * and logs them while there are any; GET /api/payments/reconciliation counts
 * and lists them on demand.
 */
#ifndef PAY_RECONCILE_H
#define PAY_RECONCILE_H

#include <jansson.h>
#include <stddef.h>

struct svc_ctx;
struct pay_reconciler;

/* Most offending captures a report lists. */
#define PAY_RECONCILE_LIST_MAX 100

/* Reads the configuration and starts the thread (none with an interval of
 * 0). NULL when it cannot. `ctx` must outlive it. */
struct pay_reconciler *pay_reconciler_start(struct svc_ctx *ctx);
/* Stops the thread and frees. Accepts NULL. */
void pay_reconciler_stop(struct pay_reconciler *r);

/* Adds "reconciliation": {"capturedOnCancelled", "capturedWithoutOutcome",
 * "checkedAt"} (the last check's counts; checkedAt in ms since the epoch, 0
 * before the first) to `out`. Nothing when `r` is NULL. */
void pay_reconciler_metrics(struct pay_reconciler *r, json_t *out);

/*
 * Checks now (and updates the metric): {"checkedAt", "unknownAfterS",
 * "capturedOnCancelled", "capturedWithoutOutcome", "orders": [up to `limit`
 * offending captures, oldest first: pay_reconcile_list()]} into *out (new
 * reference). 0, or SVC_ETRANSIENT / SVC_EPERMANENT / SVC_ENOMEM.
 */
int pay_reconcile_report(struct svc_ctx *ctx, size_t limit, json_t **out);

#endif
