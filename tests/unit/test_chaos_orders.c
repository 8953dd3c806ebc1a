/* Unit tests of chaos/orders.h: the services' answers read into what the chaos runner checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/orders.h"
#include "svc/error.h"

#define T_2026 1795550400000LL /* 2026-11-24T20:00:00Z */

static void test_chaos_time_parse_reads_iso_utc_with_or_without_fraction(void **state)
{
	(void)state;
	assert_int_equal(chaos_time_parse_ms("2026-11-24T20:00:00Z"), T_2026);
	assert_int_equal(chaos_time_parse_ms("2026-11-24T20:00:00.123Z"), T_2026 + 123);
	assert_int_equal(chaos_time_parse_ms("2026-11-24T20:00:00.1Z"), T_2026 + 100);
	assert_int_equal(chaos_time_parse_ms("2026-11-24T20:00:01.999999Z"), T_2026 + 1999);
	assert_int_equal(chaos_time_parse_ms("2026-11-24 20:00:00+00:00"), T_2026);
	assert_int_equal(chaos_time_parse_ms("2026-11-24T20:00:00"), T_2026);
	assert_int_equal(chaos_time_parse_ms("2026-11-24T20:00:00+02:00"), -1);
	assert_int_equal(chaos_time_parse_ms("2026-13-24T20:00:00Z"), -1);
	assert_int_equal(chaos_time_parse_ms("yesterday"), -1);
	assert_int_equal(chaos_time_parse_ms(NULL), -1);
}

static void test_chaos_order_read_takes_the_first_terminal_transition(void **state)
{
	json_t *doc =
	        json_loads("{\"orderId\":\"o-1\",\"status\":\"CANCELLED\",\"totalAmount\":1999,"
	                   "\"cancellationReason\":\"step PAYMENT timed out\","
	                   "\"createdAt\":\"2026-11-24T20:00:00.000Z\",\"updatedAt\":\"2026-11-"
	                   "24T20:00:30.000Z\","
	                   "\"history\":[{\"to\":\"PENDING\",\"at\":\"2026-11-24T20:00:00.000Z\"},"
	                   "{\"to\":\"COMPENSATING\",\"at\":\"2026-11-24T20:00:15.000Z\"},"
	                   "{\"to\":\"CANCELLED\",\"at\":\"2026-11-24T20:00:15.500Z\"},"
	                   "{\"from\":\"CANCELLED\",\"to\":\"CANCELLED\",\"at\":\"2026-11-24T20:00:"
	                   "30.000Z\"}]}",
	                   0, NULL);
	struct chaos_order o = {.created_ms = 5};

	(void)state;
	assert_int_equal(chaos_order_read(doc, &o), 0);
	assert_int_equal(o.status, CHAOS_ORDER_CANCELLED);
	assert_int_equal(o.total, 1999);
	assert_int_equal(o.created_ms, T_2026);
	assert_int_equal(o.done_ms, T_2026 + 15500);
	assert_string_equal(o.reason, "step PAYMENT timed out");
	json_decref(doc);
}

static void test_chaos_order_read_open_and_malformed_answers(void **state)
{
	json_t *open = json_pack("{s:s, s:i, s:n}", "status", "PAYMENT_PENDING", "totalAmount", 5,
	                         "cancellationReason");
	json_t *bad = json_pack("{s:s}", "title", "Not Found");
	json_t *nohist = json_pack("{s:s, s:i, s:s}", "status", "CONFIRMED", "totalAmount", 5,
	                           "updatedAt", "2026-11-24T20:00:02Z");
	struct chaos_order o = {.created_ms = 7};

	(void)state;
	assert_int_equal(chaos_order_read(open, &o), 0);
	assert_int_equal(o.status, CHAOS_ORDER_OPEN);
	assert_int_equal(o.done_ms, -1);
	assert_int_equal(o.created_ms, 7); /* no createdAt: kept */
	assert_string_equal(o.reason, "");
	assert_false(chaos_order_terminal(&o));
	assert_int_equal(chaos_order_read(bad, &o), SVC_EPERMANENT);
	assert_int_equal(chaos_order_read(nohist, &o), 0);
	assert_int_equal(o.done_ms, T_2026 + 2000);
	json_decref(open);
	json_decref(bad);
	json_decref(nohist);
}

static void test_chaos_payment_and_product_read(void **state)
{
	json_t *pay = json_pack("{s:s, s:i, s:i}", "status", "REFUNDED", "amount", 1999,
	                        "refundedAmount", 1999);
	json_t *prod = json_pack("{s:i, s:i, s:i}", "available", 90, "reserved", 2, "sold", 8);
	json_t *half = json_pack("{s:i}", "available", 90);
	struct chaos_order o = {0};
	struct chaos_product p = {0};

	(void)state;
	assert_int_equal(chaos_payment_read(pay, &o), 0);
	assert_true(o.pay_found);
	assert_string_equal(o.pay_status, "REFUNDED");
	assert_int_equal(o.pay_refunded, 1999);
	assert_int_equal(chaos_payment_read(prod, &o), SVC_EPERMANENT);
	assert_int_equal(chaos_product_read(prod, &p), 0);
	assert_true(p.found);
	assert_int_equal(p.available + p.reserved + p.sold, 100);
	p.found = false;
	assert_int_equal(chaos_product_read(half, &p), SVC_EPERMANENT);
	assert_false(p.found);
	json_decref(pay);
	json_decref(prod);
	json_decref(half);
}

static void test_chaos_dlq_read_appends_entries_of_each_sidecar(void **state)
{
	json_t *a =
	        json_loads("{\"topic\":\"order.dlq\",\"count\":2,\"entries\":["
	                   "{\"orderId\":\"o-1\",\"reason\":\"bad amount\",\"timestamp\":17},"
	                   "{\"orderId\":null,\"reason\":\"malformed JSON\",\"timestamp\":null}]}",
	                   0, NULL);
	json_t *none = json_pack("{s:[]}", "entries");
	json_t *bad = json_pack("{s:s}", "detail", "nope");
	struct chaos_dlq_entry *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	assert_int_equal(chaos_dlq_read(a, "order", &v, &n, &cap), 0);
	assert_int_equal(chaos_dlq_read(none, "payment", &v, &n, &cap), 0);
	for (int i = 0; i < 10; i++) /* grows past its first allocation */
		assert_int_equal(chaos_dlq_read(a, "inventory", &v, &n, &cap), 0);
	assert_int_equal(n, 22);
	assert_string_equal(v[0].service, "order");
	assert_string_equal(v[0].order_id, "o-1");
	assert_int_equal(v[0].at_ms, 17);
	assert_string_equal(v[1].order_id, "");
	assert_int_equal(v[1].at_ms, -1);
	assert_string_equal(v[21].service, "inventory");
	assert_int_equal(chaos_dlq_read(bad, "x", &v, &n, &cap), SVC_EPERMANENT);
	free(v);
	json_decref(a);
	json_decref(none);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_time_parse_reads_iso_utc_with_or_without_fraction),
	        cmocka_unit_test(test_chaos_order_read_takes_the_first_terminal_transition),
	        cmocka_unit_test(test_chaos_order_read_open_and_malformed_answers),
	        cmocka_unit_test(test_chaos_payment_and_product_read),
	        cmocka_unit_test(test_chaos_dlq_read_appends_entries_of_each_sidecar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
