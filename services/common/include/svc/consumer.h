/*
 * Inbound events, service side: the endpoint the sidecar delivers to.
 *
 * POST /internal/events
 *   {"messages":[{"topic":"order.events","partition":3,"offset":1234,
 *                 "key":"<orderId>","value":{<the event>}}]}
 *   The value is the event's JSON object itself, parsed with the body, or
 *   its text as a JSON string, parsed on its own: what older sidecars send,
 *   and what the sidecar sends when it cannot vouch for the payload as an
 *   object (not JSON, not an object, deeper than it checks...); such a
 *   value is answered "rejected" with the reason when it is no event.
 * -> 200 {"results":[{"status":"ok|duplicate|ignored|retry|rejected",
 *                     "reason":"..."}]}   (one per message, same order)
 *
 * Messages are handled in order. Each event's effect and its id in
 * processed_messages(event_id PK, event_type, topic, kafka_partition,
 * kafka_offset, processed_at) (where it came from: the message's topic,
 * partition and offset) are
 * committed together: a redelivered event is answered "duplicate" with no
 * second effect. "rejected" means it can never be processed (malformed,
 * unknown type, invalid): the sidecar dead-letters it, and nothing of it is
 * kept. "ignored" means no effect: the id is recorded as processed, except
 * for an event whose type the consumer does not accept (ops->accepts), which
 * is answered at once, with no database work.
 *
 * Up to ctx->consumer_tx_max consecutive events are handled together: one
 * SELECT sets the duplicates aside; a prepare() that reaches outside the
 * process runs for the others in parallel (PREPARE_WORKERS threads, or
 * prepare_batch() once for them all on the delivering thread; such a
 * group then ends before a second event of the same order, correlation id,
 * so each event is prepared after the one before it was committed); then
 * one transaction claims and applies them all, the
 * claims and the outbox rows written as multi-row INSERTs just before the
 * commit (svc/defer.h); committed() then runs for each applied event (or
 * committed_batch() once for them all). When
 * that transaction fails (deadlock, lost connection, failed commit, or an
 * event that would be rejected) none of it is kept, and those events are
 * handled again one transaction each, so one failing event cannot hold
 * back the others.
 *
 * A transient failure of an event's own transaction stops the batch: that
 * message and all after it are answered "retry" (so per-key order is kept);
 * every answer before it is final (committed, duplicate or rejected).
 */
#ifndef SVC_CONSUMER_H
#define SVC_CONSUMER_H

#include <jansson.h>
#include <mysql.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "svc/event.h"
#include "svc/tx.h"

/* A code of prepare_batch(): this event goes to prepare() instead. */
#define SVC_PREPARE_EACH 3

/* Events per transaction when ctx->consumer_tx_max is 0. */
#define SVC_CONSUMER_TX_MAX_DEFAULT 100

struct svc_ctx;

struct svc_consumer_ops {
	/*
	 * Optional. False for an event type the consumer has no use for in any
	 * state (the notification service and OrderCreated): such an event is
	 * answered "ignored" without a duplicate check, prepare(), apply() or
	 * a claim, and it does not split a batch. NULL accepts every type.
	 */
	bool (*accepts)(const char *type);
	/*
	 * Optional. Runs before the transaction, for effects that cannot be in
	 * it (a call to the payment gateway). Must be idempotent: it runs again
	 * when the event is redelivered. May leave state for apply() in
	 * *scratch. Returns 0, SVC_IGNORED (done: record as processed, skip
	 * apply), SVC_ETRANSIENT or SVC_EPERMANENT (reason in `reason`).
	 * Not called for an event already processed.
	 */
	int (*prepare)(struct svc_ctx *ctx, const struct svc_event *ev, void **scratch,
	               char *reason, size_t reasonlen);
	/*
	 * Optional, with an outside prepare(): prepares the events of a batch
	 * together, on the delivering thread, instead of prepare() for each on
	 * the prepare pool, so that what they share takes one round trip (one
	 * transaction, one call) without threads meeting in combiners. For each
	 * evs[i] (of distinct orders, none processed yet) it sets codes[i] as
	 * prepare() returns, scratch[i] and, on failure, reasons[i] (reasonlen
	 * bytes each); or codes[i] = SVC_PREPARE_EACH to leave evs[i] to
	 * prepare() on the pool (work that shares nothing but may run in
	 * parallel). Events handled one by one still go through prepare().
	 */
	void (*prepare_batch)(struct svc_ctx *ctx, const struct svc_event *const *evs,
	                      void **scratch, int *codes, char *const *reasons, size_t reasonlen,
	                      size_t n);
	/*
	 * Runs inside the transaction `tx`, after the event id was claimed in
	 * processed_messages (in a batch, the claim is deferred to the commit).
	 * Write the state change and the outbox rows here, through `tx`.
	 * Returns 0, SVC_IGNORED (no effect; still recorded as processed),
	 * SVC_ETRANSIENT (rolled back, retried) or SVC_EPERMANENT (rolled back,
	 * rejected).
	 */
	int (*apply)(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev,
	             void *scratch, char *reason, size_t reasonlen);
	/* Optional. After a successful commit (cache updates). */
	void (*committed)(struct svc_ctx *ctx, const struct svc_event *ev, void *scratch);
	/*
	 * Optional. After a batch transaction committed: once, with the events
	 * it applied (in order) and their scratch, instead of committed() for
	 * each; for work that can share its round trips (one cache write for
	 * the whole batch). Events handled one by one still get committed().
	 */
	void (*committed_batch)(struct svc_ctx *ctx, const struct svc_event *const *evs,
	                        void *const *scratch, size_t n);
	/* Optional. Frees what prepare() left in scratch. */
	void (*scratch_free)(void *scratch);
	/*
	 * Set when prepare() has no effect outside the process (it only sets
	 * up scratch): the consumer is then batched (see above), prepare()
	 * running inside the batch's transaction, after the claim, just
	 * before apply(). Consumers without prepare() are always batched.
	 */
	bool prepare_is_local;
	/*
	 * Optional, for batch transactions only (events handled one by one
	 * never see them). begin_batch() runs once the transaction has begun,
	 * before the first apply(), with the events that will be applied, in
	 * order: load in a few statements what their apply() calls would read
	 * one by one, locking rows in a fixed key order (concurrent batches then
	 * cannot deadlock). The state goes in tx->batch (NULL before
	 * begin_batch(); the consumer owns what it puts there), where apply()
	 * finds it: an apply() whose tx->batch is NULL runs outside a batch.
	 * end_batch() runs after the last apply(): with `write` set, write back
	 * what the batch changed (before the deferred inserts and the commit);
	 * with `write` clear only drop the state (the transaction is given up).
	 * Either way the state is gone afterwards and tx->batch is NULL again.
	 * end_batch() is called exactly once when begin_batch() returned 0, and
	 * not otherwise. Both return 0 or an error code; an error gives the
	 * transaction up (its events are then handled one by one).
	 */
	int (*begin_batch)(struct svc_ctx *ctx, struct svc_tx *tx,
	                   const struct svc_event *const *evs, size_t n);
	int (*end_batch)(struct svc_ctx *ctx, struct svc_tx *tx, bool write);
};

/* Answers given, one per message, counted by svc_consumer_handle_batch()
 * when ctx->events is set (GET /metrics). */
struct svc_consumer_stats {
	atomic_uint_fast64_t ok;
	atomic_uint_fast64_t duplicate;
	atomic_uint_fast64_t ignored;
	atomic_uint_fast64_t retry;
	atomic_uint_fast64_t rejected;
};

/* Handles one delivery body as above; returns the response JSON (new
 * reference) or NULL with *status set to 400 for a malformed batch. Counts
 * each answer into ctx->events when it is not NULL. Used by the service
 * bootstrap's route; exposed for tests. */
json_t *svc_consumer_handle_batch(struct svc_ctx *ctx, const char *body, size_t len, int *status);

/* Where a delivered message was read: its topic, partition and offset (-1
 * when the delivery did not say). */
struct svc_inbox_from {
	const char *topic;
	int32_t partition;
	int64_t offset;
};

/* Claims `event_id` in processed_messages inside the open transaction,
 * recording where it came from: 0 when new, SVC_DUPLICATE when already
 * processed, or an error code. */
int svc_inbox_claim(MYSQL *conn, const struct svc_event *ev, const struct svc_inbox_from *from);

#endif
