/*
 * Inbound events, service side (see svc/consumer.h): the batch the sidecar
 * POSTs to /internal/events, decoded and answered here. Consecutive events
 * go together in one transaction (consumer_batch.c); a transaction that
 * failed, and what is left after a "retry", go message by message here,
 * each in its own transaction. Either way the event id is claimed in
 * processed_messages in the same transaction as the effect.
 */
#include "svc/consumer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_internal.h"
#include "svc/buf.h"
#include "svc/config.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/inbox_retention.h"
#include "svc/json.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/service.h"

#define MYSQL_ER_DUP_ENTRY 1062

const char svc__inbox_insert[] = "INSERT INTO processed_messages (event_id, event_type, topic, "
                                 "kafka_partition, kafka_offset, processed_at) VALUES ";

void svc__inbox_claim_tuple(struct svc_buf *b, MYSQL *conn, const struct svc_event *ev,
                            const struct svc_inbox_from *from)
{
	svc_buf_adds(b, "(");
	svc_sql_add_str(b, conn, ev->id);
	svc_buf_adds(b, ",");
	svc_sql_add_str(b, conn, ev->type);
	svc_buf_adds(b, ",");
	svc_sql_add_str(b, conn, from->topic ? from->topic : "");
	if (from->partition >= 0 && from->offset >= 0)
		svc_buf_addf(b, ",%d,%lld", (int)from->partition, (long long)from->offset);
	else
		svc_buf_adds(b, ",NULL,NULL");
	svc_buf_adds(b, ",NOW(6))");
}

int svc_inbox_claim(MYSQL *conn, const struct svc_event *ev, const struct svc_inbox_from *from)
{
	struct svc_buf sql;
	int ret = SVC_ENOMEM;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, svc__inbox_insert);
	svc__inbox_claim_tuple(&sql, conn, ev, from);
	if (sql.failed)
		goto release;
	/* Not svc_db_exec: a duplicate key is an expected outcome, not an error to log. */
	if (svc_db_real_query(conn, sql.data, sql.len) == 0) {
		ret = 0;
	} else if (svc_db_errno(conn) == MYSQL_ER_DUP_ENTRY) {
		ret = SVC_DUPLICATE;
	} else {
		ret = svc_db_error_is_transient(conn) ? SVC_ETRANSIENT : SVC_EPERMANENT;
		svc_error("inbox: claiming event %s failed: %s", ev->id, svc_db_error(conn));
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
	if (ret == 0 && svc_db_num_rows(rows) > 0)
		ret = SVC_DUPLICATE;
release:
	if (rows)
		svc_db_free_result(rows);
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
                           const struct svc_event *ev, const struct svc_inbox_from *from,
                           void *scratch, bool skip_apply, char *reason, size_t reasonlen,
                           bool *committed)
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
	ret = svc_inbox_claim(conn, ev, from);
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
static int handle_event(struct svc_ctx *ctx, const struct svc_event *ev,
                        const struct svc_inbox_from *from, char *reason, size_t reasonlen,
                        bool *committed)
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
		ret = run_transaction(ctx, ops, ev, from, scratch, skip_apply, reason, reasonlen,
		                      committed);
	/* Only an applied effect has caches to update; "ignored" had none. */
	if (*committed && ret == 0 && ops->committed)
		ops->committed(ctx, ev, scratch);
	if (scratch && ops->scratch_free)
		ops->scratch_free(scratch);
	return ret;
}

/* A delivery's partition or offset member, -1 when absent or out of range. */
static int64_t position(json_t *msg, const char *name, int64_t max)
{
	json_t *v = json_object_get(msg, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	return (int64_t)json_integer_value(v);
}

int svc__consumer_decode(json_t *msg, struct svc_event *ev, struct svc_inbox_from *from,
                         char *reason, size_t reasonlen)
{
	const char *value;
	json_t *jvalue;

	memset(ev, 0, sizeof(*ev));
	from->topic = json_string_value(json_object_get(msg, "topic"));
	from->partition = (int32_t)position(msg, "partition", INT32_MAX);
	from->offset = position(msg, "offset", INT64_MAX);
	jvalue = json_object_get(msg, "value");
	if (!json_is_object(msg) || !from->topic) {
		from->topic = "?";
		snprintf(reason, reasonlen, "message has no topic");
		return SVC_EPERMANENT;
	}
	/* The sidecar sends an event that is a valid JSON object as it is,
	 * parsed with the body; anything else as a string. */
	if (json_is_object(jvalue))
		return svc_event_decode_json(jvalue, ev, reason, reasonlen);
	value = json_string_value(jvalue);
	if (!value) {
		snprintf(reason, reasonlen, "message value is neither an object nor a string");
		return SVC_EPERMANENT;
	}
	return svc_event_decode(value, json_string_length(jvalue), ev, reason, reasonlen);
}

/* Logs one outcome (failures and slow events at warn level); gives a
 * failure without a reason one. */
void svc__consumer_log_outcome(const struct svc_event *ev, const char *topic, int ret, char *reason,
                               size_t reasonlen, int64_t elapsed_ms)
{
	if (ret < 0 && !reason[0])
		snprintf(reason, reasonlen, "%s failure", svc_strerror(ret));
	if (ret != 0 && ret != SVC_DUPLICATE && ret != SVC_IGNORED)
		svc_warn("inbox: %s event %s (%s) from %s after %lld ms: %s", svc_strerror(ret),
		         ev->id[0] ? ev->id : "?", ev->type[0] ? ev->type : "?", topic,
		         (long long)elapsed_ms, reason);
	else if (elapsed_ms >= SVC__SLOW_EVENT_MS)
		svc_warn("inbox: slow event %s (%s): %lld ms", ev->id, ev->type,
		         (long long)elapsed_ms);
	else
		svc_debug("inbox: %s event %s (%s) in %lld ms", svc_strerror(ret), ev->id, ev->type,
		          (long long)elapsed_ms);
}

int svc__consumer_admit(struct svc_ctx *ctx, const struct svc_event *ev, char *reason,
                        size_t reasonlen)
{
	const struct svc_consumer_ops *ops = ctx->svc->consumer;

	if (ops->accepts && !ops->accepts(ev->type))
		return SVC_IGNORED;
	if (svc_inbox_too_old(ctx->inbox_keep_ms, svc_now_ms(), ev)) {
		snprintf(reason, reasonlen,
		         "event of %lld ms ago is older than the inbox remembers "
		         "(INBOX_RETENTION_HOURS=%lld): it may have been applied already",
		         (long long)(svc_now_ms() - ev->timestamp_ms),
		         (long long)(ctx->inbox_keep_ms / 3600000));
		return SVC_EPERMANENT;
	}
	return 0;
}

/* Decodes and handles one message in its own transaction. */
static int handle_message(struct svc_ctx *ctx, json_t *msg, char *reason, size_t reasonlen,
                          bool *committed)
{
	struct svc_event ev;
	struct svc_inbox_from from;
	int64_t started_ms = svc_now_ms();
	int ret;

	*committed = false;
	ret = svc__consumer_decode(msg, &ev, &from, reason, reasonlen);
	svc_log_context_event(ev.id, ev.type, ev.correlation_id);
	if (ret == 0)
		ret = svc__consumer_admit(ctx, &ev, reason, reasonlen);
	if (ret == 0)
		ret = handle_event(ctx, &ev, &from, reason, reasonlen, committed);
	svc__consumer_log_outcome(&ev, from.topic, ret, reason, reasonlen,
	                          svc_now_ms() - started_ms);
	svc_ctx_count_event(ctx, ev.type, svc__consumer_status_name(ret));
	svc_log_context_clear();
	svc_event_release(&ev);
	return ret;
}

const char *svc__consumer_status_name(int code)
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
	json_t *r = json_object();

	/* one per event: no format string to parse, the status is our ASCII */
	if (!r || json_object_set_new_nocheck(
	                  r, "status", json_string_nocheck(svc__consumer_status_name(code))) != 0) {
		json_decref(r);
		return -1;
	}
	if (reason && *reason)
		json_object_set_new_nocheck(r, "reason", json_string(reason));
	return json_array_append_new(results, r);
}

/* An answer: counted and appended to `results`. 0 or -1 (out of memory). */
int svc__consumer_answer(struct svc_ctx *ctx, json_t *results, int code, const char *reason)
{
	count_answer(ctx, code);
	return append_result(results, code, reason);
}

static bool is_retry(int code)
{
	return !strcmp(svc__consumer_status_name(code), "retry");
}

/*
 * Handles `count` messages from messages[first] one by one, each in its own
 * transaction, and appends their answers. After the first "retry" (or when
 * *stopped already) the rest are answered "retry" unseen, so per-key order
 * is kept. 0 or -1 (out of memory).
 */
int svc__consumer_handle_singly(struct svc_ctx *ctx, json_t *messages, size_t first, size_t count,
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
		if (svc__consumer_answer(ctx, results, code, reason) != 0)
			return -1;
	}
	return 0;
}

json_t *svc_consumer_handle_batch(struct svc_ctx *ctx, const char *body, size_t len, int *status)
{
	json_t *batch = NULL, *messages, *results = NULL, *out = NULL;
	bool any_committed = false, stopped = false;
	size_t i = 0, n, count, tx_max;

	*status = 400;
	/* Duplicate keys refused as svc_event_decode() refuses them in a string
	 * value (the sidecar embeds no object that has any); a NUL allowed, so
	 * that a string value holding one is rejected alone, not the batch. */
	batch = svc_json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
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
		if (svc__consumer_handle_together(ctx, messages, i, &count, results, &stopped,
		                                  &any_committed) != 0)
			goto oom;
	}
	/* What is left after a "retry": answered unseen. */
	if (i < n && svc__consumer_handle_singly(ctx, messages, i, n - i, results, &stopped,
	                                         &any_committed) != 0)
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
