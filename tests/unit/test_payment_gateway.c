/*
 * Unit tests of services/payment/gateway.c (gateway.h) against a scripted
 * gateway on 127.0.0.1 standing in for the sidecar's egress route: the
 * request (path, idempotency key, body), how each answer is classified
 * (2xx, 402, other 4xx, 5xx, no answer, a timeout) and what is kept of it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/payment/gateway.h"
#include "svc/clock.h"
#include "svc/http.h"
#include "svc/httpc.h"
#include "tests/unit/fake_http.h"

/* The next answer, and what the last request was. Guarded by mu. */
static struct {
	pthread_mutex_t mu;
	int status;
	char body[256];
	unsigned delay_ms;
	char path[128];
	char key[128];
	char request[512];
	unsigned requests;
	unsigned batches;    /* calls to /egress-batch/gateway */
	unsigned batch_size; /* requests in the last one */
	bool refuse_batches; /* answer them 404, as a sidecar without the route */
} gw = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void answer(int status, const char *body)
{
	pthread_mutex_lock(&gw.mu);
	gw.status = status;
	snprintf(gw.body, sizeof(gw.body), "%s", body);
	gw.delay_ms = 0;
	pthread_mutex_unlock(&gw.mu);
}

static void serve(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	const char *key = svc_http_header(req, "Idempotency-Key");
	unsigned delay;
	int status;
	char body[256];

	(void)ctx;
	pthread_mutex_lock(&gw.mu);
	gw.requests++;
	snprintf(gw.path, sizeof(gw.path), "%s", req->path);
	snprintf(gw.key, sizeof(gw.key), "%s", key ? key : "");
	snprintf(gw.request, sizeof(gw.request), "%s", req->body);
	status = gw.status;
	delay = gw.delay_ms;
	memcpy(body, gw.body, sizeof(body));
	pthread_mutex_unlock(&gw.mu);
	if (delay)
		svc_sleep_ms(delay);
	svc_http_reply_raw(res, status, "application/json", body, strlen(body));
}

/* The sidecar's batch route: every request answered with the scripted
 * answer, as the sidecar would answer it alone; the last one's path, key
 * and body are kept as for a single call. */
static void serve_batch(void *ctx, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	json_t *doc = json_loadb(req->body, req->body_len, 0, NULL), *list, *answers, *r;
	size_t i;

	(void)ctx;
	pthread_mutex_lock(&gw.mu);
	gw.batches++;
	if (gw.refuse_batches) {
		pthread_mutex_unlock(&gw.mu);
		json_decref(doc);
		svc_http_reply_problem(res, 404, "Not Found", NULL, "no such route");
		return;
	}
	list = json_object_get(doc, "requests");
	gw.batch_size = (unsigned)json_array_size(list);
	answers = json_array();
	json_array_foreach(list, i, r)
	{
		const char *key = json_string_value(
		        json_object_get(json_object_get(r, "headers"), "Idempotency-Key"));

		gw.requests++;
		snprintf(gw.path, sizeof(gw.path), "/egress/gateway/%s",
		         json_string_value(json_object_get(r, "path")));
		snprintf(gw.key, sizeof(gw.key), "%s", key ? key : "");
		snprintf(gw.request, sizeof(gw.request), "%s",
		         json_string_value(json_object_get(r, "body")));
		json_array_append_new(answers, json_pack("{s:i, s:i, s:s, s:s}", "status",
		                                         gw.status, "attempts", 1, "contentType",
		                                         "application/json", "body", gw.body));
	}
	pthread_mutex_unlock(&gw.mu);
	json_decref(doc);
	svc_http_reply_json(res, 200, json_pack("{s:o}", "responses", answers));
}

static const struct svc_http_route routes[] = {
        {"POST", "/egress/gateway/v1/charges", serve, SVC_HTTP_PUBLIC},
        {"POST", "/egress/gateway/v1/refunds", serve, SVC_HTTP_PUBLIC},
        {"POST", "/egress-batch/gateway", serve_batch, SVC_HTTP_PUBLIC},
};

static struct svc_http_server *srv;
static char base[64];

static int group_setup(void **state)
{
	struct svc_http_server_config cfg = {.threads = 2, .max_body = 65536};

	(void)state;
	setenv("GATEWAY_TIMEOUT_MS", "10000", 1); /* ample under valgrind */
	if (svc_httpc_global_init() != 0)
		return -1;
	srv = fake_http_start(&cfg, routes, sizeof(routes) / sizeof(routes[0]), base, sizeof(base));
	return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	svc_http_server_free(srv);
	return 0;
}

static void test_gateway_charge_posts_with_the_order_as_idempotency_key(void **state)
{
	struct pay_gw_answer a;
	json_t *sent;

	(void)state;
	answer(201, "{\"id\":\"ch_123\",\"status\":\"captured\"}");
	assert_int_equal(pay_gateway_charge(base, "order-7", 1999, "EUR", &a), 0);
	assert_int_equal(a.result, PAY_GW_OK);
	assert_int_equal(a.http_status, 201);
	assert_string_equal(a.ref, "ch_123");
	pthread_mutex_lock(&gw.mu);
	assert_string_equal(gw.path, "/egress/gateway/v1/charges");
	assert_string_equal(gw.key, "order-7");
	sent = json_loads(gw.request, 0, NULL);
	pthread_mutex_unlock(&gw.mu);
	assert_string_equal(json_string_value(json_object_get(sent, "orderId")), "order-7");
	assert_int_equal(json_integer_value(json_object_get(sent, "amount")), 1999);
	assert_string_equal(json_string_value(json_object_get(sent, "currency")), "EUR");
	json_decref(sent);
}

static void test_gateway_refund_has_a_key_of_its_own(void **state)
{
	struct pay_gw_answer a;
	json_t *sent;

	(void)state;
	answer(200, "{\"id\":\"re_9\"}");
	pay_gateway_refund(base, "order-7", "ch_123", 500, &a);
	assert_int_equal(a.result, PAY_GW_OK);
	assert_string_equal(a.ref, "re_9");
	pthread_mutex_lock(&gw.mu);
	assert_string_equal(gw.path, "/egress/gateway/v1/refunds");
	assert_string_equal(gw.key, "refund-order-7"); /* never the charge's key */
	sent = json_loads(gw.request, 0, NULL);
	pthread_mutex_unlock(&gw.mu);
	assert_string_equal(json_string_value(json_object_get(sent, "chargeId")), "ch_123");
	assert_int_equal(json_integer_value(json_object_get(sent, "amount")), 500);
	json_decref(sent);
}

static void test_gateway_2xx_without_an_id_is_transient(void **state)
{
	struct pay_gw_answer a;

	(void)state;
	answer(200, "{\"status\":\"captured\"}");
	pay_gateway_charge(base, "order-8", 100, "EUR", &a);
	assert_int_equal(a.result, PAY_GW_TRANSIENT);
	assert_string_equal(a.reason, "gateway answer without an id");
}

static void test_gateway_402_is_a_decline_with_its_reason(void **state)
{
	struct pay_gw_answer a;

	(void)state;
	answer(402, "{\"reason\":\"insufficient funds\"}");
	pay_gateway_charge(base, "order-9", 100, "EUR", &a);
	assert_int_equal(a.result, PAY_GW_DECLINED);
	assert_int_equal(a.http_status, 402);
	assert_string_equal(a.reason, "insufficient funds");
	assert_string_equal(a.ref, "");
}

static void test_gateway_other_4xx_is_permanent(void **state)
{
	struct pay_gw_answer a;

	(void)state;
	answer(422, "{\"detail\":\"currency not supported\"}");
	pay_gateway_charge(base, "order-10", 100, "XXX", &a);
	assert_int_equal(a.result, PAY_GW_PERMANENT);
	assert_string_equal(a.reason, "currency not supported");
	answer(409, "");
	pay_gateway_charge(base, "order-10", 100, "EUR", &a);
	assert_int_equal(a.result, PAY_GW_PERMANENT);
	assert_string_equal(a.reason, "gateway answered HTTP 409");
}

static void test_gateway_5xx_408_and_429_are_transient(void **state)
{
	static const int statuses[] = {500, 502, 503, 504, 408, 429};
	struct pay_gw_answer a;

	(void)state;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		answer(statuses[i], "not json");
		pay_gateway_charge(base, "order-11", 100, "EUR", &a);
		assert_int_equal(a.result, PAY_GW_TRANSIENT);
		assert_int_equal(a.http_status, statuses[i]);
	}
}

static void test_gateway_timeout_is_transient_without_a_status(void **state)
{
	struct pay_gw_answer a;
	uint64_t start = svc_mono_ms();

	(void)state;
	answer(201, "{\"id\":\"late\"}");
	pthread_mutex_lock(&gw.mu);
	gw.delay_ms = 1500;
	pthread_mutex_unlock(&gw.mu);
	setenv("GATEWAY_TIMEOUT_MS", "300", 1); /* read at every call */
	pay_gateway_charge(base, "order-12", 100, "EUR", &a);
	setenv("GATEWAY_TIMEOUT_MS", "10000", 1);
	assert_true(svc_mono_ms() - start < 1400);
	assert_int_equal(a.result, PAY_GW_TRANSIENT);
	assert_int_equal(a.http_status, 0);
	assert_string_equal(a.ref, ""); /* the late answer is not taken */
	assert_string_equal(a.reason, "no answer from the gateway");
	answer(201, "{}");
}

static void test_gateway_unreachable_sidecar_is_transient(void **state)
{
	struct pay_gw_answer a;

	(void)state;
	pay_gateway_charge("http://127.0.0.1:1", "order-13", 100, "EUR", &a);
	assert_int_equal(a.result, PAY_GW_TRANSIENT);
	assert_int_equal(a.http_status, 0);
}

static void test_gateway_charges_go_in_one_call_each_with_its_answer(void **state)
{
	struct pay_charge a = {.order_id = "order-20", .amount = 100, .currency = "EUR"};
	struct pay_charge b = {.order_id = "order-21", .amount = 250, .currency = "USD"};
	struct pay_charge *both[] = {&a, &b};
	unsigned batches, requests;
	json_t *sent;

	(void)state;
	answer(201, "{\"id\":\"ch_7\"}");
	pthread_mutex_lock(&gw.mu);
	batches = gw.batches;
	requests = gw.requests;
	pthread_mutex_unlock(&gw.mu);
	assert_int_equal(pay_gateway_charge_many(base, both, 2), 0);
	assert_int_equal(a.out.result, PAY_GW_OK);
	assert_int_equal(b.out.result, PAY_GW_OK);
	assert_string_equal(a.out.ref, "ch_7");
	assert_int_equal(b.out.http_status, 201);
	pthread_mutex_lock(&gw.mu);
	assert_int_equal(gw.batches, batches + 1);
	assert_int_equal(gw.batch_size, 2);
	assert_int_equal(gw.requests, requests + 2);
	assert_string_equal(gw.path, "/egress/gateway/v1/charges");
	assert_string_equal(gw.key, "order-21"); /* the last one's */
	sent = json_loads(gw.request, 0, NULL);
	pthread_mutex_unlock(&gw.mu);
	assert_string_equal(json_string_value(json_object_get(sent, "orderId")), "order-21");
	assert_int_equal(json_integer_value(json_object_get(sent, "amount")), 250);
	assert_string_equal(json_string_value(json_object_get(sent, "currency")), "USD");
	json_decref(sent);
	/* a decline is a decline in a batch too */
	answer(402, "{\"reason\":\"card expired\"}");
	pay_gateway_charge_many(base, both, 2);
	assert_int_equal(a.out.result, PAY_GW_DECLINED);
	assert_string_equal(b.out.reason, "card expired");
	answer(201, "{}");
}

static void test_gateway_charges_go_alone_when_the_batch_is_refused(void **state)
{
	struct pay_charge a = {.order_id = "order-22", .amount = 100, .currency = "EUR"};
	struct pay_charge b = {.order_id = "order-23", .amount = 300, .currency = "EUR"};
	struct pay_charge *both[] = {&a, &b};
	unsigned requests;

	(void)state;
	answer(201, "{\"id\":\"ch_8\"}");
	pthread_mutex_lock(&gw.mu);
	gw.refuse_batches = true;
	requests = gw.requests;
	pthread_mutex_unlock(&gw.mu);
	pay_gateway_charge_many(base, both, 2);
	pthread_mutex_lock(&gw.mu);
	gw.refuse_batches = false;
	assert_int_equal(gw.requests, requests + 2); /* two single calls */
	assert_string_equal(gw.key, "order-23");
	pthread_mutex_unlock(&gw.mu);
	assert_int_equal(a.out.result, PAY_GW_OK);
	assert_int_equal(b.out.result, PAY_GW_OK);
	assert_string_equal(b.out.ref, "ch_8");
	answer(201, "{}");
}

static void test_gateway_charges_without_a_sidecar_are_transient(void **state)
{
	struct pay_charge a = {.order_id = "order-24", .amount = 100, .currency = "EUR"};
	struct pay_charge *one[] = {&a};

	(void)state;
	pay_gateway_charge_many("http://127.0.0.1:1", one, 1);
	assert_int_equal(a.out.result, PAY_GW_TRANSIENT);
	assert_int_equal(a.out.http_status, 0);
	assert_string_equal(a.out.reason, "no answer from the gateway");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gateway_charge_posts_with_the_order_as_idempotency_key),
	        cmocka_unit_test(test_gateway_refund_has_a_key_of_its_own),
	        cmocka_unit_test(test_gateway_2xx_without_an_id_is_transient),
	        cmocka_unit_test(test_gateway_402_is_a_decline_with_its_reason),
	        cmocka_unit_test(test_gateway_other_4xx_is_permanent),
	        cmocka_unit_test(test_gateway_5xx_408_and_429_are_transient),
	        cmocka_unit_test(test_gateway_timeout_is_transient_without_a_status),
	        cmocka_unit_test(test_gateway_unreachable_sidecar_is_transient),
	        cmocka_unit_test(test_gateway_charges_go_in_one_call_each_with_its_answer),
	        cmocka_unit_test(test_gateway_charges_go_alone_when_the_batch_is_refused),
	        cmocka_unit_test(test_gateway_charges_without_a_sidecar_are_transient),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
