/* Unit tests of svc/url.h: joining a configured base URL and a path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "svc/error.h"
#include "svc/url.h"

static void test_url_join_trims_the_base_trailing_slashes(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(svc_url_join(out, sizeof(out), "http://h:1//", "/egress/x"), 0);
	assert_string_equal(out, "http://h:1/egress/x");
	assert_int_equal(svc_url_join(out, sizeof(out), "http://h:1", ""), 0);
	assert_string_equal(out, "http://h:1");
	assert_int_equal(svc_url_join(out, sizeof(out), "///", ""), 0);
	assert_string_equal(out, "");
	assert_int_equal(svc_url_base_len("http://h/"), 8);
}

static void test_url_join_refuses_what_does_not_fit(void **state)
{
	char out[12];

	(void)state;
	assert_int_equal(svc_url_join(out, sizeof(out), "http://h:1/", "/"), 0); /* 11 + NUL */
	assert_string_equal(out, "http://h:1/");
	assert_int_equal(svc_url_join(out, sizeof(out), "http://h:1/", "/a"), SVC_EPERMANENT);
	assert_string_equal(out, "");
	assert_int_equal(svc_url_join(out, 0, "x", ""), SVC_EPERMANENT);
}

static void test_url_join_dup_allocates_the_join(void **state)
{
	char *url = svc_url_join_dup("http://127.0.0.1:9084/", "/egress/webhook/");

	(void)state;
	assert_non_null(url);
	assert_string_equal(url, "http://127.0.0.1:9084/egress/webhook/");
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_url_join_trims_the_base_trailing_slashes),
	        cmocka_unit_test(test_url_join_refuses_what_does_not_fit),
	        cmocka_unit_test(test_url_join_dup_allocates_the_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
