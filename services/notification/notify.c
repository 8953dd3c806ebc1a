/* Deliver and record: the steps every notification takes. */
#include "services/notification/notify.h"

#include <jansson.h>
#include <string.h>

#include "services/notification/format.h"
#include "services/notification/store.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/log.h"
#include "svc/outbox.h"

int notif_outgoing_init(struct notif_outgoing *n, const char *kind,
                        const struct notif_channel *channel, const char *subject, const char *body)
{
	memset(n, 0, sizeof(*n));
	svc_uuid7(n->notification_id);
	n->kind = kind;
	n->channel = channel;
	if (strlen(subject) >= sizeof(n->subject))
		return SVC_ERANGE;
	memcpy(n->subject, subject, strlen(subject) + 1);
	n->body = strdup(body);
	return n->body ? 0 : SVC_ENOMEM;
}

void notif_outgoing_release(struct notif_outgoing *n)
{
	free(n->body);
	n->body = NULL;
}

int notif_recipient_from(int found, const char *email, const char *user_id, char *out,
                         size_t outlen)
{
	if (found == 0 && strlen(email) >= outlen)
		found = SVC_ENOTFOUND; /* cannot be used here: the fallback */
	if (found == 0) {
		memcpy(out, email, strlen(email) + 1);
		return 0;
	}
	if (found == SVC_ENOTFOUND) {
		notif_fallback_recipient(user_id, out, outlen);
		svc_info("no contact address for user %s: using %s", user_id, out);
		return 0;
	}
	return SVC_ETRANSIENT;
}

int notif_recipient_resolve(struct notif_contacts *contacts, const char *user_id, char *out,
                            size_t outlen)
{
	char email[NOTIF_RECIPIENT_MAX + 1];
	int found = notif_contacts_email(contacts, user_id, email, sizeof(email));

	return notif_recipient_from(found, email, user_id, out, outlen);
}

int notif_outgoing_user(struct notif_outgoing *n, const char *user_id)
{
	size_t len = strlen(user_id);

	if (len >= sizeof(n->user_id))
		return SVC_ERANGE;
	memcpy(n->user_id, user_id, len + 1);
	return 0;
}

int notif_outgoing_address(struct notif_outgoing *n, struct notif_contacts *contacts,
                           const char *user_id)
{
	int rc = notif_outgoing_user(n, user_id);

	return rc ? rc
	          : notif_recipient_resolve(contacts, user_id, n->recipient, sizeof(n->recipient));
}

int notif_deliver(struct notif_outgoing *n, char *err, size_t errlen)
{
	const struct notif_message msg = {
	        .notification_id = n->notification_id,
	        .idempotency_key = n->event_id[0] ? n->event_id : n->notification_id,
	        .order_id = n->order_id,
	        .kind = n->kind,
	        .recipient = n->recipient,
	        .subject = n->subject,
	        .body = n->body,
	};
	int rc = n->channel->send(n->channel->ctx, &msg, n->error, sizeof(n->error));

	if (rc == SVC_ETRANSIENT) {
		snprintf(err, errlen, "%s", n->error);
		n->error[0] = '\0';
		return SVC_ETRANSIENT;
	}
	if (rc == 0) {
		n->status = "SENT";
		n->error[0] = '\0';
	} else {
		n->status = "FAILED";
		svc_warn("notification %s (%s, order %s) failed for good: %s", n->notification_id,
		         n->kind, n->order_id[0] ? n->order_id : "-", n->error);
	}
	return 0;
}

int notif_record(struct svc_tx *tx, const struct notif_outgoing *n, const char *causation_id)
{
	const struct notif_record rec = {
	        .notification_id = n->notification_id,
	        .order_id = n->order_id,
	        .user_id = n->user_id,
	        .event_id = n->event_id,
	        .kind = n->kind,
	        .channel = n->channel->name,
	        .recipient = n->recipient,
	        .subject = n->subject,
	        .body = n->body,
	        .status = n->status,
	        .error = n->error,
	};
	json_t *data;
	int rc = notif_store_insert(tx, &rec);

	if (rc != 0 || strcmp(n->status, "SENT") != 0 || n->order_id[0] == '\0')
		return rc;
	data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "orderId", n->order_id, "notificationId",
	                 n->notification_id, "channel", n->channel->name, "kind", n->kind,
	                 "recipient", n->recipient);
	if (!data)
		return SVC_ENOMEM;
	return svc_outbox_emit(tx, TOPIC_NOTIFICATION_EVENTS, EV_NOTIFICATION_SENT, n->order_id,
	                       NOTIF_SOURCE, causation_id, data);
}
