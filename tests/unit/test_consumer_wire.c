/*
 * Unit tests of the delivery wire end to end, without a database: bodies
 * the sidecar writes (resilience/sidecar/batch.h) answered by the service's
 * handler (svc/consumer.h) with a consumer that accepts no event type, so
 * that each event is decoded and answered "ignored" without a transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/batch.h"
#include "svc/consumer.h"
#include "svc/error.h"
#include "svc/service.h"
#include "tests/unit/consumer_stub.h"

#define EVENT(id)                                                                                  \
	"{\"eventId\":\"0190a5b4-0000-7000-8000-00000000000" id "\","                              \
	"\"type\":\"OrderCreatedEvent\",\"timestamp\":1,\"data\":{\"orderId\":\"o-1\"},"           \
	"\"metadata\":{\"correlationId\":\"o-1\",\"version\":\"1\",\"source\":\"order-service\"}}"

static bool accepts_nothing(const char *type)
{
	(void)type;
	return false;
}

static const struct svc_consumer_ops ops = {.accepts = accepts_nothing, .apply = never_applied};
static const struct svc_service svc = {.name = "test", .source = "test", .consumer = &ops};

/* The service's answer to `body`: its "results" (new reference). */
static json_t *answer(const char *body, size_t len, struct svc_consumer_stats *st)
{
	struct svc_ctx ctx = {.svc = &svc, .events = st};
	int status = 0;
	json_t *out = svc_consumer_handle_batch(&ctx, body, len, &status);
	json_t *results;

	assert_int_equal(status, 200);
	results = json_incref(json_object_get(out, "results"));
	json_decref(out);
	return results;
}

static const char *status_of(json_t *results, size_t i)
{
	return json_string_value(json_object_get(json_array_get(results, i), "status"));
}

static const char *reason_of(json_t *results, size_t i)
{
	return json_string_value(json_object_get(json_array_get(results, i), "reason"));
}

static void test_wire_batch_with_malformed_values_still_delivers_the_others(void **state)
{
	static const char event1[] = EVENT("1"), event2[] = EVENT("2");
	struct {
		const char *value;
		size_t len;
	} values[] = {
	        {event1, sizeof(event1) - 1},
	        {"[1]", 3},
	        {"not json", 8},
	        {"{\"eventId\":\"x\",\"eventId\":\"y\"}", 30},
	        {"{\"a\":\"\0\"}", 8},
	        {event2, sizeof(event2) - 1},
	};
	size_t n = sizeof(values) / sizeof(values[0]), len;
	struct svc_consumer_stats st;
	struct sc_batch b;
	char reason[64];
	json_t *results;

	(void)state;
	memset(&st, 0, sizeof(st));
	sc_batch_init(&b, 1 << 20);
	for (size_t i = 0; i < n; i++) {
		struct sc_delivery_msg m = {.topic = "order.events",
		                            .offset = (int64_t)i,
		                            .value = values[i].value,
		                            .len = values[i].len};
		assert_int_equal(sc_batch_add_msg(&b, &m, reason, sizeof(reason)), 0);
	}
	const char *body = sc_batch_body(&b, &len);
	assert_non_null(strstr(body, "\"value\":{\"eventId\"")); /* sent as objects */
	results = answer(body, len, &st);
	assert_int_equal(json_array_size(results), n);
	assert_string_equal(status_of(results, 0), "ignored");
	for (size_t i = 1; i < n - 1; i++)
		assert_string_equal(status_of(results, i), "rejected");
	assert_string_equal(reason_of(results, 1), "event: not a JSON object");
	assert_non_null(strstr(reason_of(results, 2), "invalid JSON"));
	assert_non_null(strstr(reason_of(results, 3), "duplicate"));
	assert_non_null(strstr(reason_of(results, 4), "invalid JSON"));
	assert_string_equal(status_of(results, n - 1), "ignored");
	assert_int_equal(atomic_load(&st.ignored), 2);
	assert_int_equal(atomic_load(&st.rejected), n - 2);
	json_decref(results);
	sc_batch_release(&b);
}

static void test_wire_takes_the_value_as_a_string_from_an_older_sidecar(void **state)
{
	json_t *body = json_pack("{s:[{s:s,s:i,s:i,s:s,s:s}]}", "messages", "topic", "order.events",
	                         "partition", 0, "offset", 1, "key", "o-1", "value", EVENT("1"));
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *results;

	(void)state;
	assert_non_null(text);
	results = answer(text, strlen(text), NULL);
	assert_string_equal(status_of(results, 0), "ignored");
	json_decref(results);
	free(text);
	json_decref(body);
}

static void test_wire_rejects_a_value_that_is_neither_object_nor_string(void **state)
{
	static const char body[] = "{\"messages\":[{\"topic\":\"t\",\"value\":[1]},"
	                           "{\"topic\":\"t\",\"value\":12}]}";
	json_t *results;

	(void)state;
	results = answer(body, sizeof(body) - 1, NULL);
	assert_string_equal(status_of(results, 0), "rejected");
	assert_string_equal(status_of(results, 1), "rejected");
	assert_non_null(strstr(reason_of(results, 0), "neither an object nor a string"));
	json_decref(results);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_wire_batch_with_malformed_values_still_delivers_the_others),
	        cmocka_unit_test(test_wire_takes_the_value_as_a_string_from_an_older_sidecar),
	        cmocka_unit_test(test_wire_rejects_a_value_that_is_neither_object_nor_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
