/*
 * problem+json replies (svc_http_reply_problem): the body is a complete
 * problem even when the texts echo input that is not valid UTF-8 (found by
 * tests/fuzz: a truncated JSON key, a parser message cut mid-character).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/http.h"

/* The reply's body parsed; the response is released. */
static json_t *reply_body(struct svc_http_response *res)
{
	json_t *p = json_loadb(res->body, res->body_len, 0, NULL);

	free(res->body);
	return p;
}

static void test_problem_reply_has_status_title_detail_and_field(void **state)
{
	struct svc_http_response res = {0};
	json_t *p;

	(void)state;
	svc_http_reply_problem(&res, 422, "Invalid value", "price", "price must be %d or more", 0);
	assert_int_equal(res.status, 422);
	p = reply_body(&res);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 422);
	assert_string_equal(json_string_value(json_object_get(p, "title")), "Invalid value");
	assert_string_equal(json_string_value(json_object_get(p, "field")), "price");
	assert_string_equal(json_string_value(json_object_get(p, "detail")),
	                    "price must be 0 or more");
	json_decref(p);
}

static void test_problem_reply_replaces_invalid_utf8(void **state)
{
	struct svc_http_response res = {0};
	json_t *p;

	(void)state;
	/* "\xc3" is an "é" cut in half, "\xff" never valid, "\xed\xa0\x80" a surrogate */
	svc_http_reply_problem(&res, 422, "Bad \xff", "caf\xc3", "key %s unknown",
	                       "x\xed\xa0\x80y");
	p = reply_body(&res);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 422);
	assert_string_equal(json_string_value(json_object_get(p, "title")), "Bad ?");
	assert_string_equal(json_string_value(json_object_get(p, "field")), "caf?");
	assert_string_equal(json_string_value(json_object_get(p, "detail")), "key x???y unknown");
	json_decref(p);
}

static void test_problem_reply_keeps_valid_utf8(void **state)
{
	struct svc_http_response res = {0};
	json_t *p;

	(void)state;
	svc_http_reply_problem(&res, 400, NULL, "caf\xc3\xa9", "\xe2\x98\x83 \xf0\x9f\x98\x80");
	p = reply_body(&res);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "title")), "Bad Request");
	assert_string_equal(json_string_value(json_object_get(p, "field")), "caf\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(p, "detail")),
	                    "\xe2\x98\x83 \xf0\x9f\x98\x80");
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_problem_reply_has_status_title_detail_and_field),
	        cmocka_unit_test(test_problem_reply_replaces_invalid_utf8),
	        cmocka_unit_test(test_problem_reply_keeps_valid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
