/*
 * New orders written in shared transactions (see create.h).
 */
#include "services/order/create.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "services/order/emit.h"
#include "services/order/order.h"
#include "svc/clock.h"
#include "svc/combine.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/ratelimit.h"

/* A request: its order, and what became of it. */
struct create_req {
	struct svc_ctx *ctx;
	const struct order_new *o;
	int rc;
};

/* The requests that come while a transaction runs wait for the next one. */
static struct svc_combiner creator;
static pthread_once_t creator_once = PTHREAD_ONCE_INIT;
static int creator_rc;
static struct svc_rate create_rate;

/* The order's rows, for the caller's transaction (deferred: svc/defer.h). */
static int insert_one(struct svc_tx *tx, const struct order_new *o, const char *source)
{
	char event_id[40] = "";
	struct order_history h = {
	        .from = NULL,
	        .to = order_state_name(ORDER_PENDING),
	        .step = order_state_step(ORDER_PENDING),
	        .event_type = "OrderCreatedEvent",
	        .event_id = event_id,
	        .detail = "order accepted; sent OrderCreated",
	};
	int rc = order_store_insert(tx, o);

	if (rc == 0)
		rc = order_emit_created(tx, o, source, event_id);
	if (rc == 0)
		rc = order_store_add_history(tx, o->order_id, &h);
	return rc;
}

/*
 * Writes the orders of reqs[0..n) (struct create_req *) in one transaction:
 * 0 or the failure (nothing written), SVC_ECONFLICT for a taken unique key.
 * *at_commit tells that the commit itself failed: the outcome is then
 * unknown.
 */
static int write_orders(struct svc_ctx *ctx, void *const *reqs, size_t n, bool *at_commit)
{
	struct svc_tx tx;
	MYSQL *conn;
	int rc;

	*at_commit = false;
	conn = svc_db_acquire(ctx->db);
	if (!conn)
		return SVC_ETRANSIENT;
	svc_tx_init(&tx, conn);
	rc = svc_defer_start(&tx);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = insert_one(&tx, ((const struct create_req *)reqs[i])->o, ctx->svc->source);
	rc = svc_defer_finish(&tx, rc, at_commit);
	svc_tx_release(&tx);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* Writes the group's orders in one transaction. When one order may be what
 * failed it (a taken key, a bad row), writes them one transaction each
 * instead; a transient failure (the database) fails them all, as it would
 * have failed each alone. Sets every reqs[i]->rc. */
static void write_group(struct svc_ctx *ctx, void *const *reqs, size_t n)
{
	bool at_commit;
	int rc = write_orders(ctx, reqs, n, &at_commit);
	bool alone = rc != 0 && rc != SVC_ETRANSIENT && n > 1 && !at_commit;

	if (alone)
		svc_info("create: transaction of %zu orders failed (%s); writing them one by one",
		         n, svc_strerror(rc));
	for (size_t i = 0; i < n; i++) {
		struct create_req *r = reqs[i];

		r->rc = alone ? write_orders(ctx, &reqs[i], 1, &at_commit) : rc;
	}
}

/* The combiner's run (svc/combine.h): one group of struct create_req, each
 * answered in its rc. */
static int run_group(void *arg, void *const *reqs, size_t n)
{
	(void)arg;
	if (n > 0)
		write_group(((struct create_req *)reqs[0])->ctx, reqs, n);
	return 0;
}

static void creator_init(void)
{
	creator_rc = svc_combiner_init(&creator, run_group, NULL);
}

long order_linger_for_rate(long max_ms, unsigned group, unsigned rate)
{
	uint64_t ms;

	if (max_ms <= 0 || group == 0)
		return 0;
	if (rate == 0) /* nothing known yet, or a quiet spell */
		return max_ms;
	/* rounded up: a wait of 0 would be no wait at all */
	ms = ((uint64_t)group * 1000 + rate - 1) / rate;
	return ms < (uint64_t)max_ms ? (long)ms : max_ms;
}

long order_create_linger_ms(const struct order_app *app, bool count)
{
	unsigned rate;

	if (!app || app->cfg.create_linger_ms <= 0 || app->cfg.create_linger_group == 0)
		return 0;
	rate = count ? svc_rate_add(&create_rate, svc_mono_ms(), 1) : svc_rate_last(&create_rate);
	return order_linger_for_rate(app->cfg.create_linger_ms, app->cfg.create_linger_group, rate);
}

size_t order_create_waiting(void)
{
	pthread_once(&creator_once, creator_init);
	return creator_rc == 0 ? svc_combiner_waiting(&creator) : 0;
}

int order_create(struct svc_ctx *ctx, const struct order_new *o)
{
	const struct order_app *app = ctx->user;
	struct create_req me = {.ctx = ctx, .o = o};
	void *alone = &me;
	bool at_commit;
	int rc;

	pthread_once(&creator_once, creator_init);
	if (creator_rc != 0) /* no combiner: alone */
		return write_orders(ctx, &alone, 1, &at_commit);
	rc = svc_combine_linger(&creator, &me, order_create_linger_ms(app, true));
	return rc ? rc : me.rc;
}
