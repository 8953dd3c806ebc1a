/* Environment configuration: svc_env_str / svc_env_long / svc_env_bool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "svc/config.h"

#define VAR "SVC_TEST_CONFIG_VALUE"

static int clear_var(void **state)
{
	(void)state;
	unsetenv(VAR);
	return 0;
}

static void test_env_str_unset_gives_default(void **state)
{
	(void)state;
	assert_string_equal(svc_env_str(VAR, "dflt"), "dflt");
	assert_null(svc_env_str(VAR, NULL));
}

static void test_env_str_empty_gives_default(void **state)
{
	(void)state;
	setenv(VAR, "", 1);
	assert_string_equal(svc_env_str(VAR, "dflt"), "dflt");
}

static void test_env_str_set_gives_value(void **state)
{
	(void)state;
	setenv(VAR, "order_db", 1);
	assert_string_equal(svc_env_str(VAR, "dflt"), "order_db");
}

static void test_env_long_unset_gives_default(void **state)
{
	(void)state;
	assert_int_equal(svc_env_long(VAR, 8, 1, 64), 8);
}

static void test_env_long_parses_value_in_range(void **state)
{
	(void)state;
	setenv(VAR, "8081", 1);
	assert_int_equal(svc_env_long(VAR, 1, 1, 65535), 8081);
	setenv(VAR, "-5", 1);
	assert_int_equal(svc_env_long(VAR, 0, -10, 10), -5);
}

static void test_env_long_bounds_are_inclusive(void **state)
{
	(void)state;
	setenv(VAR, "1", 1);
	assert_int_equal(svc_env_long(VAR, 7, 1, 65535), 1);
	setenv(VAR, "65535", 1);
	assert_int_equal(svc_env_long(VAR, 7, 1, 65535), 65535);
}

static void test_env_long_out_of_range_gives_default(void **state)
{
	(void)state;
	setenv(VAR, "0", 1);
	assert_int_equal(svc_env_long(VAR, 7, 1, 65535), 7);
	setenv(VAR, "65536", 1);
	assert_int_equal(svc_env_long(VAR, 7, 1, 65535), 7);
}

static void test_env_long_garbage_gives_default(void **state)
{
	static const char *const bad[] = {"abc", "12abc", "1.5",
	                                  " ",   "0x10",  "99999999999999999999999"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(VAR, bad[i], 1);
		assert_int_equal(svc_env_long(VAR, 42, 0, 1000), 42);
	}
}

static void test_env_bool_true_spellings(void **state)
{
	static const char *const yes[] = {"1", "true", "TRUE", "Yes", "on", "ON"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		setenv(VAR, yes[i], 1);
		assert_true(svc_env_bool(VAR, false));
	}
}

static void test_env_bool_other_values_are_false(void **state)
{
	static const char *const no[] = {"0", "false", "No", "off", "maybe"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		setenv(VAR, no[i], 1);
		assert_false(svc_env_bool(VAR, true));
	}
}

static void test_env_bool_unset_gives_default(void **state)
{
	(void)state;
	assert_true(svc_env_bool(VAR, true));
	assert_false(svc_env_bool(VAR, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_env_str_unset_gives_default, clear_var),
	        cmocka_unit_test_setup(test_env_str_empty_gives_default, clear_var),
	        cmocka_unit_test_setup(test_env_str_set_gives_value, clear_var),
	        cmocka_unit_test_setup(test_env_long_unset_gives_default, clear_var),
	        cmocka_unit_test_setup(test_env_long_parses_value_in_range, clear_var),
	        cmocka_unit_test_setup(test_env_long_bounds_are_inclusive, clear_var),
	        cmocka_unit_test_setup(test_env_long_out_of_range_gives_default, clear_var),
	        cmocka_unit_test_setup(test_env_long_garbage_gives_default, clear_var),
	        cmocka_unit_test_setup(test_env_bool_true_spellings, clear_var),
	        cmocka_unit_test_setup(test_env_bool_other_values_are_false, clear_var),
	        cmocka_unit_test_setup(test_env_bool_unset_gives_default, clear_var),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
