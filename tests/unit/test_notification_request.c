/* Validation of POST /api/notifications bodies, and whose notifications
 * GET /api/notifications lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "services/notification/request.h"
#include "svc/auth.h"
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

/* Parsing `json` fails with `status`, naming `field`; the problem in *err. */
static void assert_refused(const char *json, int status, const char *field, struct svc_problem *err)
{
	struct notif_request req;

	assert_int_equal(parse(json, &req, err), SVC_EPERMANENT);
	assert_int_equal(err->status, status);
	assert_string_equal(err->field, field);
	assert_true(strlen(err->detail) > 0);
}

static void test_full_request_is_accepted(void **state)
{
	json_t *body =
	        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "orderId",
	                  "0190f1c2-7a3b-7cde-8f01-23456789abcd", "userId", "u-1", "channel",
	                  "webhook", "subject", "Hello", "message", "Line 1\nLine 2", "extra", 1);
	struct notif_request req;
	struct svc_problem err;

	(void)state;
	assert_int_equal(notif_request_parse(body, &req, &err), 0);
	assert_string_equal(req.order_id, "0190f1c2-7a3b-7cde-8f01-23456789abcd");
	assert_string_equal(req.user_id, "u-1");
	assert_string_equal(req.channel, "webhook");
	assert_string_equal(req.message, "Line 1\nLine 2");
	json_decref(body);
}

static void test_user_id_alone_is_enough_and_nulls_are_absent(void **state)
{
	json_t *body = json_loads("{\"userId\":\"u-1\",\"subject\":\"s\",\"message\":\"m\","
	                          "\"orderId\":null,\"channel\":null,\"recipient\":null}",
	                          0, NULL);
	struct notif_request req;
	struct svc_problem err;

	(void)state;
	assert_int_equal(notif_request_parse(body, &req, &err), 0);
	assert_string_equal(req.user_id, "u-1"); /* points into body */
	assert_null(req.order_id);
	assert_null(req.channel);
	json_decref(body);
}

/* Notifications go to the contact stored for the user: a caller never
 * names the address, whatever the rest of the body holds. */
static void test_recipient_is_refused_with_422(void **state)
{
	const char *cases[] = {
	        "{\"userId\":\"u-1\",\"recipient\":\"attacker@evil.example\","
	        "\"orderId\":\"0190f1c2-7a3b-7cde-8f01-23456789abcd\","
	        "\"subject\":\"Payment failed\",\"message\":\"Log in at http://evil.example\"}",
	        "{\"userId\":\"u-1\",\"recipient\":\"\",\"subject\":\"s\",\"message\":\"m\"}",
	        "{\"userId\":\"u-1\",\"recipient\":42,\"subject\":\"s\",\"message\":\"m\"}",
	        "{\"recipient\":\"a@example.com\",\"subject\":\"s\",\"message\":\"m\"}",
	        "{\"recipient\":\"a@example.com\"}",
	};

	struct svc_problem err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_refused(cases[i], 422, "recipient", &err);
		assert_string_equal(err.detail,
		                    "notifications go to the contact stored for the user");
	}
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
	        {"{\"subject\":\"s\",\"message\":\"m\"}", 400, "userId"}, /* required */
	        {"{\"userId\":null,\"subject\":\"s\",\"message\":\"m\"}", 400, "userId"},
	        {"{\"userId\":\"\",\"subject\":\"s\",\"message\":\"m\"}", 422, "userId"},
	        {"{\"userId\":\"u\",\"subject\":\"s\",\"message\":\"m\",\"orderId\":5}", 400,
	         "orderId"},
	        {"{\"userId\":\"u\",\"subject\":\"s\",\"message\":\"m\",\"channel\":\"fax\"}", 422,
	         "channel"},
	        {"{\"userId\":\"u\",\"subject\":\"s\\u0000x\",\"message\":\"m\"}", 422, "subject"},
	};

	struct svc_problem err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused(cases[i].json, cases[i].status, cases[i].field, &err);
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

static const struct svc_principal customer = {.subject = "u-1", .roles = SVC_ROLE_CUSTOMER};
static const struct svc_principal admin = {.subject = "ops", .roles = SVC_ROLE_ADMIN};

static void test_list_of_a_customer_is_its_own(void **state)
{
	const char *user_id = NULL;
	struct svc_problem err;

	(void)state;
	assert_int_equal(notif_list_user(&customer, NULL, &user_id, &err), 0);
	assert_string_equal(user_id, "u-1");
	assert_int_equal(notif_list_user(&customer, "u-1", &user_id, &err), 0);
	assert_string_equal(user_id, "u-1");
}

/* notif_list_user refuses `asked` to `who` with `status`, naming userId. */
static void assert_list_refused(const struct svc_principal *who, const char *asked, int status)
{
	const char *user_id = "unset";
	struct svc_problem err;

	assert_int_equal(notif_list_user(who, asked, &user_id, &err), SVC_EPERMANENT);
	assert_int_equal(err.status, status);
	assert_string_equal(err.field, "userId");
	assert_null(user_id);
}

static void test_list_of_another_user_is_forbidden_to_a_customer(void **state)
{
	(void)state;
	assert_list_refused(&customer, "u-2", 403);
	assert_list_refused(&customer, "U-1", 403); /* exact match, as svc_principal_owns */
	assert_list_refused(&customer, "ops", 403);
}

static void test_list_of_an_admin_is_everyones_or_the_one_asked(void **state)
{
	const char *user_id = "unset";
	struct svc_problem err;

	(void)state;
	assert_int_equal(notif_list_user(&admin, NULL, &user_id, &err), 0);
	assert_null(user_id);
	assert_int_equal(notif_list_user(&admin, "u-2", &user_id, &err), 0);
	assert_string_equal(user_id, "u-2");
}

static void test_list_of_a_malformed_user_id_is_a_400(void **state)
{
	const char *asked[] = {"", "u 1", "u-1' OR '1'='1"};

	(void)state;
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		assert_list_refused(&admin, asked[i], 400);
		assert_list_refused(&customer, asked[i], 400);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_full_request_is_accepted),
	        cmocka_unit_test(test_user_id_alone_is_enough_and_nulls_are_absent),
	        cmocka_unit_test(test_recipient_is_refused_with_422),
	        cmocka_unit_test(test_bad_fields_are_named_with_400_or_422),
	        cmocka_unit_test(test_length_limits_are_enforced),
	        cmocka_unit_test(test_non_object_body_is_a_400),
	        cmocka_unit_test(test_list_of_a_customer_is_its_own),
	        cmocka_unit_test(test_list_of_another_user_is_forbidden_to_a_customer),
	        cmocka_unit_test(test_list_of_an_admin_is_everyones_or_the_one_asked),
	        cmocka_unit_test(test_list_of_a_malformed_user_id_is_a_400),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
