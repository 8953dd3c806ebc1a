/* Unit tests of chaos/load.h: which product each order of the load asks for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chaos/load.h"

static void test_chaos_load_declines_every_nth_and_spreads_the_rest(void **state)
{
	size_t count[5] = {0};

	(void)state;
	for (size_t i = 0; i < 400; i++) {
		size_t p = chaos_load_product(i, 5, 4);

		assert_in_range(p, 0, 4);
		assert_int_equal(p == 4, i % 4 == 3);
		count[p]++;
	}
	/* a quarter declined, the rest evenly over the four others */
	assert_int_equal(count[4], 100);
	for (int p = 0; p < 4; p++)
		assert_int_equal(count[p], 75);
}

static void test_chaos_load_without_declines_cycles_through_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < 20; i++)
		assert_int_equal(chaos_load_product(i, 4, 0), i % 4);
	assert_int_equal(chaos_load_product(7, 1, 4), 0);
	assert_int_equal(chaos_load_product(7, 0, 4), 0);
	/* every 2nd declined with one other product */
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(chaos_load_product(i, 2, 2), i % 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_load_declines_every_nth_and_spreads_the_rest),
	        cmocka_unit_test(test_chaos_load_without_declines_cycles_through_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
