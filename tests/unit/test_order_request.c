/*
 * POST /api/orders body validation (services/order/request.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "services/order/request.h"
#include "svc/error.h"

static struct order_request req;
static struct svc_problem err;

/* Parses `text` (must be valid JSON); returns order_request_parse's code. */
static int parse(const char *text)
{
	json_error_t jerr;
	json_t *body = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	int rc;

	assert_non_null(body);
	memset(&err, 0, sizeof(err));
	rc = order_request_parse(body, &req, &err);
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

static void test_request_items_form_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(
	        parse("{\"userId\":\"u-1\",\"items\":[{\"productId\":\"p-1\",\"quantity\":2},"
	              "{\"productId\":\"p-2\",\"quantity\":1}]}"),
	        0);
	assert_string_equal(req.user_id, "u-1");
	assert_int_equal(req.nitems, 2);
	assert_string_equal(req.items[0].product_id, "p-1");
	assert_int_equal(req.items[0].quantity, 2);
	assert_string_equal(req.items[1].product_id, "p-2");
	assert_int_equal(req.items[1].quantity, 1);
	assert_false(req.single_form);
}

static void test_request_single_product_form_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"userId\":\"user@example.com\",\"productId\":\"sku:A_1.x\","
	                       "\"quantity\":1000}"),
	                 0);
	assert_string_equal(req.user_id, "user@example.com");
	assert_int_equal(req.nitems, 1);
	assert_string_equal(req.items[0].product_id, "sku:A_1.x");
	assert_int_equal(req.items[0].quantity, 1000);
	assert_true(req.single_form);
}

static void test_request_client_prices_are_ignored(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"userId\":\"u-1\",\"totalAmount\":1,\"price\":1,\"items\":"
	                       "[{\"productId\":\"p-1\",\"quantity\":2,\"unitPrice\":1,"
	                       "\"price\":1}]}"),
	                 0);
	assert_int_equal(req.nitems, 1);
	assert_int_equal(req.items[0].quantity, 2);
}

static void test_request_repeated_product_is_merged(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"userId\":\"u\",\"items\":[{\"productId\":\"a\",\"quantity\":2},"
	                       "{\"productId\":\"b\",\"quantity\":1},"
	                       "{\"productId\":\"a\",\"quantity\":3}]}"),
	                 0);
	assert_int_equal(req.nitems, 2);
	assert_string_equal(req.items[0].product_id, "a");
	assert_int_equal(req.items[0].quantity, 5);
	assert_string_equal(req.items[1].product_id, "b");
}

static void test_request_merged_quantity_above_limit_is_refused(void **state)
{
	(void)state;
	assert_refused("{\"userId\":\"u\",\"items\":[{\"productId\":\"a\",\"quantity\":600},"
	               "{\"productId\":\"a\",\"quantity\":401}]}",
	               422, "items[1].quantity");
}

static void test_request_body_must_be_object(void **state)
{
	(void)state;
	assert_refused("[1,2]", 400, "");
	assert_refused("\"x\"", 400, "");
}

static void test_request_user_id_rules(void **state)
{
	(void)state;
	assert_refused("{\"productId\":\"p\",\"quantity\":1}", 400, "userId");
	assert_refused("{\"userId\":7,\"productId\":\"p\",\"quantity\":1}", 400, "userId");
	assert_refused("{\"userId\":null,\"productId\":\"p\",\"quantity\":1}", 400, "userId");
	assert_refused("{\"userId\":\"\",\"productId\":\"p\",\"quantity\":1}", 422, "userId");
	assert_refused("{\"userId\":\"a b\",\"productId\":\"p\",\"quantity\":1}", 422, "userId");
	assert_refused("{\"userId\":\"a/b\",\"productId\":\"p\",\"quantity\":1}", 422, "userId");
	assert_refused("{\"userId\":\"a\\u0000b\",\"productId\":\"p\",\"quantity\":1}", 422,
	               "userId");
	assert_refused("{\"userId\":\"\\u00e9\",\"productId\":\"p\",\"quantity\":1}", 422,
	               "userId");
}

static void test_request_id_length_bounds(void **state)
{
	char id64[65], id65[66], body[256];

	(void)state;
	memset(id64, 'a', 64);
	id64[64] = '\0';
	memset(id65, 'a', 65);
	id65[65] = '\0';
	snprintf(body, sizeof(body), "{\"userId\":\"%s\",\"productId\":\"%s\",\"quantity\":1}",
	         id64, id64);
	assert_int_equal(parse(body), 0);
	assert_string_equal(req.user_id, id64);
	snprintf(body, sizeof(body), "{\"userId\":\"%s\",\"productId\":\"p\",\"quantity\":1}",
	         id65);
	assert_refused(body, 422, "userId");
	snprintf(body, sizeof(body),
	         "{\"userId\":\"u\",\"items\":[{\"productId\":\"%s\","
	         "\"quantity\":1}]}",
	         id65);
	assert_refused(body, 422, "items[0].productId");
	assert_true(svc_id_valid("A-z.0_9:@"));
	assert_false(svc_id_valid(NULL));
	assert_false(svc_id_valid(""));
}

static void test_request_quantity_rules(void **state)
{
	(void)state;
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\"}", 400, "quantity");
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":0}", 422, "quantity");
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":-1}", 422, "quantity");
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":1001}", 422, "quantity");
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":2.0}", 400, "quantity");
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":\"2\"}", 400,
	               "quantity");
	assert_refused("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":99999999999999999}", 422,
	               "quantity");
	assert_refused("{\"userId\":\"u\",\"items\":[{\"productId\":\"p\",\"quantity\":1},"
	               "{\"productId\":\"q\",\"quantity\":0}]}",
	               422, "items[1].quantity");
	assert_refused("{\"userId\":\"u\",\"items\":[{\"productId\":\"p\"}]}", 400,
	               "items[0].quantity");
}

static void test_request_product_id_rules(void **state)
{
	(void)state;
	assert_refused("{\"userId\":\"u\",\"quantity\":1}", 400, "productId");
	assert_refused("{\"userId\":\"u\",\"productId\":[],\"quantity\":1}", 400, "productId");
	assert_refused("{\"userId\":\"u\",\"items\":[{\"quantity\":1}]}", 400,
	               "items[0].productId");
	assert_refused("{\"userId\":\"u\",\"items\":[{\"productId\":\"p\",\"quantity\":1},"
	               "{\"productId\":\"p?\",\"quantity\":1}]}",
	               422, "items[1].productId");
}

static void test_request_items_rules(void **state)
{
	(void)state;
	assert_refused("{\"userId\":\"u\",\"items\":[]}", 422, "items");
	assert_refused("{\"userId\":\"u\",\"items\":{}}", 400, "items");
	assert_refused("{\"userId\":\"u\",\"items\":null}", 400, "items");
	assert_refused("{\"userId\":\"u\",\"items\":[1]}", 400, "items[0]");
	assert_refused("{\"userId\":\"u\",\"items\":[{\"productId\":\"p\",\"quantity\":1}],"
	               "\"productId\":\"p\",\"quantity\":1}",
	               400, "items");
}

static void test_request_item_count_bounds(void **state)
{
	char body[8192];
	size_t off;

	(void)state;
	for (int n = 50; n <= 51; n++) {
		off = (size_t)snprintf(body, sizeof(body), "{\"userId\":\"u\",\"items\":[");
		for (int i = 0; i < n; i++)
			off += (size_t)snprintf(body + off, sizeof(body) - off,
			                        "%s{\"productId\":\"p%d\",\"quantity\":1}",
			                        i ? "," : "", i);
		snprintf(body + off, sizeof(body) - off, "]}");
		if (n == 50) {
			assert_int_equal(parse(body), 0);
			assert_int_equal(req.nitems, 50);
		} else {
			assert_refused(body, 422, "items");
		}
	}
}

static void test_request_canonical_ignores_line_order_and_prices(void **state)
{
	char *a, *b, *c;

	(void)state;
	assert_int_equal(parse("{\"userId\":\"u\",\"items\":[{\"productId\":\"b\",\"quantity\":1},"
	                       "{\"productId\":\"a\",\"quantity\":2,\"price\":5}]}"),
	                 0);
	a = order_request_canonical(&req);
	assert_int_equal(parse("{\"items\":[{\"productId\":\"a\",\"quantity\":2},"
	                       "{\"quantity\":1,\"productId\":\"b\"}],\"userId\":\"u\"}"),
	                 0);
	b = order_request_canonical(&req);
	assert_int_equal(parse("{\"userId\":\"u\",\"items\":[{\"productId\":\"a\",\"quantity\":3},"
	                       "{\"productId\":\"b\",\"quantity\":1}]}"),
	                 0);
	c = order_request_canonical(&req);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	free(a);
	free(b);
	free(c);
}

static void test_request_canonical_of_single_form_equals_items_form(void **state)
{
	char *a, *b;

	(void)state;
	assert_int_equal(parse("{\"userId\":\"u\",\"productId\":\"p\",\"quantity\":2}"), 0);
	a = order_request_canonical(&req);
	assert_int_equal(
	        parse("{\"userId\":\"u\",\"items\":[{\"productId\":\"p\",\"quantity\":2}]}"), 0);
	b = order_request_canonical(&req);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_request_items_form_is_accepted),
	        cmocka_unit_test(test_request_single_product_form_is_accepted),
	        cmocka_unit_test(test_request_client_prices_are_ignored),
	        cmocka_unit_test(test_request_repeated_product_is_merged),
	        cmocka_unit_test(test_request_merged_quantity_above_limit_is_refused),
	        cmocka_unit_test(test_request_body_must_be_object),
	        cmocka_unit_test(test_request_user_id_rules),
	        cmocka_unit_test(test_request_id_length_bounds),
	        cmocka_unit_test(test_request_quantity_rules),
	        cmocka_unit_test(test_request_product_id_rules),
	        cmocka_unit_test(test_request_items_rules),
	        cmocka_unit_test(test_request_item_count_bounds),
	        cmocka_unit_test(test_request_canonical_ignores_line_order_and_prices),
	        cmocka_unit_test(test_request_canonical_of_single_form_equals_items_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
