/*
 * The notification database: contacts(user_id PK, email, phone), seeded by the
 * data generator, and notifications, one row per notification sent or failed
 * (migrations/001_notifications.sql). Every function works on a connection
 * the caller borrowed; the writes run in the caller's transaction.
 */
#ifndef NOTIF_STORE_H
#define NOTIF_STORE_H

#include <jansson.h>
#include <mysql.h>
#include <stddef.h>

/* One notification row to insert. Strings are borrowed. */
struct notif_record {
	const char *notification_id;
	const char *order_id; /* NULL or "" for none */
	const char *event_id; /* NULL or "" for a manual send */
	const char *kind;
	const char *channel;
	const char *recipient;
	const char *subject;
	const char *body;
	const char *status; /* "SENT" | "FAILED" */
	const char *error;  /* NULL when sent */
};

/* 0 when no notification was recorded for `event_id`, SVC_DUPLICATE when
 * one was, or SVC_ETRANSIENT / SVC_EPERMANENT. */
int notif_store_event_seen(MYSQL *conn, const char *event_id);

/* The e-mail address of `user_id` into `out`: 0, SVC_ENOTFOUND (no contact
 * or no address: the caller falls back), or an error code. */
int notif_store_contact_email(MYSQL *conn, const char *user_id, char *out, size_t outlen);

/* Inserts `r` with created_at = now (UTC). 0, SVC_DUPLICATE when its id or
 * event id exists already, SVC_ETRANSIENT or SVC_EPERMANENT. */
int notif_store_insert(MYSQL *conn, const struct notif_record *r);

/* The notification as API JSON (caller owns *out): 0, SVC_ENOTFOUND or an
 * error code. */
int notif_store_get(MYSQL *conn, const char *notification_id, json_t **out);

/* The newest `limit` notifications, of one order when `order_id` is not
 * NULL, as a JSON array (caller owns *out). */
int notif_store_list(MYSQL *conn, const char *order_id, unsigned limit, json_t **out);

#endif
