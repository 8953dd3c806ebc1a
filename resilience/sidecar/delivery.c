/* Inbound delivery wire format: request items and response results. */
#include "resilience/sidecar/delivery.h"

#include <stdio.h>
#include <string.h>

#include "svc/error.h"

json_t *sc_delivery_item(const struct sc_delivery_msg *m, char *reason, size_t reasonlen)
{
	json_t *key = NULL, *value = NULL;

	if (!m->value) {
		snprintf(reason, reasonlen, "message has no payload");
		goto fail;
	}
	value = json_stringn(m->value, m->len);
	if (!value) {
		snprintf(reason, reasonlen, "payload is not valid UTF-8 text");
		goto fail;
	}
	key = m->key ? json_stringn(m->key, m->keylen) : json_string("");
	if (!key) {
		snprintf(reason, reasonlen, "key is not valid UTF-8 text");
		goto fail;
	}
	json_t *item = json_pack("{s:s,s:i,s:I,s:o,s:o}", "topic", m->topic ? m->topic : "",
	                         "partition", (int)m->partition, "offset", (json_int_t)m->offset,
	                         "key", key, "value", value);
	if (!item)
		snprintf(reason, reasonlen, "out of memory");
	return item; /* json_pack stole key and value, even on failure */

fail:
	json_decref(value);
	json_decref(key);
	return NULL;
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
