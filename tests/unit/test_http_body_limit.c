/* Per-route body limits of the HTTP server (svc_http_body_limit): which
 * limit a request gets from its method and path. Pure, no sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "svc/http.h"

#define PUBLIC_MAX   (64 * 1024)
#define INTERNAL_MAX (4 * 1024 * 1024)

static void noop(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	(void)res;
}

static const struct svc_http_route routes[] = {
        {"POST", "/api/orders", noop, SVC_HTTP_PUBLIC},
        {"GET", "/api/orders/{orderId}", noop, SVC_HTTP_PUBLIC},
        {"GET", "/internal/events", noop, SVC_HTTP_PUBLIC},
        {"POST", "/internal/events", noop, SVC_HTTP_PUBLIC},
        {"GET", "/swagger-ui/*", noop, SVC_HTTP_PUBLIC},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const struct svc_http_body_limit limits[] = {
        {"POST", "/internal/events", INTERNAL_MAX},
};
#define NLIMITS (sizeof(limits) / sizeof(limits[0]))

static size_t limit_of(const char *method, const char *path)
{
	return svc_http_body_limit(routes, NROUTES, limits, NLIMITS, method, path, PUBLIC_MAX);
}

static void test_body_limit_internal_events_route_gets_its_own_limit(void **state)
{
	(void)state;
	assert_int_equal(limit_of("POST", "/internal/events"), INTERNAL_MAX);
}

static void test_body_limit_public_routes_keep_the_server_limit(void **state)
{
	(void)state;
	assert_int_equal(limit_of("POST", "/api/orders"), PUBLIC_MAX);
	assert_int_equal(limit_of("GET", "/api/orders/0190a3b4-0000-7000-8000-000000000001"),
	                 PUBLIC_MAX);
	assert_int_equal(limit_of("GET", "/swagger-ui/swagger-ui.css"), PUBLIC_MAX);
}

static void test_body_limit_other_method_on_same_path_keeps_the_server_limit(void **state)
{
	(void)state;
	assert_int_equal(limit_of("GET", "/internal/events"), PUBLIC_MAX);
	assert_int_equal(limit_of("PUT", "/internal/events"), PUBLIC_MAX);
}

static void test_body_limit_unknown_or_near_paths_keep_the_server_limit(void **state)
{
	(void)state;
	assert_int_equal(limit_of("POST", "/internal/events/"), PUBLIC_MAX);
	assert_int_equal(limit_of("POST", "/internal/event"), PUBLIC_MAX);
	assert_int_equal(limit_of("POST", "/internal/events/x"), PUBLIC_MAX);
	assert_int_equal(limit_of("POST", ""), PUBLIC_MAX);
	assert_int_equal(limit_of(NULL, "/internal/events"), PUBLIC_MAX);
	assert_int_equal(limit_of("POST", NULL), PUBLIC_MAX);
}

static void test_body_limit_without_limits_is_the_server_limit(void **state)
{
	(void)state;
	assert_int_equal(svc_http_body_limit(routes, NROUTES, NULL, 0, "POST", "/internal/events",
	                                     PUBLIC_MAX),
	                 PUBLIC_MAX);
	assert_int_equal(svc_http_body_limit(routes, NROUTES, limits, 0, "POST", "/internal/events",
	                                     PUBLIC_MAX),
	                 PUBLIC_MAX);
}

static void test_body_limit_may_be_smaller_than_the_server_limit(void **state)
{
	static const struct svc_http_body_limit small[] = {{"POST", "/api/orders", 1024}};

	(void)state;
	assert_int_equal(
	        svc_http_body_limit(routes, NROUTES, small, 1, "POST", "/api/orders", PUBLIC_MAX),
	        1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_body_limit_internal_events_route_gets_its_own_limit),
	        cmocka_unit_test(test_body_limit_public_routes_keep_the_server_limit),
	        cmocka_unit_test(test_body_limit_other_method_on_same_path_keeps_the_server_limit),
	        cmocka_unit_test(test_body_limit_unknown_or_near_paths_keep_the_server_limit),
	        cmocka_unit_test(test_body_limit_without_limits_is_the_server_limit),
	        cmocka_unit_test(test_body_limit_may_be_smaller_than_the_server_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
