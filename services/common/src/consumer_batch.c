/*
 * Many events in one transaction (svc/consumer.h): the events of a delivery
 * decoded together, the duplicates set aside, outside prepare()s run at
 * once on the prepare pool (prepare_pool.h), then one transaction claims
 * and applies them, its appended rows deferred to the commit (svc/defer.h).
 * A transaction that fails hands its events to the one-by-one path
 * (consumer.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_internal.h"
#include "prepare_pool.h"
#include "svc/buf.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/service.h"

/* One event of a batch transaction. */
struct tx_event {
	struct svc_event ev;
	struct svc_inbox_from from; /* where it was read */
	void *scratch;              /* prepare()'s */
	int code;                   /* its outcome so far; final once answered */
	bool skip_apply;            /* an outside prepare() said there is nothing to do */
	bool prepared;              /* by prepare_batch(): not by prepare() */
	char reason[256];
	int64_t elapsed_ms; /* its own share of the work */
};

static bool has_outside_prepare(const struct svc_consumer_ops *ops)
{
	return ops->prepare && !ops->prepare_is_local;
}

/* The claim of one event id, deferred to the commit (svc/defer.h). */
static int inbox_defer_claim(struct svc_tx *tx, const struct tx_event *te)
{
	struct svc_buf b;
	int rc;

	svc_buf_init(&b);
	svc__inbox_claim_tuple(&b, tx->conn, &te->ev, &te->from);
	rc = b.failed ? SVC_ENOMEM : svc_defer_insert(tx, svc__inbox_insert, b.data, b.len);
	svc_buf_release(&b);
	return rc;
}

/* Marks as SVC_DUPLICATE the events of te[] (those still at code 0) that
 * appear earlier in the same batch. */
static void mark_repeats(struct tx_event *te, size_t count)
{
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < i && te[i].code == 0; j++)
			if (te[j].code != SVC_EPERMANENT && !strcmp(te[j].ev.id, te[i].ev.id))
				te[i].code = SVC_DUPLICATE;
}

/*
 * Marks as SVC_DUPLICATE the events of te[] (those still at code 0) that
 * were processed already: one SELECT. 0 or an error code (nothing marked
 * then).
 */
static int mark_duplicates(struct svc_db *db, struct tx_event *te, size_t count)
{
	struct svc_buf sql;
	MYSQL_RES *rows = NULL;
	MYSQL_ROW row;
	MYSQL *conn;
	size_t i, asked = 0;
	int rc;

	conn = svc_db_acquire(db);
	if (!conn)
		return SVC_ETRANSIENT;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT event_id FROM processed_messages WHERE event_id IN (");
	for (i = 0; i < count; i++) {
		if (te[i].code != 0)
			continue;
		svc_buf_adds(&sql, asked++ ? "," : "");
		svc_sql_add_str(&sql, conn, te[i].ev.id);
	}
	svc_buf_adds(&sql, ")");
	rc = asked == 0 ? 0 : sql.failed ? SVC_ENOMEM : svc_db_query(conn, sql.data, &rows);
	while (rc == 0 && rows && (row = svc_db_fetch_row(rows)))
		for (i = 0; i < count; i++)
			if (te[i].code == 0 && row[0] && !strcmp(row[0], te[i].ev.id))
				te[i].code = SVC_DUPLICATE;
	if (rows)
		svc_db_free_result(rows);
	svc_buf_release(&sql);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* ---- outside prepare() in parallel ------------------------------------ */

/*
 * Consumers whose prepare() reaches outside the process (the payment
 * gateway) run it for the events of a batch concurrently, on the prepare
 * pool (PREPARE_WORKERS threads, default 48); such a batch holds one event
 * per order at most (distinct_orders).
 */
static void prepare_one(struct svc_ctx *ctx, struct tx_event *te)
{
	const struct svc_consumer_ops *ops = ctx->svc->consumer;
	int64_t started_ms = svc_now_ms();
	int code;

	svc_log_context_event(te->ev.id, te->ev.type, te->ev.correlation_id);
	code = ops->prepare(ctx, &te->ev, &te->scratch, te->reason, sizeof(te->reason));
	svc_log_context_clear();
	te->skip_apply = code == SVC_IGNORED;
	te->code = te->skip_apply ? 0 : code;
	te->elapsed_ms = svc_now_ms() - started_ms;
}

/* The events of one prepare_all(), for the pool (prepare_pool.h). */
struct prep_events {
	struct svc_ctx *ctx;
	struct tx_event **te;
};

static void prepare_at(void *arg, size_t i)
{
	const struct prep_events *p = arg;

	prepare_one(p->ctx, p->te[i]);
}

/* Out of memory before any prepare() ran: the first event still to prepare
 * is retried, and with it all after it. Returns its index. */
static size_t retry_from_first(struct tx_event *te, size_t count)
{
	size_t i;

	for (i = 0; i < count && te[i].code != 0; i++)
		;
	if (i < count) {
		te[i].code = SVC_ENOMEM;
		snprintf(te[i].reason, sizeof(te[i].reason), "out of memory preparing the batch");
	}
	return i;
}

/*
 * Runs the outside prepare() of te[0..count) that are still at code 0 and
 * not prepared by prepare_batch(), all at once (the events are of distinct
 * orders: distinct_orders), on the prepare pool. Returns the index of the
 * first event that failed
 * transiently (count if none): it and all after it are retried, prepared or
 * not.
 */
static size_t prepare_all(struct svc_ctx *ctx, struct tx_event *te, size_t count)
{
	struct prep_events p = {.ctx = ctx};
	size_t i, n = 0;

	p.te = calloc(count ? count : 1, sizeof(*p.te));
	if (!p.te)
		return retry_from_first(te, count);
	for (i = 0; i < count; i++)
		if (te[i].code == 0 && !te[i].prepared)
			p.te[n++] = &te[i];
	svc__prepare_pool_run(prepare_at, &p, n);
	free(p.te);
	for (i = 0; i < count; i++)
		if (te[i].code == SVC_ETRANSIENT || te[i].code == SVC_ENOMEM)
			break;
	return i;
}

/*
 * The same with ops->prepare_batch(): the events still at code 0 prepared
 * together on this thread. Returns the index of the first event that failed
 * transiently (count if none).
 */
static size_t prepare_batch(struct svc_ctx *ctx, struct tx_event *te, size_t count)
{
	const struct svc_event **evs = calloc(count ? count : 1, sizeof(*evs));
	void **scratch = calloc(count ? count : 1, sizeof(*scratch));
	char **reasons = calloc(count ? count : 1, sizeof(*reasons));
	int *codes = calloc(count ? count : 1, sizeof(*codes));
	struct tx_event **at = calloc(count ? count : 1, sizeof(*at));
	int64_t started_ms = svc_now_ms();
	size_t i, n = 0;

	if (!evs || !scratch || !reasons || !codes || !at) {
		i = retry_from_first(te, count);
		goto release;
	}
	for (i = 0; i < count; i++) {
		if (te[i].code != 0)
			continue;
		at[n] = &te[i];
		evs[n] = &te[i].ev;
		reasons[n++] = te[i].reason;
	}
	ctx->svc->consumer->prepare_batch(ctx, evs, scratch, codes, reasons, sizeof(te->reason), n);
	for (i = 0; i < n; i++) {
		if (codes[i] == SVC_PREPARE_EACH) {
			at[i]->reason[0] = '\0';
			continue; /* code 0, not prepared: prepare_all's */
		}
		at[i]->prepared = true;
		at[i]->scratch = scratch[i];
		at[i]->skip_apply = codes[i] == SVC_IGNORED;
		at[i]->code = at[i]->skip_apply ? 0 : codes[i];
		at[i]->elapsed_ms = svc_now_ms() - started_ms;
	}
	for (i = 0; i < count; i++)
		if (te[i].code == SVC_ETRANSIENT || te[i].code == SVC_ENOMEM)
			break;
	/* what prepare_batch() left, on the pool, up to that failure */
	i = prepare_all(ctx, te, i);
release:
	free(evs);
	free(scratch);
	free(reasons);
	free(codes);
	free(at);
	return i;
}

/*
 * How many of the decoded te[0..count) may go together when prepare()
 * reaches outside: up to the first event of an order already among them.
 * Each of an order's events must be prepared after the one before it was
 * applied and committed, as when they come one by one. Events already
 * answered (not accepted, not decodable) are not handled, so they do not
 * count.
 */
static size_t distinct_orders(const struct tx_event *te, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		if (te[i].code != 0)
			continue;
		for (size_t j = 0; j < i; j++)
			if (te[j].code == 0 &&
			    !strcmp(te[i].ev.correlation_id, te[j].ev.correlation_id))
				return i;
	}
	return count;
}

/* ---- the batch transaction -------------------------------------------- */

/* ops->begin_batch() with the `applied` events of te[] still at code 0. */
static int begin_batch(struct svc_ctx *ctx, struct svc_tx *tx, const struct tx_event *te,
                       size_t count, size_t applied)
{
	const struct svc_event **evs = calloc(applied, sizeof(*evs));
	size_t i, n = 0;
	int rc;

	if (!evs)
		return SVC_ENOMEM;
	for (i = 0; i < count; i++)
		if (te[i].code == 0)
			evs[n++] = &te[i].ev;
	rc = ctx->svc->consumer->begin_batch(ctx, tx, evs, n);
	free(evs);
	return rc;
}

/*
 * Claims and applies te[0..count) that are still at code 0 in one
 * transaction: the claims and the deferred rows (outbox, history) go in as
 * multi-row INSERTs just before the commit. 0 when it committed (outcomes
 * in te[]), else the failure and nothing was kept. An event that would be
 * rejected gives the whole transaction up too: the events are then handled
 * one by one, where its rejection leaves nothing behind.
 */
static int tx_run(struct svc_ctx *ctx, struct tx_event *te, size_t count)
{
	const struct svc_consumer_ops *ops = ctx->svc->consumer;
	size_t i, applied = 0;
	bool in_batch = false;
	struct svc_tx tx;
	MYSQL *conn;
	int rc;

	for (i = 0; i < count; i++)
		applied += te[i].code == 0;
	if (applied == 0)
		return 0;
	conn = svc_db_acquire(ctx->db);
	if (!conn)
		return SVC_ETRANSIENT;
	svc_tx_init(&tx, conn);
	rc = svc_defer_start(&tx);
	if (rc == 0 && ops->begin_batch) {
		rc = begin_batch(ctx, &tx, te, count, applied);
		in_batch = rc == 0;
	}
	for (i = 0; i < count && rc == 0; i++) {
		struct tx_event *t = &te[i];
		int64_t started_ms = svc_now_ms();
		int code = 0;

		if (t->code != 0)
			continue;
		svc_log_context_event(t->ev.id, t->ev.type, t->ev.correlation_id);
		if (ops->prepare && ops->prepare_is_local)
			code = ops->prepare(ctx, &t->ev, &t->scratch, t->reason, sizeof(t->reason));
		if (code == 0 && t->skip_apply)
			code = SVC_IGNORED;
		else if (code == 0)
			code = ops->apply(ctx, &tx, &t->ev, t->scratch, t->reason,
			                  sizeof(t->reason));
		if ((code == 0 || code == SVC_IGNORED) && (rc = inbox_defer_claim(&tx, t)) != 0)
			code = rc;
		t->code = code;
		t->elapsed_ms += svc_now_ms() - started_ms;
		if (code != 0 && code != SVC_IGNORED)
			rc = code == SVC_ETRANSIENT || code == SVC_ENOMEM ? code : SVC_EPERMANENT;
	}
	svc_log_context_clear();
	if (in_batch) {
		int end = ops->end_batch ? ops->end_batch(ctx, &tx, rc == 0) : 0;
		rc = rc ? rc : end;
	}
	rc = svc_defer_finish(&tx, rc, NULL);
	svc_tx_release(&tx);
	/* The connection goes before committed() runs: that may borrow one. */
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

static void tx_events_release(const struct svc_consumer_ops *ops, struct tx_event *te, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (te[i].scratch && ops->scratch_free)
			ops->scratch_free(te[i].scratch);
		te[i].scratch = NULL;
		svc_event_release(&te[i].ev);
	}
}

/* committed_batch() with the applied events of te[0..n); false when out of
 * memory: it did not run (committed(), if any, then runs for each). */
static bool committed_batch(struct svc_ctx *ctx, struct tx_event *te, size_t n)
{
	const struct svc_event **evs = calloc(n ? n : 1, sizeof(*evs));
	void **scratch = calloc(n ? n : 1, sizeof(*scratch));
	size_t i, k = 0;

	if (!evs || !scratch) {
		free(evs);
		free(scratch);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (te[i].code != 0)
			continue;
		evs[k] = &te[i].ev;
		scratch[k++] = te[i].scratch;
	}
	if (k > 0)
		ctx->svc->consumer->committed_batch(ctx, evs, scratch, k);
	free(evs);
	free(scratch);
	return true;
}

/*
 * Handles *countp messages from messages[first] together (fewer when an
 * outside prepare() needs it: *countp is then lowered) and appends their
 * answers: one SELECT finds the duplicates, outside prepare()s run in
 * parallel, and one transaction claims and applies the rest. When that
 * transaction fails, none of it was kept and the messages are handled one
 * by one instead. 0 or -1 (out of memory).
 */
int svc__consumer_handle_together(struct svc_ctx *ctx, json_t *messages, size_t first,
                                  size_t *countp, json_t *results, bool *stopped,
                                  bool *any_committed)
{
	const struct svc_consumer_ops *ops = ctx->svc->consumer;
	struct tx_event *te = NULL;
	int64_t started_ms = svc_now_ms(), elapsed_ms;
	size_t i, count = *countp, stop;
	bool batched;
	int rc, ret = 0;

	te = calloc(count, sizeof(*te));
	if (!te)
		return svc__consumer_handle_singly(ctx, messages, first, count, results, stopped,
		                                   any_committed);
	for (i = 0; i < count; i++) {
		te[i].code = svc__consumer_decode(json_array_get(messages, first + i), &te[i].ev,
		                                  &te[i].from, te[i].reason, sizeof(te[i].reason));
		if (te[i].code == 0)
			te[i].code = svc__consumer_admit(ctx, &te[i].ev, te[i].reason,
			                                 sizeof(te[i].reason));
	}
	if (has_outside_prepare(ops)) {
		*countp = distinct_orders(te, count);
		for (i = *countp; i < count; i++)
			svc_event_release(&te[i].ev);
		count = *countp;
	}
	stop = count;
	mark_repeats(te, count);
	/* Redeliveries are rare. Without an outside prepare() to spare, the
	 * batch goes ahead: a claim that finds its id taken fails the
	 * transaction, and the one-by-one path then answers "duplicate". With
	 * one, a SELECT first keeps a redelivery from reaching outside again. */
	rc = 0;
	if (has_outside_prepare(ops)) {
		rc = mark_duplicates(ctx->db, te, count);
		if (rc == 0)
			stop = ops->prepare_batch ? prepare_batch(ctx, te, count)
			                          : prepare_all(ctx, te, count);
	}
	if (rc == 0)
		rc = tx_run(ctx, te, stop);
	if (rc != 0) {
		svc_warn("inbox: transaction of %zu events given up (%s); handling them one by one",
		         count, svc_strerror(rc));
		tx_events_release(ops, te, count);
		ret = svc__consumer_handle_singly(ctx, messages, first, count, results, stopped,
		                                  any_committed);
		goto release;
	}
	elapsed_ms = svc_now_ms() - started_ms;
	batched = ops->committed_batch && committed_batch(ctx, te, stop);
	for (i = 0; i < count; i++) {
		if (i >= stop) {
			if (i > stop) {
				te[i].code = SVC_ETRANSIENT;
				snprintf(te[i].reason, sizeof(te[i].reason),
				         "an earlier message of the batch is retried");
			}
			*stopped = true;
		}
		/* Only an applied effect has caches to update; "ignored" had none. */
		if (i < stop && te[i].code == 0 && ops->committed && !batched)
			ops->committed(ctx, &te[i].ev, te[i].scratch);
		*any_committed = *any_committed ||
		                 (i < stop && (te[i].code == 0 || te[i].code == SVC_IGNORED));
		svc_log_context_event(te[i].ev.id, te[i].ev.type, te[i].ev.correlation_id);
		svc__consumer_log_outcome(&te[i].ev, te[i].from.topic, te[i].code, te[i].reason,
		                          sizeof(te[i].reason), te[i].elapsed_ms);
		svc_ctx_count_event(ctx, te[i].ev.type, svc__consumer_status_name(te[i].code));
		svc_log_context_clear();
		if (ret == 0 && svc__consumer_answer(ctx, results, te[i].code, te[i].reason) != 0)
			ret = -1;
	}
	if (elapsed_ms >= SVC__SLOW_EVENT_MS)
		svc_warn("inbox: slow batch of %zu events: %lld ms", count, (long long)elapsed_ms);
	else
		svc_debug("inbox: %zu events in one transaction in %lld ms", count,
		          (long long)elapsed_ms);
release:
	tx_events_release(ops, te, count);
	free(te);
	return ret;
}
