/*
 * Inbound events, service side: the endpoint the sidecar delivers to.
 *
 * POST /internal/events
 *   {"messages":[{"topic":"order.events","partition":3,"offset":1234,
 *                 "key":"<orderId>","value":"<the event JSON, as a string>"}]}
 * -> 200 {"results":[{"status":"ok|duplicate|ignored|retry|rejected",
 *                     "reason":"..."}]}   (one per message, same order)
 *
 * Messages are handled in order. Each event's effect and its id in
 * processed_messages(event_id PK, event_type, topic, processed_at) are
 * committed together: a redelivered event is answered "duplicate" with no
 * second effect. "rejected" means it can never be processed (malformed,
 * unknown type, invalid): the sidecar dead-letters it, and nothing of it is
 * kept. "ignored" means no effect, but the id is recorded as processed.
 *
 * Batched consumers (no prepare(), or prepare_is_local) apply up to
 * ctx->consumer_tx_max consecutive events in one transaction: a savepoint
 * per event, rolled back for a duplicate or rejected event, one commit for
 * all; committed() then runs for each applied event. When that transaction
 * fails transiently (deadlock, lost connection, failed commit) none of it
 * is kept, and those events are handled again one transaction each, so one
 * failing event cannot hold back the others. Other consumers always use one
 * transaction per event.
 *
 * A transient failure of an event's own transaction stops the batch: that
 * message and all after it are answered "retry" (so per-key order is kept);
 * every answer before it is final (committed, duplicate or rejected).
 */
#ifndef SVC_CONSUMER_H
#define SVC_CONSUMER_H

#include <jansson.h>
#include <mysql.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "svc/event.h"

/* Events per transaction when ctx->consumer_tx_max is 0. */
#define SVC_CONSUMER_TX_MAX_DEFAULT 100

struct svc_ctx;

struct svc_consumer_ops {
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
	 * Runs inside the transaction, after the event id was claimed in
	 * processed_messages. Write the state change and the outbox rows here.
	 * Returns 0, SVC_IGNORED (no effect; still recorded as processed),
	 * SVC_ETRANSIENT (rolled back, retried) or SVC_EPERMANENT (rolled back,
	 * rejected).
	 */
	int (*apply)(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev, void *scratch,
	             char *reason, size_t reasonlen);
	/* Optional. After a successful commit (cache updates). */
	void (*committed)(struct svc_ctx *ctx, const struct svc_event *ev, void *scratch);
	/* Optional. Frees what prepare() left in scratch. */
	void (*scratch_free)(void *scratch);
	/*
	 * Set when prepare() has no effect outside the process (it only sets
	 * up scratch): the consumer is then batched (see above), prepare()
	 * running inside the batch's transaction, after the claim, just
	 * before apply(). Consumers without prepare() are always batched.
	 */
	bool prepare_is_local;
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

/* Claims `event_id` in processed_messages inside the open transaction:
 * 0 when new, SVC_DUPLICATE when already processed, or an error code. */
int svc_inbox_claim(MYSQL *conn, const struct svc_event *ev, const char *topic);

#endif
