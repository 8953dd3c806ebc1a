/* Unit tests of svc/utf8.h: the one UTF-8 validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "svc/utf8.h"

static void test_utf8_seq_len_accepts_what_rfc3629_allows(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} cases[] = {
	        {"a", 1},
	        {"\xC3\xA9", 2},         /* é */
	        {"\xE2\x82\xAC", 3},     /* € */
	        {"\xF0\x9F\x98\x80", 4}, /* U+1F600 */
	        {"\xED\x9F\xBF", 3},     /* U+D7FF, last before the surrogates */
	        {"\xF4\x8F\xBF\xBF", 4}, /* U+10FFFF */
	        {"\xC0\xAF", 0},         /* overlong '/' */
	        {"\xE0\x80\xAF", 0},     /* overlong */
	        {"\xED\xA0\x80", 0},     /* surrogate U+D800 */
	        {"\xF4\x90\x80\x80", 0}, /* above U+10FFFF */
	        {"\xF5\x80\x80\x80", 0}, /* no such lead byte */
	        {"\x80", 0},             /* lone continuation byte */
	        {"\xC3(", 0},            /* bad continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(svc_utf8_seq_len(cases[i].s, strlen(cases[i].s)), cases[i].len);
}

static void test_utf8_seq_len_refuses_a_sequence_cut_by_the_end(void **state)
{
	(void)state;
	assert_int_equal(svc_utf8_seq_len("\xE2\x82\xAC", 2), 0);
	assert_int_equal(svc_utf8_seq_len("\xF0\x9F\x98\x80", 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_utf8_seq_len_accepts_what_rfc3629_allows),
	        cmocka_unit_test(test_utf8_seq_len_refuses_a_sequence_cut_by_the_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
