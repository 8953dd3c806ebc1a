/* Log lines (svc/log.h): one JSON object per line by default, with the
 * thread's context or explicit fields; LOG_FORMAT=text for humans. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc/log.h"

static char captured[16384];

/* Runs `fn` with stderr going to a temporary file; leaves what it wrote in
 * captured[]. */
static void capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
}

static void use_format(const char *format)
{
	setenv("LOG_FORMAT", format, 1);
	setenv("LOG_LEVEL", "info", 1);
	svc_log_init("order");
}

/* The one JSON line in captured[] (caller decrefs). */
static json_t *json_line(void)
{
	json_error_t err;
	json_t *line;
	size_t len = strlen(captured);

	assert_true(len > 0);
	assert_int_equal(captured[len - 1], '\n');
	assert_null(memchr(captured, '\n', len - 1)); /* exactly one line */
	line = json_loadb(captured, len - 1, 0, &err);
	if (!line)
		fail_msg("not JSON (%s): %s", err.text, captured);
	return line;
}

static void write_plain(void)
{
	svc_info("started on port %d", 8081);
}

static void test_log_json_line_has_timestamp_level_service_message(void **state)
{
	json_t *line;
	const char *ts;

	(void)state;
	use_format("json");
	capture(write_plain);
	line = json_line();
	ts = json_string_value(json_object_get(line, "timestamp"));
	assert_non_null(ts);
	/* RFC 3339, UTC, milliseconds: 2026-11-24T20:17:04.123Z */
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[19], '.');
	assert_int_equal(ts[23], 'Z');
	assert_string_equal(json_string_value(json_object_get(line, "level")), "INFO");
	assert_string_equal(json_string_value(json_object_get(line, "service")), "order");
	assert_string_equal(json_string_value(json_object_get(line, "message")),
	                    "started on port 8081");
	assert_null(json_object_get(line, "orderId"));
	json_decref(line);
}

static void write_in_event_context(void)
{
	svc_log_context_event("0190a1b2-0000-7000-8000-000000000001", "InventoryReserved",
	                      "0190a1b2-0000-7000-8000-0000000000aa");
	svc_warn("slow event");
	svc_log_context_clear();
	svc_warn("after");
}

static void test_log_json_line_carries_the_event_context_until_cleared(void **state)
{
	json_t *first;
	char *nl;

	(void)state;
	use_format("json");
	capture(write_in_event_context);
	nl = strchr(captured, '\n');
	assert_non_null(nl);
	first = json_loadb(captured, (size_t)(nl - captured), 0, NULL);
	assert_non_null(first);
	assert_string_equal(json_string_value(json_object_get(first, "orderId")),
	                    "0190a1b2-0000-7000-8000-0000000000aa");
	assert_string_equal(json_string_value(json_object_get(first, "correlationId")),
	                    "0190a1b2-0000-7000-8000-0000000000aa");
	assert_string_equal(json_string_value(json_object_get(first, "eventId")),
	                    "0190a1b2-0000-7000-8000-000000000001");
	assert_string_equal(json_string_value(json_object_get(first, "eventType")),
	                    "InventoryReserved");
	json_decref(first);
	/* the second line has none of it */
	assert_null(strstr(nl + 1, "orderId"));
	assert_non_null(strstr(nl + 1, "\"message\":\"after\""));
}

static void write_explicit(void)
{
	svc_log_context_order("ctx-order");
	svc_log_with(SVC_LOG_ERROR, &(struct svc_log_fields){.order_id = "explicit-order"},
	             "refused");
	svc_log_context_clear();
}

static void test_log_explicit_fields_win_over_the_context(void **state)
{
	json_t *line;

	(void)state;
	use_format("json");
	capture(write_explicit);
	line = json_line();
	assert_string_equal(json_string_value(json_object_get(line, "orderId")), "explicit-order");
	assert_string_equal(json_string_value(json_object_get(line, "correlationId")), "ctx-order");
	assert_string_equal(json_string_value(json_object_get(line, "level")), "ERROR");
	json_decref(line);
}

static void write_hostile(void)
{
	/* quotes, backslashes, newlines, a control character, invalid UTF-8 */
	svc_warn("bad \"name\" \\ x\ny\r\x01 \xff\xfe end \xc3\xa9");
}

static void test_log_json_escapes_what_network_input_carries(void **state)
{
	json_t *line;

	(void)state;
	use_format("json");
	capture(write_hostile);
	line = json_line();
	assert_string_equal(json_string_value(json_object_get(line, "message")),
	                    "bad \"name\" \\ x\ny\r\x01 \xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9");
	json_decref(line);
}

static void write_long(void)
{
	static char big[10000];

	memset(big, '"', sizeof(big) - 1); /* each escapes to two bytes */
	svc_log_context_order("long-order");
	svc_info("%s", big);
	svc_log_context_clear();
}

static void test_log_json_long_message_is_cut_and_still_one_valid_line(void **state)
{
	json_t *line;
	const char *msg;

	(void)state;
	use_format("json");
	capture(write_long);
	line = json_line();
	msg = json_string_value(json_object_get(line, "message"));
	assert_non_null(msg);
	assert_true(strlen(msg) > 1000);
	assert_string_equal(msg + strlen(msg) - 3, "...");
	/* the fields after the message survive the cut */
	assert_string_equal(json_string_value(json_object_get(line, "orderId")), "long-order");
	json_decref(line);
}

static void write_text(void)
{
	svc_log_context_event("e-1", "PaymentFailed", "o-1");
	svc_info("a\nforged line");
	svc_log_context_clear();
}

static void test_log_text_format_is_one_readable_line_with_fields(void **state)
{
	(void)state;
	use_format("text");
	capture(write_text);
	assert_non_null(strstr(captured, "Z INFO order a forged line [orderId=o-1 "
	                                 "eventType=PaymentFailed eventId=e-1]\n"));
	assert_null(strchr(captured, '{'));
	assert_int_equal(captured[24], ' ');
	use_format("json");
}

static void write_debug(void)
{
	svc_debug("hidden");
}

static void test_log_below_the_level_writes_nothing(void **state)
{
	(void)state;
	use_format("json");
	capture(write_debug);
	assert_string_equal(captured, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_log_json_line_has_timestamp_level_service_message),
	        cmocka_unit_test(test_log_json_line_carries_the_event_context_until_cleared),
	        cmocka_unit_test(test_log_explicit_fields_win_over_the_context),
	        cmocka_unit_test(test_log_json_escapes_what_network_input_carries),
	        cmocka_unit_test(test_log_json_long_message_is_cut_and_still_one_valid_line),
	        cmocka_unit_test(test_log_text_format_is_one_readable_line_with_fields),
	        cmocka_unit_test(test_log_below_the_level_writes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
