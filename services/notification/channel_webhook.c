/*
 * The "webhook" channel: POSTs the notification as JSON through the sidecar's
 * egress route "webhook", which forwards it to NOTIFY_WEBHOOK_URL with retries
 * and a circuit breaker. The Idempotency-Key header lets the sidecar retry the
 * POST and lets the receiver drop repeats.
 */
#include "services/notification/channel.h"

#include <jansson.h>

#include "resilience/classify.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/url.h"

struct webhook {
	char *url; /* {SIDECAR_URL}/egress/webhook/ */
	long timeout_ms;
};

static int webhook_send(void *ctx, const struct notif_message *msg, char *err, size_t errlen)
{
	struct webhook *wh = ctx;
	json_t *doc = NULL;
	char *body = NULL;
	char idem[128];
	const char *headers[] = {"Content-Type: application/json", "Accept: application/json", idem,
	                         NULL};
	struct svc_httpc_response res = {0};
	int rc;

	doc = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s}", "notificationId", msg->notification_id,
	                "orderId", msg->order_id[0] ? msg->order_id : NULL, "kind", msg->kind,
	                "recipient", msg->recipient, "subject", msg->subject, "message", msg->body);
	body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!body) {
		snprintf(err, errlen, "cannot encode the webhook body");
		rc = SVC_ETRANSIENT;
		goto out;
	}
	snprintf(idem, sizeof(idem), "Idempotency-Key: %s", msg->idempotency_key);
	rc = svc_httpc_request("POST", wh->url, headers, body, strlen(body), wh->timeout_ms, &res);
	if (rc != 0) {
		snprintf(err, errlen, "webhook: no answer from %s", wh->url);
		goto out;
	}
	switch (rs_classify_http(res.status)) {
	case RS_SUCCESS:
		rc = 0;
		break;
	case RS_TRANSIENT:
		snprintf(err, errlen, "webhook answered %ld", res.status);
		rc = SVC_ETRANSIENT;
		break;
	default:
		snprintf(err, errlen, "webhook refused the notification: %ld %.120s", res.status,
		         res.body ? res.body : "");
		rc = SVC_EPERMANENT;
		break;
	}
out:
	svc_httpc_response_release(&res);
	free(body);
	json_decref(doc);
	return rc;
}

static void webhook_free(void *ctx)
{
	struct webhook *wh = ctx;

	if (!wh)
		return;
	free(wh->url);
	free(wh);
}

struct notif_channel *notif_channel_webhook_new(const char *sidecar_url, long timeout_ms)
{
	struct notif_channel *ch = calloc(1, sizeof(*ch));
	struct webhook *wh = calloc(1, sizeof(*wh));

	if (!ch || !wh)
		goto fail;
	wh->url = svc_url_join_dup(sidecar_url, "/egress/webhook/");
	if (!wh->url)
		goto fail;
	wh->timeout_ms = timeout_ms;
	ch->name = "webhook";
	ch->send = webhook_send;
	ch->ctx_free = webhook_free;
	ch->ctx = wh;
	return ch;
fail:
	webhook_free(wh);
	free(ch);
	return NULL;
}
