/*
 * One saga input applied to one order, inside the caller's open transaction:
 * lock the order row, run order_saga_next(), store the new state and a
 * history row, write the commands/events to the outbox. Used by the event
 * consumer (events.c) and the deadline scanner (timeouts.c), so both paths
 * serialize on the same row lock. Within a consumer batch (batch.h) the row
 * is the batch's: locked with the others' when the batch began, changed in
 * memory, written back with them when it ends.
 */
#ifndef ORDER_TRANSITION_H
#define ORDER_TRANSITION_H

#include <mysql.h>
#include <stdint.h>

#include "services/order/saga.h"
#include "svc/service.h"
#include "svc/tx.h"

struct order_input_event {
	enum order_input input;
	const char *event_type; /* history "event": the event type, or "StepTimeout" */
	const char *event_id;   /* NULL for a timeout; becomes the causationId */
	const char *reason;     /* reason carried by the event, or NULL */
	/* PaymentCompleted: what was captured (payment_id, currency NULL and
	 * amount < 0: not given) */
	const char *payment_id;
	int64_t amount;
	const char *currency;
	/* Where SVC_ECONFLICT says why (NULL: not wanted); not an input. */
	char *conflict;
	size_t conflict_len;
};

/*
 * 0 when applied (a state change or a history-only report); SVC_IGNORED when
 * the input makes no sense in the order's state (recorded in the history,
 * logged, nothing sent); SVC_ENOTFOUND for an unknown order; SVC_ECONFLICT
 * for a PaymentCompleted that order_saga_capture_ok() refuses (nothing
 * applied; why in in->conflict); SVC_ETRANSIENT / SVC_EPERMANENT /
 * SVC_ENOMEM on failure (the caller rolls back).
 */
int order_transition_apply(struct svc_ctx *ctx, struct svc_tx *tx, const char *order_id,
                           const struct order_input_event *in);

#endif
