/* Unit tests of svc/json.h: the strict check of an object's text, the string
 * escaper, and the loader against jansson's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- svc_json_loadb: the same verdict and tree as json_loadb ---------- */

/* A string literal and its length (NUL bytes inside count). */
#define LIT(s) (s), (sizeof(s) - 1)

/* svc_json_loadb(s) with flags, checked against json_loadb: both refuse, or
 * both take it to equal trees that dump byte for byte alike (member order
 * included). Ours (the caller frees it), or NULL. */
static json_t *load(const char *s, size_t len, size_t flags)
{
	const size_t how = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	json_error_t err;
	json_t *ours = svc_json_loadb(s, len, flags, &err);
	json_t *theirs = json_loadb(s, len, flags, NULL);
	char *d1, *d2;

	if (!ours != !theirs)
		fail_msg("%s: svc_json_loadb %s, json_loadb %s (flags %zu)", s,
		         ours ? "takes it" : "refuses it", theirs ? "takes it" : "refuses it",
		         flags);
	if (!ours) {
		assert_true(err.text[0] != '\0');
		return NULL;
	}
	assert_true(json_equal(ours, theirs));
	d1 = json_dumps(ours, how);
	d2 = json_dumps(theirs, how);
	assert_non_null(d1);
	assert_non_null(d2);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	json_decref(theirs);
	return ours;
}

/* Whether svc_json_loadb takes s (jansson agreeing, see load()). */
static bool takes(const char *s, size_t len, size_t flags)
{
	json_t *v = load(s, len, flags);

	json_decref(v);
	return v != NULL;
}

#define ASSERT_TAKES(s, flags)   assert_true(takes(LIT(s), (flags)))
#define ASSERT_REFUSES(s, flags) assert_false(takes(LIT(s), (flags)))

static void test_json_loadb_builds_the_tree_jansson_builds(void **state)
{
	static const char *const good[] = {
	        "{}",
	        "[]",
	        " \t\r\n{ } \n",
	        "[1,-2,3.5,-0.0,1e10,1E-10,2e+3,0,true,false,null,\"\",{},[]]",
	        "{\"eventId\":\"0190f3a2\",\"type\":\"OrderCreatedEvent\",\"timestamp\":"
	        "1732479424123,\"data\":{\"items\":[{\"productId\":\"p-1\",\"quantity\":2}]},"
	        "\"metadata\":{\"version\":\"1\"}}",
	        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u20AC\"}",
	        "{\"\xc3\xa9\":\"\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"}",
	        "[ 1 , [ 2 , { \"a\" : [ ] } ] ]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		for (size_t flags = 0; flags <= JSON_REJECT_DUPLICATES; flags++)
			if (!takes(good[i], strlen(good[i]), flags))
				fail_msg("refused: %s", good[i]);
}

static void test_json_loadb_keeps_member_order(void **state)
{
	static const char *const order[] = {"z", "a", "m", "b"};
	json_t *v = load(LIT("{\"z\":1,\"a\":2,\"m\":3,\"b\":4}"), 0);
	void *it = json_object_iter(v);

	(void)state;
	for (size_t i = 0; i < 4; i++, it = json_object_iter_next(v, it))
		assert_string_equal(json_object_iter_key(it), order[i]);
	assert_null(it);
	json_decref(v);
}

static void test_json_loadb_wants_an_object_or_array_unless_decode_any(void **state)
{
	static const char *const scalars[] = {"1", "-0.5", "\"s\"", "true", "false", "null"};

	(void)state;
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		assert_false(takes(scalars[i], strlen(scalars[i]), 0));
		assert_true(takes(scalars[i], strlen(scalars[i]), JSON_DECODE_ANY));
	}
	ASSERT_REFUSES("", JSON_DECODE_ANY);
	ASSERT_REFUSES(" \n", JSON_DECODE_ANY);
	assert_null(svc_json_loadb(NULL, 0, 0, NULL));
	assert_null(svc_json_loadb(NULL, 2, JSON_DECODE_ANY, NULL));
}

static void test_json_loadb_takes_only_whitespace_after_the_value(void **state)
{
	(void)state;
	ASSERT_TAKES("{} \t\r\n", 0);
	ASSERT_REFUSES("{}x", 0);
	ASSERT_REFUSES("{}{}", 0);
	ASSERT_REFUSES("[],", 0);
	ASSERT_REFUSES("{}\f", 0);
	ASSERT_REFUSES("{}\0", 0);
	ASSERT_REFUSES("1 2", JSON_DECODE_ANY);
}

static void test_json_loadb_refuses_broken_syntax(void **state)
{
	static const char *const bad[] = {
	        "[1,]",      "{\"a\":1,}", "{\"a\"}", "{,}",       "[,1]",   "{1:2}",
	        "{'a':1}",   "[tru]",      "[truex]", "[nul]",     "[True]", "{\"a\" 1}",
	        "[1 2]",     "[",          "{",       "{\"a\":",   "[\"a]",  "[\"a\\\"]",
	        "{\"a\":1]", "[1}",        "]",       "[\"\\x\"]", "[\\n]",  "\xef\xbb\xbf{}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (takes(bad[i], strlen(bad[i]), JSON_DECODE_ANY))
			fail_msg("taken: %s", bad[i]);
}

static void test_json_loadb_refuses_invalid_utf8_and_control_characters(void **state)
{
	static const char *const bad[] = {
	        "[\"\xff\"]",             /* not UTF-8 */
	        "[\"\x80\"]",             /* a continuation alone */
	        "[\"\xc0\xaf\"]",         /* overlong */
	        "[\"\xe0\x80\xaf\"]",     /* overlong */
	        "[\"\xed\xa0\x80\"]",     /* an encoded surrogate */
	        "[\"\xf4\x90\x80\x80\"]", /* above U+10FFFF */
	        "[\"\xe2\x82\"]",         /* cut short */
	        "{\"\xc3\":1}",           /* in a name */
	        "[\xc3\xa9]",             /* outside a string */
	        "[\"a\nb\"]",             /* control characters */
	        "[\"\x01\"]",
	        "[\"\x1f\"]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (takes(bad[i], strlen(bad[i]), 0))
			fail_msg("taken: %s", bad[i]);
	ASSERT_REFUSES("[\"a\0b\"]", JSON_ALLOW_NUL); /* a NUL byte, not an escape */
	ASSERT_TAKES("[\"\x7f\xf4\x8f\xbf\xbf\"]", 0);
}

static void test_json_loadb_decodes_escapes_and_refuses_lone_surrogates(void **state)
{
	json_t *v = load(LIT("[\"\\u00e9\\ud83d\\ude00\\/\\t\\u0041\"]"), 0);

	(void)state;
	assert_string_equal(json_string_value(json_array_get(v, 0)),
	                    "\xc3\xa9\xf0\x9f\x98\x80/\tA");
	json_decref(v);
	ASSERT_TAKES("{\"\\ud800\\udc00\":\"\\uDBFF\\uDFFF\"}", 0);
	ASSERT_REFUSES("[\"\\ud800\"]", 0);        /* a high surrogate alone */
	ASSERT_REFUSES("[\"\\ud800x\"]", 0);       /* ... followed by text */
	ASSERT_REFUSES("[\"\\ud800\\u0041\"]", 0); /* ... by no low surrogate */
	ASSERT_REFUSES("[\"\\ud800\\ud800\"]", 0);
	ASSERT_REFUSES("[\"\\udc00\"]", 0); /* a low surrogate alone */
	ASSERT_REFUSES("[\"\\u12\"]", 0);
	ASSERT_REFUSES("[\"\\u12g4\"]", 0);
	ASSERT_REFUSES("[\"\\U0041\"]", 0);
}

static void test_json_loadb_refuses_u0000_unless_allow_nul(void **state)
{
	json_t *v;

	(void)state;
	ASSERT_REFUSES("[\"a\\u0000b\"]", 0);
	ASSERT_REFUSES("[\"a\\u0000b\"]", JSON_REJECT_DUPLICATES);
	v = load(LIT("[\"a\\u0000b\"]"), JSON_ALLOW_NUL);
	assert_int_equal(json_string_length(json_array_get(v, 0)), 3);
	assert_memory_equal(json_string_value(json_array_get(v, 0)), "a\0b", 3);
	json_decref(v);
	/* never in a member name */
	ASSERT_REFUSES("{\"a\\u0000\":1}", JSON_ALLOW_NUL);
}

/* s refused as jansson refuses it, as a numeric overflow, the error saying `what`. */
static void assert_overflow(const char *s, const char *what)
{
	json_error_t err;

	assert_false(takes(s, strlen(s), 0));
	assert_null(svc_json_loadb(s, strlen(s), 0, &err));
	assert_int_equal(json_error_code(&err), json_error_numeric_overflow);
	if (!strstr(err.text, what))
		fail_msg("%s: \"%s\" does not say \"%s\"", s, err.text, what);
}

static void test_json_loadb_refuses_integers_beyond_int64(void **state)
{
	json_t *v = load(LIT("[9223372036854775807,-9223372036854775808,-0,0,-1]"), 0);

	(void)state;
	assert_true(json_integer_value(json_array_get(v, 0)) == INT64_MAX);
	assert_true(json_integer_value(json_array_get(v, 1)) == INT64_MIN);
	assert_true(json_is_integer(json_array_get(v, 2))); /* -0 is the integer 0 */
	assert_int_equal(json_integer_value(json_array_get(v, 2)), 0);
	json_decref(v);
	assert_overflow("[9223372036854775808]", "too big integer");
	assert_overflow("[-9223372036854775809]", "too big negative integer");
	assert_overflow("[100000000000000000000]", "too big integer");
}

static void test_json_loadb_reads_reals_as_strtod_and_refuses_overflow(void **state)
{
	json_t *v = load(LIT("[1.5,-0.0,1e-400,1.7976931348623157e308,0.1,1E2,"
	                     "3.14159265358979323846264338327950288]"),
	                 0);

	(void)state;
	assert_true(json_real_value(json_array_get(v, 0)) == 1.5);
	assert_true(json_is_real(json_array_get(v, 1)));
	assert_true(signbit(json_real_value(json_array_get(v, 1))));
	assert_true(json_real_value(json_array_get(v, 2)) == 0.0); /* an underflow is 0 */
	assert_true(json_real_value(json_array_get(v, 4)) == 0.1);
	assert_true(json_is_real(json_array_get(v, 5)));
	json_decref(v);
	assert_overflow("[1e309]", "real number overflow");
	assert_overflow("[-1e309]", "real number overflow");
	assert_overflow("[1.8e308]", "real number overflow");
}

static void test_json_loadb_refuses_numbers_outside_the_grammar(void **state)
{
	static const char *const bad[] = {"[01]", "[-]",    "[1.]",   "[.5]",       "[1e]",
	                                  "[+1]", "[1.e5]", "[0x10]", "[Infinity]", "[NaN]",
	                                  "[-a]", "[1e+]",  "[--1]",  "[1.5.5]",    "[00]"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (takes(bad[i], strlen(bad[i]), 0))
			fail_msg("taken: %s", bad[i]);
}

/* `open` opening brackets, `inner` inside, then as many closing ones. */
static bool takes_nested(size_t open, const char *inner)
{
	size_t n = 0, inner_len = strlen(inner);
	char *s = malloc(2 * open + inner_len);
	bool ok;

	assert_non_null(s);
	for (size_t i = 0; i < open; i++)
		s[n++] = '[';
	memcpy(s + n, inner, inner_len);
	n += inner_len;
	for (size_t i = 0; i < open; i++)
		s[n++] = ']';
	ok = takes(s, n, 0);
	free(s);
	return ok;
}

static void test_json_loadb_limits_depth_as_jansson_does(void **state)
{
	json_error_t err;

	(void)state;
	/* jansson counts every value, a scalar too */
	assert_true(takes_nested(JSON_PARSER_MAX_DEPTH, ""));
	assert_false(takes_nested(JSON_PARSER_MAX_DEPTH + 1, ""));
	assert_true(takes_nested(JSON_PARSER_MAX_DEPTH - 1, "1"));
	assert_false(takes_nested(JSON_PARSER_MAX_DEPTH, "1"));
	assert_false(takes_nested(JSON_PARSER_MAX_DEPTH, "{}"));
	assert_null(svc_json_loadb(LIT("[[[[[[[[[[[[[[[[[[[["), 0, &err)); /* no stack trouble */
}

static void test_json_loadb_refuses_duplicate_names_only_when_told(void **state)
{
	json_t *v;

	(void)state;
	ASSERT_REFUSES("{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES);
	ASSERT_REFUSES("{\"a\":1,\"\\u0061\":2}", JSON_REJECT_DUPLICATES);
	ASSERT_REFUSES("[{\"b\":{},\"a\":1,\"b\":[]}]", JSON_REJECT_DUPLICATES);
	ASSERT_TAKES("{\"a\":{\"a\":1},\"b\":{\"a\":1}}", JSON_REJECT_DUPLICATES);
	/* without the flag, the later value replaces the earlier in its place */
	v = load(LIT("{\"a\":1,\"b\":2,\"a\":3}"), 0);
	assert_int_equal(json_object_size(v), 2);
	assert_string_equal(json_object_iter_key(json_object_iter(v)), "a");
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 3);
	json_decref(v);
}

static void test_json_loadb_says_what_went_wrong_and_where(void **state)
{
	json_error_t err;

	(void)state;
	assert_null(svc_json_loadb(LIT("{\n  \"a\": x}"), 0, &err));
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 8);
	assert_int_equal(err.position, 9);
	assert_int_equal(json_error_code(&err), json_error_invalid_syntax);
	assert_true(err.text[0] != '\0');
	assert_null(svc_json_loadb(LIT("{\"a\":1,\"a\":2}"), JSON_REJECT_DUPLICATES, &err));
	assert_int_equal(json_error_code(&err), json_error_duplicate_key);
	assert_null(svc_json_loadb(LIT("[\"\\u0000\"]"), 0, &err));
	assert_int_equal(json_error_code(&err), json_error_null_character);
	assert_null(svc_json_loadb(LIT("{} x"), 0, &err));
	assert_int_equal(json_error_code(&err), json_error_end_of_input_expected);
	assert_null(svc_json_loadb(NULL, 0, 0, &err));
	assert_int_equal(json_error_code(&err), json_error_invalid_argument);
	/* taken: no error text, the position past the text */
	json_decref(svc_json_loadb(LIT("[1] "), 0, &err));
	assert_string_equal(err.text, "");
	assert_int_equal(err.position, 4);
}

static void test_json_loadb_skips_a_nul_after_a_number_as_jansson_does(void **state)
{
	(void)state;
	/* jansson loses a NUL byte it puts back after a number or a word */
	ASSERT_TAKES("{\"a\":2\0}", 0);
	ASSERT_TAKES("[true\0,1.5\0]", 0);
	ASSERT_TAKES("7\0", JSON_DECODE_ANY);
	ASSERT_REFUSES("[1\0\0]", 0);
	ASSERT_REFUSES("[\"a\"\0]", 0);
	ASSERT_REFUSES("[\0 1]", 0);
}

static void test_json_loadb_hands_other_flags_to_jansson(void **state)
{
	json_t *v;

	(void)state;
	v = svc_json_loadb(LIT("{} trailing"), JSON_DISABLE_EOF_CHECK, NULL);
	assert_true(json_is_object(v));
	json_decref(v);
	v = svc_json_loadb(LIT("[1]"), JSON_DECODE_INT_AS_REAL, NULL);
	assert_true(json_is_real(json_array_get(v, 0)));
	json_decref(v);
}

/* Allocations jansson may still make before they fail (failing_malloc). */
static size_t alloc_budget;

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	alloc_budget--;
	return malloc(n);
}

static void test_json_loadb_fails_cleanly_at_each_allocation(void **state)
{
	static const char text[] = "{\"a\":[1,2.5,\"s\\n\",{\"b\":null,\"c\":[]}],\"d\":\"x\","
	                           "\"e\":1,\"f\":2,\"g\":3,\"h\":4,\"i\":5,\"j\":6,\"k\":7}";
	json_error_t err;
	json_t *v;
	size_t k;

	(void)state;
	/* the k-th allocation fails, for each k until none does: an error
	 * each time and nothing leaked (LeakSanitizer) */
	json_set_alloc_funcs(failing_malloc, free);
	for (k = 0;; k++) {
		alloc_budget = k;
		if ((v = svc_json_loadb(LIT(text), JSON_REJECT_DUPLICATES, &err)))
			break;
		assert_int_equal(json_error_code(&err), json_error_out_of_memory);
	}
	json_set_alloc_funcs(malloc, free);
	assert_true(k > 10);
	json_decref(v);
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
	        cmocka_unit_test(test_json_loadb_builds_the_tree_jansson_builds),
	        cmocka_unit_test(test_json_loadb_keeps_member_order),
	        cmocka_unit_test(test_json_loadb_wants_an_object_or_array_unless_decode_any),
	        cmocka_unit_test(test_json_loadb_takes_only_whitespace_after_the_value),
	        cmocka_unit_test(test_json_loadb_refuses_broken_syntax),
	        cmocka_unit_test(test_json_loadb_refuses_invalid_utf8_and_control_characters),
	        cmocka_unit_test(test_json_loadb_decodes_escapes_and_refuses_lone_surrogates),
	        cmocka_unit_test(test_json_loadb_refuses_u0000_unless_allow_nul),
	        cmocka_unit_test(test_json_loadb_refuses_integers_beyond_int64),
	        cmocka_unit_test(test_json_loadb_reads_reals_as_strtod_and_refuses_overflow),
	        cmocka_unit_test(test_json_loadb_refuses_numbers_outside_the_grammar),
	        cmocka_unit_test(test_json_loadb_limits_depth_as_jansson_does),
	        cmocka_unit_test(test_json_loadb_refuses_duplicate_names_only_when_told),
	        cmocka_unit_test(test_json_loadb_says_what_went_wrong_and_where),
	        cmocka_unit_test(test_json_loadb_skips_a_nul_after_a_number_as_jansson_does),
	        cmocka_unit_test(test_json_loadb_hands_other_flags_to_jansson),
	        cmocka_unit_test(test_json_loadb_fails_cleanly_at_each_allocation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
