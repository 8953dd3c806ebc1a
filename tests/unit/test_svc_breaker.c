/* Unit tests of svc/breaker.h: breaker settings from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "svc/breaker.h"
#include "svc/error.h"
#include "svc/log.h"

static const char *const suffixes[] = {"WINDOW",  "MIN_CALLS", "FAILURE_RATE",
                                       "OPEN_MS", "SLOW_MS",   "HALF_OPEN_CALLS"};

static void clear_env(void)
{
	char name[64];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(name, sizeof(name), "TB_%s", suffixes[i]);
		unsetenv(name);
	}
}

static void test_svc_breaker_config_keeps_defaults_when_unset(void **state)
{
	struct rs_breaker_config cfg, def;

	(void)state;
	clear_env();
	rs_breaker_config_default(&cfg);
	rs_breaker_config_default(&def);
	assert_int_equal(svc_breaker_config_from_env(&cfg, "TB", "test"), 0);
	assert_int_equal(cfg.window, def.window);
	assert_int_equal(cfg.min_calls, def.min_calls);
	assert_int_equal(cfg.failure_rate_pct, def.failure_rate_pct);
	assert_int_equal(cfg.open_ms, def.open_ms);
	assert_int_equal(cfg.slow_call_ms, def.slow_call_ms);
	assert_int_equal(cfg.half_open_calls, def.half_open_calls);
	assert_ptr_equal(cfg.on_change, svc_breaker_log_change);
	assert_string_equal(cfg.on_change_arg, "test");
}

static void test_svc_breaker_config_reads_prefixed_names(void **state)
{
	struct rs_breaker_config cfg;

	(void)state;
	clear_env();
	setenv("TB_WINDOW", "8", 1);
	setenv("TB_MIN_CALLS", "3", 1);
	setenv("TB_FAILURE_RATE", "75", 1);
	setenv("TB_OPEN_MS", "1500", 1);
	setenv("TB_SLOW_MS", "250", 1);
	setenv("TB_HALF_OPEN_CALLS", "2", 1);
	rs_breaker_config_default(&cfg);
	assert_int_equal(svc_breaker_config_from_env(&cfg, "TB", NULL), 0);
	assert_int_equal(cfg.window, 8);
	assert_int_equal(cfg.min_calls, 3);
	assert_int_equal(cfg.failure_rate_pct, 75);
	assert_int_equal(cfg.open_ms, 1500);
	assert_int_equal(cfg.slow_call_ms, 250);
	assert_int_equal(cfg.half_open_calls, 2);
	clear_env();
}

static void test_svc_breaker_config_ignores_out_of_range_values(void **state)
{
	struct rs_breaker_config cfg;

	(void)state;
	clear_env();
	setenv("TB_FAILURE_RATE", "101", 1);
	setenv("TB_WINDOW", "zero", 1);
	rs_breaker_config_default(&cfg);
	assert_int_equal(svc_breaker_config_from_env(&cfg, "TB", NULL), 0);
	assert_int_equal(cfg.failure_rate_pct, 50);
	assert_int_equal(cfg.window, 20);
	clear_env();
}

static void test_svc_breaker_config_refuses_min_calls_above_window(void **state)
{
	struct rs_breaker_config cfg;

	(void)state;
	clear_env();
	setenv("TB_WINDOW", "5", 1);
	setenv("TB_MIN_CALLS", "6", 1);
	rs_breaker_config_default(&cfg);
	assert_int_equal(svc_breaker_config_from_env(&cfg, "TB", NULL), SVC_EPERMANENT);
	clear_env();
}

static void test_svc_breaker_log_change_accepts_null_arg(void **state)
{
	(void)state;
	/* Only that it neither crashes nor needs a label. */
	svc_breaker_log_change("x", RS_BREAKER_CLOSED, RS_BREAKER_OPEN, NULL);
	svc_breaker_log_change("x", RS_BREAKER_OPEN, RS_BREAKER_HALF_OPEN, (void *)"cache");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_svc_breaker_config_keeps_defaults_when_unset),
	        cmocka_unit_test(test_svc_breaker_config_reads_prefixed_names),
	        cmocka_unit_test(test_svc_breaker_config_ignores_out_of_range_values),
	        cmocka_unit_test(test_svc_breaker_config_refuses_min_calls_above_window),
	        cmocka_unit_test(test_svc_breaker_log_change_accepts_null_arg),
	};

	setenv("LOG_LEVEL", "error", 0);
	svc_log_init("test_svc_breaker");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
