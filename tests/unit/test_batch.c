/* Unit tests of resilience/sidecar/batch.h: delivery bodies under a byte cap, halving on 413. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "resilience/sidecar/batch.h"
#include "svc/error.h"

static void test_batch_body_holds_items_in_order(void **state)
{
	struct sc_batch b;
	size_t len = 0;

	(void)state;
	sc_batch_init(&b, 1024);
	assert_int_equal(sc_batch_add(&b, "{\"a\":1}", 7), 0);
	assert_int_equal(sc_batch_add(&b, "{\"b\":2}", 7), 0);
	const char *body = sc_batch_body(&b, &len);
	assert_string_equal(body, "{\"messages\":[{\"a\":1},{\"b\":2}]}");
	assert_int_equal(len, strlen(body));
	assert_int_equal(b.count, 2);
	sc_batch_release(&b);
}

static void test_batch_stops_before_the_byte_cap(void **state)
{
	/* {"messages":[ is 13 bytes, ]} 2: 13 + 10 + 1 + 10 + 2 = 36 */
	struct sc_batch b;
	size_t len = 0;

	(void)state;
	sc_batch_init(&b, 36);
	assert_int_equal(sc_batch_add(&b, "\"01234567\"", 10), 0);
	assert_int_equal(sc_batch_add(&b, "\"01234567\"", 10), 0);
	assert_int_equal(sc_batch_add(&b, "1", 1), SC_BATCH_FULL);
	assert_int_equal(b.count, 2);
	sc_batch_body(&b, &len);
	assert_int_equal(len, 36);
	sc_batch_release(&b);
}

static void test_batch_takes_one_item_larger_than_the_cap(void **state)
{
	struct sc_batch b;
	size_t len = 0;
	char big[100];

	(void)state;
	memset(big, '1', sizeof(big));
	sc_batch_init(&b, 20);
	assert_int_equal(sc_batch_add(&b, big, sizeof(big)), 0);
	assert_int_equal(sc_batch_add(&b, "2", 1), SC_BATCH_FULL);
	assert_non_null(sc_batch_body(&b, &len));
	assert_int_equal(len, 13 + 100 + 2);
	sc_batch_release(&b);
}

static void test_batch_reset_starts_an_empty_body(void **state)
{
	struct sc_batch b;
	size_t len = 0;

	(void)state;
	sc_batch_init(&b, 1024);
	sc_batch_add(&b, "1", 1);
	sc_batch_body(&b, &len);
	sc_batch_reset(&b);
	assert_int_equal(b.count, 0);
	sc_batch_add(&b, "2", 1);
	assert_string_equal(sc_batch_body(&b, &len), "{\"messages\":[2]}");
	sc_batch_reset(&b);
	assert_string_equal(sc_batch_body(&b, &len), "{\"messages\":[]}");
	sc_batch_release(&b);
}

static void test_batch_adds_nothing_once_closed(void **state)
{
	struct sc_batch b;
	size_t len = 0;

	(void)state;
	sc_batch_init(&b, 1024);
	sc_batch_add(&b, "1", 1);
	sc_batch_body(&b, &len);
	assert_int_equal(sc_batch_add(&b, "2", 1), SC_BATCH_FULL);
	assert_string_equal(sc_batch_body(&b, &len), "{\"messages\":[1]}");
	sc_batch_release(&b);
}

/* A message at `offset` with payload `value`. */
static struct sc_delivery_msg msg(int64_t offset, const char *value)
{
	struct sc_delivery_msg m = {
	        .topic = "order.events",
	        .partition = 0,
	        .offset = offset,
	        .key = "k",
	        .keylen = 1,
	        .value = value,
	        .len = strlen(value),
	};
	return m;
}

/* Closes the body of `b` and checks it is JSON with n messages. */
static void assert_body_holds(struct sc_batch *b, size_t n)
{
	size_t len = 0;
	const char *text = sc_batch_body(b, &len);
	json_t *body;

	assert_non_null(text);
	body = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	assert_int_equal(json_array_size(json_object_get(body, "messages")), n);
	assert_int_equal(b->count, n);
	json_decref(body);
}

static void test_batch_add_msg_writes_items_straight_into_the_body(void **state)
{
	struct sc_batch b;
	struct sc_delivery_msg m1 = msg(1, "{\"a\":1}"), m2 = msg(2, "[1]");
	char reason[64];
	size_t len = 0;

	(void)state;
	sc_batch_init(&b, 1024);
	assert_int_equal(sc_batch_add_msg(&b, &m1, reason, sizeof(reason)), 0);
	assert_int_equal(sc_batch_add_msg(&b, &m2, reason, sizeof(reason)), 0);
	assert_string_equal(
	        sc_batch_body(&b, &len),
	        "{\"messages\":["
	        "{\"topic\":\"order.events\",\"partition\":0,\"offset\":1,\"key\":\"k\","
	        "\"value\":{\"a\":1}},"
	        "{\"topic\":\"order.events\",\"partition\":0,\"offset\":2,\"key\":\"k\","
	        "\"value\":\"[1]\"}]}");
	assert_int_equal(b.count, 2);
	sc_batch_release(&b);
}

static void test_batch_add_msg_leaves_nothing_of_a_refused_message(void **state)
{
	struct sc_batch b;
	struct sc_delivery_msg bad = msg(0, "{\"a\":\"\xff\"}"), good = msg(1, "{}");
	char reason[64] = "";

	(void)state;
	sc_batch_init(&b, 1024);
	/* first, between two and last */
	assert_int_equal(sc_batch_add_msg(&b, &bad, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_non_null(strstr(reason, "UTF-8"));
	assert_int_equal(sc_batch_add_msg(&b, &good, reason, sizeof(reason)), 0);
	assert_int_equal(sc_batch_add_msg(&b, &bad, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_int_equal(sc_batch_add_msg(&b, &good, reason, sizeof(reason)), 0);
	assert_int_equal(sc_batch_add_msg(&b, &bad, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_body_holds(&b, 2);
	sc_batch_release(&b);
}

static void test_batch_add_msg_stops_before_the_byte_cap(void **state)
{
	struct sc_batch b;
	struct sc_delivery_msg m = msg(7, "{}");
	char reason[64];
	size_t one;

	(void)state;
	/* the cap of a body with exactly two of these items */
	sc_batch_init(&b, 1 << 20);
	assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), 0);
	one = b.body.len - 13;
	sc_batch_release(&b);

	sc_batch_init(&b, 13 + one + 1 + one + 2);
	assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), 0);
	assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), 0);
	assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), SC_BATCH_FULL);
	assert_body_holds(&b, 2);
	assert_int_equal(b.body.len, 13 + one + 1 + one + 2);
	sc_batch_release(&b);
}

static void test_batch_add_msg_takes_one_message_larger_than_the_cap(void **state)
{
	struct sc_batch b;
	struct sc_delivery_msg m = msg(7, "{\"pad\":\"0123456789012345678901234567890123\"}");
	char reason[64];

	(void)state;
	sc_batch_init(&b, 20);
	assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), 0);
	assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), SC_BATCH_FULL);
	assert_body_holds(&b, 1);
	sc_batch_release(&b);
}

static void test_batch_shrink_halves_down_to_one(void **state)
{
	(void)state;
	assert_int_equal(sc_batch_shrink(200), 100);
	assert_int_equal(sc_batch_shrink(3), 1);
	assert_int_equal(sc_batch_shrink(2), 1);
	assert_int_equal(sc_batch_shrink(1), 1);
	assert_int_equal(sc_batch_shrink(0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_batch_body_holds_items_in_order),
	        cmocka_unit_test(test_batch_stops_before_the_byte_cap),
	        cmocka_unit_test(test_batch_takes_one_item_larger_than_the_cap),
	        cmocka_unit_test(test_batch_reset_starts_an_empty_body),
	        cmocka_unit_test(test_batch_adds_nothing_once_closed),
	        cmocka_unit_test(test_batch_add_msg_writes_items_straight_into_the_body),
	        cmocka_unit_test(test_batch_add_msg_leaves_nothing_of_a_refused_message),
	        cmocka_unit_test(test_batch_add_msg_stops_before_the_byte_cap),
	        cmocka_unit_test(test_batch_add_msg_takes_one_message_larger_than_the_cap),
	        cmocka_unit_test(test_batch_shrink_halves_down_to_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
