/* Gateway simulator rules (services/gateway-sim/rules.c) and its store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "services/gateway-sim/rules.h"
#include "services/gateway-sim/store.h"
#include "svc/error.h"

static void test_gateway_declines_amounts_above_limit_deterministically(void **state)
{
	struct gw_config c;

	(void)state;
	gw_config_defaults(&c);
	assert_int_equal(gw_decide(&c, 100000, 0.99, 0.99), GW_CAPTURE);
	assert_int_equal(gw_decide(&c, 100001, 0.99, 0.99), GW_DECLINE_LIMIT);
	assert_string_equal(gw_verdict_reason(GW_DECLINE_LIMIT), "amount above limit");
	assert_null(gw_verdict_reason(GW_CAPTURE));
}

static void test_gateway_random_decline_and_failure_follow_rates(void **state)
{
	struct gw_config c;

	(void)state;
	gw_config_defaults(&c);
	c.decline_rate = 0.25;
	assert_int_equal(gw_decide(&c, 10, 0.5, 0.24), GW_DECLINE_RANDOM);
	assert_int_equal(gw_decide(&c, 10, 0.5, 0.25), GW_CAPTURE);
	c.fail_rate = 0.5;
	/* an unhealthy gateway fails before it looks at the amount */
	assert_int_equal(gw_decide(&c, 200000, 0.49, 0.99), GW_FAIL);
}

static void test_gateway_config_patch_is_all_or_nothing(void **state)
{
	struct gw_config c;
	char field[32], err[128];
	json_t *ok = json_pack("{s:i, s:f, s:i, s:f}", "latencyMs", 20, "declineRate", 0.1,
	                       "declineAbove", 500, "failRate", 0.2);
	json_t *bad = json_pack("{s:i, s:f}", "latencyMs", 99, "failRate", 1.5);
	json_t *unknown = json_pack("{s:i}", "speed", 1);

	(void)state;
	gw_config_defaults(&c);
	assert_int_equal(gw_config_patch(&c, ok, field, sizeof(field), err, sizeof(err)), 0);
	assert_int_equal(c.latency_ms, 20);
	assert_int_equal(c.decline_above, 500);
	assert_true(c.fail_rate > 0.19 && c.fail_rate < 0.21);
	assert_int_equal(gw_config_patch(&c, bad, field, sizeof(field), err, sizeof(err)),
	                 SVC_EPERMANENT);
	assert_string_equal(field, "failRate");
	assert_int_equal(c.latency_ms, 20); /* untouched */
	assert_int_equal(gw_config_patch(&c, unknown, field, sizeof(field), err, sizeof(err)),
	                 SVC_EPERMANENT);
	assert_string_equal(field, "speed");
	json_decref(ok);
	json_decref(bad);
	json_decref(unknown);
}

static void test_gateway_store_keeps_first_answer_and_evicts_oldest(void **state)
{
	struct gw_store *s = gw_store_new(2);
	json_t *body = NULL;
	int64_t fp;
	int status;

	(void)state;
	assert_non_null(s);
	assert_int_equal(gw_store_put(s, "a", 201, 5, json_pack("{s:s}", "id", "ch_a")), 0);
	assert_int_equal(gw_store_put(s, "a", 402, 5, json_pack("{s:s}", "id", "other")),
	                 SVC_DUPLICATE);
	assert_true(gw_store_get(s, "a", &status, &fp, &body));
	assert_int_equal(status, 201);
	assert_int_equal(fp, 5);
	assert_string_equal(json_string_value(json_object_get(body, "id")), "ch_a");
	json_decref(body);
	assert_int_equal(gw_store_put(s, "b", 201, 1, json_object()), 0);
	assert_int_equal(gw_store_put(s, "c", 201, 1, json_object()), 0);
	assert_false(gw_store_get(s, "a", &status, &fp, &body)); /* oldest forgotten */
	assert_int_equal(gw_store_count(s), 2);
	gw_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gateway_declines_amounts_above_limit_deterministically),
	        cmocka_unit_test(test_gateway_random_decline_and_failure_follow_rates),
	        cmocka_unit_test(test_gateway_config_patch_is_all_or_nothing),
	        cmocka_unit_test(test_gateway_store_keeps_first_answer_and_evicts_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
