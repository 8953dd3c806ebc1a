/*
 * Unit tests of the sidecar's egress proxy (resilience/sidecar/egress.h).
 * A tiny upstream runs on a random high port of 127.0.0.1, and a proxy
 * server hands every path under /egress/{route}/ to sc_egress_handle, as the sidecar does.
 * Loopback may be rate-limited here, so the whole file makes a few dozen
 * requests at most.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "resilience/sidecar/egress.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/egress.h"
#include "svc/error.h"
#include "svc/http.h"
#include "svc/httpc.h"
#include "svc/log.h"

/* ---- the upstream ---------------------------------------------------- */

static atomic_int flaky_calls;   /* requests /flaky has seen */
static atomic_int flaky_fail_n;  /* how many of them answer 503 */
static atomic_int missing_calls; /* requests /missing has seen */

static void set_str(json_t *o, const char *key, const char *value)
{
	json_object_set_new(o, key, value ? json_string(value) : json_null());
}

/* Answers with what it received, so tests can see what was forwarded. */
static void up_echo(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	json_t *o = json_object();

	(void)ctx;
	set_str(o, "method", req->method);
	set_str(o, "path", req->path);
	set_str(o, "x", svc_http_query(req, "x"));
	set_str(o, "y", svc_http_query(req, "y"));
	set_str(o, "content_type", svc_http_header(req, "Content-Type"));
	set_str(o, "key", svc_http_header(req, "Idempotency-Key"));
	set_str(o, "secret", svc_http_header(req, "X-Secret"));
	set_str(o, "body", req->body);
	svc_http_reply_json(res, 201, o);
}

static void up_flaky(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	if (atomic_fetch_add(&flaky_calls, 1) < atomic_load(&flaky_fail_n))
		svc_http_reply_problem(res, 503, "Busy", NULL, "try again");
	else
		svc_http_reply_raw(res, 200, "text/plain", "ok", 2);
}

static void up_slow(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	usleep(400 * 1000);
	svc_http_reply_raw(res, 200, "text/plain", "late", 4);
}

static void up_missing(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	atomic_fetch_add(&missing_calls, 1);
	svc_http_reply_problem(res, 404, "Not Found", NULL, "no such thing");
}

/* 100,000 bytes: more than a batch of 64 may take of one answer. */
static void up_big(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	static char body[100000];

	(void)ctx;
	(void)req;
	memset(body, 'x', sizeof(body));
	svc_http_reply_raw(res, 200, "text/plain", body, sizeof(body));
}

/* LOCAL as the sidecar's own egress routes are: reached over loopback, any
 * content type (the upstream stands for whatever a route leads to). */
static const struct svc_http_route upstream_routes[] = {
        {"POST", "/base/echo/*", up_echo, SVC_HTTP_LOCAL},
        {"GET", "/base/flaky", up_flaky, SVC_HTTP_LOCAL},
        {"POST", "/base/flaky", up_flaky, SVC_HTTP_LOCAL},
        {"PUT", "/base/flaky", up_flaky, SVC_HTTP_LOCAL},
        {"POST", "/base/slow", up_slow, SVC_HTTP_LOCAL},
        {"GET", "/base/slow", up_slow, SVC_HTTP_LOCAL},
        {"GET", "/base/missing", up_missing, SVC_HTTP_LOCAL},
        {"GET", "/base/big", up_big, SVC_HTTP_LOCAL},
};

/* ---- the proxy ------------------------------------------------------- */

static void proxy_egress(void *ctx, const struct svc_http_request *req,
                         struct svc_http_response *res)
{
	sc_egress_handle(ctx, req->params[0], req->params[1], req, res);
}

static void proxy_egress_batch(void *ctx, const struct svc_http_request *req,
                               struct svc_http_response *res)
{
	sc_egress_batch_handle(ctx, req->params[0], req, res);
}

static const struct svc_http_route proxy_routes[] = {
        {"GET", "/egress/{route}/*", proxy_egress, SVC_HTTP_LOCAL},
        {"POST", "/egress/{route}/*", proxy_egress, SVC_HTTP_LOCAL},
        {"POST", "/egress-batch/{route}", proxy_egress_batch, SVC_HTTP_LOCAL},
};

struct fixture {
	struct svc_http_server *upstream;
	struct svc_http_server *proxy;
	struct sc_egress *eg;
	unsigned up_port;
	unsigned proxy_port;
};

static struct svc_http_server *start_on_random_port(const struct svc_http_route *routes, size_t n,
                                                    void *ctx, unsigned *port)
{
	struct svc_http_server_config cfg = {
	        .bind_addr = "127.0.0.1", .threads = 4, .max_body = 65536};
	struct svc_http_server *srv = NULL;

	for (int i = 0; i < 10 && !srv; i++) {
		cfg.port = 20000 + (unsigned)(rand() % 30000);
		srv = svc_http_server_start(&cfg, routes, n, ctx);
	}
	*port = cfg.port;
	return srv;
}

static void set_env_long(const char *name, long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", v);
	setenv(name, s, 1);
}

/* Egress settings for tests: quick backoff, short timeout. */
static void egress_env(long retries, long min_calls)
{
	set_env_long("EGRESS_TIMEOUT_MS", 200);
	set_env_long("EGRESS_RETRIES", retries);
	set_env_long("EGRESS_BACKOFF_MS", 1);
	set_env_long("EGRESS_BREAKER_WINDOW", 20);
	set_env_long("EGRESS_BREAKER_MIN_CALLS", min_calls);
	set_env_long("EGRESS_BREAKER_OPEN_MS", 60000);
}

static int setup_servers(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char spec[128];

	if (!f)
		return -1;
	*state = f;
	f->upstream = start_on_random_port(upstream_routes,
	                                   sizeof(upstream_routes) / sizeof(upstream_routes[0]),
	                                   NULL, &f->up_port);
	if (!f->upstream)
		return -1;
	/* min_calls = window: the few calls of this group never open the breaker. */
	egress_env(2, 20);
	snprintf(spec, sizeof(spec), "up=http://127.0.0.1:%u/base/", f->up_port);
	f->eg = sc_egress_new(spec);
	if (!f->eg)
		return -1;
	f->proxy =
	        start_on_random_port(proxy_routes, sizeof(proxy_routes) / sizeof(proxy_routes[0]),
	                             f->eg, &f->proxy_port);
	return f->proxy ? 0 : -1;
}

static int teardown_servers(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	svc_http_server_free(f->proxy);
	svc_http_server_free(f->upstream);
	sc_egress_free(f->eg);
	free(f);
	return 0;
}

/* An egress of its own (its own breaker) with route "up" to the fixture's
 * upstream, from the environment egress_env() and the test set. */
static struct sc_egress *egress_to_upstream(const struct fixture *f)
{
	char spec[128];
	struct sc_egress *eg;

	snprintf(spec, sizeof(spec), "up=http://127.0.0.1:%u/base/", f->up_port);
	eg = sc_egress_new(spec);
	assert_non_null(eg);
	return eg;
}

/* A request through the proxy; `path` starts after /egress/. */
static long via_proxy(struct fixture *f, const char *method, const char *path,
                      const char *const *headers, const char *body, json_t **json_out)
{
	struct svc_httpc_response resp;
	char url[256];
	long status;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/egress/%s", f->proxy_port, path);
	assert_int_equal(
	        svc_httpc_request(method, url, headers, body, body ? strlen(body) : 0, 5000, &resp),
	        0);
	status = resp.status;
	if (json_out) {
		*json_out = json_loads(resp.body, 0, NULL);
		assert_non_null(*json_out);
	}
	svc_httpc_response_release(&resp);
	return status;
}

/* ---- direct calls (no proxy in between) ------------------------------ */

static const char *response_header(const struct svc_http_response *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (!strcasecmp(res->headers[i][0], name))
			return res->headers[i][1];
	return NULL;
}

static int call_direct(struct sc_egress *eg, const char *method, const char *route,
                       const char *rest, struct svc_http_response *res)
{
	struct svc_http_request req = {.method = method, .path = "/egress", .body = ""};

	memset(res, 0, sizeof(*res));
	res->status = 200;
	sc_egress_handle(eg, route, rest, &req, res);
	return res->status;
}

/* sc_egress_batch_handle with `body`; the answer's "responses" in *out
 * (NULL unless 200). Returns the status. */
static int batch_direct(struct sc_egress *eg, const char *route, const char *body, json_t **out,
                        struct svc_http_response *res)
{
	struct svc_http_request req = {
	        .method = "POST", .path = "/egress-batch", .body = body, .body_len = strlen(body)};
	json_t *doc;

	memset(res, 0, sizeof(*res));
	res->status = 200;
	sc_egress_batch_handle(eg, route, &req, res);
	*out = NULL;
	if (res->status == 200) {
		doc = json_loadb(res->body, res->body_len, 0, NULL);
		*out = json_incref(json_object_get(doc, "responses"));
		json_decref(doc);
	}
	return res->status;
}

static long item_status(json_t *responses, size_t i)
{
	return (long)json_integer_value(json_object_get(json_array_get(responses, i), "status"));
}

static long item_attempts(json_t *responses, size_t i)
{
	return (long)json_integer_value(json_object_get(json_array_get(responses, i), "attempts"));
}

/* ---- tests ----------------------------------------------------------- */

static void test_egress_rejects_malformed_routes(void **state)
{
	static const char *const bad[] = {
	        "nourl",
	        "=http://h:1",
	        "a=",
	        "a=ftp://h:1",
	        "a=http://",
	        "a=http:///path",
	        "a b=http://h:1",
	        "a=http://h:1/x y",
	        "a=http://h:1/?q=1",
	        "a=http://h:1,a=http://h:2",
	};

	(void)state;
	egress_env(2, 10);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(sc_egress_new(bad[i]));
	/* min_calls above the window could never open: refused. */
	egress_env(2, 21);
	assert_null(sc_egress_new("a=http://h:1"));
}

static void test_egress_accepts_empty_and_listed_routes(void **state)
{
	struct sc_egress *eg;
	json_t *details = json_object();

	(void)state;
	egress_env(2, 10);
	eg = sc_egress_new(NULL);
	assert_non_null(eg);
	sc_egress_free(eg);
	eg = sc_egress_new("");
	assert_non_null(eg);
	sc_egress_free(eg);

	eg = sc_egress_new(" gateway=http://127.0.0.1:8089/ , hook-1=https://example.test/base,");
	assert_non_null(eg);
	sc_egress_status(eg, details);
	assert_int_equal(json_object_size(details), 2);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(details, "gateway"), "url")),
	        "http://127.0.0.1:8089");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(details, "hook-1"), "breaker")),
	        "closed");
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(details, "hook-1"), "calls")),
	        0);
	json_decref(details);
	sc_egress_free(eg);
	sc_egress_free(NULL);
}

static void test_egress_unknown_route_is_404(void **state)
{
	struct sc_egress *eg;
	struct svc_http_response res;

	(void)state;
	egress_env(2, 10);
	eg = sc_egress_new("a=http://127.0.0.1:1");
	assert_non_null(eg);
	assert_int_equal(call_direct(eg, "GET", "nope", "x", &res), 404);
	assert_string_equal(res.content_type, "application/problem+json");
	svc_http_response_release(&res);
	assert_int_equal(call_direct(eg, "GET", NULL, NULL, &res), 404);
	svc_http_response_release(&res);
	sc_egress_free(eg);
}

static void test_egress_refuses_dot_segments(void **state)
{
	struct sc_egress *eg;
	struct svc_http_response res;

	(void)state;
	egress_env(2, 10);
	eg = sc_egress_new("a=http://127.0.0.1:1/base");
	assert_non_null(eg);
	assert_int_equal(call_direct(eg, "GET", "a", "../admin", &res), 400);
	svc_http_response_release(&res);
	assert_int_equal(call_direct(eg, "GET", "a", "x/./y", &res), 400);
	svc_http_response_release(&res);
	assert_int_equal(call_direct(eg, "GET", "a", "x/..", &res), 400);
	svc_http_response_release(&res);
	sc_egress_free(eg);
}

static void test_egress_no_response_is_retried_then_502(void **state)
{
	struct sc_egress *eg;
	struct svc_http_response res;
	json_t *details = json_object();
	json_t *a;

	(void)state;
	egress_env(2, 10);
	eg = sc_egress_new("a=http://127.0.0.1:1"); /* nothing listens on port 1 */
	assert_non_null(eg);
	assert_int_equal(call_direct(eg, "GET", "a", "x", &res), 502);
	assert_string_equal(response_header(&res, "X-Egress-Attempts"), "3");
	svc_http_response_release(&res);
	sc_egress_status(eg, details);
	a = json_object_get(details, "a");
	assert_int_equal(json_integer_value(json_object_get(a, "calls")), 3);
	assert_int_equal(json_integer_value(json_object_get(a, "failures")), 3);
	json_decref(details);
	sc_egress_free(eg);
}

static void test_egress_breaker_opens_and_short_circuits(void **state)
{
	struct sc_egress *eg;
	struct svc_http_response res;
	json_t *details = json_object();
	json_t *a;

	(void)state;
	egress_env(2, 2);
	eg = sc_egress_new("a=http://127.0.0.1:1");
	assert_non_null(eg);
	/* Two failures open the breaker, which stops the third attempt. */
	assert_int_equal(call_direct(eg, "GET", "a", "x", &res), 502);
	assert_string_equal(response_header(&res, "X-Egress-Attempts"), "2");
	svc_http_response_release(&res);
	/* Now no upstream call at all. */
	assert_int_equal(call_direct(eg, "POST", "a", "x", &res), 503);
	assert_string_equal(response_header(&res, "X-Egress-Breaker"), "open");
	assert_string_equal(res.content_type, "application/problem+json");
	svc_http_response_release(&res);
	sc_egress_status(eg, details);
	a = json_object_get(details, "a");
	assert_string_equal(json_string_value(json_object_get(a, "breaker")), "open");
	assert_int_equal(json_integer_value(json_object_get(a, "calls")), 2);
	json_decref(details);
	sc_egress_free(eg);
}

static void test_egress_forwards_method_body_headers_and_query(void **state)
{
	struct fixture *f = *state;
	const char *const headers[] = {"Content-Type: application/json", "Idempotency-Key: k-1",
	                               "X-Secret: not-forwarded", NULL};
	json_t *echo = NULL;

	assert_int_equal(
	        via_proxy(f, "POST", "up/echo/a%20b?x=1&y=z%26w", headers, "{\"amount\":5}", &echo),
	        201);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(echo, "path")), "/base/echo/a b");
	assert_string_equal(json_string_value(json_object_get(echo, "x")), "1");
	assert_string_equal(json_string_value(json_object_get(echo, "y")), "z&w");
	assert_string_equal(json_string_value(json_object_get(echo, "content_type")),
	                    "application/json");
	assert_string_equal(json_string_value(json_object_get(echo, "key")), "k-1");
	assert_true(json_is_null(json_object_get(echo, "secret")));
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "{\"amount\":5}");
	json_decref(echo);
}

static void test_egress_invents_no_content_type(void **state)
{
	struct fixture *f = *state;
	struct svc_http_request req = {
	        .method = "POST", .path = "/egress/up/echo/x", .body = "raw", .body_len = 3};
	struct svc_http_response res = {.status = 200};
	json_t *echo;

	/* Called directly: the request has no headers at all. */
	sc_egress_handle(f->eg, "up", "echo/x", &req, &res);
	assert_int_equal(res.status, 201);
	assert_string_equal(res.content_type, "application/json");
	echo = json_loadb(res.body, res.body_len, 0, NULL);
	assert_non_null(echo);
	assert_true(json_is_null(json_object_get(echo, "content_type")));
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "raw");
	json_decref(echo);
	svc_http_response_release(&res);
}

static void test_egress_retries_transient_get_until_success(void **state)
{
	struct fixture *f = *state;

	atomic_store(&flaky_calls, 0);
	atomic_store(&flaky_fail_n, 2);
	assert_int_equal(via_proxy(f, "GET", "up/flaky", NULL, NULL, NULL), 200);
	assert_int_equal(atomic_load(&flaky_calls), 3);
}

static void test_egress_does_not_retry_post_without_idempotency_key(void **state)
{
	struct fixture *f = *state;

	atomic_store(&flaky_calls, 0);
	atomic_store(&flaky_fail_n, 2);
	assert_int_equal(via_proxy(f, "POST", "up/flaky", NULL, "{}", NULL), 503);
	assert_int_equal(atomic_load(&flaky_calls), 1);
}

static void test_egress_retries_post_with_idempotency_key(void **state)
{
	struct fixture *f = *state;
	const char *const headers[] = {"Idempotency-Key: pay-42", NULL};

	atomic_store(&flaky_calls, 0);
	atomic_store(&flaky_fail_n, 1);
	assert_int_equal(via_proxy(f, "POST", "up/flaky", headers, "{}", NULL), 200);
	assert_int_equal(atomic_load(&flaky_calls), 2);
}

static void test_egress_gives_up_with_upstream_response(void **state)
{
	struct fixture *f = *state;
	json_t *problem = NULL;

	atomic_store(&flaky_calls, 0);
	atomic_store(&flaky_fail_n, 100);
	assert_int_equal(via_proxy(f, "GET", "up/flaky", NULL, NULL, &problem), 503);
	assert_int_equal(atomic_load(&flaky_calls), 3); /* 1 + EGRESS_RETRIES */
	assert_string_equal(json_string_value(json_object_get(problem, "title")), "Busy");
	json_decref(problem);
}

static void test_egress_permanent_status_is_passed_through_once(void **state)
{
	struct fixture *f = *state;

	atomic_store(&missing_calls, 0);
	assert_int_equal(via_proxy(f, "GET", "up/missing", NULL, NULL, NULL), 404);
	assert_int_equal(atomic_load(&missing_calls), 1);
}

static void test_egress_timeout_is_504(void **state)
{
	struct fixture *f = *state;

	/* EGRESS_TIMEOUT_MS is 200; /slow takes 400. POST: one attempt. */
	assert_int_equal(via_proxy(f, "POST", "up/slow", NULL, "{}", NULL), 504);
}

static void test_egress_retries_stop_at_the_deadline(void **state)
{
	struct fixture *f = *state;
	struct svc_http_response res;
	struct sc_egress *eg;
	uint64_t start, took;

	/* 200 ms per attempt, 2 retries, but only 300 ms in all: the second
	 * attempt gets the ~100 ms left and there is no third. */
	egress_env(2, 20);
	set_env_long("EGRESS_DEADLINE_MS", 300);
	eg = egress_to_upstream(f);
	unsetenv("EGRESS_DEADLINE_MS");
	assert_non_null(eg);
	start = svc_mono_ms();
	assert_int_equal(call_direct(eg, "GET", "up", "slow", &res), 504);
	took = svc_mono_ms() - start;
	assert_string_equal(response_header(&res, "X-Egress-Attempts"), "2");
	assert_true(took < 450); /* without the deadline: 3 x 200 ms */
	svc_http_response_release(&res);
	sc_egress_free(eg);
}

static void test_egress_batch_refuses_what_is_not_a_list_of_requests(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} bad[] = {
	        {"not json", "requests"},
	        {"{\"requests\":[]}", "requests"},
	        {"{\"requests\":{}}", "requests"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"x\"},1]}", "requests[1]"},
	        {"{\"requests\":[{\"method\":\"TRACE\",\"path\":\"x\"}]}", "requests[0].method"},
	        {"{\"requests\":[{\"method\":\"GET\"}]}", "requests[0].path"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"a/../b\"}]}", "requests[0].path"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"a/%2E%2e/b\"}]}",
	         "requests[0].path"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"a b\"}]}", "requests[0].path"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"a\\r\\nX: y\"}]}",
	         "requests[0].path"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"a\",\"headers\":[]}]}",
	         "requests[0].headers"},
	        {"{\"requests\":[{\"method\":\"GET\",\"path\":\"a\",\"headers\":{\"accept\":1}}]}",
	         "requests[0].headers"},
	        {"{\"requests\":[{\"method\":\"POST\",\"path\":\"a\",\"body\":{}}]}",
	         "requests[0].body"},
	};
	struct svc_http_response res;
	struct sc_egress *eg;
	json_t *out, *problem;

	(void)state;
	egress_env(0, 10);
	eg = sc_egress_new("a=http://127.0.0.1:1");
	assert_non_null(eg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(batch_direct(eg, "a", bad[i].body, &out, &res), 400);
		problem = json_loadb(res.body, res.body_len, 0, NULL);
		assert_string_equal(json_string_value(json_object_get(problem, "field")),
		                    bad[i].field);
		json_decref(problem);
		svc_http_response_release(&res);
	}
	assert_int_equal(batch_direct(eg, "nope",
	                              "{\"requests\":[{\"method\":\"GET\",\"path\":\"x\"}]}", &out,
	                              &res),
	                 404);
	svc_http_response_release(&res);
	json_t *details = json_object();
	sc_egress_status(eg, details); /* nothing was sent */
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(details, "a"), "calls")), 0);
	json_decref(details);
	sc_egress_free(eg);
}

static void test_egress_batch_holds_items_back_while_the_breaker_is_open(void **state)
{
	const char *body = "{\"requests\":[{\"method\":\"GET\",\"path\":\"x\"},"
	                   "{\"method\":\"GET\",\"path\":\"y\"}]}";
	struct svc_http_response res;
	struct sc_egress *eg;
	json_t *out, *a;

	(void)state;
	egress_env(0, 2);
	eg = sc_egress_new("a=http://127.0.0.1:1");
	assert_non_null(eg);
	/* Two failed attempts open the breaker... */
	assert_int_equal(batch_direct(eg, "a", body, &out, &res), 200);
	assert_int_equal(item_status(out, 0), 502);
	assert_int_equal(item_status(out, 1), 502);
	json_decref(out);
	svc_http_response_release(&res);
	/* ...and the next batch makes no call at all. */
	assert_int_equal(batch_direct(eg, "a", body, &out, &res), 200);
	for (size_t i = 0; i < 2; i++) {
		a = json_array_get(out, i);
		assert_int_equal(item_status(out, i), 503);
		assert_int_equal(item_attempts(out, i), 0);
		assert_string_equal(json_string_value(json_object_get(a, "breaker")), "open");
		assert_string_equal(json_string_value(json_object_get(a, "contentType")),
		                    "application/problem+json");
	}
	json_decref(out);
	svc_http_response_release(&res);
	sc_egress_free(eg);
}

static void test_egress_batch_answers_each_request_as_alone_in_order(void **state)
{
	struct fixture *f = *state;
	struct svc_egress_req reqs[] = {
	        {.method = "POST",
	         .path = "echo/a?x=1",
	         .idempotency_key = "k-1",
	         .body = "{\"n\":1}"},
	        {.method = "GET", .path = "missing"},
	        {.method = "POST", .path = "/echo/b", .body = "{\"n\":2}"},
	};
	char base[64];
	json_t *echo;

	atomic_store(&missing_calls, 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", f->proxy_port);
	assert_int_equal(svc_egress_batch(base, "up", reqs, 3, 5000), 0);
	assert_int_equal(reqs[0].status, 201);
	assert_int_equal(reqs[1].status, 404); /* permanent: once */
	assert_int_equal(atomic_load(&missing_calls), 1);
	assert_int_equal(reqs[2].status, 201);
	echo = json_loadb(reqs[0].answer, reqs[0].answer_len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(echo, "path")), "/base/echo/a");
	assert_string_equal(json_string_value(json_object_get(echo, "x")), "1");
	assert_string_equal(json_string_value(json_object_get(echo, "key")), "k-1");
	assert_string_equal(json_string_value(json_object_get(echo, "content_type")),
	                    "application/json");
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "{\"n\":1}");
	json_decref(echo);
	echo = json_loadb(reqs[2].answer, reqs[2].answer_len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(echo, "path")), "/base/echo/b");
	assert_true(json_is_null(json_object_get(echo, "key")));
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "{\"n\":2}");
	json_decref(echo);
	for (size_t i = 0; i < 3; i++)
		svc_egress_req_release(&reqs[i]);
}

static void test_egress_batch_retries_each_item_on_its_own(void **state)
{
	struct fixture *f = *state;
	const char *body =
	        "{\"requests\":[{\"method\":\"POST\",\"path\":\"flaky\",\"headers\":{"
	        "\"Idempotency-Key\":\"a\"}},{\"method\":\"POST\",\"path\":\"flaky\",\"headers\":{"
	        "\"idempotency-key\":\"b\"}},{\"method\":\"POST\",\"path\":\"flaky\"}]}";
	const char *keyed = "{\"requests\":[{\"method\":\"POST\",\"path\":\"flaky\",\"headers\":{"
	                    "\"Idempotency-Key\":\"a\"}},{\"method\":\"PUT\",\"path\":\"flaky\"}]}";
	struct svc_http_response res;
	struct sc_egress *eg;
	json_t *out;

	/* a breaker of its own, which these few calls never open */
	egress_env(2, 20);
	eg = egress_to_upstream(f);
	/* every call fails: the keyed ones go 1 + EGRESS_RETRIES times, the
	 * third (no key) once */
	atomic_store(&flaky_calls, 0);
	atomic_store(&flaky_fail_n, 100);
	assert_int_equal(batch_direct(eg, "up", body, &out, &res), 200);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(item_status(out, i), 503);
	assert_int_equal(item_attempts(out, 0), 3);
	assert_int_equal(item_attempts(out, 1), 3);
	assert_int_equal(item_attempts(out, 2), 1);
	assert_int_equal(atomic_load(&flaky_calls), 7);
	json_decref(out);
	svc_http_response_release(&res);
	/* a keyed POST and a PUT (repeatable as such): the first two calls
	 * fail, whichever item made them, and each item still ends with a
	 * success, after 4 calls in all */
	atomic_store(&flaky_calls, 0);
	atomic_store(&flaky_fail_n, 2);
	assert_int_equal(batch_direct(eg, "up", keyed, &out, &res), 200);
	assert_int_equal(item_status(out, 0), 200);
	assert_int_equal(item_status(out, 1), 200);
	assert_int_equal(item_attempts(out, 0) + item_attempts(out, 1), 4);
	assert_int_equal(atomic_load(&flaky_calls), 4);
	json_decref(out);
	svc_http_response_release(&res);
	sc_egress_free(eg);
}

/* A port that takes connections (the kernel's backlog) and never answers. */
static int silent_listener(unsigned *port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	*port = ntohs(addr.sin_port);
	return fd;
}

static void test_egress_batch_runs_its_requests_at_the_same_time(void **state)
{
	const char *body =
	        "{\"requests\":[{\"method\":\"GET\",\"path\":\"a\"},"
	        "{\"method\":\"GET\",\"path\":\"b\"},{\"method\":\"GET\",\"path\":\"c\"}]}";
	struct svc_http_response res;
	struct sc_egress *eg;
	uint64_t start, took;
	unsigned port;
	char spec[128];
	json_t *out;
	int fd = silent_listener(&port);

	(void)state;
	/* Each request waits its 300 ms for an answer that never comes: one
	 * after the other, the three would take 900 ms. */
	egress_env(0, 20);
	set_env_long("EGRESS_TIMEOUT_MS", 300);
	snprintf(spec, sizeof(spec), "hole=http://127.0.0.1:%u", port);
	eg = sc_egress_new(spec);
	assert_non_null(eg);
	start = svc_mono_ms();
	assert_int_equal(batch_direct(eg, "hole", body, &out, &res), 200);
	took = svc_mono_ms() - start;
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(item_status(out, i), 504);
	assert_true(took >= 250);
	assert_true(took < 700);
	json_decref(out);
	svc_http_response_release(&res);
	sc_egress_free(eg);
	close(fd);
}

static void test_egress_batch_client_errors(void **state)
{
	struct fixture *f = *state;
	struct svc_egress_req req = {.method = "GET", .path = "x"};
	char base[64];

	/* nobody listening: every status 0 */
	assert_int_equal(svc_egress_batch("http://127.0.0.1:1", "up", &req, 1, 2000),
	                 SVC_ETRANSIENT);
	assert_int_equal(req.status, 0);
	assert_null(req.answer);
	/* the sidecar refuses the batch itself */
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", f->proxy_port);
	assert_int_equal(svc_egress_batch(base, "nope", &req, 1, 2000), SVC_EPERMANENT);
	assert_int_equal(req.status, 0);
	svc_egress_req_release(&req);
}

static void test_egress_batch_bounds_what_each_answer_may_hold(void **state)
{
	struct fixture *f = *state;
	struct svc_http_response res;
	struct sc_egress *eg;
	struct svc_buf body;
	json_t *out;

	/* 64 requests: each answer may hold 8 MiB / 128 = 64 KiB, and /big's
	 * 100,000 bytes fail as no answer would; alone, it is taken whole */
	egress_env(0, 20);
	eg = egress_to_upstream(f);
	svc_buf_init(&body);
	svc_buf_adds(&body, "{\"requests\":[{\"method\":\"GET\",\"path\":\"big\"}");
	for (int i = 1; i < 64; i++)
		svc_buf_adds(&body, ",{\"method\":\"GET\",\"path\":\"missing\"}");
	svc_buf_adds(&body, "]}");
	assert_int_equal(batch_direct(eg, "up", svc_buf_str(&body), &out, &res), 200);
	assert_int_equal(item_status(out, 0), 502);
	for (size_t i = 1; i < 64; i++)
		assert_int_equal(item_status(out, i), 404);
	json_decref(out);
	svc_http_response_release(&res);
	assert_int_equal(batch_direct(eg, "up",
	                              "{\"requests\":[{\"method\":\"GET\",\"path\":\"big\"}]}",
	                              &out, &res),
	                 200);
	assert_int_equal(item_status(out, 0), 200);
	assert_int_equal(json_string_length(json_object_get(json_array_get(out, 0), "body")),
	                 100000);
	json_decref(out);
	svc_http_response_release(&res);
	svc_buf_release(&body);
	sc_egress_free(eg);
}

int main(void)
{
	const struct CMUnitTest direct[] = {
	        cmocka_unit_test(test_egress_rejects_malformed_routes),
	        cmocka_unit_test(test_egress_accepts_empty_and_listed_routes),
	        cmocka_unit_test(test_egress_unknown_route_is_404),
	        cmocka_unit_test(test_egress_refuses_dot_segments),
	        cmocka_unit_test(test_egress_no_response_is_retried_then_502),
	        cmocka_unit_test(test_egress_breaker_opens_and_short_circuits),
	        cmocka_unit_test(test_egress_batch_refuses_what_is_not_a_list_of_requests),
	        cmocka_unit_test(test_egress_batch_holds_items_back_while_the_breaker_is_open),
	};
	const struct CMUnitTest proxied[] = {
	        cmocka_unit_test(test_egress_forwards_method_body_headers_and_query),
	        cmocka_unit_test(test_egress_invents_no_content_type),
	        cmocka_unit_test(test_egress_retries_transient_get_until_success),
	        cmocka_unit_test(test_egress_does_not_retry_post_without_idempotency_key),
	        cmocka_unit_test(test_egress_retries_post_with_idempotency_key),
	        cmocka_unit_test(test_egress_gives_up_with_upstream_response),
	        cmocka_unit_test(test_egress_permanent_status_is_passed_through_once),
	        cmocka_unit_test(test_egress_timeout_is_504),
	        cmocka_unit_test(test_egress_retries_stop_at_the_deadline),
	        cmocka_unit_test(test_egress_batch_answers_each_request_as_alone_in_order),
	        cmocka_unit_test(test_egress_batch_retries_each_item_on_its_own),
	        cmocka_unit_test(test_egress_batch_runs_its_requests_at_the_same_time),
	        cmocka_unit_test(test_egress_batch_client_errors),
	        cmocka_unit_test(test_egress_batch_bounds_what_each_answer_may_hold),
	};
	int failed;

	setenv("LOG_LEVEL", "error", 0);
	svc_log_init("test_egress");
	svc_httpc_global_init();
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	failed = cmocka_run_group_tests_name("egress", direct, NULL, NULL);
	failed += cmocka_run_group_tests_name("egress via proxy", proxied, setup_servers,
	                                      teardown_servers);
	return failed;
}
