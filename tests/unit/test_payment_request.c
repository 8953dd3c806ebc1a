/*
 * POST /api/payments body validation (services/payment/request.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/payment/request.h"
#include "svc/error.h"

#define ORDER_ID "5b0e8f9c-1d2e-4f3a-8b7c-6d5e4f3a2b1c"

static struct pay_request req;
static struct svc_problem err;

static int parse(const char *text)
{
	json_t *body = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(body);
	memset(&err, 0, sizeof(err));
	rc = pay_request_parse(body, &req, &err);
	json_decref(body);
	return rc;
}

static void assert_refused(const char *text, int status, const char *field)
{
	assert_int_equal(parse(text), SVC_EPERMANENT);
	assert_int_equal(err.status, status);
	assert_string_equal(err.field, field);
	assert_true(err.detail[0] != '\0');
}

static void test_payment_request_full_body_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(
	        parse("{\"orderId\":\"" ORDER_ID "\",\"amount\":4498,\"currency\":\"EUR\"}"), 0);
	assert_string_equal(req.order_id, ORDER_ID);
	assert_int_equal(req.amount, 4498);
	assert_string_equal(req.currency, "EUR");
}

static void test_payment_request_currency_defaults_to_usd(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"orderId\":\"" ORDER_ID "\",\"amount\":1}"), 0);
	assert_string_equal(req.currency, "USD");
}

static void test_payment_request_missing_members_are_400(void **state)
{
	(void)state;
	assert_refused("{\"amount\":1}", 400, "orderId");
	assert_refused("{\"orderId\":7,\"amount\":1}", 400, "orderId");
	assert_refused("{\"orderId\":\"" ORDER_ID "\"}", 400, "amount");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":1.5}", 400, "amount");
	/* orderId is named first when both are missing */
	assert_refused("{}", 400, "orderId");
}

static void test_payment_request_bad_values_are_422(void **state)
{
	(void)state;
	assert_refused("{\"orderId\":\"o-1\",\"amount\":1}", 422, "orderId");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":0}", 422, "amount");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":-5}", 422, "amount");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":1,\"currency\":\"usd\"}", 422,
	               "currency");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":1,\"currency\":\"USDX\"}", 422,
	               "currency");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":1,\"currency\":null}", 422,
	               "currency");
	assert_refused("{\"orderId\":\"" ORDER_ID "\",\"amount\":1,\"currency\":840}", 422,
	               "currency");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_payment_request_full_body_is_accepted),
	        cmocka_unit_test(test_payment_request_currency_defaults_to_usd),
	        cmocka_unit_test(test_payment_request_missing_members_are_400),
	        cmocka_unit_test(test_payment_request_bad_values_are_422),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
