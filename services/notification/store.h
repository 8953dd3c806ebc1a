/*
 * The notification database: contacts(user_id PK, email, phone), seeded by the
 * data generator, and notifications, one row per notification sent or failed,
 * each of the user it was sent to (migrations/). Every function works on a
 * connection the caller borrowed; the writes run in the caller's transaction.
 */
#ifndef NOTIF_STORE_H
#define NOTIF_STORE_H

#include <jansson.h>
#include <mysql.h>
#include <stddef.h>

#include "services/notification/request.h"
#include "svc/tx.h"

/* One notification row to insert. Strings are borrowed. */
struct notif_record {
	const char *notification_id;
	const char *order_id; /* NULL or "" for none */
	const char *user_id;  /* whose it is; NULL or "" for none */
	const char *event_id; /* NULL or "" for a manual send */
	const char *kind;
	const char *channel;
	const char *recipient;
	const char *subject;
	const char *body;
	const char *status; /* "SENT" | "FAILED" */
	const char *error;  /* NULL when sent */
};

/* One address look-up: user_id in, email and rc out. */
struct notif_contact {
	const char *user_id;
	char email[NOTIF_RECIPIENT_MAX + 1]; /* the column holds at most 254 */
	int rc; /* 0 (email set) or SVC_ENOTFOUND (no contact or no address) */
};

/* The e-mail addresses of cs[0..n) (user ids may repeat) in one statement:
 * 0 with each rc set, or an error code (rcs then unset). */
int notif_store_contact_emails(MYSQL *conn, struct notif_contact *const *cs, size_t n);

/* Inserts `r` with created_at = now (UTC). 0, SVC_DUPLICATE when its id or
 * event id exists already, SVC_ETRANSIENT or SVC_EPERMANENT. Deferred to the
 * commit when `tx` defers (svc/defer.h): a duplicate then fails the flush
 * instead. */
int notif_store_insert(struct svc_tx *tx, const struct notif_record *r);

/* The notification as API JSON, "userId" null for a row from before users
 * were recorded (caller owns *out): 0, SVC_ENOTFOUND or an error code. */
int notif_store_get(MYSQL *conn, const char *notification_id, json_t **out);

/* Which notifications a list holds: NULL fields do not filter. Borrowed. */
struct notif_list_filter {
	const char *user_id; /* exact (binary) match */
	const char *order_id;
};

/* The newest `limit` notifications that match `f`, as a JSON array (caller
 * owns *out). */
int notif_store_list(MYSQL *conn, const struct notif_list_filter *f, unsigned limit, json_t **out);

#endif
