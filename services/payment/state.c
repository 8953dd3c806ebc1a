/*
 * Payment status transitions (state.h). Every rule about which status may
 * follow which lives here, so the I/O code only reads rows and writes what
 * these functions decide.
 */
#include "services/payment/state.h"

#include <string.h>

#include "svc/error.h"
#include "svc/events.h"

static const char *const names[] = {
        [PAY_NONE] = "NONE",         [PAY_REQUESTED] = "REQUESTED", [PAY_CAPTURED] = "CAPTURED",
        [PAY_DECLINED] = "DECLINED", [PAY_REFUNDED] = "REFUNDED",   [PAY_VOIDED] = "VOIDED",
};

const char *pay_status_name(enum pay_status s)
{
	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[s];
}

int pay_status_parse(const char *name, enum pay_status *out)
{
	size_t i;

	/* PAY_NONE is not a stored status. */
	for (i = PAY_REQUESTED; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*out = (enum pay_status)i;
			return 0;
		}
	}
	return SVC_EPERMANENT;
}

enum pay_plan pay_process_plan(enum pay_status s, int64_t amount)
{
	switch (s) {
	case PAY_NONE:
		return PAY_PLAN_CREATE;
	case PAY_REQUESTED:
		return PAY_PLAN_CHARGE;
	case PAY_VOIDED:
		/* A voided row with an amount was REQUESTED first, so a charge
		 * may have reached the gateway: replaying it (same key, same
		 * answer) tells, and a capture is refunded. A tombstone never
		 * was requested. */
		return amount > 0 ? PAY_PLAN_CHARGE_VOID : PAY_PLAN_FAIL_VOIDED;
	default:
		return PAY_PLAN_DONE;
	}
}

enum pay_refund_plan pay_refund_plan(enum pay_status s)
{
	switch (s) {
	case PAY_CAPTURED:
		return PAY_REFUND_CALL;
	case PAY_NONE:
	case PAY_REQUESTED:
		return PAY_REFUND_VOID;
	default:
		return PAY_REFUND_NOTHING;
	}
}

enum pay_refund_plan pay_cancel_plan(enum pay_status s, int64_t amount, int64_t refunded)
{
	return s == PAY_CAPTURED && refunded < amount ? PAY_REFUND_CALL : PAY_REFUND_NOTHING;
}

enum pay_gw_result pay_gw_classify(int transport_rc, long http_status)
{
	if (transport_rc != 0 || http_status == 0)
		return transport_rc == SVC_EPERMANENT ? PAY_GW_PERMANENT : PAY_GW_TRANSIENT;
	if (http_status >= 200 && http_status < 300)
		return PAY_GW_OK;
	if (http_status == 402)
		return PAY_GW_DECLINED;
	if (http_status == 408 || http_status == 429 || http_status >= 500)
		return PAY_GW_TRANSIENT;
	return PAY_GW_PERMANENT;
}

static struct pay_step step(int rc, enum pay_status next, const char *event)
{
	struct pay_step st = {rc, next, event};

	return st;
}

struct pay_step pay_apply_step(enum pay_outcome out, enum pay_status cur)
{
	switch (out) {
	case PAY_OUT_CAPTURED:
		if (cur == PAY_REQUESTED)
			return step(0, PAY_CAPTURED, EV_PAYMENT_COMPLETED);
		if (cur == PAY_VOIDED) /* voided after prepare looked: prepare refunds on retry */
			return step(SVC_ETRANSIENT, cur, NULL);
		break;
	case PAY_OUT_DECLINED:
		if (cur == PAY_REQUESTED)
			return step(0, PAY_DECLINED, EV_PAYMENT_FAILED);
		if (cur == PAY_VOIDED)
			return step(0, PAY_VOIDED, EV_PAYMENT_FAILED);
		break;
	case PAY_OUT_VOID_REFUNDED:
		if (cur == PAY_VOIDED)
			return step(0, PAY_REFUNDED, EV_PAYMENT_REFUNDED);
		break;
	case PAY_OUT_VOID_FAILED:
		if (cur == PAY_VOIDED)
			return step(0, PAY_VOIDED, EV_PAYMENT_FAILED);
		break;
	case PAY_OUT_REFUNDED:
		if (cur == PAY_CAPTURED)
			return step(0, PAY_REFUNDED, EV_PAYMENT_REFUNDED);
		break;
	case PAY_OUT_VOID:
		if (cur == PAY_NONE || cur == PAY_REQUESTED)
			return step(0, PAY_VOIDED, NULL);
		/* fall through */
	case PAY_OUT_NO_MONEY:
		if (cur == PAY_CAPTURED) /* captured after prepare looked: refund on retry */
			return step(SVC_ETRANSIENT, cur, NULL);
		break;
	}
	return step(SVC_IGNORED, cur, NULL);
}

static const char *const outcome_names[] = {
        [PAY_ORDER_UNKNOWN] = "UNKNOWN",
        [PAY_ORDER_CONFIRMED] = "CONFIRMED",
        [PAY_ORDER_CANCELLED] = "CANCELLED",
};

const char *pay_order_outcome_name(enum pay_order_outcome o)
{
	if ((unsigned)o >= sizeof(outcome_names) / sizeof(outcome_names[0]))
		o = PAY_ORDER_UNKNOWN;
	return outcome_names[o];
}

enum pay_order_outcome pay_order_outcome_parse(const char *name)
{
	for (size_t i = PAY_ORDER_CONFIRMED;
	     name && i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
		if (!strcmp(name, outcome_names[i]))
			return (enum pay_order_outcome)i;
	return PAY_ORDER_UNKNOWN;
}
