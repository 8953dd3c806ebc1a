/*
 * The order saga's state machine (services/order/saga.c): every transition
 * of the design, the ignored inputs, the cancellation reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "services/order/saga.h"

static struct order_saga_result next(enum order_state cur, enum order_input in,
                                     const char *cur_reason, const char *in_reason)
{
	struct order_saga_result r;

	order_saga_next(cur, in, cur_reason, in_reason, &r);
	return r;
}

/* A transition that changes something: not a no-op, not unexpected. */
static void assert_transition(const struct order_saga_result *r, enum order_state to,
                              unsigned actions)
{
	assert_int_equal(r->next, to);
	assert_int_equal(r->actions, actions);
	assert_false(r->unexpected);
	assert_false(r->noop);
	assert_string_equal(r->step, order_state_step(to));
}

static void assert_history_only(const struct order_saga_result *r, enum order_state state)
{
	assert_int_equal(r->next, state);
	assert_int_equal(r->actions, 0);
	assert_false(r->unexpected);
	assert_true(r->noop);
}

static void test_saga_reserved_inventory_requests_payment(void **state)
{
	struct order_saga_result r = next(ORDER_PENDING, ORDER_IN_INVENTORY_RESERVED, NULL, NULL);

	(void)state;
	assert_transition(&r, ORDER_PAYMENT_PENDING,
	                  ORDER_SEND_PROCESS_PAYMENT | ORDER_RESET_DEADLINE);
	assert_string_equal(r.step, "PAYMENT");
	assert_string_equal(r.reason, "");
}

static void test_saga_shortage_cancels_with_inventory_reason(void **state)
{
	struct order_saga_result r = next(ORDER_PENDING, ORDER_IN_INVENTORY_SHORTAGE, NULL,
	                                  "insufficient stock for product p-1");

	(void)state;
	assert_transition(&r, ORDER_CANCELLED, ORDER_EMIT_ORDER_CANCELLED);
	assert_string_equal(r.reason, "insufficient stock for product p-1");
	assert_string_equal(r.step, "DONE");
}

static void test_saga_shortage_without_reason_gets_a_default_one(void **state)
{
	struct order_saga_result r = next(ORDER_PENDING, ORDER_IN_INVENTORY_SHORTAGE, NULL, "");

	(void)state;
	assert_string_equal(r.reason, "insufficient stock");
}

static void test_saga_inventory_timeout_releases_inventory(void **state)
{
	struct order_saga_result r = next(ORDER_PENDING, ORDER_IN_STEP_TIMEOUT, NULL, NULL);

	(void)state;
	assert_transition(&r, ORDER_COMPENSATING,
	                  ORDER_SEND_RELEASE_INVENTORY | ORDER_RESET_DEADLINE);
	assert_string_equal(r.reason, "step INVENTORY timed out");
	assert_string_equal(r.step, "COMPENSATION");
}

static void test_saga_payment_requested_is_history_only(void **state)
{
	struct order_saga_result r =
	        next(ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_REQUESTED, NULL, NULL);

	(void)state;
	assert_history_only(&r, ORDER_PAYMENT_PENDING);
	assert_string_equal(r.step, "PAYMENT");
}

static void test_saga_payment_completed_confirms(void **state)
{
	struct order_saga_result r =
	        next(ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_COMPLETED, NULL, NULL);

	(void)state;
	assert_transition(&r, ORDER_CONFIRMED, ORDER_EMIT_ORDER_CONFIRMED);
	assert_string_equal(r.reason, "");
}

static void test_saga_payment_failed_compensates_inventory(void **state)
{
	struct order_saga_result r =
	        next(ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_FAILED, NULL, "amount above limit");

	(void)state;
	assert_transition(&r, ORDER_COMPENSATING,
	                  ORDER_SEND_RELEASE_INVENTORY | ORDER_RESET_DEADLINE);
	assert_string_equal(r.reason, "payment declined: amount above limit");
}

static void test_saga_payment_reason_naming_payment_is_kept_verbatim(void **state)
{
	struct order_saga_result r =
	        next(ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_FAILED, NULL, "payment voided");

	(void)state;
	assert_string_equal(r.reason, "payment voided");
	r = next(ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_FAILED, NULL, NULL);
	assert_string_equal(r.reason, "payment declined");
}

static void test_saga_payment_timeout_refunds_and_releases(void **state)
{
	struct order_saga_result r = next(ORDER_PAYMENT_PENDING, ORDER_IN_STEP_TIMEOUT, NULL, NULL);

	(void)state;
	assert_transition(&r, ORDER_COMPENSATING,
	                  ORDER_SEND_REFUND_PAYMENT | ORDER_SEND_RELEASE_INVENTORY |
	                          ORDER_RESET_DEADLINE);
	assert_string_equal(r.reason, "step PAYMENT timed out");
}

static void test_saga_inventory_released_cancels_keeping_first_reason(void **state)
{
	struct order_saga_result r =
	        next(ORDER_COMPENSATING, ORDER_IN_INVENTORY_RELEASED,
	             "payment declined: amount above limit", "released on request");

	(void)state;
	assert_transition(&r, ORDER_CANCELLED, ORDER_EMIT_ORDER_CANCELLED);
	assert_string_equal(r.reason, "payment declined: amount above limit");
}

static void test_saga_compensation_timeout_sends_release_again(void **state)
{
	struct order_saga_result r =
	        next(ORDER_COMPENSATING, ORDER_IN_STEP_TIMEOUT, "step PAYMENT timed out", NULL);

	(void)state;
	assert_int_equal(r.next, ORDER_COMPENSATING);
	assert_int_equal(r.actions, ORDER_SEND_RELEASE_INVENTORY | ORDER_RESET_DEADLINE);
	assert_false(r.noop);
	assert_false(r.unexpected);
	assert_string_equal(r.reason, "step PAYMENT timed out");
}

static void test_saga_late_payment_after_compensation_is_refunded(void **state)
{
	struct order_saga_result r;

	(void)state;
	r = next(ORDER_COMPENSATING, ORDER_IN_PAYMENT_COMPLETED, "step PAYMENT timed out", NULL);
	assert_int_equal(r.next, ORDER_COMPENSATING);
	assert_int_equal(r.actions, ORDER_SEND_REFUND_PAYMENT);
	assert_false(r.noop);
	assert_false(r.unexpected);

	r = next(ORDER_CANCELLED, ORDER_IN_PAYMENT_COMPLETED, "step PAYMENT timed out", NULL);
	assert_int_equal(r.next, ORDER_CANCELLED);
	assert_int_equal(r.actions, ORDER_SEND_REFUND_PAYMENT);
	assert_false(r.unexpected);
	assert_string_equal(r.reason, "step PAYMENT timed out");
}

/* A capture ahead of the saga (forged, or paid around it): refunded at once,
 * and the order goes on waiting for its reservation. */
static void test_saga_capture_before_payment_was_asked_is_refunded(void **state)
{
	struct order_saga_result r = next(ORDER_PENDING, ORDER_IN_PAYMENT_COMPLETED, NULL, NULL);

	(void)state;
	assert_int_equal(r.next, ORDER_PENDING);
	assert_int_equal(r.actions, ORDER_SEND_REFUND_PAYMENT);
	assert_false(r.noop);
	assert_false(r.unexpected);
	assert_string_equal(r.reason, "");
	assert_string_equal(r.step, "INVENTORY");
}

/* Only a repeat of the confirming capture reaches the table in CONFIRMED
 * (order_saga_capture_ok): it is recorded and does nothing, never a refund. */
static void test_saga_repeat_of_the_confirming_capture_changes_nothing(void **state)
{
	struct order_saga_result r = next(ORDER_CONFIRMED, ORDER_IN_PAYMENT_COMPLETED, NULL, NULL);

	(void)state;
	assert_history_only(&r, ORDER_CONFIRMED);
	assert_int_equal(r.actions & ORDER_SEND_REFUND_PAYMENT, 0);
	assert_string_equal(r.step, "DONE");
}

#define PAY_ASKED "01a20fd7-0000-7000-8000-0000000000a1"
#define PAY_OTHER "01a20fd7-0000-7000-8000-0000000000f0"

/* The order asked for PAY_ASKED, 500 USD; the event reports `id`, `amount`,
 * `currency` (NULL, < 0: absent). */
static struct order_capture capture(const char *id, int64_t amount, const char *currency)
{
	struct order_capture c = {
	        .asked_payment_id = PAY_ASKED,
	        .total = 500,
	        .currency = "USD",
	        .payment_id = id,
	        .amount = amount,
	        .captured_currency = currency,
	};

	return c;
}

static bool capture_ok(enum order_state s, struct order_capture c, char *why)
{
	why[0] = '\0';
	return order_saga_capture_ok(s, &c, why, ORDER_REASON_MAX);
}

static void test_saga_capture_of_the_asked_payment_for_the_total_confirms(void **state)
{
	char why[ORDER_REASON_MAX];

	(void)state;
	assert_true(capture_ok(ORDER_PAYMENT_PENDING, capture(PAY_ASKED, 500, "USD"), why));
	/* ids compare as the database does: case does not matter */
	assert_true(capture_ok(ORDER_PAYMENT_PENDING,
	                       capture("01A20FD7-0000-7000-8000-0000000000A1", 500, "USD"), why));
}

static void test_saga_capture_of_another_payment_is_refused_naming_both(void **state)
{
	char why[ORDER_REASON_MAX];

	(void)state;
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, capture(PAY_OTHER, 500, "USD"), why));
	assert_string_equal(why, "expected payment " PAY_ASKED ", got " PAY_OTHER);
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, capture(NULL, 500, "USD"), why));
	assert_string_equal(why, "expected payment " PAY_ASKED ", got none");
	/* the payment is checked first: a forged capture says so, whatever its amount */
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, capture(PAY_OTHER, 1, "USD"), why));
	assert_non_null(strstr(why, "expected payment"));
}

static void test_saga_capture_not_matching_the_total_is_refused(void **state)
{
	char why[ORDER_REASON_MAX];

	(void)state;
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, capture(PAY_ASKED, 1, "USD"), why));
	assert_string_equal(why, "captured 1 USD, which does not match the total 500 USD");
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, capture(PAY_ASKED, 500, "EUR"), why));
	assert_string_equal(why, "captured 500 EUR, which does not match the total 500 USD");
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, capture(PAY_ASKED, -1, NULL), why));
	assert_string_equal(why, "captured without amount and currency; the total is 500 USD");
}

/* An order that asked before payment ids were stored: only the amount counts. */
static void test_saga_capture_for_an_order_without_a_stored_payment_checks_the_total(void **state)
{
	struct order_capture c = capture(PAY_OTHER, 500, "USD");
	char why[ORDER_REASON_MAX];

	(void)state;
	c.asked_payment_id = "";
	assert_true(capture_ok(ORDER_PAYMENT_PENDING, c, why));
	c.asked_payment_id = NULL;
	c.payment_id = NULL;
	assert_true(capture_ok(ORDER_PAYMENT_PENDING, c, why));
	c.amount = 499;
	assert_false(capture_ok(ORDER_PAYMENT_PENDING, c, why));
	assert_non_null(strstr(why, "does not match the total"));
}

/* Payment keeps one payment per order: refunding "the order's payment" for a
 * capture under another id would take back the one that confirmed it. */
static void test_saga_other_capture_of_a_confirmed_order_is_refused_not_refunded(void **state)
{
	struct order_capture legacy = capture(PAY_ASKED, 500, "USD");
	char why[ORDER_REASON_MAX];

	(void)state;
	assert_true(capture_ok(ORDER_CONFIRMED, capture(PAY_ASKED, 500, "USD"), why));
	assert_false(capture_ok(ORDER_CONFIRMED, capture(PAY_OTHER, 500, "USD"), why));
	assert_string_equal(why,
	                    "confirmed by payment " PAY_ASKED ", got " PAY_OTHER ": not refunded");
	assert_false(capture_ok(ORDER_CONFIRMED, capture(NULL, 500, "USD"), why));
	assert_string_equal(why, "confirmed by payment " PAY_ASKED ", got none: not refunded");
	/* confirmed before ids were stored: no capture can be told from its own */
	legacy.asked_payment_id = NULL;
	assert_false(capture_ok(ORDER_CONFIRMED, legacy, why));
	assert_string_equal(why,
	                    "confirmed by payment (not recorded), got " PAY_ASKED ": not refunded");
}

/* Outside PAYMENT_PENDING and CONFIRMED every capture is let through, to be
 * refunded by the table, whatever its id and amount. */
static void test_saga_capture_in_the_other_states_passes_to_be_refunded(void **state)
{
	static const enum order_state states[] = {ORDER_PENDING, ORDER_COMPENSATING,
	                                          ORDER_CANCELLED};
	char why[ORDER_REASON_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct order_saga_result r;

		assert_true(capture_ok(states[i], capture(PAY_OTHER, 1, "EUR"), why));
		assert_true(capture_ok(states[i], capture(NULL, -1, NULL), why));
		r = next(states[i], ORDER_IN_PAYMENT_COMPLETED, NULL, NULL);
		assert_int_equal(r.next, states[i]);
		assert_int_equal(r.actions, ORDER_SEND_REFUND_PAYMENT);
	}
}

static void test_saga_late_reservation_after_cancel_is_released(void **state)
{
	struct order_saga_result r = next(ORDER_CANCELLED, ORDER_IN_INVENTORY_RESERVED,
	                                  "step INVENTORY timed out", NULL);

	(void)state;
	assert_int_equal(r.next, ORDER_CANCELLED);
	assert_int_equal(r.actions, ORDER_SEND_RELEASE_INVENTORY);
	assert_false(r.unexpected);
	assert_string_equal(r.step, "DONE");
}

static void test_saga_notification_and_refund_reports_are_history_only_in_every_state(void **state)
{
	(void)state;
	for (int s = 0; s < ORDER_STATE_COUNT; s++) {
		struct order_saga_result r =
		        next((enum order_state)s, ORDER_IN_NOTIFICATION_SENT, NULL, NULL);
		assert_history_only(&r, (enum order_state)s);
		r = next((enum order_state)s, ORDER_IN_PAYMENT_REFUNDED, NULL, "refund");
		assert_history_only(&r, (enum order_state)s);
	}
}

/* Every (state, input) pair the design does not list is ignored. */
static void test_saga_unlisted_inputs_are_ignored_and_flagged(void **state)
{
	static const struct {
		enum order_state s;
		enum order_input in;
	} handled[] = {
	        {ORDER_PENDING, ORDER_IN_INVENTORY_RESERVED},
	        {ORDER_PENDING, ORDER_IN_INVENTORY_SHORTAGE},
	        {ORDER_PENDING, ORDER_IN_STEP_TIMEOUT},
	        {ORDER_PENDING, ORDER_IN_PAYMENT_COMPLETED},
	        {ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_REQUESTED},
	        {ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_COMPLETED},
	        {ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_FAILED},
	        {ORDER_PAYMENT_PENDING, ORDER_IN_STEP_TIMEOUT},
	        {ORDER_COMPENSATING, ORDER_IN_INVENTORY_RELEASED},
	        {ORDER_COMPENSATING, ORDER_IN_STEP_TIMEOUT},
	        {ORDER_COMPENSATING, ORDER_IN_PAYMENT_COMPLETED},
	        {ORDER_CANCELLED, ORDER_IN_PAYMENT_COMPLETED},
	        {ORDER_CANCELLED, ORDER_IN_INVENTORY_RESERVED},
	        {ORDER_CONFIRMED, ORDER_IN_PAYMENT_COMPLETED},
	};
	int ignored = 0;

	(void)state;
	for (int s = 0; s < ORDER_STATE_COUNT; s++) {
		for (int in = 0; in < ORDER_INPUT_COUNT; in++) {
			bool listed =
			        in == ORDER_IN_NOTIFICATION_SENT || in == ORDER_IN_PAYMENT_REFUNDED;
			struct order_saga_result r;

			for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
				listed = listed || (handled[i].s == (enum order_state)s &&
				                    handled[i].in == (enum order_input)in);
			r = next((enum order_state)s, (enum order_input)in, "kept", "new");
			assert_int_equal(r.unexpected, !listed);
			if (listed)
				continue;
			ignored++;
			assert_int_equal(r.next, s);
			assert_int_equal(r.actions, 0);
			assert_false(r.noop);
			assert_string_equal(r.reason, "kept");
		}
	}
	/* 45 pairs - 14 handled - 10 reports */
	assert_int_equal(ignored, 21);
}

static void test_saga_confirmed_order_ignores_late_failures(void **state)
{
	struct order_saga_result r;

	(void)state;
	r = next(ORDER_CONFIRMED, ORDER_IN_PAYMENT_FAILED, NULL, "declined");
	assert_true(r.unexpected);
	assert_int_equal(r.next, ORDER_CONFIRMED);
	assert_string_equal(r.reason, "");
	r = next(ORDER_CONFIRMED, ORDER_IN_STEP_TIMEOUT, NULL, NULL);
	assert_true(r.unexpected);
	assert_int_equal(r.actions, 0);
}

static void test_saga_first_cancellation_cause_wins(void **state)
{
	struct order_saga_result r =
	        next(ORDER_PENDING, ORDER_IN_STEP_TIMEOUT, "an earlier cause", NULL);

	(void)state;
	assert_string_equal(r.reason, "an earlier cause");
}

static void test_saga_out_of_range_input_is_ignored(void **state)
{
	struct order_saga_result r =
	        next(ORDER_PENDING, (enum order_input)ORDER_INPUT_COUNT, NULL, NULL);

	(void)state;
	assert_true(r.unexpected);
	assert_int_equal(r.next, ORDER_PENDING);
	r = next((enum order_state)42, ORDER_IN_PAYMENT_COMPLETED, NULL, NULL);
	assert_true(r.unexpected);
	assert_int_equal(r.actions, 0);
}

static void test_saga_long_reason_is_truncated_safely(void **state)
{
	char longr[1000];
	struct order_saga_result r;

	(void)state;
	memset(longr, 'x', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	r = next(ORDER_PAYMENT_PENDING, ORDER_IN_PAYMENT_FAILED, NULL, longr);
	assert_int_equal(strlen(r.reason), ORDER_REASON_MAX - 1);
}

static void test_saga_state_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < ORDER_STATE_COUNT; s++) {
		enum order_state back;
		assert_true(order_state_parse(order_state_name((enum order_state)s), &back));
		assert_int_equal(back, s);
	}
	enum order_state dummy;
	assert_false(order_state_parse("pending", &dummy));
	assert_false(order_state_parse(NULL, &dummy));
	assert_string_equal(order_state_name((enum order_state)99), "?");
	assert_string_equal(order_input_name(ORDER_IN_STEP_TIMEOUT), "StepTimeout");
	assert_true(order_state_is_terminal(ORDER_CONFIRMED));
	assert_true(order_state_is_terminal(ORDER_CANCELLED));
	assert_false(order_state_is_terminal(ORDER_COMPENSATING));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_saga_reserved_inventory_requests_payment),
	        cmocka_unit_test(test_saga_shortage_cancels_with_inventory_reason),
	        cmocka_unit_test(test_saga_shortage_without_reason_gets_a_default_one),
	        cmocka_unit_test(test_saga_inventory_timeout_releases_inventory),
	        cmocka_unit_test(test_saga_payment_requested_is_history_only),
	        cmocka_unit_test(test_saga_payment_completed_confirms),
	        cmocka_unit_test(test_saga_payment_failed_compensates_inventory),
	        cmocka_unit_test(test_saga_payment_reason_naming_payment_is_kept_verbatim),
	        cmocka_unit_test(test_saga_payment_timeout_refunds_and_releases),
	        cmocka_unit_test(test_saga_inventory_released_cancels_keeping_first_reason),
	        cmocka_unit_test(test_saga_compensation_timeout_sends_release_again),
	        cmocka_unit_test(test_saga_late_payment_after_compensation_is_refunded),
	        cmocka_unit_test(test_saga_capture_before_payment_was_asked_is_refunded),
	        cmocka_unit_test(test_saga_repeat_of_the_confirming_capture_changes_nothing),
	        cmocka_unit_test(test_saga_capture_of_the_asked_payment_for_the_total_confirms),
	        cmocka_unit_test(test_saga_capture_of_another_payment_is_refused_naming_both),
	        cmocka_unit_test(test_saga_capture_not_matching_the_total_is_refused),
	        cmocka_unit_test(
	                test_saga_capture_for_an_order_without_a_stored_payment_checks_the_total),
	        cmocka_unit_test(
	                test_saga_other_capture_of_a_confirmed_order_is_refused_not_refunded),
	        cmocka_unit_test(test_saga_capture_in_the_other_states_passes_to_be_refunded),
	        cmocka_unit_test(test_saga_late_reservation_after_cancel_is_released),
	        cmocka_unit_test(
	                test_saga_notification_and_refund_reports_are_history_only_in_every_state),
	        cmocka_unit_test(test_saga_unlisted_inputs_are_ignored_and_flagged),
	        cmocka_unit_test(test_saga_confirmed_order_ignores_late_failures),
	        cmocka_unit_test(test_saga_first_cancellation_cause_wins),
	        cmocka_unit_test(test_saga_out_of_range_input_is_ignored),
	        cmocka_unit_test(test_saga_long_reason_is_truncated_safely),
	        cmocka_unit_test(test_saga_state_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
