/*
 * Contact look-ups (services/notification/contacts.h), the recipient
 * fallback and addressing a notification to a user (notify.h), and a
 * consumer batch's look-up (events.c), with a fake query in place of the
 * database's. How concurrent look-ups share a query is
 * the combiner's (test_combine.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "services/notification/channel.h"
#include "services/notification/contacts.h"
#include "services/notification/events.h"
#include "services/notification/notify.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/service.h"

struct fake {
	struct notif_contacts contacts;
	int fail;           /* what every query returns */
	int calls, lookups; /* queries made, look-ups they answered */
};

/* Every user has <id>@example.com, except U-unknown. */
static int fake_query(void *arg, struct notif_contact *const *cs, size_t n)
{
	struct fake *f = arg;

	f->calls++;
	f->lookups += (int)n;
	for (size_t i = 0; i < n; i++) {
		cs[i]->rc = SVC_ENOTFOUND;
		if (strcmp(cs[i]->user_id, "U-unknown") == 0)
			continue;
		snprintf(cs[i]->email, sizeof(cs[i]->email), "%s@example.com", cs[i]->user_id);
		cs[i]->rc = 0;
	}
	return f->fail;
}

static int setup(void **state)
{
	static struct fake f;

	memset(&f, 0, sizeof(f));
	if (notif_contacts_init(&f.contacts, NULL) != 0)
		return -1;
	f.contacts.query = fake_query;
	f.contacts.arg = &f;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	notif_contacts_release(&f->contacts);
	return 0;
}

static void test_notification_contacts_known_user_gets_its_address(void **state)
{
	struct fake *f = *state;
	char out[NOTIF_RECIPIENT_MAX + 1];

	assert_int_equal(notif_contacts_email(&f->contacts, "U1", out, sizeof(out)), 0);
	assert_string_equal(out, "U1@example.com");
}

static void test_notification_contacts_unknown_or_unfitting_address_is_not_found(void **state)
{
	struct fake *f = *state;
	char small[8], out[NOTIF_RECIPIENT_MAX + 1];

	assert_int_equal(notif_contacts_email(&f->contacts, "U-unknown", out, sizeof(out)),
	                 SVC_ENOTFOUND);
	/* "U1@example.com" does not fit in 8 bytes */
	assert_int_equal(notif_contacts_email(&f->contacts, "U1", small, sizeof(small)),
	                 SVC_ENOTFOUND);
}

static void test_notification_contacts_query_failure_is_the_answer(void **state)
{
	struct fake *f = *state;
	char out[NOTIF_RECIPIENT_MAX + 1];

	f->fail = SVC_ETRANSIENT; /* even though the fake filled the address */
	assert_int_equal(notif_contacts_email(&f->contacts, "U1", out, sizeof(out)),
	                 SVC_ETRANSIENT);
}

static void test_notification_recipient_falls_back_for_an_unknown_user(void **state)
{
	struct fake *f = *state;
	char out[NOTIF_RECIPIENT_MAX + 1];

	assert_int_equal(notif_recipient_resolve(&f->contacts, "U-unknown", out, sizeof(out)), 0);
	assert_string_equal(out, "U-unknown@customers.invalid");
	assert_int_equal(notif_recipient_resolve(&f->contacts, "U7", out, sizeof(out)), 0);
	assert_string_equal(out, "U7@example.com");
	f->fail = SVC_EPERMANENT; /* any query failure: try the event again later */
	assert_int_equal(notif_recipient_resolve(&f->contacts, "U7", out, sizeof(out)),
	                 SVC_ETRANSIENT);
}

static void test_notification_goes_to_the_contact_stored_for_its_user(void **state)
{
	struct fake *f = *state;
	struct notif_outgoing n;

	memset(&n, 0, sizeof(n));
	assert_int_equal(notif_outgoing_address(&n, &f->contacts, "U7"), 0);
	assert_string_equal(n.user_id, "U7");
	assert_string_equal(n.recipient, "U7@example.com");
	assert_int_equal(notif_outgoing_address(&n, &f->contacts, "U-unknown"), 0);
	assert_string_equal(n.user_id, "U-unknown");
	assert_string_equal(n.recipient, "U-unknown@customers.invalid");
}

static void test_notification_address_refuses_a_user_id_over_64_bytes(void **state)
{
	struct fake *f = *state;
	struct notif_outgoing n;
	char id[66];

	memset(&n, 0, sizeof(n));
	memset(id, 'u', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(notif_outgoing_address(&n, &f->contacts, id), SVC_ERANGE);
	assert_string_equal(n.recipient, "");
	id[64] = '\0';
	assert_int_equal(notif_outgoing_address(&n, &f->contacts, id), 0);
	assert_string_equal(n.user_id, id);
}

static void test_notification_address_lookup_failure_is_transient(void **state)
{
	struct fake *f = *state;
	struct notif_outgoing n;

	memset(&n, 0, sizeof(n));
	f->fail = SVC_EPERMANENT;
	assert_int_equal(notif_outgoing_address(&n, &f->contacts, "U7"), SVC_ETRANSIENT);
}

/* The event OrderConfirmed of order ...a<k> for `user`. */
static void confirmed(int k, const char *user, struct svc_event *ev)
{
	char json[512], err[128];

	snprintf(json, sizeof(json),
	         "{\"eventId\":\"018f0000-0000-7000-8000-0000000000e%d\",\"type\":\"%s\","
	         "\"timestamp\":1,\"data\":{\"orderId\":\"018f0000-0000-7000-8000-0000000000a%d\","
	         "\"userId\":\"%s\",\"totalAmount\":1250,\"currency\":\"EUR\"},\"metadata\":"
	         "{\"correlationId\":\"018f0000-0000-7000-8000-0000000000a%d\",\"version\":\"1\","
	         "\"source\":\"test\"}}",
	         k, EV_ORDER_CONFIRMED, k, user, k);
	assert_int_equal(svc_event_decode(json, strlen(json), ev, err, sizeof(err)), 0);
}

/* A batch of the consumer (events.c) through the log channel: its
 * recipients in one look-up, each sent; through another channel each goes
 * to prepare() on the pool. */
static void test_notification_batch_looks_up_its_recipients_at_once(void **state)
{
	static const char *const users[] = {"U1", "U-unknown", "U2"};
	struct fake *f = *state;
	struct notif_service ns = {.channels = {.dflt = notif_channel_log_new()}};
	struct svc_ctx ctx = {.user = &ns};
	struct svc_event evs[3];
	const struct svc_event *at[3];
	void *scratch[3];
	int codes[3];
	char reasons[3][256], *reason_at[3];

	assert_non_null(ns.channels.dflt);
	assert_int_equal(notif_contacts_init(&ns.contacts, NULL), 0);
	ns.contacts.query = fake_query;
	ns.contacts.arg = f;
	for (int i = 0; i < 3; i++) {
		confirmed(i, users[i], &evs[i]);
		at[i] = &evs[i];
		reasons[i][0] = '\0';
		reason_at[i] = reasons[i];
	}
	notif_consumer_ops.prepare_batch(&ctx, at, scratch, codes, reason_at, 256, 3);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->lookups, 3);
	for (int i = 0; i < 3; i++) {
		struct notif_outgoing *n = scratch[i];

		assert_int_equal(codes[i], 0);
		assert_non_null(n);
		assert_string_equal(n->status, "SENT");
		assert_string_equal(n->user_id, users[i]);
		assert_string_equal(n->recipient, i == 1   ? "U-unknown@customers.invalid"
		                                  : i == 0 ? "U1@example.com"
		                                           : "U2@example.com");
		notif_consumer_ops.scratch_free(n);
	}
	/* a query that fails: each is tried again later */
	f->fail = SVC_ETRANSIENT;
	notif_consumer_ops.prepare_batch(&ctx, at, scratch, codes, reason_at, 256, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(codes[i], SVC_ETRANSIENT);
		assert_null(scratch[i]);
	}
	/* a channel that waits on the network: left to prepare() */
	notif_channel_free(ns.channels.dflt);
	ns.channels.dflt = notif_channel_webhook_new("http://127.0.0.1:1", 100);
	assert_non_null(ns.channels.dflt);
	f->calls = 0;
	notif_consumer_ops.prepare_batch(&ctx, at, scratch, codes, reason_at, 256, 3);
	assert_int_equal(f->calls, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(codes[i], SVC_PREPARE_EACH);
		svc_event_release(&evs[i]);
	}
	notif_channel_free(ns.channels.dflt);
	notif_contacts_release(&ns.contacts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(
	                test_notification_contacts_known_user_gets_its_address, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_contacts_unknown_or_unfitting_address_is_not_found, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_contacts_query_failure_is_the_answer, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_recipient_falls_back_for_an_unknown_user, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_goes_to_the_contact_stored_for_its_user, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_address_refuses_a_user_id_over_64_bytes, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_address_lookup_failure_is_transient, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_notification_batch_looks_up_its_recipients_at_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
