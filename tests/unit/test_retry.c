/* Unit tests of resilience/sidecar/retry.h: what a delivery worker does with
 * the rest of a range after one attempt. Table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "resilience/sidecar/retry.h"

#define MAX_REFUSED 3

struct retry_case {
	const char *what;
	enum sc_verdict verdict;
	long status;
	size_t nsent, left;
	unsigned refused;
	enum sc_retry_action want;
};

static const struct retry_case cases[] = {
        /* finished */
        {"every message answered", SC_VERDICT_DONE, 200, 10, 0, 0, SC_RETRY_NEXT},
        {"nothing left after refusals", SC_VERDICT_DONE, 200, 1, 0, 2, SC_RETRY_NEXT},
        {"nothing left even with a retry verdict", SC_VERDICT_RETRY, 200, 4, 0, 0, SC_RETRY_NEXT},
        /* a rejection still pending is given up */
        {"rejected", SC_VERDICT_REJECTED, 200, 3, 2, 0, SC_RETRY_DEAD_LETTER},
        /* transient: back off, whatever the refusals before */
        {"no response", SC_VERDICT_RETRY, 0, 10, 10, 0, SC_RETRY_BACKOFF},
        {"HTTP 503", SC_VERDICT_RETRY, 503, 10, 10, 0, SC_RETRY_BACKOFF},
        {"HTTP 429", SC_VERDICT_RETRY, 429, 10, 10, 2, SC_RETRY_BACKOFF},
        {"HTTP 408, one message", SC_VERDICT_RETRY, 408, 1, 1, 2, SC_RETRY_BACKOFF},
        {"200 with answers to retry", SC_VERDICT_RETRY, 200, 10, 4, 0, SC_RETRY_BACKOFF},
        {"200 with one answer to retry", SC_VERDICT_RETRY, 200, 1, 1, 2, SC_RETRY_BACKOFF},
        /* too large */
        {"HTTP 413 for several", SC_VERDICT_RETRY, 413, 10, 10, 0, SC_RETRY_SPLIT},
        {"HTTP 413 for two, refused before", SC_VERDICT_RETRY, 413, 2, 2, 2, SC_RETRY_SPLIT},
        {"HTTP 413 for one is a refusal", SC_VERDICT_RETRY, 413, 1, 1, 0, SC_RETRY_NARROW},
        {"HTTP 413 for one, refused enough", SC_VERDICT_RETRY, 413, 1, 1, 2, SC_RETRY_DEAD_LETTER},
        /* refused: narrow to one, give it up after MAX_REFUSED in a row */
        {"HTTP 400 for several", SC_VERDICT_RETRY, 400, 10, 10, 0, SC_RETRY_NARROW},
        {"HTTP 400 for several, refused enough", SC_VERDICT_RETRY, 400, 10, 10, 5, SC_RETRY_NARROW},
        {"HTTP 400 for one, first refusal", SC_VERDICT_RETRY, 400, 1, 1, 0, SC_RETRY_NARROW},
        {"HTTP 400 for one, second refusal", SC_VERDICT_RETRY, 400, 1, 1, 1, SC_RETRY_NARROW},
        {"HTTP 400 for one, third refusal", SC_VERDICT_RETRY, 400, 1, 1, 2, SC_RETRY_DEAD_LETTER},
        {"HTTP 404 for one, past the limit", SC_VERDICT_RETRY, 404, 1, 1, 7, SC_RETRY_DEAD_LETTER},
        {"HTTP 422 for one of a range of two", SC_VERDICT_RETRY, 422, 1, 2, 2, SC_RETRY_NARROW},
};

static void test_retry_decides_each_case_of_the_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct retry_case *c = &cases[i];
		struct sc_retry_attempt a = {
		        .verdict = c->verdict,
		        .status = c->status,
		        .class = rs_classify_http(c->status),
		        .nsent = c->nsent,
		        .left = c->left,
		        .refused = c->refused,
		};
		enum sc_retry_action got = sc_retry_decide(&a, MAX_REFUSED);

		if (got != c->want)
			fail_msg("%s: %s, want %s", c->what, sc_retry_action_name(got),
			         sc_retry_action_name(c->want));
	}
}

static void test_retry_with_no_refusal_allowed_gives_up_at_once(void **state)
{
	struct sc_retry_attempt a = {.verdict = SC_VERDICT_RETRY,
	                             .status = 400,
	                             .class = RS_PERMANENT,
	                             .nsent = 1,
	                             .left = 1};

	(void)state;
	assert_int_equal(sc_retry_decide(&a, 0), SC_RETRY_DEAD_LETTER);
	assert_int_equal(sc_retry_decide(&a, 1), SC_RETRY_DEAD_LETTER);
	assert_int_equal(sc_retry_decide(&a, 2), SC_RETRY_NARROW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_retry_decides_each_case_of_the_table),
	        cmocka_unit_test(test_retry_with_no_refusal_allowed_gives_up_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
