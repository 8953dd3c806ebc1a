/*
 * Contact look-ups (services/notification/contacts.h), the recipient
 * fallback and addressing a notification to a user (notify.h), with a fake
 * query in place of the database's. How concurrent look-ups share a query is
 * the combiner's (test_combine.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "services/notification/contacts.h"
#include "services/notification/notify.h"
#include "svc/error.h"

struct fake {
	struct notif_contacts contacts;
	int fail; /* what every query returns */
};

/* Every user has <id>@example.com, except U-unknown. */
static int fake_query(void *arg, struct notif_contact *const *cs, size_t n)
{
	struct fake *f = arg;

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
