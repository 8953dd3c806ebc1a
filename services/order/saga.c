/*
 * The order saga's transition table (pure; see saga.h).
 */
#include "services/order/saga.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const state_names[ORDER_STATE_COUNT] = {
        [ORDER_PENDING] = "PENDING",           [ORDER_PAYMENT_PENDING] = "PAYMENT_PENDING",
        [ORDER_COMPENSATING] = "COMPENSATING", [ORDER_CONFIRMED] = "CONFIRMED",
        [ORDER_CANCELLED] = "CANCELLED",
};

static const char *const state_steps[ORDER_STATE_COUNT] = {
        [ORDER_PENDING] = "INVENTORY",
        [ORDER_PAYMENT_PENDING] = "PAYMENT",
        [ORDER_COMPENSATING] = "COMPENSATION",
        [ORDER_CONFIRMED] = "DONE",
        [ORDER_CANCELLED] = "DONE",
};

static const char *const input_names[ORDER_INPUT_COUNT] = {
        [ORDER_IN_INVENTORY_RESERVED] = "InventoryReserved",
        [ORDER_IN_INVENTORY_SHORTAGE] = "InventoryShortage",
        [ORDER_IN_INVENTORY_RELEASED] = "InventoryReleased",
        [ORDER_IN_PAYMENT_REQUESTED] = "PaymentRequested",
        [ORDER_IN_PAYMENT_COMPLETED] = "PaymentCompleted",
        [ORDER_IN_PAYMENT_FAILED] = "PaymentFailed",
        [ORDER_IN_PAYMENT_REFUNDED] = "PaymentRefunded",
        [ORDER_IN_NOTIFICATION_SENT] = "NotificationSent",
        [ORDER_IN_STEP_TIMEOUT] = "StepTimeout",
};

const char *order_state_name(enum order_state s)
{
	if ((unsigned)s >= ORDER_STATE_COUNT)
		return "?";
	return state_names[s];
}

bool order_state_parse(const char *name, enum order_state *out)
{
	if (!name)
		return false;
	for (unsigned i = 0; i < ORDER_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum order_state)i;
			return true;
		}
	}
	return false;
}

bool order_state_is_terminal(enum order_state s)
{
	return s == ORDER_CONFIRMED || s == ORDER_CANCELLED;
}

const char *order_state_step(enum order_state s)
{
	if ((unsigned)s >= ORDER_STATE_COUNT)
		return "?";
	return state_steps[s];
}

const char *order_input_name(enum order_input in)
{
	if ((unsigned)in >= ORDER_INPUT_COUNT)
		return "?";
	return input_names[in];
}

static bool has_text(const char *s)
{
	return s && s[0] != '\0';
}

/*
 * The cause of a cancellation this input gives, phrased for the customer's
 * notice: the inventory's own shortage text; payment failures prefixed with
 * "payment declined: " unless the payment service already said "payment...";
 * timeouts name the step that timed out.
 */
static void input_cause(enum order_state cur, enum order_input in, const char *in_reason, char *buf,
                        size_t len)
{
	switch (in) {
	case ORDER_IN_INVENTORY_SHORTAGE:
		snprintf(buf, len, "%s", has_text(in_reason) ? in_reason : "insufficient stock");
		break;
	case ORDER_IN_PAYMENT_FAILED:
		if (!has_text(in_reason))
			snprintf(buf, len, "payment declined");
		else if (strncmp(in_reason, "payment", 7) == 0)
			snprintf(buf, len, "%s", in_reason);
		else
			snprintf(buf, len, "payment declined: %s", in_reason);
		break;
	case ORDER_IN_STEP_TIMEOUT:
		snprintf(buf, len, "step %s timed out", order_state_step(cur));
		break;
	case ORDER_IN_INVENTORY_RELEASED:
		snprintf(buf, len, "%s", has_text(in_reason) ? in_reason : "inventory released");
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

/* Sets out->next/actions; returns false when the input is unexpected in `cur`. */
static bool transition(enum order_state cur, enum order_input in, struct order_saga_result *out)
{
	out->next = cur;
	out->actions = 0;

	/* Reports that never change the state, whatever it is. */
	if (in == ORDER_IN_NOTIFICATION_SENT || in == ORDER_IN_PAYMENT_REFUNDED)
		return true;

	switch (cur) {
	case ORDER_PENDING:
		switch (in) {
		case ORDER_IN_INVENTORY_RESERVED:
			out->next = ORDER_PAYMENT_PENDING;
			out->actions = ORDER_SEND_PROCESS_PAYMENT | ORDER_RESET_DEADLINE;
			return true;
		case ORDER_IN_INVENTORY_SHORTAGE:
			out->next = ORDER_CANCELLED;
			out->actions = ORDER_EMIT_ORDER_CANCELLED;
			return true;
		case ORDER_IN_PAYMENT_COMPLETED:
			/* The saga has not asked for payment yet (ProcessPayment goes out
			 * with PAYMENT_PENDING): a capture made around it is refunded at
			 * once, whatever happens to the order next. */
			out->actions = ORDER_SEND_REFUND_PAYMENT;
			return true;
		case ORDER_IN_STEP_TIMEOUT:
			/* The reservation may still happen: release leaves a tombstone. */
			out->next = ORDER_COMPENSATING;
			out->actions = ORDER_SEND_RELEASE_INVENTORY | ORDER_RESET_DEADLINE;
			return true;
		default:
			return false;
		}
	case ORDER_PAYMENT_PENDING:
		switch (in) {
		case ORDER_IN_PAYMENT_REQUESTED:
			return true;
		case ORDER_IN_PAYMENT_COMPLETED:
			out->next = ORDER_CONFIRMED;
			out->actions = ORDER_EMIT_ORDER_CONFIRMED;
			return true;
		case ORDER_IN_PAYMENT_FAILED:
			out->next = ORDER_COMPENSATING;
			out->actions = ORDER_SEND_RELEASE_INVENTORY | ORDER_RESET_DEADLINE;
			return true;
		case ORDER_IN_STEP_TIMEOUT:
			/* The charge may be in flight: refund (or void) it too. */
			out->next = ORDER_COMPENSATING;
			out->actions = ORDER_SEND_REFUND_PAYMENT | ORDER_SEND_RELEASE_INVENTORY |
			               ORDER_RESET_DEADLINE;
			return true;
		default:
			return false;
		}
	case ORDER_COMPENSATING:
		switch (in) {
		case ORDER_IN_INVENTORY_RELEASED:
			out->next = ORDER_CANCELLED;
			out->actions = ORDER_EMIT_ORDER_CANCELLED;
			return true;
		case ORDER_IN_STEP_TIMEOUT:
			/* Compensation is retried until it succeeds, never dropped. */
			out->actions = ORDER_SEND_RELEASE_INVENTORY | ORDER_RESET_DEADLINE;
			return true;
		case ORDER_IN_PAYMENT_COMPLETED:
			out->actions = ORDER_SEND_REFUND_PAYMENT;
			return true;
		default:
			return false;
		}
	case ORDER_CANCELLED:
		switch (in) {
		case ORDER_IN_PAYMENT_COMPLETED:
			out->actions = ORDER_SEND_REFUND_PAYMENT;
			return true;
		case ORDER_IN_INVENTORY_RESERVED:
			out->actions = ORDER_SEND_RELEASE_INVENTORY;
			return true;
		default:
			return false;
		}
	case ORDER_CONFIRMED:
		/* Only a repeat of the confirming capture gets here
		 * (order_saga_capture_ok): nothing to do. Never a refund. */
		return in == ORDER_IN_PAYMENT_COMPLETED;
	default:
		return false;
	}
}

void order_saga_next(enum order_state cur, enum order_input in, const char *cur_reason,
                     const char *in_reason, struct order_saga_result *out)
{
	bool ok = (unsigned)cur < ORDER_STATE_COUNT && (unsigned)in < ORDER_INPUT_COUNT &&
	          transition(cur, in, out);

	if (!ok) {
		out->next = cur;
		out->actions = 0;
	}
	out->unexpected = !ok;
	out->noop = ok && out->next == cur && out->actions == 0;
	out->step = order_state_step(out->next);

	/* First cause wins: a stored reason is never replaced. */
	if (has_text(cur_reason))
		snprintf(out->reason, sizeof(out->reason), "%s", cur_reason);
	else if (ok && out->next != cur &&
	         (out->next == ORDER_COMPENSATING || out->next == ORDER_CANCELLED))
		input_cause(cur, in, in_reason, out->reason, sizeof(out->reason));
	else
		out->reason[0] = '\0';
}

/* The id for a reason: "none" when absent. */
static const char *id_or_none(const char *s)
{
	return has_text(s) ? s : "none";
}

bool order_saga_capture_ok(enum order_state cur, const struct order_capture *c, char *why,
                           size_t len)
{
	bool asked = has_text(c->asked_payment_id);
	bool same = asked && has_text(c->payment_id) &&
	            strcasecmp(c->payment_id, c->asked_payment_id) == 0;

	switch (cur) {
	case ORDER_PAYMENT_PENDING:
		if (asked && !same) {
			snprintf(why, len, "expected payment %s, got %s", c->asked_payment_id,
			         id_or_none(c->payment_id));
			return false;
		}
		if (c->amount < 0 || !c->captured_currency) {
			snprintf(why, len,
			         "captured without amount and currency; the total is %lld %s",
			         (long long)c->total, c->currency);
			return false;
		}
		if (c->amount != c->total || strcmp(c->captured_currency, c->currency) != 0) {
			snprintf(why, len,
			         "captured %lld %s, which does not match the total %lld %s",
			         (long long)c->amount, c->captured_currency, (long long)c->total,
			         c->currency);
			return false;
		}
		return true;
	case ORDER_CONFIRMED:
		if (same)
			return true;
		snprintf(why, len, "confirmed by payment %s, got %s: not refunded",
		         asked ? c->asked_payment_id : "(not recorded)", id_or_none(c->payment_id));
		return false;
	default:
		return true;
	}
}
