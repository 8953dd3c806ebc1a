/* The notification service's event consumer (see events.h). */
#include "services/notification/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/notification/format.h"
#include "services/notification/notify.h"
#include "svc/error.h"
#include "svc/service.h"

/* The notification `ev` asks for, not yet addressed: into *out (malloc'd;
 * notif_scratch_free). 0, or a code with the reason. */
static int outgoing_for(struct notif_service *ns, const struct svc_event *ev,
                        struct notif_outgoing **out, const char **user_id, char *reason,
                        size_t reasonlen)
{
	struct notif_outgoing *n = NULL;
	struct notif_order_event oe;
	struct notif_text text;
	int rc;

	*out = NULL;
	rc = notif_order_event_read(ev, &oe, reason, reasonlen);
	if (rc != 0)
		return rc;
	if (notif_format_order(&oe, &text) != 0) {
		snprintf(reason, reasonlen, "data.totalAmount: cannot be formatted");
		return SVC_EPERMANENT;
	}
	n = malloc(sizeof(*n));
	if (!n || notif_outgoing_init(n, text.kind, ns->channels.dflt, text.subject, text.body)) {
		if (n)
			notif_outgoing_release(n);
		free(n);
		snprintf(reason, reasonlen, "out of memory");
		return SVC_ETRANSIENT;
	}
	snprintf(n->order_id, sizeof(n->order_id), "%s", oe.order_id);
	snprintf(n->event_id, sizeof(n->event_id), "%s", ev->id);
	/* notif_order_event_read allows 64 bytes: never */
	if (notif_outgoing_user(n, oe.user_id) != 0) {
		snprintf(reason, reasonlen, "data.userId: longer than 64 bytes");
		notif_outgoing_release(n);
		free(n);
		return SVC_EPERMANENT;
	}
	*user_id = n->user_id;
	*out = n;
	return 0;
}

static void notif_scratch_free(void *scratch)
{
	struct notif_outgoing *n = scratch;

	if (!n)
		return;
	notif_outgoing_release(n);
	free(n);
}

/* Sends the addressed `n` (its recipient resolved: `found` the look-up's
 * answer, notif_recipient_from); *scratch keeps it when that worked. */
static int send_addressed(struct notif_outgoing *n, int found, const char *email, void **scratch,
                          char *reason, size_t reasonlen)
{
	int rc = notif_recipient_from(found, email, n->user_id, n->recipient, sizeof(n->recipient));

	if (rc != 0)
		snprintf(reason, reasonlen, "database unavailable or out of memory");
	else
		rc = notif_deliver(n, reason, reasonlen);
	if (rc != 0) {
		notif_scratch_free(n);
		return rc;
	}
	*scratch = n;
	return 0;
}

static int notif_prepare(struct svc_ctx *ctx, const struct svc_event *ev, void **scratch,
                         char *reason, size_t reasonlen)
{
	struct notif_service *ns = ctx->user;
	struct notif_outgoing *n;
	char email[NOTIF_RECIPIENT_MAX + 1];
	const char *user_id;
	int rc = outgoing_for(ns, ev, &n, &user_id, reason, reasonlen);

	if (rc != 0)
		return rc;
	rc = notif_contacts_email(&ns->contacts, user_id, email, sizeof(email));
	return send_addressed(n, rc, email, scratch, reason, reasonlen);
}

/*
 * A batch's notifications together on the delivering thread: their
 * recipients in one look-up, then each sent. Only through the log channel,
 * which sends in the process; a webhook or SMTP send waits on the network,
 * so those go to notif_prepare on the pool, in parallel.
 */
static void notif_prepare_batch(struct svc_ctx *ctx, const struct svc_event *const *evs,
                                void **scratch, int *codes, char *const *reasons, size_t len,
                                size_t n)
{
	struct notif_service *ns = ctx->user;
	struct notif_outgoing **outs = calloc(n ? n : 1, sizeof(*outs));
	struct notif_contact *cs = calloc(n ? n : 1, sizeof(*cs));
	struct notif_contact **at = calloc(n ? n : 1, sizeof(*at));
	size_t i, k = 0;
	int found;

	for (i = 0; i < n; i++) {
		scratch[i] = NULL;
		codes[i] = SVC_PREPARE_EACH;
	}
	if (!outs || !cs || !at || strcmp(ns->channels.dflt->name, "log") != 0)
		goto release;
	for (i = 0; i < n; i++) {
		codes[i] = outgoing_for(ns, evs[i], &outs[i], &cs[i].user_id, reasons[i], len);
		if (codes[i] == 0)
			at[k++] = &cs[i];
	}
	found = notif_contacts_emails(&ns->contacts, at, k);
	for (i = 0; i < n; i++)
		if (outs[i])
			codes[i] = send_addressed(outs[i], found ? found : cs[i].rc, cs[i].email,
			                          &scratch[i], reasons[i], len);
release:
	free(outs);
	free(cs);
	free(at);
}

static int notif_apply(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev,
                       void *scratch, char *reason, size_t reasonlen)
{
	const struct notif_outgoing *n = scratch;
	int rc;

	(void)ctx;
	if (!n) /* prepare() decided there is nothing to do */
		return SVC_IGNORED;
	rc = notif_record(tx, n, ev->id);
	if (rc == SVC_DUPLICATE)
		return SVC_IGNORED;
	if (rc == SVC_ENOMEM)
		rc = SVC_ETRANSIENT;
	if (rc != 0)
		snprintf(reason, reasonlen, "cannot record notification %s: %s", n->notification_id,
		         svc_strerror(rc));
	return rc;
}

const struct svc_consumer_ops notif_consumer_ops = {
        .accepts = notif_order_event_wanted,
        .prepare = notif_prepare,
        .prepare_batch = notif_prepare_batch,
        .apply = notif_apply,
        .scratch_free = notif_scratch_free,
};
