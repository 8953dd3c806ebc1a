/* Gateway simulator rules (services/gateway-sim/rules.c) and its store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "services/gateway-sim/rules.h"
#include "services/gateway-sim/store.h"
#include "svc/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

static int add_100(json_t *charge, void *arg)
{
	(void)arg;
	json_object_set_new(charge, "refunded", json_integer(100));
	return 0;
}

static int refuse(json_t *charge, void *arg)
{
	(void)arg;
	json_object_set_new(charge, "refunded", json_integer(999)); /* on a copy */
	return SVC_ERANGE;
}

/* What the journal holds comes back after a restart: puts, the last update,
 * the capacity's evictions; a torn last line is skipped. */
static void test_gateway_store_journal_survives_a_restart(void **state)
{
	char dir[] = "/tmp/gwjournalXXXXXX", path[64];
	struct gw_store *s;
	json_t *body = NULL;
	int64_t fp;
	int status;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ledger", dir);
	s = gw_store_new(2);
	assert_non_null(s);
	assert_int_equal(gw_store_journal(s, path, true), 0);
	assert_int_equal(gw_store_put(s, "a", 201, 500, json_pack("{s:I}", "refunded", 0)), 0);
	assert_int_equal(gw_store_put(s, "b", 402, 7, json_object()), 0);
	assert_int_equal(gw_store_update(s, "a", add_100, NULL), 0);
	assert_int_equal(gw_store_update(s, "a", refuse, NULL), SVC_ERANGE);
	gw_store_free(s);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"k\":\"c\",\"s\":20", f); /* a crash in mid-line */
	fclose(f);

	s = gw_store_new(2);
	assert_non_null(s);
	assert_int_equal(gw_store_journal(s, path, false), 0);
	assert_int_equal(gw_store_count(s), 2);
	assert_true(gw_store_get(s, "a", &status, &fp, &body));
	assert_int_equal(status, 201);
	assert_int_equal(fp, 500);
	assert_int_equal(json_integer_value(json_object_get(body, "refunded")), 100);
	json_decref(body);
	assert_int_equal(gw_store_put(s, "c", 201, 1, json_object()), 0); /* evicts a */
	gw_store_free(s);

	s = gw_store_new(2);
	assert_non_null(s);
	assert_int_equal(gw_store_journal(s, path, false), 0);
	assert_int_equal(gw_store_count(s), 2);
	assert_false(gw_store_get(s, "a", &status, &fp, &body));
	assert_true(gw_store_get(s, "b", &status, &fp, &body));
	assert_int_equal(status, 402);
	json_decref(body);
	gw_store_free(s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gateway_declines_amounts_above_limit_deterministically),
	        cmocka_unit_test(test_gateway_random_decline_and_failure_follow_rates),
	        cmocka_unit_test(test_gateway_config_patch_is_all_or_nothing),
	        cmocka_unit_test(test_gateway_store_keeps_first_answer_and_evicts_oldest),
	        cmocka_unit_test(test_gateway_store_journal_survives_a_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
