/* Unit tests of chaos/recovery.h: per-second series and the recovery times read from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/recovery.h"

#define T0 1700000000000LL

static struct chaos_order order(int64_t created, int64_t done, enum chaos_order_status st)
{
	struct chaos_order o;

	memset(&o, 0, sizeof(o));
	o.created_ms = created;
	o.done_ms = done;
	o.status = st;
	return o;
}

static void test_chaos_series_counts_each_order_in_its_seconds(void **state)
{
	struct chaos_order o[] = {
	        order(T0 + 100, T0 + 900, CHAOS_ORDER_CONFIRMED),
	        order(T0 + 1500, T0 + 2100, CHAOS_ORDER_CANCELLED),
	        order(T0 + 1999, -1, CHAOS_ORDER_OPEN),
	        order(T0 + 2000, T0 + 9999, CHAOS_ORDER_CONFIRMED), /* done past the series */
	        order(T0 - 5, T0 + 100, CHAOS_ORDER_CONFIRMED),     /* created before it */
	};
	int64_t errs[] = {T0 + 2500, T0 + 2600, T0 - 1, T0 + 3000};
	struct chaos_series s;

	(void)state;
	assert_int_equal(chaos_series_build(&s, T0, 3, o, 5, errs, 4), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.created[0], 1);
	assert_int_equal(s.created[1], 2);
	assert_int_equal(s.created[2], 1);
	assert_int_equal(s.confirmed[0], 2);
	assert_int_equal(s.confirmed[1], 0);
	assert_int_equal(s.cancelled[2], 1);
	assert_int_equal(s.errors[2], 2);
	assert_int_equal(s.errors[0] + s.errors[1], 0);
	chaos_series_release(&s);
	chaos_series_release(NULL);
}

static void test_chaos_series_mean_of_a_range(void **state)
{
	const long v[] = {10, 20, 30, 40};

	(void)state;
	assert_true(chaos_series_mean(v, 1, 3) == 25.0);
	assert_true(chaos_series_mean(v, 2, 2) == 0.0);
	assert_true(chaos_series_mean(v, 3, 1) == 0.0);
}

/* 20 confirmed per second, with `from`..`to` replaced */
static void steady(long *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = 20;
}

static void test_chaos_recovery_rate_is_zero_when_the_rate_never_dropped(void **state)
{
	long v[60];

	(void)state;
	steady(v, 60);
	v[25] = 19; /* noise */
	assert_true(chaos_recovery_rate_s(v, 60, 20, 20.4, 10, 0.95) == 0.0);
}

static void test_chaos_recovery_rate_ends_with_the_stall_not_the_catch_up(void **state)
{
	long v[60];

	(void)state;
	steady(v, 60);
	/* nothing confirmed in seconds 20..25, then the backlog at once */
	for (int i = 20; i <= 25; i++)
		v[i] = 0;
	v[26] = 140;
	/* the window [20, 30) sums to 200 = the baseline's: only the stall test
	 * keeps it from counting as recovered */
	assert_true(chaos_recovery_rate_s(v, 60, 20, 20.5, 10, 0.95) == 26.0 - 20.5);
}

static void test_chaos_recovery_rate_waits_for_a_sustained_95_percent(void **state)
{
	long v[80];

	(void)state;
	steady(v, 80);
	/* 80 % for 15 s after a kill at 20: not back until 35 */
	for (int i = 20; i < 35; i++)
		v[i] = 16;
	assert_true(chaos_recovery_rate_s(v, 80, 20, 20.0, 10, 0.95) > 10.0);
	assert_true(chaos_recovery_rate_s(v, 80, 20, 20.0, 10, 0.95) <= 15.0);
}

static void test_chaos_recovery_rate_is_unknown_without_baseline_or_recovery(void **state)
{
	long v[40];

	(void)state;
	steady(v, 40);
	for (int i = 20; i < 40; i++)
		v[i] = 0;
	assert_true(chaos_recovery_rate_s(v, 40, 20, 20.0, 10, 0.95) < 0);
	assert_true(chaos_recovery_rate_s(v, 40, 0, 20.0, 10, 0.95) < 0);
	/* a window must end within the load */
	steady(v, 40);
	assert_true(chaos_recovery_rate_s(v, 25, 20, 20.0, 10, 0.95) < 0);
}

static void test_chaos_recovery_order_takes_the_first_confirmation_after_the_kill(void **state)
{
	const int64_t kill = T0 + 20000;
	struct chaos_order o[] = {
	        order(kill - 100, kill + 500, CHAOS_ORDER_CONFIRMED),  /* before the kill */
	        order(kill + 200, kill + 9000, CHAOS_ORDER_CONFIRMED), /* after, slow */
	        order(kill + 900, kill + 4500, CHAOS_ORDER_CONFIRMED), /* after: the first */
	        order(kill + 300, kill + 1000, CHAOS_ORDER_CANCELLED), /* not confirmed */
	        order(kill + 400, -1, CHAOS_ORDER_OPEN),
	};

	(void)state;
	assert_true(chaos_recovery_order_s(o, 5, kill) == 4.5);
	assert_true(chaos_recovery_order_s(o, 1, kill) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_series_counts_each_order_in_its_seconds),
	        cmocka_unit_test(test_chaos_series_mean_of_a_range),
	        cmocka_unit_test(test_chaos_recovery_rate_is_zero_when_the_rate_never_dropped),
	        cmocka_unit_test(test_chaos_recovery_rate_ends_with_the_stall_not_the_catch_up),
	        cmocka_unit_test(test_chaos_recovery_rate_waits_for_a_sustained_95_percent),
	        cmocka_unit_test(test_chaos_recovery_rate_is_unknown_without_baseline_or_recovery),
	        cmocka_unit_test(
	                test_chaos_recovery_order_takes_the_first_confirmation_after_the_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
