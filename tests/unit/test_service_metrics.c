/* Unit tests of the GET /metrics counters: svc_metrics_json() and the
 * consumer's answer counts (svc/service.h, svc/consumer.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "svc/consumer.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/service.h"
#include "tests/unit/consumer_stub.h"

static json_int_t member(json_t *obj, const char *group, const char *name)
{
	return json_integer_value(json_object_get(json_object_get(obj, group), name));
}

static void test_metrics_json_has_http_and_event_counters(void **state)
{
	struct svc_http_stats http;
	struct svc_consumer_stats ev;
	json_t *out;

	(void)state;
	atomic_init(&http.requests, 12);
	atomic_init(&http.errors5xx, 2);
	atomic_init(&ev.ok, 5);
	atomic_init(&ev.duplicate, 1);
	atomic_init(&ev.ignored, 0);
	atomic_init(&ev.retry, 3);
	atomic_init(&ev.rejected, 4);
	out = svc_metrics_json("order", &http, &ev);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "service")), "order");
	assert_int_equal(member(out, "http", "requests"), 12);
	assert_int_equal(member(out, "http", "errors5xx"), 2);
	assert_int_equal(member(out, "events", "ok"), 5);
	assert_int_equal(member(out, "events", "duplicate"), 1);
	assert_int_equal(member(out, "events", "ignored"), 0);
	assert_int_equal(member(out, "events", "retry"), 3);
	assert_int_equal(member(out, "events", "rejected"), 4);
	json_decref(out);
}

static void test_metrics_json_without_consumer_has_no_events(void **state)
{
	struct svc_http_stats http;
	json_t *out;

	(void)state;
	atomic_init(&http.requests, 0);
	atomic_init(&http.errors5xx, 0);
	out = svc_metrics_json("gateway", &http, NULL);
	assert_non_null(out);
	assert_null(json_object_get(out, "events"));
	assert_int_equal(member(out, "http", "requests"), 0);
	json_decref(out);
}

static const struct svc_consumer_ops ops = {.apply = never_applied};
static const struct svc_service svc = {.name = "test", .source = "test", .consumer = &ops};

static void test_consumer_counts_each_answer(void **state)
{
	static const char event[] =
	        "{\\\"eventId\\\":\\\"0190a5b4-0000-7000-8000-000000000001\\\","
	        "\\\"type\\\":\\\"OrderCreatedEvent\\\",\\\"timestamp\\\":1,\\\"data\\\":{},"
	        "\\\"metadata\\\":{\\\"correlationId\\\":\\\"o-1\\\",\\\"version\\\":\\\"1\\\","
	        "\\\"source\\\":\\\"order-service\\\"}}";
	struct svc_db_config dbcfg = {.socket = "/nonexistent/mysqld.sock",
	                              .user = "nobody",
	                              .database = "none",
	                              .pool_size = 1,
	                              .timeout_s = 1};
	struct svc_consumer_stats ev;
	struct svc_ctx ctx = {.svc = &svc, .events = &ev};
	char body[1024];
	json_t *out;
	int status = 0;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ctx.db = svc_db_open(&dbcfg);
	assert_non_null(ctx.db);
	/* rejected (no topic), rejected (not a string), then a valid event the
	 * unreachable database turns into retry, and the one after it retry too. */
	snprintf(body, sizeof(body),
	         "{\"messages\":[{\"value\":\"x\"},{\"topic\":\"t\",\"value\":1},"
	         "{\"topic\":\"t\",\"value\":\"%s\"},{\"topic\":\"t\",\"value\":\"%s\"}]}",
	         event, event);
	out = svc_consumer_handle_batch(&ctx, body, strlen(body), &status);
	assert_non_null(out);
	assert_int_equal(status, 200);
	assert_int_equal(atomic_load(&ev.rejected), 2);
	assert_int_equal(atomic_load(&ev.retry), 2);
	assert_int_equal(atomic_load(&ev.ok), 0);
	json_decref(out);
	/* Without stats nothing is counted, and nothing breaks. */
	ctx.events = NULL;
	out = svc_consumer_handle_batch(&ctx, body, strlen(body), &status);
	assert_non_null(out);
	assert_int_equal(atomic_load(&ev.rejected), 2);
	json_decref(out);
	svc_db_free(ctx.db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_metrics_json_has_http_and_event_counters),
	        cmocka_unit_test(test_metrics_json_without_consumer_has_no_events),
	        cmocka_unit_test(test_consumer_counts_each_answer),
	};

	setenv("LOG_LEVEL", "error", 0);
	svc_log_init("test_service_metrics");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
