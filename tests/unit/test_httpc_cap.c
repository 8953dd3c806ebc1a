/*
 * The HTTP client reads at most HTTPC_MAX_RESPONSE bytes of an answer
 * (svc/httpc.h): a larger one, announced or streamed, fails the request as
 * if none had come, so an upstream (the payment gateway) cannot make a
 * service hold what it sends. Against a real local server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/error.h"
#include "svc/http.h"
#include "svc/httpc.h"
#include "tests/unit/fake_http.h"

#define CAP 4096

/* GET /bytes/{n}: n bytes of 'x'. */
static void serve_bytes(void *ctx, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	size_t n = (size_t)strtoul(req->params[0], NULL, 10);
	char *body = malloc(n + 1);

	(void)ctx;
	if (!body) {
		svc_http_reply_problem(res, 500, NULL, NULL, "out of memory");
		return;
	}
	memset(body, 'x', n);
	svc_http_reply_raw(res, 200, "text/plain", body, n);
	free(body);
}

static const struct svc_http_route routes[] = {
        {"GET", "/bytes/{n}", serve_bytes, SVC_HTTP_PUBLIC},
};

static struct svc_http_server *srv;
static char base[64];

static int setup(void **state)
{
	struct svc_http_server_config cfg = {.threads = 2, .max_body = 1024};

	(void)state;
	setenv("HTTPC_MAX_RESPONSE", "4096", 1);
	if (svc_httpc_global_init() != 0)
		return -1;
	srv = fake_http_start(&cfg, routes, 1, base, sizeof(base));
	return srv ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	svc_http_server_free(srv);
	return 0;
}

/* svc_httpc_request's result for a body of n bytes. */
static int fetch(size_t n, struct svc_httpc_response *out)
{
	char url[96];

	snprintf(url, sizeof(url), "%s/bytes/%zu", base, n);
	memset(out, 0, sizeof(*out));
	return svc_httpc_request("GET", url, NULL, NULL, 0, 5000, out);
}

static void test_answers_up_to_the_cap_are_read_whole(void **state)
{
	struct svc_httpc_response r;

	(void)state;
	assert_int_equal(fetch(CAP, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, CAP);
	svc_httpc_response_release(&r);
	assert_int_equal(fetch(10, &r), 0);
	assert_int_equal(r.body_len, 10);
	svc_httpc_response_release(&r);
}

static void test_larger_answers_fail_unread(void **state)
{
	struct svc_httpc_response r;

	(void)state;
	assert_int_equal(fetch(CAP + 1, &r), SVC_ETRANSIENT);
	assert_int_equal(r.status, 0);
	assert_null(r.body);
	svc_httpc_response_release(&r);
	assert_int_equal(fetch(1024 * 1024, &r), SVC_ETRANSIENT);
	assert_null(r.body);
	svc_httpc_response_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_answers_up_to_the_cap_are_read_whole),
	        cmocka_unit_test(test_larger_answers_fail_unread),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
