/* Payment status transitions (services/payment/state.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/payment/state.h"
#include "svc/error.h"
#include "svc/events.h"

static void test_payment_process_plan_per_status(void **state)
{
	(void)state;
	assert_int_equal(pay_process_plan(PAY_NONE, 0), PAY_PLAN_CREATE);
	assert_int_equal(pay_process_plan(PAY_REQUESTED, 100), PAY_PLAN_CHARGE);
	assert_int_equal(pay_process_plan(PAY_CAPTURED, 100), PAY_PLAN_DONE);
	assert_int_equal(pay_process_plan(PAY_DECLINED, 100), PAY_PLAN_DONE);
	assert_int_equal(pay_process_plan(PAY_REFUNDED, 100), PAY_PLAN_DONE);
	/* a tombstone was never requested; a voided request may have charged */
	assert_int_equal(pay_process_plan(PAY_VOIDED, 0), PAY_PLAN_FAIL_VOIDED);
	assert_int_equal(pay_process_plan(PAY_VOIDED, 100), PAY_PLAN_CHARGE_VOID);
}

static void test_payment_refund_plan_per_status(void **state)
{
	(void)state;
	assert_int_equal(pay_refund_plan(PAY_CAPTURED), PAY_REFUND_CALL);
	assert_int_equal(pay_refund_plan(PAY_NONE), PAY_REFUND_VOID);
	assert_int_equal(pay_refund_plan(PAY_REQUESTED), PAY_REFUND_VOID);
	assert_int_equal(pay_refund_plan(PAY_DECLINED), PAY_REFUND_NOTHING);
	assert_int_equal(pay_refund_plan(PAY_REFUNDED), PAY_REFUND_NOTHING);
	assert_int_equal(pay_refund_plan(PAY_VOIDED), PAY_REFUND_NOTHING);
}

static void test_payment_gateway_answers_are_classified(void **state)
{
	(void)state;
	assert_int_equal(pay_gw_classify(0, 201), PAY_GW_OK);
	assert_int_equal(pay_gw_classify(0, 402), PAY_GW_DECLINED);
	assert_int_equal(pay_gw_classify(0, 503), PAY_GW_TRANSIENT); /* breaker open */
	assert_int_equal(pay_gw_classify(0, 504), PAY_GW_TRANSIENT);
	assert_int_equal(pay_gw_classify(0, 429), PAY_GW_TRANSIENT);
	assert_int_equal(pay_gw_classify(SVC_ETRANSIENT, 0), PAY_GW_TRANSIENT);
	assert_int_equal(pay_gw_classify(0, 400), PAY_GW_PERMANENT);
	assert_int_equal(pay_gw_classify(SVC_EPERMANENT, 0), PAY_GW_PERMANENT);
}

static void test_payment_capture_completes_only_a_requested_payment(void **state)
{
	struct pay_step st;

	(void)state;
	st = pay_apply_step(PAY_OUT_CAPTURED, PAY_REQUESTED);
	assert_int_equal(st.rc, 0);
	assert_int_equal(st.next, PAY_CAPTURED);
	assert_string_equal(st.event, EV_PAYMENT_COMPLETED);
	/* voided meanwhile: retry so prepare refunds the capture */
	assert_int_equal(pay_apply_step(PAY_OUT_CAPTURED, PAY_VOIDED).rc, SVC_ETRANSIENT);
	assert_int_equal(pay_apply_step(PAY_OUT_CAPTURED, PAY_CAPTURED).rc, SVC_IGNORED);
}

static void test_payment_voided_payment_fails_or_is_refunded(void **state)
{
	struct pay_step st;

	(void)state;
	st = pay_apply_step(PAY_OUT_VOID_FAILED, PAY_VOIDED);
	assert_int_equal(st.next, PAY_VOIDED);
	assert_string_equal(st.event, EV_PAYMENT_FAILED);
	st = pay_apply_step(PAY_OUT_VOID_REFUNDED, PAY_VOIDED);
	assert_int_equal(st.next, PAY_REFUNDED);
	assert_string_equal(st.event, EV_PAYMENT_REFUNDED);
	st = pay_apply_step(PAY_OUT_DECLINED, PAY_VOIDED);
	assert_int_equal(st.next, PAY_VOIDED);
	assert_string_equal(st.event, EV_PAYMENT_FAILED);
}

static void test_payment_refund_and_void_transitions(void **state)
{
	struct pay_step st;

	(void)state;
	st = pay_apply_step(PAY_OUT_REFUNDED, PAY_CAPTURED);
	assert_int_equal(st.next, PAY_REFUNDED);
	assert_string_equal(st.event, EV_PAYMENT_REFUNDED);
	assert_int_equal(pay_apply_step(PAY_OUT_REFUNDED, PAY_REFUNDED).rc, SVC_IGNORED);
	st = pay_apply_step(PAY_OUT_VOID, PAY_NONE);
	assert_int_equal(st.next, PAY_VOIDED);
	assert_null(st.event);
	assert_int_equal(pay_apply_step(PAY_OUT_VOID, PAY_REQUESTED).next, PAY_VOIDED);
	assert_int_equal(pay_apply_step(PAY_OUT_VOID, PAY_CAPTURED).rc, SVC_ETRANSIENT);
	assert_int_equal(pay_apply_step(PAY_OUT_VOID, PAY_DECLINED).rc, SVC_IGNORED);
}

/* OrderCancelled gives back only money the order still holds, and never
 * voids (a charge in flight is the saga's RefundPayment to undo). */
static void test_payment_cancelled_order_refunds_only_a_capture_it_holds(void **state)
{
	(void)state;
	assert_int_equal(pay_cancel_plan(PAY_CAPTURED, 500, 0), PAY_REFUND_CALL);
	assert_int_equal(pay_cancel_plan(PAY_CAPTURED, 500, 500), PAY_REFUND_NOTHING);
	assert_int_equal(pay_cancel_plan(PAY_REFUNDED, 500, 500), PAY_REFUND_NOTHING);
	assert_int_equal(pay_cancel_plan(PAY_NONE, 0, 0), PAY_REFUND_NOTHING);
	assert_int_equal(pay_cancel_plan(PAY_REQUESTED, 500, 0), PAY_REFUND_NOTHING);
	assert_int_equal(pay_cancel_plan(PAY_DECLINED, 500, 0), PAY_REFUND_NOTHING);
	assert_int_equal(pay_cancel_plan(PAY_VOIDED, 500, 0), PAY_REFUND_NOTHING);
}

static void test_payment_cancelled_order_without_money_retries_a_capture_made_since(void **state)
{
	(void)state;
	/* captured after prepare looked: prepare again, which refunds it */
	assert_int_equal(pay_apply_step(PAY_OUT_NO_MONEY, PAY_CAPTURED).rc, SVC_ETRANSIENT);
	assert_int_equal(pay_apply_step(PAY_OUT_NO_MONEY, PAY_NONE).rc, SVC_IGNORED);
	assert_int_equal(pay_apply_step(PAY_OUT_NO_MONEY, PAY_REQUESTED).rc, SVC_IGNORED);
	assert_int_equal(pay_apply_step(PAY_OUT_NO_MONEY, PAY_REFUNDED).rc, SVC_IGNORED);
	/* refunded by the saga's RefundPayment meanwhile: nothing more */
	assert_int_equal(pay_apply_step(PAY_OUT_REFUNDED, PAY_REFUNDED).rc, SVC_IGNORED);
}

static void test_payment_order_outcome_names_round_trip(void **state)
{
	(void)state;
	assert_string_equal(pay_order_outcome_name(PAY_ORDER_CONFIRMED), "CONFIRMED");
	assert_string_equal(pay_order_outcome_name(PAY_ORDER_CANCELLED), "CANCELLED");
	assert_int_equal(pay_order_outcome_parse("CONFIRMED"), PAY_ORDER_CONFIRMED);
	assert_int_equal(pay_order_outcome_parse("CANCELLED"), PAY_ORDER_CANCELLED);
	assert_int_equal(pay_order_outcome_parse("cancelled"), PAY_ORDER_UNKNOWN);
	assert_int_equal(pay_order_outcome_parse(NULL), PAY_ORDER_UNKNOWN);
}

static void test_payment_status_names_round_trip(void **state)
{
	enum pay_status s;

	(void)state;
	for (s = PAY_REQUESTED; s <= PAY_VOIDED; s++) {
		enum pay_status back;

		assert_int_equal(pay_status_parse(pay_status_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	assert_int_equal(pay_status_parse("NONE", &s), SVC_EPERMANENT);
	assert_int_equal(pay_status_parse(NULL, &s), SVC_EPERMANENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_payment_process_plan_per_status),
	        cmocka_unit_test(test_payment_refund_plan_per_status),
	        cmocka_unit_test(test_payment_gateway_answers_are_classified),
	        cmocka_unit_test(test_payment_capture_completes_only_a_requested_payment),
	        cmocka_unit_test(test_payment_voided_payment_fails_or_is_refunded),
	        cmocka_unit_test(test_payment_refund_and_void_transitions),
	        cmocka_unit_test(test_payment_status_names_round_trip),
	        cmocka_unit_test(test_payment_cancelled_order_refunds_only_a_capture_it_holds),
	        cmocka_unit_test(
	                test_payment_cancelled_order_without_money_retries_a_capture_made_since),
	        cmocka_unit_test(test_payment_order_outcome_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
