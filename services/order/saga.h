/*
 * The order saga as a pure state machine: given an order's state and one
 * input (an event from another service, or a step deadline passing), says
 * what the next state is and which commands/events to send. No I/O: the
 * caller (transition.c) locks the order, persists the result and writes the
 * outbox rows.
 *
 *   PENDING --InventoryReserved--> PAYMENT_PENDING (+ProcessPayment)
 *   PENDING --InventoryShortage--> CANCELLED (+OrderCancelled)
 *   PAYMENT_PENDING --PaymentCompleted--> CONFIRMED (+OrderConfirmed)
 *   PAYMENT_PENDING --PaymentFailed--> COMPENSATING (+ReleaseInventory)
 *   COMPENSATING --InventoryReleased--> CANCELLED (+OrderCancelled)
 *   a step deadline passing compensates what may have happened so far;
 *   late successes after cancellation are undone (refund / release);
 *   a capture the saga did not ask for (PENDING) is refunded; a repeat of
 *   the capture that confirmed the order changes nothing.
 * A PaymentCompleted is first checked against what the order asked for
 * (order_saga_capture_ok): one that fails is refused whole, never applied.
 * The full table is in saga.c and docs/architecture.md.
 */
#ifndef ORDER_SAGA_H
#define ORDER_SAGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum order_state {
	ORDER_PENDING,         /* waiting for the inventory reservation */
	ORDER_PAYMENT_PENDING, /* reserved; waiting for the payment */
	ORDER_COMPENSATING,    /* undoing: waiting for the inventory release */
	ORDER_CONFIRMED,       /* terminal: stock sold, money captured */
	ORDER_CANCELLED,       /* terminal: every completed step compensated */
};
#define ORDER_STATE_COUNT 5

enum order_input {
	ORDER_IN_INVENTORY_RESERVED,
	ORDER_IN_INVENTORY_SHORTAGE,
	ORDER_IN_INVENTORY_RELEASED,
	ORDER_IN_PAYMENT_REQUESTED,
	ORDER_IN_PAYMENT_COMPLETED,
	ORDER_IN_PAYMENT_FAILED,
	ORDER_IN_PAYMENT_REFUNDED,
	ORDER_IN_NOTIFICATION_SENT,
	ORDER_IN_STEP_TIMEOUT, /* the current step's deadline passed */
};
#define ORDER_INPUT_COUNT 9

/* What the caller must do besides storing the new state (a bitmask). */
enum order_action {
	ORDER_EMIT_ORDER_CONFIRMED = 1u << 0,   /* order.events OrderConfirmed */
	ORDER_EMIT_ORDER_CANCELLED = 1u << 1,   /* order.events OrderCancelled (with reason) */
	ORDER_SEND_PROCESS_PAYMENT = 1u << 2,   /* payment.commands ProcessPayment */
	ORDER_SEND_RELEASE_INVENTORY = 1u << 3, /* inventory.commands ReleaseInventory */
	ORDER_SEND_REFUND_PAYMENT = 1u << 4,    /* payment.commands RefundPayment */
	ORDER_RESET_DEADLINE = 1u << 5,         /* new deadline for the (new) step */
};

/* Longest cancellation reason the saga produces (orders.cancel_reason is 255). */
#define ORDER_REASON_MAX 256

struct order_saga_result {
	enum order_state next;
	unsigned actions; /* enum order_action bits */
	const char *step; /* step of `next` (static string, see order_state_step) */
	bool noop;        /* state unchanged and nothing to send: history only */
	bool unexpected;  /* input makes no sense in this state: ignored, logged */
	/* The order's cancellation reason after this input: the current one when
	 * it had one (first cause wins), else the cause this input gives, else "". */
	char reason[ORDER_REASON_MAX];
};

/* "PENDING", "PAYMENT_PENDING", ...; "?" for an out-of-range value. */
const char *order_state_name(enum order_state s);
/* Parses a state name (exact, upper case). false when unknown. */
bool order_state_parse(const char *name, enum order_state *out);
/* True for CONFIRMED and CANCELLED: no deadline, no further step. */
bool order_state_is_terminal(enum order_state s);
/* The saga step an order in state `s` waits for: "INVENTORY", "PAYMENT",
 * "COMPENSATION", or "DONE" for the terminal states. */
const char *order_state_step(enum order_state s);
/* "InventoryReserved", ..., "StepTimeout"; "?" when out of range. */
const char *order_input_name(enum order_input in);

/*
 * Computes the transition for `in` arriving while the order is in `cur`.
 * `cur_reason` is the order's stored cancellation reason (NULL or "" when it
 * has none); `in_reason` the reason carried by the input event (shortage,
 * payment failure; NULL when none). Always fills *out.
 */
void order_saga_next(enum order_state cur, enum order_input in, const char *cur_reason,
                     const char *in_reason, struct order_saga_result *out);

/* A PaymentCompleted: what the order asked for and what the event reports.
 * Pointers are borrowed. */
struct order_capture {
	/* The order's: the payment it asked for (orders.payment_id; NULL or ""
	 * when it stored none: not asked yet, or asked before ids were
	 * stored), its total and currency. */
	const char *asked_payment_id;
	int64_t total;
	const char *currency;
	/* The event's: paymentId, amount and currency (NULL, < 0: absent). */
	const char *payment_id;
	int64_t amount;
	const char *captured_currency;
};

/*
 * Whether a PaymentCompleted may be applied to an order in `cur` (the table
 * then says what it does). False when it must be refused whole (dead-
 * lettered, nothing applied), with why[len] naming what the order expected
 * and what came:
 *   PAYMENT_PENDING  it must be for the payment the order asked for (when
 *                    one is stored) and capture exactly the order's total in
 *                    its currency;
 *   CONFIRMED        only a repeat of the capture that confirmed the order
 *                    (same payment id) passes, and does nothing. Any other
 *                    is refused, not refunded: Payment keeps one payment per
 *                    order, so a refund would take back the confirmed one;
 *   other states     every capture passes, to be refunded.
 */
bool order_saga_capture_ok(enum order_state cur, const struct order_capture *c, char *why,
                           size_t len);

#endif
