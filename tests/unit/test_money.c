/* Money in integer minor units: checked multiply/add and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "svc/error.h"
#include "svc/money.h"

static void test_money_mul_multiplies_unit_price_by_quantity(void **state)
{
	int64_t out = -1;

	(void)state;
	assert_int_equal(svc_money_mul(1999, 3, &out), 0);
	assert_int_equal(out, 5997);
	assert_int_equal(svc_money_mul(0, 5, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(svc_money_mul(INT64_MAX, 1, &out), 0);
	assert_true(out == INT64_MAX);
}

static void test_money_mul_rejects_overflow_and_leaves_output(void **state)
{
	int64_t out = 7;

	(void)state;
	assert_int_equal(svc_money_mul(INT64_MAX, 2, &out), SVC_ERANGE);
	assert_int_equal(svc_money_mul(INT64_MAX / 2 + 1, 2, &out), SVC_ERANGE);
	assert_int_equal(svc_money_mul(INT64_C(3037000500), INT64_C(3037000500), &out), SVC_ERANGE);
	assert_int_equal(out, 7);
}

static void test_money_mul_rejects_negative_inputs(void **state)
{
	int64_t out = 7;

	(void)state;
	assert_int_equal(svc_money_mul(-1, 2, &out), SVC_ERANGE);
	assert_int_equal(svc_money_mul(100, -2, &out), SVC_ERANGE);
	assert_int_equal(svc_money_mul(-100, -2, &out), SVC_ERANGE);
	assert_int_equal(svc_money_mul(INT64_MIN, -1, &out), SVC_ERANGE);
	assert_int_equal(out, 7);
}

static void test_money_add_sums_and_rejects_overflow(void **state)
{
	int64_t out = 7;

	(void)state;
	assert_int_equal(svc_money_add(150, 250, &out), 0);
	assert_int_equal(out, 400);
	assert_int_equal(svc_money_add(INT64_MAX - 1, 1, &out), 0);
	assert_true(out == INT64_MAX);
	out = 7;
	assert_int_equal(svc_money_add(INT64_MAX, 1, &out), SVC_ERANGE);
	assert_int_equal(out, 7);
}

static void test_money_add_rejects_negative_inputs(void **state)
{
	int64_t out = 7;

	(void)state;
	assert_int_equal(svc_money_add(-1, 5, &out), SVC_ERANGE);
	assert_int_equal(svc_money_add(5, -1, &out), SVC_ERANGE);
	assert_int_equal(svc_money_add(INT64_MIN, 0, &out), SVC_ERANGE);
	assert_int_equal(out, 7);
}

static void test_money_format_writes_major_dot_two_digit_minor(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(svc_money_format(12345, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "123.45");
	assert_int_equal(svc_money_format(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0.00");
	assert_int_equal(svc_money_format(5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0.05");
	assert_int_equal(svc_money_format(100, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.00");
	assert_int_equal(svc_money_format(INT64_MAX, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "92233720368547758.07");
}

static void test_money_format_negative_amounts_get_a_minus_sign(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(svc_money_format(-5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-0.05");
	assert_int_equal(svc_money_format(-12345, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-123.45");
	assert_int_equal(svc_money_format(INT64_MIN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-92233720368547758.08");
}

static void test_money_format_rejects_too_small_buffer(void **state)
{
	char buf[8] = "xxxxxxx";

	(void)state;
	assert_int_equal(svc_money_format(12345, buf, 6), SVC_ERANGE); /* needs 7 */
	assert_string_equal(buf, "");
	assert_int_equal(svc_money_format(12345, buf, 7), 0);
	assert_string_equal(buf, "123.45");
	assert_int_equal(svc_money_format(1, buf, 0), SVC_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_money_mul_multiplies_unit_price_by_quantity),
	        cmocka_unit_test(test_money_mul_rejects_overflow_and_leaves_output),
	        cmocka_unit_test(test_money_mul_rejects_negative_inputs),
	        cmocka_unit_test(test_money_add_sums_and_rejects_overflow),
	        cmocka_unit_test(test_money_add_rejects_negative_inputs),
	        cmocka_unit_test(test_money_format_writes_major_dot_two_digit_minor),
	        cmocka_unit_test(test_money_format_negative_amounts_get_a_minus_sign),
	        cmocka_unit_test(test_money_format_rejects_too_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
