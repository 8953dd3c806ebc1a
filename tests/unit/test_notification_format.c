/* Notification texts from order events, and the fallback recipient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "services/notification/format.h"
#include "svc/error.h"
#include "svc/events.h"

#define ORDER_ID "0190f1c2-7a3b-7cde-8f01-23456789abcd"

static void make_event(struct svc_event *ev, const char *type, json_t *data)
{
	assert_int_equal(svc_event_init(ev, type, ORDER_ID, "order-service", NULL, data), 0);
}

static void test_confirmed_event_reads_and_formats_total_with_currency(void **state)
{
	struct svc_event ev;
	struct notif_order_event oe;
	struct notif_text text;
	char err[128] = "";

	(void)state;
	make_event(&ev, EV_ORDER_CONFIRMED,
	           json_pack("{s:s, s:s, s:I, s:s, s:[]}", "orderId", ORDER_ID, "userId", "u-1",
	                     "totalAmount", (json_int_t)3998, "currency", "USD", "items"));
	assert_int_equal(notif_order_event_read(&ev, &oe, err, sizeof(err)), 0);
	assert_false(oe.cancelled);
	assert_string_equal(oe.user_id, "u-1");
	assert_int_equal(notif_format_order(&oe, &text), 0);
	assert_string_equal(text.kind, "order-confirmed");
	assert_string_equal(text.body, "Your order " ORDER_ID " is confirmed: total 39.98 USD");
	assert_string_equal(text.subject, "Order " ORDER_ID " confirmed");
	svc_event_release(&ev);
}

static void test_cancelled_event_carries_the_reason(void **state)
{
	struct svc_event ev;
	struct notif_order_event oe;
	struct notif_text text;
	char err[128] = "";

	(void)state;
	make_event(&ev, EV_ORDER_CANCELLED,
	           json_pack("{s:s, s:s, s:I, s:s, s:s}", "orderId", ORDER_ID, "userId", "u-2",
	                     "totalAmount", (json_int_t)120000, "currency", "USD", "reason",
	                     "payment declined: amount above limit"));
	assert_int_equal(notif_order_event_read(&ev, &oe, err, sizeof(err)), 0);
	assert_true(oe.cancelled);
	assert_int_equal(notif_format_order(&oe, &text), 0);
	assert_string_equal(text.kind, "order-cancelled");
	assert_string_equal(text.body, "Your order " ORDER_ID
	                               " was cancelled: payment declined: amount above limit");
	svc_event_release(&ev);
}

/* A long reason is cut to 500 bytes, never inside a UTF-8 character: the body
 * is stored in a utf8mb4 column and sent as JSON (found by tests/fuzz). */
static void test_long_reason_is_cut_on_a_character_boundary(void **state)
{
	struct svc_event ev;
	struct notif_order_event oe;
	struct notif_text text;
	char reason[600], err[128] = "";
	json_t *body;

	(void)state;
	memset(reason, 'x', 499);
	snprintf(reason + 499, sizeof(reason) - 499, "\xc3\xa9 declined"); /* "é" at 499..500 */
	make_event(&ev, EV_ORDER_CANCELLED,
	           json_pack("{s:s, s:s, s:s}", "orderId", ORDER_ID, "userId", "u-2", "reason",
	                     reason));
	assert_int_equal(notif_order_event_read(&ev, &oe, err, sizeof(err)), 0);
	assert_int_equal(notif_format_order(&oe, &text), 0);
	assert_int_equal(strlen(text.body),
	                 strlen("Your order " ORDER_ID " was cancelled: ") + 499);
	body = json_string(text.body); /* NULL if not valid UTF-8 */
	assert_non_null(body);
	json_decref(body);
	svc_event_release(&ev);
}

static void test_other_event_types_are_ignored(void **state)
{
	const char *types[] = {EV_ORDER_CREATED, EV_PAYMENT_COMPLETED, "SomethingNewEvent"};
	struct notif_order_event oe;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct svc_event ev;

		make_event(&ev, types[i], json_pack("{s:s}", "orderId", ORDER_ID));
		assert_int_equal(notif_order_event_read(&ev, &oe, err, sizeof(err)), SVC_IGNORED);
		/* the consumer answers them without touching the database */
		assert_false(notif_order_event_wanted(types[i]));
		svc_event_release(&ev);
	}
	assert_true(notif_order_event_wanted(EV_ORDER_CONFIRMED));
	assert_true(notif_order_event_wanted(EV_ORDER_CANCELLED));
}

static void test_missing_or_mistyped_fields_are_rejected_naming_the_field(void **state)
{
	struct {
		const char *type;
		json_t *data;
		const char *field;
	} cases[] = {
	        {EV_ORDER_CONFIRMED,
	         json_pack("{s:s, s:I, s:s}", "userId", "u", "totalAmount", (json_int_t)1,
	                   "currency", "USD"),
	         "orderId"},
	        {EV_ORDER_CONFIRMED,
	         json_pack("{s:s, s:s, s:s, s:s}", "orderId", ORDER_ID, "userId", "u",
	                   "totalAmount", "12", "currency", "USD"),
	         "totalAmount"},
	        {EV_ORDER_CONFIRMED,
	         json_pack("{s:s, s:s, s:I}", "orderId", ORDER_ID, "userId", "u", "totalAmount",
	                   (json_int_t)1),
	         "currency"},
	        {EV_ORDER_CANCELLED, json_pack("{s:s, s:s}", "orderId", ORDER_ID, "userId", "u"),
	         "reason"},
	        {EV_ORDER_CANCELLED, json_pack("{s:s, s:s}", "orderId", ORDER_ID, "reason", "x"),
	         "userId"},
	        {EV_ORDER_CANCELLED,
	         json_pack("{s:s, s:s, s:s}", "orderId", "not-a-uuid", "userId", "u", "reason",
	                   "x"),
	         "orderId"},
	        {EV_ORDER_CONFIRMED,
	         json_pack("{s:s, s:s, s:I, s:s}", "orderId", ORDER_ID, "userId", "u",
	                   "totalAmount", (json_int_t)-5, "currency", "USD"),
	         "totalAmount"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct svc_event ev;
		struct notif_order_event oe;
		char err[128] = "";

		make_event(&ev, cases[i].type, cases[i].data);
		assert_int_equal(notif_order_event_read(&ev, &oe, err, sizeof(err)),
		                 SVC_EPERMANENT);
		assert_non_null(strstr(err, cases[i].field));
		svc_event_release(&ev);
	}
}

static void test_fallback_recipient_is_an_invalid_domain_address(void **state)
{
	char out[128];

	(void)state;
	notif_fallback_recipient("u-42", out, sizeof(out));
	assert_string_equal(out, "u-42@customers.invalid");
	notif_fallback_recipient("a@b:c", out, sizeof(out));
	assert_string_equal(out, "a_b_c@customers.invalid");
	notif_fallback_recipient("", out, sizeof(out));
	assert_string_equal(out, "_@customers.invalid");
}

static void test_fallback_recipient_never_overflows(void **state)
{
	char tiny[8];
	char out[128];
	char long_id[200];

	(void)state;
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	notif_fallback_recipient(long_id, out, sizeof(out));
	assert_true(strlen(out) <= 64 + strlen("@customers.invalid"));
	assert_non_null(strstr(out, "@customers.invalid"));
	notif_fallback_recipient("u-1", tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_confirmed_event_reads_and_formats_total_with_currency),
	        cmocka_unit_test(test_cancelled_event_carries_the_reason),
	        cmocka_unit_test(test_long_reason_is_cut_on_a_character_boundary),
	        cmocka_unit_test(test_other_event_types_are_ignored),
	        cmocka_unit_test(test_missing_or_mistyped_fields_are_rejected_naming_the_field),
	        cmocka_unit_test(test_fallback_recipient_is_an_invalid_domain_address),
	        cmocka_unit_test(test_fallback_recipient_never_overflows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
