/*
 * Lock, decide, persist, emit: one saga input for one order (see transition.h).
 * The order's row and lines come from the consumer's batch when one is open
 * on the connection (batch.h), else from SQL.
 */
#include "services/order/transition.h"

#include <stdio.h>
#include <string.h>

#include "services/order/batch.h"
#include "services/order/emit.h"
#include "services/order/order.h"
#include "services/order/store.h"
#include "svc/buf.h"
#include "svc/error.h"
#include "svc/log.h"

/* The history "detail": the input's reason and the messages sent. */
static void describe(const struct order_row *row, const struct order_input_event *in,
                     const struct order_saga_result *r, struct svc_buf *b)
{
	static const struct {
		unsigned bit;
		const char *name;
	} sent[] = {
	        {ORDER_SEND_PROCESS_PAYMENT, "ProcessPayment"},
	        {ORDER_SEND_REFUND_PAYMENT, "RefundPayment"},
	        {ORDER_SEND_RELEASE_INVENTORY, "ReleaseInventory"},
	        {ORDER_EMIT_ORDER_CONFIRMED, "OrderConfirmed"},
	        {ORDER_EMIT_ORDER_CANCELLED, "OrderCancelled"},
	};
	const char *sep = "";

	if (r->unexpected) {
		svc_buf_addf(b, "ignored: unexpected in %s", order_state_name(row->state));
		return;
	}
	if (in->input == ORDER_IN_STEP_TIMEOUT) {
		svc_buf_addf(b, "step %s timed out", order_state_step(row->state));
		sep = "; ";
	} else if (in->reason && in->reason[0]) {
		svc_buf_adds(b, in->reason);
		sep = "; ";
	}
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		if (!(r->actions & sent[i].bit))
			continue;
		svc_buf_addf(b, "%s%s%s", sep, sep[0] == ',' ? "" : "sent ", sent[i].name);
		sep = ", ";
	}
}

/* Deadline of the new state: a fresh one when the saga asks, none when
 * terminal, otherwise unchanged (-1). */
static long next_deadline(const struct order_config *cfg, const struct order_saga_result *r)
{
	if (r->actions & ORDER_RESET_DEADLINE)
		return order_config_step_timeout(cfg, r->next);
	if (order_state_is_terminal(r->next))
		return 0;
	return -1;
}

/* Whether the PaymentCompleted `in` may be applied to `row`: one that is not
 * the payment the order asked for, for its total (forged, or paid around the
 * saga), is refused whole and dead-lettered (saga.h). */
static bool capture_ok(const char *order_id, const struct order_row *row,
                       const struct order_input_event *in)
{
	const struct order_capture c = {
	        .asked_payment_id = row->payment_id,
	        .total = row->total,
	        .currency = row->currency,
	        .payment_id = in->payment_id,
	        .amount = in->amount,
	        .captured_currency = in->currency,
	};
	char why[ORDER_REASON_MAX];

	if (order_saga_capture_ok(row->state, &c, why, sizeof(why)))
		return true;
	svc_warn("order %s (%s): %s refused: %s", order_id, order_state_name(row->state),
	         in->event_type, why);
	if (in->conflict && in->conflict_len > 0)
		snprintf(in->conflict, in->conflict_len, "%s", why);
	return false;
}

int order_transition_apply(struct svc_ctx *ctx, struct svc_tx *tx, const char *order_id,
                           const struct order_input_event *in)
{
	const struct order_app *app = ctx->user;
	struct order_saga_result r;
	struct order_row row;
	struct order_history h;
	struct svc_buf detail;
	int rc;

	rc = order_batch_lock(tx, order_id, &row);
	if (rc != 0)
		return rc;
	if (in->input == ORDER_IN_PAYMENT_COMPLETED && !capture_ok(order_id, &row, in))
		return SVC_ECONFLICT;
	order_saga_next(row.state, in->input, row.reason, in->reason, &r);

	svc_buf_init(&detail);
	describe(&row, in, &r, &detail);
	h = (struct order_history){
	        .from = order_state_name(row.state),
	        .to = order_state_name(r.next),
	        .step = r.step,
	        .event_type = in->event_type,
	        .event_id = in->event_id,
	        .detail = detail.len ? svc_buf_str(&detail) : NULL,
	};
	if (!r.noop && !r.unexpected)
		rc = order_batch_update(tx, order_id, r.next, r.step, next_deadline(&app->cfg, &r),
		                        r.reason);
	if (rc == 0)
		rc = order_store_add_history(tx, order_id, &h);
	if (rc == 0)
		rc = order_emit_actions(tx, &row, r.actions, r.reason, in->payment_id,
		                        ctx->svc->source, in->event_id);
	if (rc == 0 && r.unexpected) {
		svc_warn("order %s: %s unexpected in %s; ignored", order_id, in->event_type,
		         order_state_name(row.state));
		rc = SVC_IGNORED;
	} else if (rc == 0 && r.next != row.state) {
		order_metrics_transition(&app->metrics, &row, r.next);
		svc_debug("order %s: %s -> %s on %s", order_id, order_state_name(row.state),
		          order_state_name(r.next), in->event_type);
	}
	svc_buf_release(&detail);
	return rc;
}
