/* Unit tests of resilience/backoff.h: the delay schedule and its jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "resilience/backoff.h"

static void test_backoff_doubles_per_attempt_within_equal_jitter(void **state)
{
	const struct rs_backoff b = {.base_ms = 100, .max_ms = 100000};
	uint64_t d = 100;

	(void)state;
	for (unsigned attempt = 0; attempt < 8; attempt++, d *= 2) {
		/* random = 0 gives the lower end d/2, random = d/2 the upper end d. */
		assert_int_equal(rs_backoff_delay_ms(&b, attempt, 0), d / 2);
		assert_int_equal(rs_backoff_delay_ms(&b, attempt, d - d / 2), d);
		for (int i = 0; i < 100; i++) {
			uint64_t v = rs_backoff_delay_ms(&b, attempt, rs_random());
			assert_in_range(v, d / 2, d);
		}
	}
}

static void test_backoff_is_capped_at_max(void **state)
{
	const struct rs_backoff b = {.base_ms = 100, .max_ms = 1000};

	(void)state;
	for (unsigned attempt = 4; attempt < 40; attempt++) {
		assert_int_equal(rs_backoff_delay_ms(&b, attempt, 0), 500);
		assert_int_equal(rs_backoff_delay_ms(&b, attempt, 500), 1000);
		assert_in_range(rs_backoff_delay_ms(&b, attempt, rs_random()), 500, 1000);
	}
}

static void test_backoff_never_overflows_on_huge_attempts(void **state)
{
	const struct rs_backoff b = {.base_ms = UINT32_MAX, .max_ms = UINT32_MAX};

	(void)state;
	assert_in_range(rs_backoff_delay_ms(&b, 31, UINT64_MAX), UINT32_MAX / 2, UINT32_MAX);
	assert_in_range(rs_backoff_delay_ms(&b, 32, UINT64_MAX), UINT32_MAX / 2, UINT32_MAX);
	assert_in_range(rs_backoff_delay_ms(&b, 64, UINT64_MAX), UINT32_MAX / 2, UINT32_MAX);
	assert_in_range(rs_backoff_delay_ms(&b, UINT32_MAX, UINT64_MAX), UINT32_MAX / 2,
	                UINT32_MAX);
}

static void test_backoff_zero_base_or_max_gives_zero(void **state)
{
	const struct rs_backoff zero_base = {.base_ms = 0, .max_ms = 1000};
	const struct rs_backoff zero_max = {.base_ms = 100, .max_ms = 0};

	(void)state;
	assert_int_equal(rs_backoff_delay_ms(&zero_base, 3, 12345), 0);
	assert_int_equal(rs_backoff_delay_ms(&zero_max, 3, 12345), 0);
	assert_int_equal(rs_backoff_delay_ms(NULL, 3, 12345), 0);
}

static void test_backoff_max_below_base_caps_first_delay(void **state)
{
	const struct rs_backoff b = {.base_ms = 1000, .max_ms = 300};

	(void)state;
	assert_in_range(rs_backoff_delay_ms(&b, 0, rs_random()), 150, 300);
}

static void test_random_values_differ(void **state)
{
	uint64_t a, b, c;

	(void)state;
	a = rs_random();
	b = rs_random();
	c = rs_random();
	assert_true(a != b || b != c);
}

static void test_random_jitter_spreads_over_the_range(void **state)
{
	const struct rs_backoff b = {.base_ms = 1000, .max_ms = 1000};
	unsigned low = 0, high = 0;

	(void)state;
	/* [500, 1000]: about half of the draws fall into each half. */
	for (int i = 0; i < 1000; i++) {
		if (rs_backoff_delay_ms(&b, 0, rs_random()) < 750)
			low++;
		else
			high++;
	}
	assert_true(low > 350 && high > 350);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_backoff_doubles_per_attempt_within_equal_jitter),
	        cmocka_unit_test(test_backoff_is_capped_at_max),
	        cmocka_unit_test(test_backoff_never_overflows_on_huge_attempts),
	        cmocka_unit_test(test_backoff_zero_base_or_max_gives_zero),
	        cmocka_unit_test(test_backoff_max_below_base_caps_first_delay),
	        cmocka_unit_test(test_random_values_differ),
	        cmocka_unit_test(test_random_jitter_spreads_over_the_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
