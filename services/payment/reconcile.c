/*
 * The reconciliation's thread, metric and report (reconcile.h). The
 * statements are store.c's; this file keeps the last counts and says when
 * they are not zero.
 */
#include "services/payment/reconcile.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "services/payment/process.h"
#include "services/payment/store.h"
#include "svc/config.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"
#include "svc/periodic.h"
#include "svc/service.h"

struct pay_reconciler {
	struct svc_ctx *ctx;
	long interval_ms;         /* RECONCILE_INTERVAL_MS; 0: no thread */
	long unknown_s;           /* RECONCILE_UNKNOWN_S */
	struct svc_periodic *job; /* check_once every interval_ms; NULL: none */
	pthread_mutex_t lock;     /* guards the last check: */
	struct pay_reconciliation last;
	int64_t checked_at; /* ms since the epoch; 0: never */
};

/* Counts (and lists, when `list` is not NULL) with a pooled connection. */
static int query(struct pay_reconciler *r, struct pay_reconciliation *counts, size_t limit,
                 json_t **list)
{
	MYSQL *conn = svc_db_acquire(r->ctx->db);
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	rc = pay_reconcile_count(conn, r->unknown_s, counts);
	if (rc == 0 && list)
		rc = pay_reconcile_list(conn, r->unknown_s, limit, list);
	svc_db_release(r->ctx->db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* Keeps the counts of a check as the metric's; returns the check's time. */
static int64_t remember(struct pay_reconciler *r, const struct pay_reconciliation *counts)
{
	int64_t now = svc_now_ms();

	pthread_mutex_lock(&r->lock);
	r->last = *counts;
	r->checked_at = now;
	pthread_mutex_unlock(&r->lock);
	if (counts->captured_on_cancelled || counts->captured_without_outcome)
		svc_error("reconciliation: %lld capture(s) on cancelled orders, %lld without an "
		          "order outcome after %ld s (GET /api/payments/reconciliation)",
		          (long long)counts->captured_on_cancelled,
		          (long long)counts->captured_without_outcome, r->unknown_s);
	return now;
}

/* svc_periodic_fn: one check, kept as the metric. */
static bool check_once(void *arg)
{
	struct pay_reconciler *r = arg;
	struct pay_reconciliation counts;
	int rc = query(r, &counts, 0, NULL);

	if (rc == 0)
		remember(r, &counts);
	else
		svc_warn("reconciliation: check failed: %s", svc_strerror(rc));
	return false;
}

struct pay_reconciler *pay_reconciler_start(struct svc_ctx *ctx)
{
	struct pay_reconciler *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ctx = ctx;
	r->interval_ms = svc_env_long("RECONCILE_INTERVAL_MS", 10000, 0, 86400000L);
	r->unknown_s = svc_env_long("RECONCILE_UNKNOWN_S", 600, 0, 31L * 86400);
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	if (r->interval_ms > 0 &&
	    !(r->job = svc_periodic_start("reconciliation", r->interval_ms, check_once, r))) {
		pay_reconciler_stop(r);
		return NULL;
	}
	return r;
}

void pay_reconciler_stop(struct pay_reconciler *r)
{
	if (!r)
		return;
	svc_periodic_stop(r->job);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* The counts as the metric and the report show them. */
static json_t *counts_json(const struct pay_reconciliation *c, int64_t checked_at)
{
	return json_pack("{s:I, s:I, s:I}", "capturedOnCancelled",
	                 (json_int_t)c->captured_on_cancelled, "capturedWithoutOutcome",
	                 (json_int_t)c->captured_without_outcome, "checkedAt",
	                 (json_int_t)checked_at);
}

void pay_reconciler_metrics(struct pay_reconciler *r, json_t *out)
{
	struct pay_reconciliation last;
	int64_t at;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	last = r->last;
	at = r->checked_at;
	pthread_mutex_unlock(&r->lock);
	json_object_set_new(out, "reconciliation", counts_json(&last, at));
}

int pay_reconcile_report(struct svc_ctx *ctx, size_t limit, json_t **out)
{
	struct pay_service *ps = ctx->user;
	struct pay_reconciler *r = ps->reconciler;
	struct pay_reconciliation counts;
	json_t *orders = NULL, *doc;
	int rc;

	if (!r)
		return SVC_ETRANSIENT;
	rc = query(r, &counts, limit, &orders);
	if (rc != 0)
		return rc;
	doc = counts_json(&counts, remember(r, &counts));
	/* json_object_set_new() takes the value, failing or not */
	if (!doc || json_object_set_new(doc, "orders", orders) ||
	    json_object_set_new(doc, "unknownAfterS", json_integer(r->unknown_s))) {
		json_decref(doc ? NULL : orders);
		json_decref(doc);
		return SVC_ENOMEM;
	}
	*out = doc;
	return 0;
}
