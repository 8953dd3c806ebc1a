/* Unit tests of resilience/sidecar/dlq.h: the provenance headers of a dead letter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/dlq.h"

/* The value of header `name` as a string (copied into buf). */
static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t len)
{
	const void *value = NULL;
	size_t size = 0;

	if (rd_kafka_header_get_last(h, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (size >= len)
		size = len - 1;
	memcpy(buf, value, size);
	buf[size] = '\0';
	return buf;
}

static void test_dlq_headers_say_why_and_where_from(void **state)
{
	(void)state;
	struct sc_dlq_record r = {
	        .source_topic = "order.events",
	        .source_partition = 4,
	        .source_offset = 987654321012LL,
	        .key = "order-42",
	        .keylen = 8,
	        .payload = "{}",
	        .len = 2,
	        .reason = "unknown event type",
	        .attempts = 3,
	};
	char buf[64];
	rd_kafka_headers_t *h = sc_dlq_headers(&r, "inventory", 1700000000123LL);

	assert_non_null(h);
	assert_string_equal(header(h, "dlq-reason", buf, sizeof(buf)), "unknown event type");
	assert_string_equal(header(h, "dlq-source-topic", buf, sizeof(buf)), "order.events");
	assert_string_equal(header(h, "dlq-source-partition", buf, sizeof(buf)), "4");
	assert_string_equal(header(h, "dlq-source-offset", buf, sizeof(buf)), "987654321012");
	assert_string_equal(header(h, "dlq-timestamp", buf, sizeof(buf)), "1700000000123");
	assert_string_equal(header(h, "dlq-attempts", buf, sizeof(buf)), "3");
	assert_string_equal(header(h, "dlq-service", buf, sizeof(buf)), "inventory");
	assert_string_equal(header(h, "order-id", buf, sizeof(buf)), "order-42");
	rd_kafka_headers_destroy(h);
}

static void test_dlq_headers_tolerate_missing_key_and_reason(void **state)
{
	(void)state;
	struct sc_dlq_record r = {.source_topic = "t", .reason = NULL, .key = NULL};
	char buf[16];
	rd_kafka_headers_t *h = sc_dlq_headers(&r, "order", 1);

	assert_non_null(h);
	assert_string_equal(header(h, "order-id", buf, sizeof(buf)), "");
	assert_string_equal(header(h, "dlq-reason", buf, sizeof(buf)), "");
	rd_kafka_headers_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dlq_headers_say_why_and_where_from),
	        cmocka_unit_test(test_dlq_headers_tolerate_missing_key_and_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
