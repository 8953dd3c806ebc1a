/*
 * Contact look-ups, coalesced. The consumer runs prepare() for a batch's
 * events on many threads at once, and each needs its recipient's address.
 * Look-ups that arrive together share one query (SELECT ... WHERE user_id
 * IN (...)) through a combiner (svc/combine.h): a wave of N events costs
 * about two queries instead of N. No answer is older than its request:
 * there is no cache, an address changed in the database is used by the next
 * look-up.
 */
#ifndef NOTIF_CONTACTS_H
#define NOTIF_CONTACTS_H

#include <stddef.h>

#include "services/notification/store.h"
#include "svc/combine.h"

struct svc_db;

struct notif_contacts {
	/* Answers every look-up of cs[0..n) (notif_store_contact_emails'
	 * contract); notif_contacts_init sets the database's, tests their own. */
	int (*query)(void *arg, struct notif_contact *const *cs, size_t n);
	void *arg;
	struct svc_combiner combiner; /* items: struct notif_contact */
};

/* Look-ups from the contacts table of `db`. 0, or SVC_ENOMEM. */
int notif_contacts_init(struct notif_contacts *c, struct svc_db *db);
/* No look-up may be running. */
void notif_contacts_release(struct notif_contacts *c);

/* The e-mail address of `user_id` into out: 0, SVC_ENOTFOUND (no contact or
 * no address), or the query's error (SVC_ETRANSIENT, SVC_ENOMEM, ...). */
int notif_contacts_email(struct notif_contacts *c, const char *user_id, char *out, size_t outlen);
/* The look-ups cs[0..n) of one caller (a batch's) in one query, not
 * combined with others: 0 with each cs[i]->rc set, or the query's error. */
int notif_contacts_emails(struct notif_contacts *c, struct notif_contact *const *cs, size_t n);

#endif
