/*
 * The core shared by the event consumer and the API: find the recipient,
 * send through a channel, record the outcome (and announce it).
 */
#ifndef NOTIF_NOTIFY_H
#define NOTIF_NOTIFY_H

#include <mysql.h>
#include <stddef.h>

#include "services/notification/channel.h"
#include "services/notification/contacts.h"
#include "services/notification/request.h"
#include "svc/db.h"
#include "svc/tx.h"

#define NOTIF_SOURCE "notification-service"

/* The process's state, svc_ctx.user. */
struct notif_service {
	struct notif_channels channels;
	struct notif_contacts contacts;
};

/* One notification on its way out; embedded by the caller. */
struct notif_outgoing {
	char notification_id[37];
	char order_id[37]; /* "" for none */
	char user_id[65];  /* whose it is: the recipient's user, 1..64 bytes */
	char event_id[40]; /* "" for a manual send; sized like svc_event.id */
	const char *kind;  /* static */
	const struct notif_channel *channel;
	char recipient[NOTIF_RECIPIENT_MAX + 1];
	char subject[NOTIF_SUBJECT_MAX + 1];
	char *body;         /* owned: notif_outgoing_release frees it */
	const char *status; /* "SENT" | "FAILED" once delivered */
	char error[256];    /* why it FAILED */
};

/* Sets a fresh id and copies the texts. 0, SVC_ENOMEM, or SVC_ERANGE when a
 * text is longer than its column. */
int notif_outgoing_init(struct notif_outgoing *n, const char *kind,
                        const struct notif_channel *channel, const char *subject, const char *body);
void notif_outgoing_release(struct notif_outgoing *n);

/* The user's address from contacts, or the fallback address (logged) for an
 * unknown user. 0 or SVC_ETRANSIENT (database unreachable). */
int notif_recipient_resolve(struct notif_contacts *contacts, const char *user_id, char *out,
                            size_t outlen);
/* The same from a look-up already made: `found` is its answer (0 with
 * `email`, SVC_ENOTFOUND, or an error). */
int notif_recipient_from(int found, const char *email, const char *user_id, char *out,
                         size_t outlen);

/* Addresses `n` to `user_id`: sets n->user_id and n->recipient to the
 * user's stored contact (notif_recipient_resolve), the only address a
 * notification is ever sent to. 0, SVC_ERANGE (user id longer than 64
 * bytes) or SVC_ETRANSIENT. */
int notif_outgoing_address(struct notif_outgoing *n, struct notif_contacts *contacts,
                           const char *user_id);
/* Its first half: sets n->user_id only. 0 or SVC_ERANGE. */
int notif_outgoing_user(struct notif_outgoing *n, const char *user_id);

/* Sends `n` through its channel: 0 with status SENT, or FAILED and the error
 * for a permanent failure (recorded, not lost); SVC_ETRANSIENT (reason in
 * `err`) when it should be tried again later, status unset. */
int notif_deliver(struct notif_outgoing *n, char *err, size_t errlen);

/* In the caller's open transaction `tx`: inserts the row and, when it was SENT
 * and concerns an order, emits NotificationSent on notification.events
 * (caused by `causation_id`, may be NULL). 0, SVC_DUPLICATE (already
 * recorded: nothing done), SVC_ETRANSIENT or SVC_EPERMANENT. */
int notif_record(struct svc_tx *tx, const struct notif_outgoing *n, const char *causation_id);

#endif
