/*
 * Inbound events, service side (see svc/consumer.h): the batch the sidecar
 * POSTs to /internal/events. Batched consumers apply consecutive events in
 * one transaction (a savepoint each); the others, and a batch transaction
 * that failed, go message by message, each in its own transaction. Either
 * way the event id is claimed in processed_messages in the same transaction
 * as the effect.
 */
#include "svc/consumer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/config.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/service.h"

#define MYSQL_ER_DUP_ENTRY 1062
/* Events slower than this are logged at warn level (latency target: 1 s). */
#define SLOW_EVENT_MS 1000

static const char INBOX_INSERT[] = "INSERT INTO processed_messages (event_id, event_type, topic, "
                                   "processed_at) VALUES ";

/* Appends the processed_messages values of `ev` from `topic`. */
static void claim_tuple(struct svc_buf *b, MYSQL *conn, const struct svc_event *ev,
                        const char *topic)
{
	svc_buf_adds(b, "(");
	svc_sql_add_str(b, conn, ev->id);
	svc_buf_adds(b, ",");
	svc_sql_add_str(b, conn, ev->type);
	svc_buf_adds(b, ",");
	svc_sql_add_str(b, conn, topic ? topic : "");
	svc_buf_adds(b, ",NOW(6))");
}

int svc_inbox_claim(MYSQL *conn, const struct svc_event *ev, const char *topic)
{
	struct svc_buf sql;
	int ret = SVC_ENOMEM;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, INBOX_INSERT);
	claim_tuple(&sql, conn, ev, topic);
	if (sql.failed)
		goto release;
	/* Not svc_db_exec: a duplicate key is an expected outcome, not an error to log. */
	if (mysql_real_query(conn, sql.data, sql.len) == 0) {
		ret = 0;
	} else if (mysql_errno(conn) == MYSQL_ER_DUP_ENTRY) {
		ret = SVC_DUPLICATE;
	} else {
		ret = svc_db_error_is_transient(conn) ? SVC_ETRANSIENT : SVC_EPERMANENT;
		svc_error("inbox: claiming event %s failed: %s", ev->id, mysql_error(conn));
	}
release:
	svc_buf_release(&sql);
	return ret;
}

/* Whether `ev` was processed already, without a transaction: lets a
 * redelivered event skip prepare() (e.g. a second gateway call). */
static int check_processed(struct svc_db *db, const struct svc_event *ev)
{
	struct svc_buf sql;
	MYSQL_RES *rows = NULL;
	MYSQL *conn;
	int ret;

	conn = svc_db_acquire(db);
	if (!conn)
		return SVC_ETRANSIENT;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT 1 FROM processed_messages WHERE event_id = ");
	svc_sql_add_str(&sql, conn, ev->id);
	if (sql.failed) {
		ret = SVC_ENOMEM;
		goto release;
	}
	ret = svc_db_query(conn, sql.data, &rows);
	if (ret == 0 && mysql_num_rows(rows) > 0)
		ret = SVC_DUPLICATE;
release:
	if (rows)
		mysql_free_result(rows);
	svc_buf_release(&sql);
	svc_db_release(db, conn, ret == SVC_ETRANSIENT);
	return ret;
}

/*
 * The transaction: claim the id, apply (unless prepare() already said there
 * is nothing to do), commit. Returns the outcome; *committed tells whether
 * the transaction committed.
 */
static int run_transaction(struct svc_ctx *ctx, const struct svc_consumer_ops *ops,
                           const struct svc_event *ev, const char *topic, void *scratch,
                           bool skip_apply, char *reason, size_t reasonlen, bool *committed)
{
	struct svc_tx tx;
	MYSQL *conn;
	int ret, rc;

	*committed = false;
	conn = svc_db_acquire(ctx->db);
	if (!conn) {
		snprintf(reason, reasonlen, "database unavailable");
		return SVC_ETRANSIENT;
	}
	svc_tx_init(&tx, conn); /* not deferring: one event, its rows at once */
	ret = svc_db_begin(conn);
	if (ret != 0)
		goto release;
	ret = svc_inbox_claim(conn, ev, topic);
	if (ret == 0 && skip_apply)
		ret = SVC_IGNORED;
	else if (ret == 0)
		ret = ops->apply(ctx, &tx, ev, scratch, reason, reasonlen);
	if (ret != 0 && ret != SVC_IGNORED) {
		svc_db_rollback(conn);
		goto release;
	}
	rc = svc_db_commit(conn);
	if (rc != 0) {
		svc_db_rollback(conn);
		snprintf(reason, reasonlen, "commit failed");
		ret = rc;
		goto release;
	}
	*committed = true;
release:
	svc_db_release(ctx->db, conn, ret == SVC_ETRANSIENT);
	return ret;
}

/* Handles one decoded event; returns the outcome code. */
static int handle_event(struct svc_ctx *ctx, const struct svc_event *ev, const char *topic,
                        char *reason, size_t reasonlen, bool *committed)
{
	const struct svc_consumer_ops *ops = ctx->svc->consumer;
	void *scratch = NULL;
	bool skip_apply = false;
	int ret = 0;

	*committed = false;
	if (ops->prepare) {
		ret = check_processed(ctx->db, ev);
		if (ret == 0) {
			ret = ops->prepare(ctx, ev, &scratch, reason, reasonlen);
			skip_apply = ret == SVC_IGNORED;
			if (skip_apply)
				ret = 0;
		}
	}
	if (ret == 0)
		ret = run_transaction(ctx, ops, ev, topic, scratch, skip_apply, reason, reasonlen,
		                      committed);
	/* Only an applied effect has caches to update; "ignored" had none. */
	if (*committed && ret == 0 && ops->committed)
		ops->committed(ctx, ev, scratch);
	if (scratch && ops->scratch_free)
		ops->scratch_free(scratch);
	return ret;
}

/* Decodes one message of the batch into *ev and *topic: 0 or
 * SVC_EPERMANENT (reason set). Release ev in either case. */
static int decode_message(json_t *msg, struct svc_event *ev, const char **topic, char *reason,
                          size_t reasonlen)
{
	const char *value;
	json_t *jvalue;

	memset(ev, 0, sizeof(*ev));
	*topic = json_string_value(json_object_get(msg, "topic"));
	jvalue = json_object_get(msg, "value");
	value = json_string_value(jvalue);
	if (!json_is_object(msg) || !*topic) {
		*topic = "?";
		snprintf(reason, reasonlen, "message has no topic");
		return SVC_EPERMANENT;
	}
	if (!value) {
		snprintf(reason, reasonlen, "message value is not a string");
		return SVC_EPERMANENT;
	}
	return svc_event_decode(value, json_string_length(jvalue), ev, reason, reasonlen);
}

/* Logs one outcome (failures and slow events at warn level); gives a
 * failure without a reason one. */
static void log_outcome(const struct svc_event *ev, const char *topic, int ret, char *reason,
                        size_t reasonlen, int64_t elapsed_ms)
{
	if (ret < 0 && !reason[0])
		snprintf(reason, reasonlen, "%s failure", svc_strerror(ret));
	if (ret != 0 && ret != SVC_DUPLICATE && ret != SVC_IGNORED)
		svc_warn("inbox: %s event %s (%s) from %s after %lld ms: %s", svc_strerror(ret),
		         ev->id[0] ? ev->id : "?", ev->type[0] ? ev->type : "?", topic,
		         (long long)elapsed_ms, reason);
	else if (elapsed_ms >= SLOW_EVENT_MS)
		svc_warn("inbox: slow event %s (%s): %lld ms", ev->id, ev->type,
		         (long long)elapsed_ms);
	else
		svc_debug("inbox: %s event %s (%s) in %lld ms", svc_strerror(ret), ev->id, ev->type,
		          (long long)elapsed_ms);
}

/* Whether the consumer has a use for events of ev's type (ops->accepts). */
static bool accepted(const struct svc_consumer_ops *ops, const struct svc_event *ev)
{
	return !ops->accepts || ops->accepts(ev->type);
}

static const char *status_name(int code);

/* Decodes and handles one message in its own transaction. */
static int handle_message(struct svc_ctx *ctx, json_t *msg, char *reason, size_t reasonlen,
                          bool *committed)
{
	struct svc_event ev;
	const char *topic;
	int64_t started_ms = svc_now_ms();
	int ret;

	*committed = false;
	ret = decode_message(msg, &ev, &topic, reason, reasonlen);
	svc_log_context_event(ev.id, ev.type, ev.correlation_id);
	if (ret == 0 && !accepted(ctx->svc->consumer, &ev))
		ret = SVC_IGNORED;
	else if (ret == 0)
		ret = handle_event(ctx, &ev, topic, reason, reasonlen, committed);
	log_outcome(&ev, topic, ret, reason, reasonlen, svc_now_ms() - started_ms);
	svc_ctx_count_event(ctx, ev.type, status_name(ret));
	svc_log_context_clear();
	svc_event_release(&ev);
	return ret;
}

static const char *status_name(int code)
{
	switch (code) {
	case 0:
		return "ok";
	case SVC_DUPLICATE:
		return "duplicate";
	case SVC_IGNORED:
		return "ignored";
	case SVC_ETRANSIENT:
	case SVC_ENOMEM:
		return "retry";
	default:
		return "rejected";
	}
}

/* Counts one answer into ctx->events (when counting is on). */
static void count_answer(struct svc_ctx *ctx, int code)
{
	struct svc_consumer_stats *st = ctx->events;

	if (!st)
		return;
	switch (code) {
	case 0:
		atomic_fetch_add(&st->ok, 1);
		break;
	case SVC_DUPLICATE:
		atomic_fetch_add(&st->duplicate, 1);
		break;
	case SVC_IGNORED:
		atomic_fetch_add(&st->ignored, 1);
		break;
	case SVC_ETRANSIENT:
	case SVC_ENOMEM:
		atomic_fetch_add(&st->retry, 1);
		break;
	default:
		atomic_fetch_add(&st->rejected, 1);
		break;
	}
}

static int append_result(json_t *results, int code, const char *reason)
{
	json_t *r = json_pack("{s:s}", "status", status_name(code));

	if (r && reason && *reason)
		json_object_set_new(r, "reason", json_string(reason));
	return r ? json_array_append_new(results, r) : -1;
}

/* An answer: counted and appended to `results`. 0 or -1 (out of memory). */
static int answer(struct svc_ctx *ctx, json_t *results, int code, const char *reason)
{
	count_answer(ctx, code);
	return append_result(results, code, reason);
}

static bool is_retry(int code)
{
	return !strcmp(status_name(code), "retry");
}

/*
 * Handles `count` messages from messages[first] one by one, each in its own
 * transaction, and appends their answers. After the first "retry" (or when
 * *stopped already) the rest are answered "retry" unseen, so per-key order
 * is kept. 0 or -1 (out of memory).
 */
static int handle_singly(struct svc_ctx *ctx, json_t *messages, size_t first, size_t count,
                         json_t *results, bool *stopped, bool *any_committed)
{
	size_t i;

	for (i = first; i < first + count; i++) {
		char reason[256] = "";
		bool committed = false;
		int code = SVC_ETRANSIENT;

		if (*stopped)
			snprintf(reason, sizeof(reason),
			         "an earlier message of the batch is retried");
		else
			code = handle_message(ctx, json_array_get(messages, i), reason,
			                      sizeof(reason), &committed);
		*stopped = *stopped || is_retry(code);
		*any_committed = *any_committed || committed;
		if (answer(ctx, results, code, reason) != 0)
			return -1;
	}
	return 0;
}

/* ---- one transaction for many events --------------------------------- */

/* One event of a batch transaction. */
struct tx_event {
	struct svc_event ev;
	const char *topic;
	void *scratch;   /* prepare()'s */
	int code;        /* its outcome so far; final once answered */
	bool skip_apply; /* an outside prepare() said there is nothing to do */
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
	claim_tuple(&b, tx->conn, &te->ev, te->topic);
	rc = b.failed ? SVC_ENOMEM : svc_defer_insert(tx, INBOX_INSERT, b.data, b.len);
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
	while (rc == 0 && rows && (row = mysql_fetch_row(rows)))
		for (i = 0; i < count; i++)
			if (te[i].code == 0 && row[0] && !strcmp(row[0], te[i].ev.id))
				te[i].code = SVC_DUPLICATE;
	if (rows)
		mysql_free_result(rows);
	svc_buf_release(&sql);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* ---- outside prepare() in parallel ------------------------------------ */

/*
 * Consumers whose prepare() reaches outside the process (the payment
 * gateway) run it for the events of a batch concurrently, on a small pool
 * of threads (PREPARE_WORKERS, default 48); such a batch holds one event
 * per order at most (distinct_orders). The pool's threads live as long as
 * the process, so their HTTP client handles stay connected.
 */
struct prep_wave {
	struct svc_ctx *ctx;
	struct tx_event **te;
	size_t n;
	atomic_size_t next; /* the next te[] to take */
	size_t done;        /* under pool.mu: events prepared */
	size_t helpers;     /* under pool.mu: pool threads working on it */
	struct prep_wave *queued_next;
};

static struct {
	pthread_once_t once;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a wave was queued */
	pthread_cond_t done; /* a wave's event finished */
	struct prep_wave *queue;
	size_t workers;
} pool = {.once = PTHREAD_ONCE_INIT,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .work = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

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

/* Takes and prepares events of `w` until none is left. */
static void wave_work(struct prep_wave *w)
{
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->n) {
		prepare_one(w->ctx, w->te[i]);
		pthread_mutex_lock(&pool.mu);
		w->done++;
		pthread_cond_broadcast(&pool.done);
		pthread_mutex_unlock(&pool.mu);
	}
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		struct prep_wave *w = pool.queue;

		if (!w) {
			pthread_cond_wait(&pool.work, &pool.mu);
			continue;
		}
		if (atomic_load(&w->next) >= w->n) { /* all taken: off the queue */
			pool.queue = w->queued_next;
			continue;
		}
		w->helpers++; /* its submitter waits for us before it returns */
		pthread_mutex_unlock(&pool.mu);
		wave_work(w);
		pthread_mutex_lock(&pool.mu);
		w->helpers--;
		pthread_cond_broadcast(&pool.done);
	}
	return NULL;
}

static void pool_start(void)
{
	long want = svc_env_long("PREPARE_WORKERS", 48, 0, 256);

	for (long i = 0; i < want; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, pool_main, NULL) != 0)
			break;
		pthread_detach(t);
		pool.workers++;
	}
	if ((long)pool.workers < want)
		svc_warn("inbox: %zu of %ld prepare workers started", pool.workers, want);
}

/* Prepares every event of `w`, with the pool's help; returns when all are. */
static void wave_run(struct prep_wave *w)
{
	struct prep_wave **tail;

	pthread_once(&pool.once, pool_start);
	if (w->n > 1 && pool.workers > 0) {
		pthread_mutex_lock(&pool.mu);
		for (tail = &pool.queue; *tail; tail = &(*tail)->queued_next)
			;
		*tail = w;
		pthread_cond_broadcast(&pool.work);
		pthread_mutex_unlock(&pool.mu);
	}
	wave_work(w);
	pthread_mutex_lock(&pool.mu);
	/* Off the queue, so no other thread starts on it; then wait for those
	 * that did. */
	for (tail = &pool.queue; *tail; tail = &(*tail)->queued_next) {
		if (*tail == w) {
			*tail = w->queued_next;
			break;
		}
	}
	while (w->done < w->n || w->helpers > 0)
		pthread_cond_wait(&pool.done, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
}

/*
 * Runs the outside prepare() of te[0..count) that are still at code 0, all
 * at once (the events are of distinct orders: handle_together). Returns the
 * index of the first event that failed transiently (count if none): it and
 * all after it are retried, prepared or not.
 */
static size_t prepare_all(struct svc_ctx *ctx, struct tx_event *te, size_t count)
{
	struct prep_wave w = {.ctx = ctx};
	size_t i;

	w.te = calloc(count ? count : 1, sizeof(*w.te));
	if (!w.te)
		return 0;
	for (i = 0; i < count; i++)
		if (te[i].code == 0)
			w.te[w.n++] = &te[i];
	atomic_init(&w.next, 0);
	wave_run(&w);
	free(w.te);
	for (i = 0; i < count; i++)
		if (te[i].code == SVC_ETRANSIENT || te[i].code == SVC_ENOMEM)
			break;
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

/*
 * Handles *countp messages from messages[first] together (fewer when an
 * outside prepare() needs it: *countp is then lowered) and appends their
 * answers: one SELECT finds the duplicates, outside prepare()s run in
 * parallel, and one transaction claims and applies the rest. When that
 * transaction fails, none of it was kept and the messages are handled one
 * by one instead. 0 or -1 (out of memory).
 */
static int handle_together(struct svc_ctx *ctx, json_t *messages, size_t first, size_t *countp,
                           json_t *results, bool *stopped, bool *any_committed)
{
	const struct svc_consumer_ops *ops = ctx->svc->consumer;
	struct tx_event *te = NULL;
	int64_t started_ms = svc_now_ms(), elapsed_ms;
	size_t i, count = *countp, stop;
	int rc, ret = 0;

	te = calloc(count, sizeof(*te));
	if (!te)
		return handle_singly(ctx, messages, first, count, results, stopped, any_committed);
	for (i = 0; i < count; i++) {
		te[i].code = decode_message(json_array_get(messages, first + i), &te[i].ev,
		                            &te[i].topic, te[i].reason, sizeof(te[i].reason));
		if (te[i].code == 0 && !accepted(ops, &te[i].ev))
			te[i].code = SVC_IGNORED;
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
			stop = prepare_all(ctx, te, count);
	}
	if (rc == 0)
		rc = tx_run(ctx, te, stop);
	if (rc != 0) {
		svc_warn("inbox: transaction of %zu events given up (%s); handling them one by one",
		         count, svc_strerror(rc));
		tx_events_release(ops, te, count);
		ret = handle_singly(ctx, messages, first, count, results, stopped, any_committed);
		goto release;
	}
	elapsed_ms = svc_now_ms() - started_ms;
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
		if (i < stop && te[i].code == 0 && ops->committed)
			ops->committed(ctx, &te[i].ev, te[i].scratch);
		*any_committed = *any_committed ||
		                 (i < stop && (te[i].code == 0 || te[i].code == SVC_IGNORED));
		svc_log_context_event(te[i].ev.id, te[i].ev.type, te[i].ev.correlation_id);
		log_outcome(&te[i].ev, te[i].topic, te[i].code, te[i].reason, sizeof(te[i].reason),
		            te[i].elapsed_ms);
		svc_ctx_count_event(ctx, te[i].ev.type, status_name(te[i].code));
		svc_log_context_clear();
		if (ret == 0 && answer(ctx, results, te[i].code, te[i].reason) != 0)
			ret = -1;
	}
	if (elapsed_ms >= SLOW_EVENT_MS)
		svc_warn("inbox: slow batch of %zu events: %lld ms", count, (long long)elapsed_ms);
	else
		svc_debug("inbox: %zu events in one transaction in %lld ms", count,
		          (long long)elapsed_ms);
release:
	tx_events_release(ops, te, count);
	free(te);
	return ret;
}

json_t *svc_consumer_handle_batch(struct svc_ctx *ctx, const char *body, size_t len, int *status)
{
	json_t *batch = NULL, *messages, *results = NULL, *out = NULL;
	bool any_committed = false, stopped = false;
	size_t i = 0, n, count, tx_max;

	*status = 400;
	batch = json_loadb(body, len, 0, NULL);
	messages = json_object_get(batch, "messages");
	if (!json_is_array(messages) || !ctx->svc->consumer || !ctx->svc->consumer->apply)
		goto release;
	results = json_array();
	if (!results)
		goto oom;
	tx_max = ctx->consumer_tx_max ? ctx->consumer_tx_max : SVC_CONSUMER_TX_MAX_DEFAULT;
	n = json_array_size(messages);
	for (i = 0; i < n && !stopped; i += count) {
		count = n - i < tx_max ? n - i : tx_max;
		/* handle_together may take fewer: count tells how many it took */
		if (handle_together(ctx, messages, i, &count, results, &stopped, &any_committed) !=
		    0)
			goto oom;
	}
	/* What is left after a "retry": answered unseen. */
	if (i < n && handle_singly(ctx, messages, i, n - i, results, &stopped, &any_committed) != 0)
		goto oom;
	out = json_pack("{s:O}", "results", results);
	if (!out)
		goto oom;
	*status = 200;
	goto release;
oom:
	/* No answer: the sidecar retries the whole batch; what did commit comes
	 * back as "duplicate". */
	*status = 503;
release:
	if (any_committed)
		svc_outbox_wake();
	json_decref(results);
	json_decref(batch);
	return out;
}
