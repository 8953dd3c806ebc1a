/*
 * The step-deadline scanner (see order.h): a saga step past its deadline is
 * compensated. Each scan locks the due orders FOR UPDATE SKIP LOCKED in one
 * transaction, so two instances never time out the same order and an order
 * an event is being applied to right now is left for the next scan.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "services/order/order.h"
#include "services/order/store.h"
#include "services/order/transition.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/outbox.h"

#define SCAN_BATCH 100

struct order_timeouts {
	struct svc_ctx *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled by _stop */
	bool stopping;
};

int order_timeouts_scan(struct svc_ctx *ctx)
{
	static const struct order_input_event timeout = {
	        .input = ORDER_IN_STEP_TIMEOUT,
	        .event_type = "StepTimeout",
	};
	char ids[SCAN_BATCH][37];
	size_t n = 0;
	MYSQL *conn;
	int rc;

	conn = svc_db_acquire(ctx->db);
	if (!conn)
		return SVC_ETRANSIENT;
	rc = svc_db_begin_claim(conn);
	if (rc == 0)
		rc = order_store_lock_due(conn, SCAN_BATCH, ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		/* A savepoint per order: one order that cannot be timed out
		 * (logged) must not hold back the others. */
		rc = svc_db_exec(conn, "SAVEPOINT order_timeout");
		if (rc == 0)
			rc = order_transition_apply(ctx, conn, ids[i], &timeout);
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

static void *scan_loop(void *arg)
{
	struct order_timeouts *t = arg;
	const struct order_app *app = t->ctx->user;
	long period = app->cfg.scan_ms;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec until;
		int rc;

		pthread_mutex_unlock(&t->lock);
		rc = order_timeouts_scan(t->ctx);
		if (rc < 0)
			svc_warn("timeouts: scan failed: %s", svc_strerror(rc));
		pthread_mutex_lock(&t->lock);
		/* A full batch means more are due: scan again at once. */
		if (rc == SCAN_BATCH)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += period / 1000;
		until.tv_nsec += (period % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!t->stopping &&
		       pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct order_timeouts *order_timeouts_start(struct svc_ctx *ctx)
{
	struct order_timeouts *t = calloc(1, sizeof(*t));
	pthread_condattr_t attr;

	if (!t)
		return NULL;
	t->ctx = ctx;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&t->thread, NULL, scan_loop, t) != 0) {
		svc_error("timeouts: cannot start the scanner thread");
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

void order_timeouts_stop(struct order_timeouts *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
