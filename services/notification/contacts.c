/* Coalesced contact look-ups (contacts.h). */
#include "services/notification/contacts.h"

#include <stdlib.h>
#include <string.h>

#include "svc/db.h"
#include "svc/error.h"

static int query_db(void *arg, struct notif_contact *const *cs, size_t n)
{
	struct svc_db *db = arg;
	MYSQL *conn = svc_db_acquire(db);
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	rc = notif_store_contact_emails(conn, cs, n);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* The combiner's run: one query for the look-ups items[0..n). */
static int run_query(void *arg, void *const *items, size_t n)
{
	struct notif_contacts *c = arg;
	struct notif_contact **cs = calloc(n ? n : 1, sizeof(*cs));
	int rc = SVC_ENOMEM;

	if (cs) {
		for (size_t i = 0; i < n; i++)
			cs[i] = items[i];
		rc = c->query(c->arg, cs, n);
	}
	free(cs);
	return rc;
}

int notif_contacts_init(struct notif_contacts *c, struct svc_db *db)
{
	c->query = query_db;
	c->arg = db;
	return svc_combiner_init(&c->combiner, run_query, c);
}

void notif_contacts_release(struct notif_contacts *c)
{
	svc_combiner_release(&c->combiner);
}

int notif_contacts_email(struct notif_contacts *c, const char *user_id, char *out, size_t outlen)
{
	struct notif_contact me = {.user_id = user_id};
	int rc = svc_combine(&c->combiner, &me);

	if (rc == 0)
		rc = me.rc;
	if (rc == 0 && strlen(me.email) >= outlen)
		rc = SVC_ENOTFOUND; /* cannot be used here: the caller falls back */
	if (rc == 0)
		memcpy(out, me.email, strlen(me.email) + 1);
	return rc;
}

int notif_contacts_emails(struct notif_contacts *c, struct notif_contact *const *cs, size_t n)
{
	return c->query(c->arg, cs, n);
}
