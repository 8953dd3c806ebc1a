/* Inbound delivery wire format: request items and response results. */
#include "resilience/sidecar/delivery.h"

#include <stdio.h>
#include <string.h>

#include "svc/error.h"
#include "svc/event.h"
#include "svc/json.h"

/* Appends the item's "value": the payload itself or as a string (delivery.h). */
static int add_value(struct svc_buf *out, const struct sc_delivery_msg *m)
{
	if (m->len <= SVC_EVENT_MAX_BYTES &&
	    svc_json_object_valid(m->value, m->len, SC_DELIVERY_VALUE_DEPTH))
		return svc_buf_add(out, m->value, m->len);
	return svc_json_add_string(out, m->value, m->len);
}

int sc_delivery_item_add(struct svc_buf *out, const struct sc_delivery_msg *m, char *reason,
                         size_t reasonlen)
{
	const char *topic = m->topic ? m->topic : "";
	size_t mark = out->len;
	char position[64];
	int rc;

	if (!m->value) {
		snprintf(reason, reasonlen, "message has no payload");
		return SVC_EPERMANENT;
	}
	svc_buf_add(out, "{\"topic\":", 9);
	rc = svc_json_add_string(out, topic, strlen(topic));
	if (rc == SVC_EPERMANENT) {
		snprintf(reason, reasonlen, "topic is not valid UTF-8 text");
		goto undo;
	}
	rc = snprintf(position, sizeof(position),
	              ",\"partition\":%d,\"offset\":%lld,\"key\":", (int)m->partition,
	              (long long)m->offset);
	svc_buf_add(out, position, (size_t)rc);
	rc = svc_json_add_string(out, m->key ? m->key : "", m->key ? m->keylen : 0);
	if (rc == SVC_EPERMANENT) {
		snprintf(reason, reasonlen, "key is not valid UTF-8 text");
		goto undo;
	}
	svc_buf_add(out, ",\"value\":", 9);
	rc = add_value(out, m);
	if (rc == SVC_EPERMANENT) {
		snprintf(reason, reasonlen, "payload is not valid UTF-8 text");
		goto undo;
	}
	svc_buf_add(out, "}", 1);
	if (out->failed) {
		snprintf(reason, reasonlen, "out of memory");
		return SVC_ENOMEM;
	}
	return 0;

undo:
	svc_buf_truncate(out, mark);
	return SVC_EPERMANENT;
}

/* Maps a result status string to a verdict. */
static enum sc_verdict verdict_of(const char *status)
{
	if (!status)
		return SC_VERDICT_RETRY;
	if (strcmp(status, "ok") == 0 || strcmp(status, "duplicate") == 0 ||
	    strcmp(status, "ignored") == 0)
		return SC_VERDICT_DONE;
	if (strcmp(status, "rejected") == 0)
		return SC_VERDICT_REJECTED;
	return SC_VERDICT_RETRY; /* "retry" or something we do not know: never lose it */
}

int sc_delivery_parse(const char *body, size_t len, struct sc_delivery_result *out, size_t n)
{
	json_t *root = NULL;
	int rc = SVC_EPERMANENT;

	if (!body)
		goto out;
	root = json_loadb(body, len, 0, NULL);
	json_t *results = json_object_get(root, "results");
	if (!json_is_array(results) || json_array_size(results) != n)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(results, i);
		const char *reason = json_string_value(json_object_get(r, "reason"));
		out[i].verdict = verdict_of(json_string_value(json_object_get(r, "status")));
		snprintf(out[i].reason, sizeof(out[i].reason), "%s",
		         reason && reason[0] ? reason : "rejected by the service");
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
