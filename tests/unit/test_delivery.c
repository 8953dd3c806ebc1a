/* Unit tests of resilience/sidecar/delivery.h: the /internal/events wire format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The item of `m` parsed back (as the service parses it), or NULL when
 * sc_delivery_item_add() refused it (rc and reason say why). */
static json_t *item(const struct sc_delivery_msg *m, int *rc, char *reason, size_t reasonlen)
{
	struct svc_buf b;
	json_t *out = NULL;

	svc_buf_init(&b);
	svc_buf_adds(&b, "[");
	*rc = sc_delivery_item_add(&b, m, reason, reasonlen);
	if (*rc == 0) {
		json_error_t err;
		svc_buf_adds(&b, "]");
		out = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
		if (!out)
			fail_msg("item is not JSON: %s: %s", err.text, b.data);
		json_incref(json_array_get(out, 0));
		json_t *first = json_array_get(out, 0);
		json_decref(out);
		out = first;
	} else {
		assert_string_equal(b.data, "["); /* nothing of it appended */
	}
	svc_buf_release(&b);
	return out;
}

static const char event[] = "{\"eventId\":\"0190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8e\","
                            "\"type\":\"OrderCreatedEvent\",\"data\":{\"n\":[1,2.5e3,-0]}}";

static void test_delivery_item_carries_position_key_and_object_value(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg("order-1", event, strlen(event));
	char reason[64] = "";
	int rc;
	json_t *it = item(&m, &rc, reason, sizeof(reason));

	assert_non_null(it);
	assert_string_equal(json_string_value(json_object_get(it, "topic")), "order.events");
	assert_int_equal(json_integer_value(json_object_get(it, "partition")), 3);
	assert_int_equal(json_integer_value(json_object_get(it, "offset")), 1234);
	assert_string_equal(json_string_value(json_object_get(it, "key")), "order-1");
	json_t *value = json_object_get(it, "value");
	assert_true(json_is_object(value));
	assert_string_equal(json_string_value(json_object_get(value, "type")), "OrderCreatedEvent");
	json_decref(it);
}

static void test_delivery_item_embeds_the_payload_byte_for_byte(void **state)
{
	(void)state;
	const char *value = " {\"a\" : [1, {\"b\":null}]}\n";
	struct sc_delivery_msg m = msg("k", value, strlen(value));
	struct svc_buf b;
	char reason[64] = "";

	svc_buf_init(&b);
	assert_int_equal(sc_delivery_item_add(&b, &m, reason, sizeof(reason)), 0);
	assert_string_equal(b.data, "{\"topic\":\"order.events\",\"partition\":3,\"offset\":1234,"
	                            "\"key\":\"k\",\"value\": {\"a\" : [1, {\"b\":null}]}\n}");
	svc_buf_release(&b);
}

static void test_delivery_item_sends_missing_key_as_empty_string(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg(NULL, "{}", 2);
	char reason[64];
	int rc;
	json_t *it = item(&m, &rc, reason, sizeof(reason));

	assert_non_null(it);
	assert_string_equal(json_string_value(json_object_get(it, "key")), "");
	json_decref(it);
}

/* The payload of `m` went as a JSON string holding it byte for byte. */
static void assert_sent_as_string(const char *value, size_t len)
{
	struct sc_delivery_msg m = msg("k", value, len);
	char reason[64];
	int rc;
	json_t *it = item(&m, &rc, reason, sizeof(reason));

	assert_non_null(it);
	json_t *v = json_object_get(it, "value");
	assert_true(json_is_string(v));
	assert_int_equal(json_string_length(v), len);
	assert_memory_equal(json_string_value(v), value, len);
	json_decref(it);
}

static void
test_delivery_item_sends_non_json_text_as_a_string_for_the_service_to_reject(void **state)
{
	(void)state;
	assert_sent_as_string("not json", 8);
	assert_sent_as_string("{\"a\":1", 6);
	assert_sent_as_string("{\"a\":1}}", 8);
	assert_sent_as_string("", 0);
}

static void test_delivery_item_sends_json_that_is_not_an_object_as_a_string(void **state)
{
	(void)state;
	assert_sent_as_string("[1]", 3);
	assert_sent_as_string("\"x\"", 3);
	assert_sent_as_string("12", 2);
	assert_sent_as_string("null", 4);
}

static void test_delivery_item_sends_what_jansson_would_refuse_as_a_string(void **state)
{
	(void)state;
	assert_sent_as_string("{\"a\":1,\"a\":2}", 13);            /* duplicate key */
	assert_sent_as_string("{\"a\":\"\\u0000\"}", 14);          /* NUL escape */
	assert_sent_as_string("{\"a\":99999999999999999999}", 26); /* too big integer */
	assert_sent_as_string("{\"a\":1e999}", 11);                /* real overflow */
	assert_sent_as_string("{\"a\":\"\\ud800\"}", 14);          /* lone surrogate */
}

static void test_delivery_item_escapes_embedded_nul_and_control_bytes(void **state)
{
	(void)state;
	assert_sent_as_string("{\"a\":1}\0x", 9);
	assert_sent_as_string("{\"a\":\"\n\"}", 9);
	assert_sent_as_string("\"\\\b\f\n\r\t\x01\x1f\x7f", 11);
}

static void test_delivery_item_sends_deep_nesting_as_a_string(void **state)
{
	(void)state;
	char deep[2 * SC_DELIVERY_VALUE_DEPTH + 3];
	size_t n = 0;

	/* {"a":[[...]]}: the object and SC_DELIVERY_VALUE_DEPTH arrays */
	for (size_t i = 0; i < SC_DELIVERY_VALUE_DEPTH; i++)
		deep[n++] = '[';
	for (size_t i = 0; i < SC_DELIVERY_VALUE_DEPTH; i++)
		deep[n++] = ']';
	char value[sizeof(deep) + 8];
	int len = snprintf(value, sizeof(value), "{\"a\":%.*s}", (int)n, deep);
	assert_sent_as_string(value, (size_t)len);

	/* one level less fits */
	len = snprintf(value, sizeof(value), "{\"a\":%.*s}", (int)n - 2, deep + 1);
	struct sc_delivery_msg m = msg("k", value, (size_t)len);
	char reason[64];
	int rc;
	json_t *it = item(&m, &rc, reason, sizeof(reason));
	assert_true(json_is_object(json_object_get(it, "value")));
	json_decref(it);
}

static void test_delivery_item_escapes_a_huge_key(void **state)
{
	(void)state;
	size_t len = 1 << 20;
	char *key = malloc(len + 1);
	assert_non_null(key);
	for (size_t i = 0; i < len; i++)
		key[i] = "a\"\\\n"[i % 4];
	key[len] = '\0';
	struct sc_delivery_msg m = msg(key, "{}", 2);
	char reason[64];
	int rc;
	json_t *it = item(&m, &rc, reason, sizeof(reason));

	assert_non_null(it);
	json_t *k = json_object_get(it, "key");
	assert_int_equal(json_string_length(k), len);
	assert_memory_equal(json_string_value(k), key, len);
	json_decref(it);
	free(key);
}

static void test_delivery_item_refuses_invalid_utf8_payload(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "\xff\xfe", "{\"a\":\"\xc0\xaf\"}", /* overlong */
	        "{\"a\":\"\xed\xa0\x80\"}",         /* surrogate */
	        "{\"a\":\"\xe2\x82\"}",             /* cut */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sc_delivery_msg m = msg("k", bad[i], strlen(bad[i]));
		char reason[64] = "";
		int rc;
		assert_null(item(&m, &rc, reason, sizeof(reason)));
		assert_int_equal(rc, SVC_EPERMANENT);
		assert_non_null(strstr(reason, "payload"));
		assert_non_null(strstr(reason, "UTF-8"));
	}
}

static void test_delivery_item_refuses_invalid_utf8_key(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg("\xc3", "{}", 2);
	char reason[64] = "";
	int rc;

	assert_null(item(&m, &rc, reason, sizeof(reason)));
	assert_int_equal(rc, SVC_EPERMANENT);
	assert_non_null(strstr(reason, "key"));
}

static void test_delivery_item_refuses_missing_payload(void **state)
{
	(void)state;
	struct sc_delivery_msg m = msg("k", NULL, 0);
	char reason[64] = "";
	int rc;

	assert_null(item(&m, &rc, reason, sizeof(reason)));
	assert_int_equal(rc, SVC_EPERMANENT);
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
	        cmocka_unit_test(test_delivery_item_carries_position_key_and_object_value),
	        cmocka_unit_test(test_delivery_item_embeds_the_payload_byte_for_byte),
	        cmocka_unit_test(test_delivery_item_sends_missing_key_as_empty_string),
	        cmocka_unit_test(
	                test_delivery_item_sends_non_json_text_as_a_string_for_the_service_to_reject),
	        cmocka_unit_test(test_delivery_item_sends_json_that_is_not_an_object_as_a_string),
	        cmocka_unit_test(test_delivery_item_sends_what_jansson_would_refuse_as_a_string),
	        cmocka_unit_test(test_delivery_item_escapes_embedded_nul_and_control_bytes),
	        cmocka_unit_test(test_delivery_item_sends_deep_nesting_as_a_string),
	        cmocka_unit_test(test_delivery_item_escapes_a_huge_key),
	        cmocka_unit_test(test_delivery_item_refuses_invalid_utf8_payload),
	        cmocka_unit_test(test_delivery_item_refuses_invalid_utf8_key),
	        cmocka_unit_test(test_delivery_item_refuses_missing_payload),
	        cmocka_unit_test(test_delivery_parse_maps_statuses_to_verdicts),
	        cmocka_unit_test(test_delivery_parse_treats_unknown_status_as_retry),
	        cmocka_unit_test(test_delivery_parse_gives_rejection_a_default_reason),
	        cmocka_unit_test(test_delivery_parse_refuses_wrong_result_count),
	        cmocka_unit_test(test_delivery_parse_refuses_malformed_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
