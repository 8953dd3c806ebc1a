/*
 * The step-deadline scanner (see order.h): a saga step past its deadline is
 * compensated. Each scan locks the due orders FOR UPDATE SKIP LOCKED in one
 * transaction, so two instances never time out the same order and an order
 * an event is being applied to right now is left for the next scan.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "services/order/order.h"
#include "services/order/store.h"
#include "services/order/transition.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/periodic.h"

#define SCAN_BATCH 100

struct order_timeouts {
	struct svc_ctx *ctx;
	struct svc_periodic *job; /* calls scan_once every SAGA_SCAN_MS */
};

int order_timeouts_scan(struct svc_ctx *ctx)
{
	static const struct order_input_event timeout = {
	        .input = ORDER_IN_STEP_TIMEOUT,
	        .event_type = "StepTimeout",
	};
	char ids[SCAN_BATCH][37];
	size_t n = 0;
	struct svc_tx tx;
	MYSQL *conn;
	int rc;

	conn = svc_db_acquire(ctx->db);
	if (!conn)
		return SVC_ETRANSIENT;
	svc_tx_init(&tx, conn); /* not deferring: a savepoint must undo every row */
	rc = svc_db_begin_claim(conn);
	if (rc == 0)
		rc = order_store_lock_due(conn, SCAN_BATCH, ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		/* A savepoint per order: one order that cannot be timed out
		 * (logged) must not hold back the others. */
		rc = svc_db_exec(conn, "SAVEPOINT order_timeout");
		if (rc == 0)
			rc = order_transition_apply(ctx, &tx, ids[i], &timeout);
		if (rc == 0 || rc == SVC_IGNORED) {
			svc_info("order %s: step deadline passed", ids[i]);
			rc = 0;
		} else if (rc != SVC_ETRANSIENT) {
			svc_error("order %s: cannot apply its step timeout: %s", ids[i],
			          svc_strerror(rc));
			rc = svc_db_exec(conn, "ROLLBACK TO SAVEPOINT order_timeout");
		}
	}
	if (rc == 0)
		rc = svc_db_commit(conn);
	if (rc != 0)
		svc_db_rollback(conn);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	if (rc != 0)
		return rc;
	if (n > 0)
		svc_outbox_wake();
	return (int)n;
}

/* svc_periodic_fn: one scan; a full batch means more are due. */
static bool scan_once(void *arg)
{
	struct order_timeouts *t = arg;
	int rc = order_timeouts_scan(t->ctx);

	if (rc < 0)
		svc_warn("timeouts: scan failed: %s", svc_strerror(rc));
	return rc == SCAN_BATCH;
}

struct order_timeouts *order_timeouts_start(struct svc_ctx *ctx)
{
	const struct order_app *app = ctx->user;
	struct order_timeouts *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ctx = ctx;
	t->job = svc_periodic_start("timeouts", app->cfg.scan_ms, scan_once, t);
	if (!t->job) {
		free(t);
		return NULL;
	}
	return t;
}

void order_timeouts_stop(struct order_timeouts *t)
{
	if (!t)
		return;
	svc_periodic_stop(t->job);
	free(t);
}
