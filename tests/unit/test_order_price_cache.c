/* Unit tests of services/order/price_cache.h, driven by a fake clock (the
 * time is an argument of every call). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "services/order/price_cache.h"
#include "svc/error.h"
#include "svc/validate.h"

#define TTL 2000

static void test_price_cache_misses_an_unknown_product(void **state)
{
	struct order_price_cache *c = order_price_cache_new(100, TTL);
	int64_t price = -1;

	(void)state;
	assert_non_null(c);
	assert_false(order_price_cache_get(c, "P1", 1000, &price));
	assert_int_equal(price, -1);
	order_price_cache_free(c);
}

static void test_price_cache_hits_a_stored_price_until_ttl_passes(void **state)
{
	struct order_price_cache *c = order_price_cache_new(100, TTL);
	int64_t price = 0;

	(void)state;
	assert_int_equal(order_price_cache_put(c, "P1", 1999, 1000), 0);
	assert_true(order_price_cache_get(c, "P1", 1000, &price));
	assert_int_equal(price, 1999);
	assert_true(order_price_cache_get(c, "P1", 1000 + TTL - 1, &price));
	assert_false(order_price_cache_get(c, "P1", 1000 + TTL, &price));
	/* the expired entry was dropped */
	assert_int_equal(order_price_cache_size(c), 0);
	order_price_cache_free(c);
}

static void test_price_cache_put_refreshes_price_and_age(void **state)
{
	struct order_price_cache *c = order_price_cache_new(100, TTL);
	int64_t price = 0;

	(void)state;
	assert_int_equal(order_price_cache_put(c, "P1", 100, 0), 0);
	assert_int_equal(order_price_cache_put(c, "P1", 250, 1500), 0);
	assert_int_equal(order_price_cache_size(c), 1);
	assert_true(order_price_cache_get(c, "P1", 3000, &price));
	assert_int_equal(price, 250);
	order_price_cache_free(c);
}

static void test_price_cache_keeps_products_apart(void **state)
{
	/* far below the bound, so no stripe is full */
	struct order_price_cache *c = order_price_cache_new(100000, TTL);
	char id[32];
	int64_t price;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "P%09d", i);
		assert_int_equal(order_price_cache_put(c, id, i * 10, 0), 0);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "P%09d", i);
		assert_true(order_price_cache_get(c, id, 1, &price));
		assert_int_equal(price, i * 10);
	}
	order_price_cache_free(c);
}

static void test_price_cache_evicts_the_oldest_entry_when_full(void **state)
{
	/* under 64 entries the cache has one stripe: eviction order is exact */
	struct order_price_cache *c = order_price_cache_new(3, TTL);
	int64_t price;

	(void)state;
	order_price_cache_put(c, "A", 1, 0);
	order_price_cache_put(c, "B", 2, 1);
	order_price_cache_put(c, "C", 3, 2);
	order_price_cache_put(c, "A", 10, 3); /* refreshed: B is now the oldest */
	order_price_cache_put(c, "D", 4, 4);
	assert_int_equal(order_price_cache_size(c), 3);
	assert_false(order_price_cache_get(c, "B", 5, &price));
	assert_true(order_price_cache_get(c, "A", 5, &price));
	assert_int_equal(price, 10);
	assert_true(order_price_cache_get(c, "C", 5, &price));
	assert_true(order_price_cache_get(c, "D", 5, &price));
	order_price_cache_free(c);
}

static void test_price_cache_never_grows_past_its_bound(void **state)
{
	struct order_price_cache *c = order_price_cache_new(1000, TTL);
	char id[32];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "P%09d", i);
		assert_int_equal(order_price_cache_put(c, id, i, i), 0);
	}
	assert_true(order_price_cache_size(c) <= 1000);
	assert_true(order_price_cache_size(c) > 900); /* stripes fill evenly */
	order_price_cache_free(c);
}

static void test_price_cache_rejects_bad_keys(void **state)
{
	struct order_price_cache *c = order_price_cache_new(10, TTL);
	char id[SVC_ID_MAX + 2];
	int64_t price;

	(void)state;
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(order_price_cache_put(c, id, 1, 0), SVC_EPERMANENT);
	assert_int_equal(order_price_cache_put(c, "", 1, 0), SVC_EPERMANENT);
	assert_int_equal(order_price_cache_put(c, NULL, 1, 0), SVC_EPERMANENT);
	assert_false(order_price_cache_get(c, NULL, 0, &price));
	assert_int_equal(order_price_cache_size(c), 0);
	order_price_cache_free(c);
}

static void test_price_cache_off_when_size_or_ttl_is_zero(void **state)
{
	int64_t price;

	(void)state;
	assert_null(order_price_cache_new(0, TTL));
	assert_null(order_price_cache_new(10, 0));
	/* a NULL cache never hits and stores nothing */
	assert_int_equal(order_price_cache_put(NULL, "P1", 1, 0), 0);
	assert_false(order_price_cache_get(NULL, "P1", 0, &price));
	assert_int_equal(order_price_cache_size(NULL), 0);
	order_price_cache_free(NULL);
}

struct worker_arg {
	struct order_price_cache *c;
	int base;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	char id[32];
	int64_t price;

	for (int i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "P%d", (a->base + i) % 3000);
		if (order_price_cache_get(a->c, id, i, &price) && price != (a->base + i) % 3000)
			return (void *)1;
		order_price_cache_put(a->c, id, (a->base + i) % 3000, i);
	}
	return NULL;
}

static void test_price_cache_is_safe_under_concurrent_use(void **state)
{
	struct order_price_cache *c = order_price_cache_new(1000, 50);
	struct worker_arg args[4];
	pthread_t t[4];
	void *ret;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		args[i].c = c;
		args[i].base = i * 777;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_true(order_price_cache_size(c) <= 1000);
	order_price_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_price_cache_misses_an_unknown_product),
	        cmocka_unit_test(test_price_cache_hits_a_stored_price_until_ttl_passes),
	        cmocka_unit_test(test_price_cache_put_refreshes_price_and_age),
	        cmocka_unit_test(test_price_cache_keeps_products_apart),
	        cmocka_unit_test(test_price_cache_evicts_the_oldest_entry_when_full),
	        cmocka_unit_test(test_price_cache_never_grows_past_its_bound),
	        cmocka_unit_test(test_price_cache_rejects_bad_keys),
	        cmocka_unit_test(test_price_cache_off_when_size_or_ttl_is_zero),
	        cmocka_unit_test(test_price_cache_is_safe_under_concurrent_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
