/* Unit tests of resilience/sidecar/delivery.h: the /internal/events wire format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/delivery.h"
#include "svc/error.h"

static struct sc_delivery_msg msg(const char *key, const char *value, size_t len)
{
	struct sc_delivery_msg m = {
	        .topic = "order.events",
	        .partition = 3,
	        .offset = 1234,
	        .key = key,
	        .keylen = key ? strlen(key) : 0,
	        .value = value,
	        .len = len,
	};
	return m;
}

static void test_delivery_item_carries_position_key_and_raw_value(void **state)
{
	(void)state;
	const char *value = "{\"eventId\":\"x\"}";
	struct sc_delivery_msg m = msg("order-1", value, strlen(value));
	char reason[64] = "";
	json_t *item = sc_delivery_item(&m, reason, sizeof(reason));

	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "topic")), "order.events");
	assert_int_equal(json_integer_value(json_object_get(item, "partition")), 3);
	assert_int_equal(json_integer_value(json_object_get(item, "offset")), 1234);
	assert_string_equal(json_string_value(json_object_get(item, "key")), "order-1");
	assert_string_equal(json_string_value(json_object_get(item, "value")), value);
	json_decref(item);
}

static void test_delivery_item_sends_missing_key_as_empty_string(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg(NULL, "{}", 2);
	char reason[64];
	json_t *item = sc_delivery_item(&m, reason, sizeof(reason));

	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "key")), "");
	json_decref(item);
}

static void test_delivery_item_sends_non_json_text_for_the_service_to_reject(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg("k", "not json", 8);
	char reason[64];
	json_t *item = sc_delivery_item(&m, reason, sizeof(reason));

	assert_non_null(item);
	json_decref(item);
}

static void test_delivery_item_refuses_invalid_utf8_payload(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg("k", "\xff\xfe", 2);
	char reason[64] = "";

	assert_null(sc_delivery_item(&m, reason, sizeof(reason)));
	assert_non_null(strstr(reason, "UTF-8"));
}

static void test_delivery_item_refuses_missing_payload(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg("k", NULL, 0);
	char reason[64] = "";

	assert_null(sc_delivery_item(&m, reason, sizeof(reason)));
	assert_true(reason[0] != '\0');
}

static void test_delivery_parse_maps_statuses_to_verdicts(void **state)
{
	(void)state;
	const char *body =
	        "{\"results\":[{\"status\":\"ok\"},{\"status\":\"duplicate\"},"
	        "{\"status\":\"ignored\"},{\"status\":\"rejected\",\"reason\":\"bad type\"},"
	        "{\"status\":\"retry\",\"reason\":\"db down\"}]}";
	struct sc_delivery_result r[5];

	assert_int_equal(sc_delivery_parse(body, strlen(body), r, 5), 0);
	assert_int_equal(r[0].verdict, SC_VERDICT_DONE);
	assert_int_equal(r[1].verdict, SC_VERDICT_DONE);
	assert_int_equal(r[2].verdict, SC_VERDICT_DONE);
	assert_int_equal(r[3].verdict, SC_VERDICT_REJECTED);
	assert_string_equal(r[3].reason, "bad type");
	assert_int_equal(r[4].verdict, SC_VERDICT_RETRY);
}

static void test_delivery_parse_treats_unknown_status_as_retry(void **state)
{
	(void)state;
	const char *body = "{\"results\":[{\"status\":\"maybe\"},{}]}";
	struct sc_delivery_result r[2];

	assert_int_equal(sc_delivery_parse(body, strlen(body), r, 2), 0);
	assert_int_equal(r[0].verdict, SC_VERDICT_RETRY);
	assert_int_equal(r[1].verdict, SC_VERDICT_RETRY);
}

static void test_delivery_parse_gives_rejection_a_default_reason(void **state)
{
	(void)state;
	const char *body = "{\"results\":[{\"status\":\"rejected\"}]}";
	struct sc_delivery_result r[1];

	assert_int_equal(sc_delivery_parse(body, strlen(body), r, 1), 0);
	assert_true(r[0].reason[0] != '\0');
}

static void test_delivery_parse_refuses_wrong_result_count(void **state)
{
	(void)state;
	const char *body = "{\"results\":[{\"status\":\"ok\"}]}";
	struct sc_delivery_result r[2];

	assert_int_equal(sc_delivery_parse(body, strlen(body), r, 2), SVC_EPERMANENT);
}

static void test_delivery_parse_refuses_malformed_body(void **state)
{
	(void)state;
	struct sc_delivery_result r[1];

	assert_int_equal(sc_delivery_parse("<html>", 6, r, 1), SVC_EPERMANENT);
	assert_int_equal(sc_delivery_parse("{\"results\":{}}", 14, r, 1), SVC_EPERMANENT);
	assert_int_equal(sc_delivery_parse(NULL, 0, r, 1), SVC_EPERMANENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_delivery_item_carries_position_key_and_raw_value),
	        cmocka_unit_test(test_delivery_item_sends_missing_key_as_empty_string),
	        cmocka_unit_test(test_delivery_item_sends_non_json_text_for_the_service_to_reject),
	        cmocka_unit_test(test_delivery_item_refuses_invalid_utf8_payload),
	        cmocka_unit_test(test_delivery_item_refuses_missing_payload),
	        cmocka_unit_test(test_delivery_parse_maps_statuses_to_verdicts),
	        cmocka_unit_test(test_delivery_parse_treats_unknown_status_as_retry),
	        cmocka_unit_test(test_delivery_parse_gives_rejection_a_default_reason),
	        cmocka_unit_test(test_delivery_parse_refuses_wrong_result_count),
	        cmocka_unit_test(test_delivery_parse_refuses_malformed_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
