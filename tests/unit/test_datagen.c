/* The seed generator's rows: deterministic, range-independent, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/data/datagen.h"

static void test_datagen_same_seed_gives_same_bytes(void **state)
{
	struct datagen a, b;
	char ba[4096], bb[4096];
	size_t ra = 0, rb = 0;
	(void)state;
	datagen_init(&a, DATAGEN_PRODUCTS, 7, 0, 50, 0);
	datagen_init(&b, DATAGEN_PRODUCTS, 7, 0, 50, 0);
	size_t na = datagen_fill(&a, ba, sizeof(ba), &ra);
	size_t nb = datagen_fill(&b, bb, sizeof(bb), &rb);
	assert_int_equal(ra, 50);
	assert_int_equal(na, nb);
	assert_memory_equal(ba, bb, na);
}

static void test_datagen_other_seed_gives_other_prices(void **state)
{
	struct datagen a, b;
	char ra[128], rb[128];
	int differ = 0;
	(void)state;
	datagen_init(&a, DATAGEN_PRODUCTS, 1, 0, 100, 0);
	datagen_init(&b, DATAGEN_PRODUCTS, 2, 0, 100, 0);
	for (uint64_t i = 0; i < 100; i++) {
		datagen_row(&a, i, ra, sizeof(ra));
		datagen_row(&b, i, rb, sizeof(rb));
		differ += strcmp(ra, rb) != 0;
	}
	assert_true(differ > 90);
}

static void test_datagen_ranges_concatenate_to_the_whole(void **state)
{
	struct datagen whole, lo, hi;
	char bw[8192], bl[8192];
	size_t r = 0, nl, nh;
	(void)state;
	datagen_init(&whole, DATAGEN_USERS, 3, 0, 60, 0);
	datagen_init(&lo, DATAGEN_USERS, 3, 0, 25, 0);
	datagen_init(&hi, DATAGEN_USERS, 3, 25, 35, 0);
	size_t nw = datagen_fill(&whole, bw, sizeof(bw), &r);
	nl = datagen_fill(&lo, bl, sizeof(bl), &r);
	nh = datagen_fill(&hi, bl + nl, sizeof(bl) - nl, &r);
	assert_int_equal(nw, nl + nh);
	assert_memory_equal(bw, bl, nw);
}

static void test_datagen_fill_writes_whole_rows_only(void **state)
{
	struct datagen g;
	char buf[100];
	size_t rows = 0, total_rows = 0, n;
	(void)state;
	datagen_init(&g, DATAGEN_PRODUCTS, 9, 0, 20, 0);
	while ((n = datagen_fill(&g, buf, sizeof(buf), &rows)) > 0) {
		assert_int_equal(buf[n - 1], '\n');
		total_rows = rows;
	}
	assert_int_equal(total_rows, 20);
	assert_true(g.finished);
}

static void test_datagen_products_are_well_formed_and_bounded(void **state)
{
	struct datagen g;
	char row[128], id[32], name[64];
	unsigned long long price, stock, reserved, sold, version;
	(void)state;
	datagen_init(&g, DATAGEN_PRODUCTS, 42, 0, 1000, 0);
	for (uint64_t i = 0; i < 1000; i++) {
		assert_true(datagen_row(&g, i, row, sizeof(row)) > 0);
		assert_int_equal(sscanf(row, "%31[^\t]\t%63[^\t]\t%llu\t%llu\t%llu\t%llu\t%llu", id,
		                        name, &price, &stock, &reserved, &sold, &version),
		                 7);
		assert_int_equal(strlen(id), 10);
		assert_true(price >= 100 && price <= 100000);
		assert_true(stock >= 10 && stock <= 1000);
		assert_int_equal(reserved + sold, 0);
	}
	datagen_init(&g, DATAGEN_PRODUCTS, 42, 0, 10, 5000);
	datagen_row(&g, 3, row, sizeof(row));
	assert_int_equal(sscanf(row, "%31[^\t]\t%63[^\t]\t%llu\t%llu", id, name, &price, &stock),
	                 4);
	assert_int_equal(stock, 5000);
	assert_string_equal(id, "P000000004");
}

static void test_datagen_row_refuses_a_too_small_buffer(void **state)
{
	struct datagen g;
	char row[8];
	(void)state;
	datagen_init(&g, DATAGEN_USERS, 1, 0, 1, 0);
	assert_int_equal(datagen_row(&g, 0, row, sizeof(row)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_datagen_same_seed_gives_same_bytes),
	        cmocka_unit_test(test_datagen_other_seed_gives_other_prices),
	        cmocka_unit_test(test_datagen_ranges_concatenate_to_the_whole),
	        cmocka_unit_test(test_datagen_fill_writes_whole_rows_only),
	        cmocka_unit_test(test_datagen_products_are_well_formed_and_bounded),
	        cmocka_unit_test(test_datagen_row_refuses_a_too_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
