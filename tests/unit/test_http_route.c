/* Route matching of the HTTP server (svc_http_route_match): pure, no sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "svc/http.h"

static void noop(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	(void)res;
}

static const struct svc_http_route routes[] = {
        {"POST", "/api/orders", noop, SVC_HTTP_PUBLIC},                       /* 0 */
        {"GET", "/api/orders/{orderId}", noop, SVC_HTTP_PUBLIC},              /* 1 */
        {"GET", "/api/orders/{orderId}/lines/{line}", noop, SVC_HTTP_PUBLIC}, /* 2 */
        {"GET", "/swagger-ui/*", noop, SVC_HTTP_PUBLIC},                      /* 3 */
        {"POST", "/egress/{route}/*", noop, SVC_HTTP_PUBLIC},                 /* 4 */
        {"GET", "/health/live", noop, SVC_HTTP_PUBLIC},                       /* 5 */
        {"DELETE", "/api/orders/{orderId}", noop, SVC_HTTP_PUBLIC},           /* 6 */
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct match {
	int idx;
	bool mismatch;
	size_t nparams;
	const char *params[SVC_HTTP_MAX_PARAMS];
	char scratch[256];
};

static void match(struct match *m, const char *method, const char *path)
{
	m->idx = svc_http_route_match(routes, NROUTES, method, path, m->params, &m->nparams,
	                              m->scratch, sizeof(m->scratch), &m->mismatch);
}

static void test_route_matches_literal_path(void **state)
{
	struct match m;

	(void)state;
	match(&m, "POST", "/api/orders");
	assert_int_equal(m.idx, 0);
	assert_int_equal(m.nparams, 0);
	assert_false(m.mismatch);
}

static void test_route_placeholder_becomes_param(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/api/orders/0190a1b2-c3d4");
	assert_int_equal(m.idx, 1);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "0190a1b2-c3d4");
}

static void test_route_two_placeholders_in_order(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/api/orders/o1/lines/7");
	assert_int_equal(m.idx, 2);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "o1");
	assert_string_equal(m.params[1], "7");
}

static void test_route_method_picks_among_same_pattern(void **state)
{
	struct match m;

	(void)state;
	match(&m, "DELETE", "/api/orders/o1");
	assert_int_equal(m.idx, 6);
	assert_string_equal(m.params[0], "o1");
}

static void test_route_placeholder_rejects_empty_segment(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/api/orders/");
	assert_int_equal(m.idx, -1);
	assert_false(m.mismatch);
}

static void test_route_placeholder_does_not_span_slash(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/api/orders/a/b");
	assert_int_equal(m.idx, -1);
	assert_false(m.mismatch);
}

static void test_route_trailing_star_takes_rest_of_path(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/swagger-ui/dist/swagger-ui.css");
	assert_int_equal(m.idx, 3);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "dist/swagger-ui.css");
}

static void test_route_trailing_star_matches_empty_rest(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/swagger-ui/");
	assert_int_equal(m.idx, 3);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "");
}

static void test_route_placeholder_then_star(void **state)
{
	struct match m;

	(void)state;
	match(&m, "POST", "/egress/gateway/v1/charges");
	assert_int_equal(m.idx, 4);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "gateway");
	assert_string_equal(m.params[1], "v1/charges");
}

static void test_route_known_path_other_method_is_mismatch(void **state)
{
	struct match m;

	(void)state;
	match(&m, "PUT", "/api/orders/o1");
	assert_int_equal(m.idx, -1);
	assert_true(m.mismatch);
	assert_int_equal(m.nparams, 0);
}

static void test_route_unknown_path_is_not_mismatch(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/api/unknown");
	assert_int_equal(m.idx, -1);
	assert_false(m.mismatch);
}

static void test_route_trailing_slash_is_another_path(void **state)
{
	struct match m;

	(void)state;
	match(&m, "GET", "/health/live/");
	assert_int_equal(m.idx, -1);
	match(&m, "GET", "/health/liv");
	assert_int_equal(m.idx, -1);
	match(&m, "GET", "/health/livex");
	assert_int_equal(m.idx, -1);
}

static void test_route_odd_paths_do_not_match(void **state)
{
	static const char *const odd[] = {
	        "", "/", "//", "api/orders", "/api//orders", "/API/ORDERS", "/api/orders?x=1/"};
	struct match m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		match(&m, "POST", odd[i]);
		assert_int_equal(m.idx, -1);
	}
}

static void test_route_null_method_or_path_does_not_match(void **state)
{
	struct match m;

	(void)state;
	m.idx = svc_http_route_match(routes, NROUTES, NULL, "/api/orders", m.params, &m.nparams,
	                             m.scratch, sizeof(m.scratch), &m.mismatch);
	assert_int_equal(m.idx, -1);
	m.idx = svc_http_route_match(routes, NROUTES, "GET", NULL, m.params, &m.nparams, m.scratch,
	                             sizeof(m.scratch), &m.mismatch);
	assert_int_equal(m.idx, -1);
}

static void test_route_param_longer_than_scratch_is_not_found(void **state)
{
	char path[1024];
	struct match m;

	(void)state;
	memcpy(path, "/api/orders/", 12);
	memset(path + 12, 'x', sizeof(path) - 13);
	path[sizeof(path) - 1] = '\0';
	match(&m, "GET", path); /* the 1011-byte id cannot fit 256 bytes of scratch */
	assert_int_equal(m.idx, -1);
	assert_false(m.mismatch);
	assert_int_equal(m.nparams, 0);
}

static void test_route_param_exactly_filling_scratch_matches(void **state)
{
	char path[12 + 255 + 1];
	struct match m;

	(void)state;
	memcpy(path, "/api/orders/", 12);
	memset(path + 12, 'y', 255);
	path[sizeof(path) - 1] = '\0';
	match(&m, "GET", path); /* 255 bytes + NUL = 256 */
	assert_int_equal(m.idx, 1);
	assert_int_equal(strlen(m.params[0]), 255);
}

static void test_route_more_placeholders_than_params_never_matches(void **state)
{
	static const struct svc_http_route many[] = {
	        {"GET", "/{a}/{b}/{c}/{d}/{e}", noop, SVC_HTTP_PUBLIC},
	};
	const char *params[SVC_HTTP_MAX_PARAMS];
	char scratch[64];
	size_t n;
	bool mismatch;

	(void)state;
	assert_int_equal(svc_http_route_match(many, 1, "GET", "/1/2/3/4/5", params, &n, scratch,
	                                      sizeof(scratch), &mismatch),
	                 -1);
}

static void test_route_first_matching_route_wins(void **state)
{
	static const struct svc_http_route dup[] = {
	        {"GET", "/a/{x}", noop, SVC_HTTP_PUBLIC},
	        {"GET", "/a/b", noop, SVC_HTTP_PUBLIC},
	};
	const char *params[SVC_HTTP_MAX_PARAMS];
	char scratch[64];
	size_t n;
	bool mismatch;

	(void)state;
	assert_int_equal(svc_http_route_match(dup, 2, "GET", "/a/b", params, &n, scratch,
	                                      sizeof(scratch), &mismatch),
	                 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_route_matches_literal_path),
	        cmocka_unit_test(test_route_placeholder_becomes_param),
	        cmocka_unit_test(test_route_two_placeholders_in_order),
	        cmocka_unit_test(test_route_method_picks_among_same_pattern),
	        cmocka_unit_test(test_route_placeholder_rejects_empty_segment),
	        cmocka_unit_test(test_route_placeholder_does_not_span_slash),
	        cmocka_unit_test(test_route_trailing_star_takes_rest_of_path),
	        cmocka_unit_test(test_route_trailing_star_matches_empty_rest),
	        cmocka_unit_test(test_route_placeholder_then_star),
	        cmocka_unit_test(test_route_known_path_other_method_is_mismatch),
	        cmocka_unit_test(test_route_unknown_path_is_not_mismatch),
	        cmocka_unit_test(test_route_trailing_slash_is_another_path),
	        cmocka_unit_test(test_route_odd_paths_do_not_match),
	        cmocka_unit_test(test_route_null_method_or_path_does_not_match),
	        cmocka_unit_test(test_route_param_longer_than_scratch_is_not_found),
	        cmocka_unit_test(test_route_param_exactly_filling_scratch_matches),
	        cmocka_unit_test(test_route_more_placeholders_than_params_never_matches),
	        cmocka_unit_test(test_route_first_matching_route_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
