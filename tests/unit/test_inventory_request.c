/*
 * PUT /api/inventory/{productId} body validation (services/inventory/request.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/inventory/request.h"
#include "svc/error.h"

static struct inv_put_request req;
static struct svc_problem err;
static json_t *body;

/* Parses `text` (valid JSON); the body stays alive for req.name until the next call. */
static int parse(const char *text)
{
	json_decref(body);
	body = json_loads(text, 0, NULL);
	assert_non_null(body);
	memset(&err, 0, sizeof(err));
	return inv_put_request_parse(body, &req, &err);
}

static void assert_refused(const char *text, int status, const char *field)
{
	assert_int_equal(parse(text), SVC_EPERMANENT);
	assert_int_equal(err.status, status);
	assert_string_equal(err.field, field);
	assert_true(err.detail[0] != '\0');
}

static int release_body(void **state)
{
	(void)state;
	json_decref(body);
	body = NULL;
	return 0;
}

static void test_inventory_request_full_body_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"available\":100,\"price\":1999,\"name\":\"Widget\"}"), 0);
	assert_int_equal(req.available, 100);
	assert_int_equal(req.price, 1999);
	assert_string_equal(req.name, "Widget");
}

static void test_inventory_request_name_is_optional(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"available\":0,\"price\":0,\"extra\":true}"), 0);
	assert_null(req.name);
}

static void test_inventory_request_counts_are_required_integers(void **state)
{
	(void)state;
	assert_refused("{\"price\":1}", 400, "available");
	assert_refused("{\"available\":1}", 400, "price");
	assert_refused("{\"available\":1.0,\"price\":1}", 400, "available");
	assert_refused("{\"available\":1,\"price\":\"1\"}", 400, "price");
}

static void test_inventory_request_counts_out_of_range_are_refused(void **state)
{
	(void)state;
	assert_refused("{\"available\":-1,\"price\":1}", 422, "available");
	assert_refused("{\"available\":2147483648,\"price\":1}", 422, "available");
	assert_refused("{\"available\":1,\"price\":9223372036855}", 422, "price");
	assert_int_equal(parse("{\"available\":2147483647,\"price\":9223372036854}"), 0);
}

static void test_inventory_request_name_rules(void **state)
{
	char text[400];

	(void)state;
	assert_refused("{\"available\":1,\"price\":1,\"name\":\"\"}", 422, "name");
	assert_refused("{\"available\":1,\"price\":1,\"name\":null}", 422, "name");
	assert_refused("{\"available\":1,\"price\":1,\"name\":5}", 422, "name");
	snprintf(text, sizeof(text), "{\"available\":1,\"price\":1,\"name\":\"%0255d\"}", 0);
	assert_int_equal(parse(text), 0);
	snprintf(text, sizeof(text), "{\"available\":1,\"price\":1,\"name\":\"%0256d\"}", 0);
	assert_refused(text, 422, "name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_inventory_request_full_body_is_accepted,
	                                  release_body),
	        cmocka_unit_test_teardown(test_inventory_request_name_is_optional, release_body),
	        cmocka_unit_test_teardown(test_inventory_request_counts_are_required_integers,
	                                  release_body),
	        cmocka_unit_test_teardown(test_inventory_request_counts_out_of_range_are_refused,
	                                  release_body),
	        cmocka_unit_test_teardown(test_inventory_request_name_rules, release_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
