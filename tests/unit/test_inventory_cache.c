/*
 * Unit tests of services/inventory/cache.c (cache.h) against the fake Redis
 * (fake_redis.h): hits and misses, the version-guarded write, the dirty list
 * cleaned up once Redis answers again, and the "redis" breaker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/inventory/cache.h"
#include "svc/error.h"
#include "svc/redis.h"
#include "svc/service.h"
#include "tests/unit/fake_redis.h"

struct fixture {
	struct fake_redis *fr;
	struct svc_ctx ctx;
	struct inv_cache *cache;
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	inv_cache_free(f->cache);
	svc_redis_free(f->ctx.redis);
	fake_redis_free(f->fr);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct svc_redis_config cfg = {.pool_size = 1};

	*state = f;
	if (!f)
		return -1;
	if (!(f->fr = fake_redis_new()))
		goto fail;
	/* opens once half of 3 or 4 calls failed, for 60 s */
	setenv("REDIS_BREAKER_WINDOW", "4", 1);
	setenv("REDIS_BREAKER_MIN_CALLS", "3", 1);
	setenv("REDIS_BREAKER_OPEN_MS", "60000", 1);
	fake_redis_install(f->fr, &cfg);
	f->ctx.redis = svc_redis_open(&cfg);
	f->cache = inv_cache_new();
	f->ctx.user = f->cache;
	if (f->ctx.redis && f->cache)
		return 0;
fail:
	teardown(state);
	return -1;
}

/* A RESP array of `n` bulk strings. */
static void resp_array(char *out, size_t len, const char *const *v, size_t n)
{
	size_t used = (size_t)snprintf(out, len, "*%zu\r\n", n);

	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, len - used, "$%zu\r\n%s\r\n", strlen(v[i]),
		                         v[i]);
}

static const char *const full_entry[] = {"version", "7", "available", "10",  "reserved", "2",
                                         "sold",    "1", "price",     "999", "name",     "Hat"};

static void test_cache_load_hit_fills_the_product(void **state)
{
	struct fixture *f = *state;
	struct inv_product p;
	char resp[512];

	resp_array(resp, sizeof(resp), full_entry, 12);
	fake_redis_reply(f->fr, resp);
	assert_int_equal(inv_cache_load(&f->ctx, "p-1", &p), 0);
	assert_string_equal(fake_redis_command(f->fr, 0), "HGETALL inv:p-1");
	assert_true(p.c.found);
	assert_string_equal(p.product_id, "p-1");
	assert_string_equal(p.name, "Hat");
	assert_int_equal(p.c.available, 10);
	assert_int_equal(p.c.reserved, 2);
	assert_int_equal(p.c.sold, 1);
	assert_int_equal(p.c.price, 999);
	assert_int_equal(p.c.version, 7);
}

static void test_cache_load_of_an_incomplete_or_odd_entry_is_a_miss(void **state)
{
	struct fixture *f = *state;
	struct inv_product p;
	const char *odd[12];
	char resp[512];

	resp_array(resp, sizeof(resp), full_entry, 10); /* no name */
	fake_redis_reply(f->fr, resp);
	assert_int_equal(inv_cache_load(&f->ctx, "p-1", &p), SVC_ENOTFOUND);
	memcpy(odd, full_entry, sizeof(odd));
	odd[3] = "ten";
	resp_array(resp, sizeof(resp), odd, 12);
	fake_redis_reply(f->fr, resp);
	assert_int_equal(inv_cache_load(&f->ctx, "p-1", &p), SVC_ENOTFOUND);
	fake_redis_reply(f->fr, "*0\r\n"); /* absent key */
	assert_int_equal(inv_cache_load(&f->ctx, "p-1", &p), SVC_ENOTFOUND);
}

static void test_cache_store_is_one_version_guarded_eval(void **state)
{
	struct fixture *f = *state;
	struct inv_product p = {.product_id = "p-1", .name = "Hat"};
	const char *cmd;

	p.c = (struct inv_counts){.found = true,
	                          .available = 10,
	                          .reserved = 2,
	                          .sold = 1,
	                          .price = 999,
	                          .version = 7};
	fake_redis_reply(f->fr, ":1\r\n");
	inv_cache_store(&f->ctx, &p);
	assert_int_equal(fake_redis_commands(f->fr), 1);
	cmd = fake_redis_command(f->fr, 0);
	assert_memory_equal(cmd, "EVAL ", 5);
	assert_non_null(strstr(cmd, "tonumber(v) < tonumber(ARGV[a + 1])"));
	/* numkeys, the key, the TTL, then version, counts, price, name */
	assert_non_null(strstr(cmd, " 1 inv:p-1 300 7 10 2 1 999 Hat"));
}

static void test_cache_store_many_sends_every_product_at_once(void **state)
{
	struct fixture *f = *state;
	struct inv_product a = {.product_id = "a", .name = "A"},
	                   b = {.product_id = "b", .name = "B"};
	const struct inv_product *ps[] = {&a, &b};

	a.c.version = 1;
	b.c.version = 2;
	inv_cache_store_many(&f->ctx, ps, 2);
	assert_int_equal(fake_redis_commands(f->fr), 1);
	assert_non_null(strstr(fake_redis_command(f->fr, 0), " 2 inv:a inv:b 300 1 "));
}

static void test_cache_failed_store_deletes_the_copy_once_redis_is_back(void **state)
{
	struct fixture *f = *state;
	struct inv_product p = {.product_id = "p-9", .name = "Cap"}, out;

	fake_redis_fail_io(f->fr);
	inv_cache_store(&f->ctx, &p); /* not written: the cached copy may be stale */
	fake_redis_reply(f->fr, "*0\r\n");
	assert_int_equal(inv_cache_load(&f->ctx, "p-9", &out), SVC_ENOTFOUND);
	/* the next success cleans up: DEL of the stale copy */
	assert_int_equal(fake_redis_commands(f->fr), 3);
	assert_string_equal(fake_redis_command(f->fr, 2), "DEL inv:p-9");
	/* and only once */
	fake_redis_reply(f->fr, "*0\r\n");
	assert_int_equal(inv_cache_load(&f->ctx, "p-9", &out), SVC_ENOTFOUND);
	assert_int_equal(fake_redis_commands(f->fr), 4);
}

static void test_cache_open_breaker_skips_redis(void **state)
{
	struct fixture *f = *state;
	struct inv_product p = {.product_id = "p-1"};
	json_t *details = json_object();

	for (int i = 0; i < 3; i++) {
		fake_redis_fail_io(f->fr);
		assert_int_equal(inv_cache_load(&f->ctx, "p-1", &p), SVC_ENOTFOUND);
	}
	size_t sent = fake_redis_commands(f->fr);
	assert_int_equal(inv_cache_load(&f->ctx, "p-1", &p), SVC_ENOTFOUND);
	inv_cache_store(&f->ctx, &p);
	assert_int_equal(fake_redis_commands(f->fr), sent); /* nothing more went out */
	inv_cache_status(&f->ctx, details);
	assert_string_equal(json_string_value(json_object_get(details, "redisBreaker")), "open");
	json_decref(details);
}

static void test_cache_load_many_fills_the_hits_only(void **state)
{
	struct fixture *f = *state;
	struct inv_product a = {.product_id = "a"}, b = {.product_id = "b", .name = "kept"};
	struct inv_product *ps[] = {&a, &b};
	char hash[512], resp[600];

	resp_array(hash, sizeof(hash), full_entry, 12);
	snprintf(resp, sizeof(resp), "*2\r\n%s*0\r\n", hash);
	fake_redis_reply(f->fr, resp);
	inv_cache_load_many(&f->ctx, ps, 2);
	assert_true(a.c.found);
	assert_string_equal(a.product_id, "a");
	assert_int_equal(a.c.available, 10);
	assert_false(b.c.found);
	assert_string_equal(b.name, "kept");
	assert_non_null(strstr(fake_redis_command(f->fr, 0), " 2 inv:a inv:b"));
}

static void test_cache_without_redis_does_nothing(void **state)
{
	struct fixture *f = *state;
	struct svc_ctx none = {.user = f->cache};
	struct inv_product p = {.product_id = "p"};
	json_t *details = json_object();

	assert_int_equal(inv_cache_load(&none, "p", &p), SVC_ENOTFOUND);
	inv_cache_store(&none, &p);
	inv_cache_status(&none, details);
	assert_int_equal(json_object_size(details), 0);
	assert_int_equal(fake_redis_commands(f->fr), 0);
	json_decref(details);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_cache_load_hit_fills_the_product, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_cache_load_of_an_incomplete_or_odd_entry_is_a_miss, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cache_store_is_one_version_guarded_eval, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_cache_store_many_sends_every_product_at_once,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_cache_failed_store_deletes_the_copy_once_redis_is_back, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_cache_open_breaker_skips_redis, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_cache_load_many_fills_the_hits_only, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_cache_without_redis_does_nothing, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
