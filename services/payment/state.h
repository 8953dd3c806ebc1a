/*
 * Payment status transitions, pure (no I/O): what a ProcessPayment,
 * RefundPayment or OrderCancelled must do given the order's payment row, how
 * a gateway answer is classified, and which status and event the
 * transaction then writes.
 *
 *   (none) --ProcessPayment--> REQUESTED --captured--> CAPTURED --refund--> REFUNDED
 *                                  |     \--declined--> DECLINED
 *   (none) --RefundPayment--> VOIDED (tombstone, amount 0: a later ProcessPayment fails)
 *   REQUESTED --RefundPayment--> VOIDED --a charge that still captured--> REFUNDED
 *   CAPTURED --OrderCancelled--> REFUNDED (the safety net: a cancelled order keeps no money)
 */
#ifndef PAY_STATE_H
#define PAY_STATE_H

#include <stdint.h>

enum pay_status {
	PAY_NONE, /* no row for the order */
	PAY_REQUESTED,
	PAY_CAPTURED,
	PAY_DECLINED,
	PAY_REFUNDED,
	PAY_VOIDED,
};

/* "REQUESTED", ...; "NONE" for PAY_NONE. */
const char *pay_status_name(enum pay_status s);
/* 0, or SVC_EPERMANENT for an unknown name. */
int pay_status_parse(const char *name, enum pay_status *out);

/* What ProcessPayment does before its transaction. */
enum pay_plan {
	PAY_PLAN_CREATE,      /* insert REQUESTED (+PaymentRequested), then charge */
	PAY_PLAN_CHARGE,      /* REQUESTED: charge (again; the Idempotency-Key makes it safe) */
	PAY_PLAN_CHARGE_VOID, /* voided while requested: replay the charge, refund a capture */
	PAY_PLAN_FAIL_VOIDED, /* voided before any request: no call, PaymentFailed */
	PAY_PLAN_DONE,        /* already decided: nothing to call or emit */
};

/* `amount` is the row's amount: a VOIDED tombstone has 0 (never requested). */
enum pay_plan pay_process_plan(enum pay_status s, int64_t amount);

/* What RefundPayment does before its transaction. */
enum pay_refund_plan {
	PAY_REFUND_CALL,    /* CAPTURED: call the gateway's refund */
	PAY_REFUND_VOID,    /* none/REQUESTED: void, so a later or in-flight charge is undone */
	PAY_REFUND_NOTHING, /* DECLINED/REFUNDED/VOIDED */
};

enum pay_refund_plan pay_refund_plan(enum pay_status s);
/* What OrderCancelled does before its transaction: PAY_REFUND_CALL for a
 * capture not (wholly) refunded, else PAY_REFUND_NOTHING. It never voids:
 * a charge still in flight is the saga's (RefundPayment) to undo. */
enum pay_refund_plan pay_cancel_plan(enum pay_status s, int64_t amount, int64_t refunded);

/* A gateway answer, classified where it arises. */
enum pay_gw_result {
	PAY_GW_OK,        /* 2xx: captured / refunded */
	PAY_GW_DECLINED,  /* 402 */
	PAY_GW_TRANSIENT, /* no answer, 408, 429, 5xx (incl. 503 breaker open, 504 timeout) */
	PAY_GW_PERMANENT, /* other 4xx: our request is wrong; retrying cannot help */
};

/* `transport_rc` is svc_httpc_request's return (0 when a response arrived). */
enum pay_gw_result pay_gw_classify(int transport_rc, long http_status);

/* What prepare found out, carried into the transaction. */
enum pay_outcome {
	PAY_OUT_CAPTURED,
	PAY_OUT_DECLINED,
	PAY_OUT_VOID_REFUNDED, /* charge captured for a voided payment and refunded at once */
	PAY_OUT_VOID_FAILED,   /* voided payment: fail without a capture */
	PAY_OUT_REFUNDED,      /* RefundPayment, OrderCancelled: gateway refunded the capture */
	PAY_OUT_VOID,          /* RefundPayment: void the payment (or leave a tombstone) */
	PAY_OUT_NO_MONEY,      /* OrderCancelled: the payment held no money; nothing to do */
};

/* The transaction's step: rc 0 (write `next`, emit `event` if not NULL),
 * SVC_IGNORED (nothing to write) or SVC_ETRANSIENT (the row moved on under
 * us in a way that needs prepare again, e.g. voided after a capture). */
struct pay_step {
	int rc;
	enum pay_status next;
	const char *event; /* EV_PAYMENT_* or NULL */
};

/* `current` is the row's status read FOR UPDATE inside the transaction. */
struct pay_step pay_apply_step(enum pay_outcome out, enum pay_status current);

/* How an order ended, as order.events told (order_outcomes.status). */
enum pay_order_outcome {
	PAY_ORDER_UNKNOWN, /* no outcome recorded */
	PAY_ORDER_CONFIRMED,
	PAY_ORDER_CANCELLED,
};

/* "CONFIRMED", "CANCELLED"; "UNKNOWN" for PAY_ORDER_UNKNOWN. */
const char *pay_order_outcome_name(enum pay_order_outcome o);
/* The outcome a name gives; PAY_ORDER_UNKNOWN for NULL or another name. */
enum pay_order_outcome pay_order_outcome_parse(const char *name);

#endif
