/* The notification service's event consumer (see events.h). */
#include "services/notification/events.h"

#include <string.h>

#include "services/notification/format.h"
#include "services/notification/notify.h"
#include "svc/error.h"
#include "svc/service.h"

static int notif_prepare(struct svc_ctx *ctx, const struct svc_event *ev, void **scratch,
                         char *reason, size_t reasonlen)
{
	struct notif_service *ns = ctx->user;
	struct notif_outgoing *n = NULL;
	struct notif_order_event oe;
	struct notif_text text;
	int rc;

	rc = notif_order_event_read(ev, &oe, reason, reasonlen);
	if (rc != 0)
		return rc;
	if (notif_format_order(&oe, &text) != 0) {
		snprintf(reason, reasonlen, "data.totalAmount: cannot be formatted");
		return SVC_EPERMANENT;
	}
	n = malloc(sizeof(*n));
	if (!n)
		goto transient;
	rc = notif_outgoing_init(n, text.kind, ns->channels.dflt, text.subject, text.body);
	if (rc != 0)
		goto transient;
	snprintf(n->order_id, sizeof(n->order_id), "%s", oe.order_id);
	snprintf(n->event_id, sizeof(n->event_id), "%s", ev->id);
	rc = notif_outgoing_address(n, &ns->contacts, oe.user_id);
	if (rc == SVC_ERANGE) { /* notif_order_event_read allows 64 bytes: never */
		snprintf(reason, reasonlen, "data.userId: longer than 64 bytes");
		rc = SVC_EPERMANENT;
		goto fail;
	}
	if (rc != 0)
		goto transient;
	rc = notif_deliver(n, reason, reasonlen);
	if (rc != 0)
		goto fail;
	*scratch = n;
	return 0;
transient:
	snprintf(reason, reasonlen, "database unavailable or out of memory");
	rc = SVC_ETRANSIENT;
fail:
	if (n)
		notif_outgoing_release(n);
	free(n);
	return rc;
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

static void notif_scratch_free(void *scratch)
{
	struct notif_outgoing *n = scratch;

	if (!n)
		return;
	notif_outgoing_release(n);
	free(n);
}

const struct svc_consumer_ops notif_consumer_ops = {
        .accepts = notif_order_event_wanted,
        .prepare = notif_prepare,
        .apply = notif_apply,
        .scratch_free = notif_scratch_free,
};
