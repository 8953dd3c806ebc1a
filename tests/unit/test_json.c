/* Unit tests of svc/json.h: the strict check of an object's text and the string escaper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "svc/error.h"
#include "svc/json.h"

static bool valid(const char *s)
{
	return svc_json_object_valid(s, strlen(s), 16);
}

/* What jansson says of s, loaded as the service loads a delivery body. */
static bool jansson_takes(const char *s, size_t len)
{
	json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
	bool ok = json_is_object(j);

	json_decref(j);
	return ok;
}

static void test_json_object_valid_takes_objects_jansson_takes(void **state)
{
	static const char *const good[] = {
	        "{}",
	        " \t\r\n{ } \n",
	        "{\"a\":1}",
	        "{\"a\":[],\"b\":{},\"c\":[1,-2,3.5,-0.0,1e10,1E-10,2e+3,0]}",
	        "{\"a\":true,\"b\":false,\"c\":null,\"d\":\"\"}",
	        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
	        "{\"\xc3\xa9\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	        "{\"a\":{\"a\":{\"a\":1}}}", /* one name per object */
	        "{\"i\":9223372036854775807,\"j\":-9223372036854775808}",
	        "{\"r\":1.5e307,\"u\":1e-400,\"z\":0e999}", /* underflow is 0 */
	        "{\"a\":\"\x7f\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!valid(good[i]))
			fail_msg("refused: %s", good[i]);
		assert_true(jansson_takes(good[i], strlen(good[i])));
	}
}

static void test_json_object_valid_refuses_what_jansson_refuses(void **state)
{
	static const char *const bad[] = {
	        "",
	        "   ",
	        "[1]",
	        "\"x\"",
	        "12",
	        "null",
	        "{",
	        "{\"a\"}",
	        "{\"a\":}",
	        "{\"a\":1,}",
	        "{,}",
	        "{\"a\":[1,]}",
	        "{\"a\":1}x",
	        "{\"a\":1}{}",
	        "{a:1}",
	        "{'a':1}",
	        "{\"a\":01}",
	        "{\"a\":1.}",
	        "{\"a\":.5}",
	        "{\"a\":+1}",
	        "{\"a\":1e}",
	        "{\"a\":-}",
	        "{\"a\":NaN}",
	        "{\"a\":tru}",
	        "{\"a\":nul}",
	        "{\"a\":\"\t\"}",      /* raw control character */
	        "{\"a\":\"\\x\"}",     /* unknown escape */
	        "{\"a\":\"\\u12\"}",   /* short \u */
	        "{\"a\":\"\\u0000\"}", /* NUL without JSON_ALLOW_NUL */
	        "{\"a\":\"\\ud800\"}", /* lone high surrogate */
	        "{\"a\":\"\\udc00\"}", /* lone low surrogate */
	        "{\"a\":\"\\ud800\\u0041\"}",
	        "{\"a\":\"\xc0\xaf\"}",         /* overlong */
	        "{\"a\":\"\xed\xa0\x80\"}",     /* UTF-8 surrogate */
	        "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
	        "{\"a\":\"\xe2\x82\"}",         /* cut sequence */
	        "{\"a\":1,\"a\":2}",            /* duplicate name */
	        "{\"a\":{\"b\":1,\"b\":1}}",
	        "{\"a\":9223372036854775808}",
	        "{\"a\":-9223372036854775809}",
	        "{\"a\":123456789012345678901234567890}",
	        "{\"a\":1e999}",
	        "{\"a\":-1.8e308}",
	        "{\"a\":\"unterminated}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (valid(bad[i]))
			fail_msg("taken: %s", bad[i]);
		if (!strstr(bad[i], "\\u0000") && jansson_takes(bad[i], strlen(bad[i])))
			fail_msg("jansson takes it, so should the check: %s", bad[i]);
	}
}

static void test_json_object_valid_refuses_embedded_nul(void **state)
{
	(void)state;
	assert_false(svc_json_object_valid("{\"a\":\"\0\"}", 8, 16));
	assert_false(svc_json_object_valid("{}\0", 3, 16));
	assert_false(svc_json_object_valid(NULL, 0, 16));
	assert_true(svc_json_object_valid("{}\0", 2, 16)); /* len decides, not the NUL */
}

static void test_json_object_valid_errs_on_the_side_of_false(void **state)
{
	char many[SVC_JSON_NAMES_MAX * 8 + 16];
	size_t n = 0;

	(void)state;
	/* escaped names are not compared */
	assert_false(valid("{\"\\u0061\":1}"));
	/* too many names open at once */
	many[n++] = '{';
	for (int i = 0; i <= SVC_JSON_NAMES_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s\"%d\":1", i ? "," : "", i);
	many[n++] = '}';
	assert_false(svc_json_object_valid(many, n, 16));
	assert_true(jansson_takes(many, n));
	/* the names of a closed object no longer count */
	assert_true(valid("{\"a\":{\"x\":1,\"y\":2},\"b\":{\"x\":1,\"y\":2}}"));
}

static void test_json_object_valid_limits_nesting(void **state)
{
	char s[2 * (SVC_JSON_DEPTH_MAX + 2) + 8];
	size_t n = 0;

	(void)state;
	assert_true(svc_json_object_valid("{\"a\":[{}]}", 10, 3));
	assert_false(svc_json_object_valid("{\"a\":[{}]}", 10, 2));
	assert_false(svc_json_object_valid("{}", 2, 0));
	/* max_depth is capped */
	s[n++] = '{';
	s[n++] = '"';
	s[n++] = '"';
	s[n++] = ':';
	for (int i = 0; i < SVC_JSON_DEPTH_MAX; i++)
		s[n++] = '[';
	for (int i = 0; i < SVC_JSON_DEPTH_MAX; i++)
		s[n++] = ']';
	s[n++] = '}';
	assert_false(svc_json_object_valid(s, n, 100000));
	assert_true(svc_json_object_valid("{\"\":[[]]}", 9, 100000));
}

/* s[0..len) escaped, checked to load back as the same bytes. */
static void assert_round_trip(const char *s, size_t len)
{
	struct svc_buf b;
	json_t *j;

	svc_buf_init(&b);
	assert_int_equal(svc_json_add_string(&b, s, len), 0);
	j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	assert_true(json_is_string(j));
	assert_int_equal(json_string_length(j), len);
	assert_memory_equal(json_string_value(j), s, len);
	json_decref(j);
	svc_buf_release(&b);
}

static void test_json_add_string_escapes_what_json_requires(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(svc_json_add_string(&b, "a\"b\\c\n\x01\x7f\xc3\xa9/", 11), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9/\"");
	svc_buf_release(&b);
	assert_round_trip("", 0);
	assert_round_trip("plain", 5);
	assert_round_trip("\0nul\0", 5);
	assert_round_trip("\b\f\n\r\t\x1f", 6);
	assert_round_trip("\xf0\x9f\x98\x80 \xe2\x82\xac", 8);
}

static void test_json_add_string_refuses_invalid_utf8_and_appends_nothing(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	svc_buf_adds(&b, "x");
	assert_int_equal(svc_json_add_string(&b, "ok\n\xff", 4), SVC_EPERMANENT);
	assert_string_equal(b.data, "x");
	assert_int_equal(svc_json_add_string(&b, "\xe2\x82", 2), SVC_EPERMANENT);
	assert_int_equal(svc_json_add_string(&b, "\xed\xa0\x80", 3), SVC_EPERMANENT);
	assert_string_equal(b.data, "x");
	assert_int_equal(b.len, 1);
	svc_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_json_object_valid_takes_objects_jansson_takes),
	        cmocka_unit_test(test_json_object_valid_refuses_what_jansson_refuses),
	        cmocka_unit_test(test_json_object_valid_refuses_embedded_nul),
	        cmocka_unit_test(test_json_object_valid_errs_on_the_side_of_false),
	        cmocka_unit_test(test_json_object_valid_limits_nesting),
	        cmocka_unit_test(test_json_add_string_escapes_what_json_requires),
	        cmocka_unit_test(test_json_add_string_refuses_invalid_utf8_and_appends_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
