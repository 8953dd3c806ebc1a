/* Unit tests of resilience/classify.h: which HTTP outcomes are retried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "resilience/classify.h"

static void test_classify_no_response_is_transient(void **state)
{
	(void)state;
	assert_int_equal(rs_classify_http(0), RS_TRANSIENT);
}

static void test_classify_2xx_is_success(void **state)
{
	(void)state;
	assert_int_equal(rs_classify_http(200), RS_SUCCESS);
	assert_int_equal(rs_classify_http(201), RS_SUCCESS);
	assert_int_equal(rs_classify_http(204), RS_SUCCESS);
	assert_int_equal(rs_classify_http(299), RS_SUCCESS);
}

static void test_classify_retry_later_4xx_are_transient(void **state)
{
	(void)state;
	assert_int_equal(rs_classify_http(408), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(425), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(429), RS_TRANSIENT);
}

static void test_classify_other_4xx_are_permanent(void **state)
{
	(void)state;
	assert_int_equal(rs_classify_http(400), RS_PERMANENT);
	assert_int_equal(rs_classify_http(404), RS_PERMANENT);
	assert_int_equal(rs_classify_http(409), RS_PERMANENT);
	assert_int_equal(rs_classify_http(422), RS_PERMANENT);
	assert_int_equal(rs_classify_http(499), RS_PERMANENT);
}

static void test_classify_5xx_are_transient_except_501_and_505(void **state)
{
	(void)state;
	assert_int_equal(rs_classify_http(500), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(502), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(503), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(504), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(599), RS_TRANSIENT);
	assert_int_equal(rs_classify_http(501), RS_PERMANENT);
	assert_int_equal(rs_classify_http(505), RS_PERMANENT);
}

static void test_classify_1xx_3xx_and_nonsense_are_permanent(void **state)
{
	(void)state;
	assert_int_equal(rs_classify_http(100), RS_PERMANENT);
	assert_int_equal(rs_classify_http(301), RS_PERMANENT);
	assert_int_equal(rs_classify_http(304), RS_PERMANENT);
	assert_int_equal(rs_classify_http(-1), RS_PERMANENT);
	assert_int_equal(rs_classify_http(600), RS_PERMANENT);
	assert_int_equal(rs_classify_http(99999), RS_PERMANENT);
}

static void test_classify_names(void **state)
{
	(void)state;
	assert_string_equal(rs_class_name(RS_SUCCESS), "success");
	assert_string_equal(rs_class_name(RS_TRANSIENT), "transient");
	assert_string_equal(rs_class_name(RS_PERMANENT), "permanent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_classify_no_response_is_transient),
	        cmocka_unit_test(test_classify_2xx_is_success),
	        cmocka_unit_test(test_classify_retry_later_4xx_are_transient),
	        cmocka_unit_test(test_classify_other_4xx_are_permanent),
	        cmocka_unit_test(test_classify_5xx_are_transient_except_501_and_505),
	        cmocka_unit_test(test_classify_1xx_3xx_and_nonsense_are_permanent),
	        cmocka_unit_test(test_classify_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
