/* Validation of POST /api/notifications bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "services/notification/request.h"
#include "svc/error.h"

static int parse(const char *json, struct notif_request *req, struct svc_problem *err)
{
	json_error_t jerr;
	json_t *body = json_loads(json, JSON_ALLOW_NUL, &jerr);
	int rc;

	assert_non_null(body);
	rc = notif_request_parse(body, req, err);
	json_decref(body);
	return rc;
}

static void test_full_request_is_accepted(void **state)
{
	json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "orderId",
	                         "0190f1c2-7a3b-7cde-8f01-23456789abcd", "userId", "u-1",
	                         "recipient", "a@example.com", "channel", "webhook", "subject",
	                         "Hello", "message", "Line 1\nLine 2", "extra", 1);
	struct notif_request req;
	struct svc_problem err;

	(void)state;
	assert_int_equal(notif_request_parse(body, &req, &err), 0);
	assert_string_equal(req.recipient, "a@example.com");
	assert_string_equal(req.channel, "webhook");
	assert_string_equal(req.message, "Line 1\nLine 2");
	json_decref(body);
}

static void test_user_id_alone_is_enough_and_nulls_are_absent(void **state)
{
	struct notif_request req;
	struct svc_problem err;

	(void)state;
	assert_int_equal(parse("{\"userId\":\"u-1\",\"subject\":\"s\",\"message\":\"m\","
	                       "\"orderId\":null,\"channel\":null}",
	                       &req, &err),
	                 0);
	assert_null(req.order_id);
	assert_null(req.channel);
	assert_null(req.recipient);
}

static void test_bad_fields_are_named_with_400_or_422(void **state)
{
	struct {
		const char *json;
		int status;
		const char *field;
	} cases[] = {
	        {"{\"userId\":\"u\",\"message\":\"m\"}", 400, "subject"},
	        {"{\"userId\":\"u\",\"subject\":\"s\"}", 400, "message"},
	        {"{\"userId\":\"u\",\"subject\":5,\"message\":\"m\"}", 400, "subject"},
	        {"{\"userId\":\"u\",\"subject\":\"\",\"message\":\"m\"}", 422, "subject"},
	        {"{\"userId\":\"u\",\"subject\":\"a\\r\\nBcc: x\",\"message\":\"m\"}", 422,
	         "subject"},
	        {"{\"userId\":\"u\",\"subject\":\"s\",\"message\":\"\"}", 422, "message"},
	        {"{\"userId\":\"u\",\"subject\":\"s\",\"message\":\"m\",\"orderId\":\"x\"}", 422,
	         "orderId"},
	        {"{\"userId\":\"u u\",\"subject\":\"s\",\"message\":\"m\"}", 422, "userId"},
	        {"{\"userId\":[],\"subject\":\"s\",\"message\":\"m\"}", 400, "userId"},
	        {"{\"subject\":\"s\",\"message\":\"m\"}", 422, "recipient"},
	        {"{\"recipient\":\"\",\"subject\":\"s\",\"message\":\"m\"}", 422, "recipient"},
	        {"{\"userId\":\"u\",\"subject\":\"s\",\"message\":\"m\",\"channel\":\"fax\"}", 422,
	         "channel"},
	        {"{\"userId\":\"u\",\"subject\":\"s\\u0000x\",\"message\":\"m\"}", 422, "subject"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct notif_request req;
		struct svc_problem err;

		assert_int_equal(parse(cases[i].json, &req, &err), SVC_EPERMANENT);
		assert_int_equal(err.status, cases[i].status);
		assert_string_equal(err.field, cases[i].field);
		assert_true(strlen(err.detail) > 0);
	}
}

static void test_length_limits_are_enforced(void **state)
{
	char subject[NOTIF_SUBJECT_MAX + 2];
	json_t *body;
	struct notif_request req;
	struct svc_problem err;

	(void)state;
	memset(subject, 's', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	body = json_pack("{s:s, s:s, s:s}", "userId", "u", "subject", subject, "message", "m");
	assert_int_equal(notif_request_parse(body, &req, &err), SVC_EPERMANENT);
	assert_string_equal(err.field, "subject");
	subject[NOTIF_SUBJECT_MAX] = '\0';
	json_object_set_new(body, "subject", json_string(subject));
	assert_int_equal(notif_request_parse(body, &req, &err), 0);
	json_decref(body);
}

static void test_non_object_body_is_a_400(void **state)
{
	json_t *body = json_array();
	struct notif_request req;
	struct svc_problem err;

	(void)state;
	assert_int_equal(notif_request_parse(body, &req, &err), SVC_EPERMANENT);
	assert_int_equal(err.status, 400);
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_full_request_is_accepted),
	        cmocka_unit_test(test_user_id_alone_is_enough_and_nulls_are_absent),
	        cmocka_unit_test(test_bad_fields_are_named_with_400_or_422),
	        cmocka_unit_test(test_length_limits_are_enforced),
	        cmocka_unit_test(test_non_object_body_is_a_400),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
