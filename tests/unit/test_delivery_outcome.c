/* Unit tests of resilience/sidecar/outcome.h: what the service breaker counts as a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "resilience/sidecar/outcome.h"

static void set(struct sc_delivery_result *r, enum sc_verdict v, const char *reason)
{
	r->verdict = v;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

static void test_outcome_no_response_is_a_failure(void **state)
{
	char why[64] = "";

	(void)state;
	assert_true(sc_delivery_failed(0, NULL, 0, why, sizeof(why)));
	assert_string_equal(why, "no response");
}

static void test_outcome_transient_status_is_a_failure(void **state)
{
	char why[64] = "";

	(void)state;
	assert_true(sc_delivery_failed(503, NULL, 0, why, sizeof(why)));
	assert_string_equal(why, "HTTP 503");
	assert_true(sc_delivery_failed(500, NULL, 0, why, sizeof(why)));
	assert_true(sc_delivery_failed(429, NULL, 0, why, sizeof(why)));
}

static void test_outcome_permanent_status_is_not_a_failure(void **state)
{
	char why[64] = "";

	(void)state;
	assert_false(sc_delivery_failed(413, NULL, 0, why, sizeof(why)));
	assert_false(sc_delivery_failed(400, NULL, 0, why, sizeof(why)));
	assert_string_equal(why, "");
}

static void test_outcome_all_retry_answer_is_a_failure(void **state)
{
	struct sc_delivery_result r[2];
	char why[300] = "";

	(void)state;
	set(&r[0], SC_VERDICT_RETRY, "database unavailable");
	set(&r[1], SC_VERDICT_RETRY, "an earlier message of the batch is retried");
	assert_true(sc_delivery_failed(200, r, 2, why, sizeof(why)));
	assert_string_equal(why, "every message answered retry: database unavailable");
}

static void test_outcome_any_progress_is_a_success(void **state)
{
	struct sc_delivery_result r[3];
	char why[300] = "";

	(void)state;
	set(&r[0], SC_VERDICT_DONE, "");
	set(&r[1], SC_VERDICT_RETRY, "gateway down");
	set(&r[2], SC_VERDICT_RETRY, "");
	assert_false(sc_delivery_failed(200, r, 3, why, sizeof(why)));
	set(&r[0], SC_VERDICT_REJECTED, "malformed");
	assert_false(sc_delivery_failed(200, r, 3, why, sizeof(why)));
}

static void test_outcome_nothing_sent_is_not_a_failure(void **state)
{
	char why[64] = "";

	(void)state;
	assert_false(sc_delivery_failed(200, NULL, 0, why, sizeof(why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_outcome_no_response_is_a_failure),
	        cmocka_unit_test(test_outcome_transient_status_is_a_failure),
	        cmocka_unit_test(test_outcome_permanent_status_is_not_a_failure),
	        cmocka_unit_test(test_outcome_all_retry_answer_is_a_failure),
	        cmocka_unit_test(test_outcome_any_progress_is_a_success),
	        cmocka_unit_test(test_outcome_nothing_sent_is_not_a_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
