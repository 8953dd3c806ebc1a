/*
 * saga-smoke's API calls (see smoke.h): JSON in and out over svc_httpc.
 */
#include "tests/smoke/smoke.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/error.h"
#include "svc/httpc.h"

/* Longest part of an unexpected answer quoted in `what`. */
#define SMOKE_QUOTE_MAX 200

/*
 * One request with an optional JSON body and extra `headers` (NULL-terminated
 * "Name: value" strings, or NULL). On an answer whose status is in
 * [ok_min, ok_max] parses it into *answer (caller owns; NULL when the body is
 * not JSON) and returns 0. SVC_ETRANSIENT: no answer or a 5xx;
 * SVC_EPERMANENT: any other status, or a request that cannot be sent.
 */
static int call(const struct smoke_api *api, const char *method, const char *url,
                const char *const *headers, json_t *body, long ok_min, long ok_max, json_t **answer,
                char *what, size_t what_len)
{
	struct svc_httpc_response res = {0};
	char *text = NULL;
	int rc;

	*answer = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			snprintf(what, what_len, "%s %s: out of memory", method, url);
			return SVC_EPERMANENT;
		}
	}
	rc = svc_httpc_request(method, url, headers, text, text ? strlen(text) : 0, api->timeout_ms,
	                       &res);
	if (rc) {
		snprintf(what, what_len, "%s %s: no answer (%s)", method, url,
		         rc == SVC_EPERMANENT ? "bad URL" : "connection failed or timed out");
		goto release;
	}
	if (res.status < ok_min || res.status > ok_max) {
		rc = res.status >= 500 ? SVC_ETRANSIENT : SVC_EPERMANENT;
		snprintf(what, what_len, "%s %s: HTTP %ld %.*s", method, url, res.status,
		         SMOKE_QUOTE_MAX, res.body ? res.body : "");
		goto release;
	}
	*answer = json_loadb(res.body, res.body_len, 0, NULL);
	snprintf(what, what_len, "%s %s: HTTP %ld", method, url, res.status);
release:
	svc_httpc_response_release(&res);
	free(text);
	return rc;
}

/* Copies the string member `key` of `doc` into buf ("" when absent). */
static void copy_member(const json_t *doc, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(doc, key));

	snprintf(buf, len, "%s", s ? s : "");
}

int smoke_put_product(const struct smoke_api *api, const char *product_id, long available,
                      int64_t price, char *what, size_t what_len)
{
	struct svc_buf url;
	json_t *body = NULL, *answer = NULL;
	const char *headers[] = {NULL, NULL};
	int rc = SVC_EPERMANENT;

	svc_buf_init(&url);
	svc_buf_addf(&url, "%s/api/inventory/%s", api->inventory_url, product_id);
	body = json_pack("{s:i, s:I, s:s}", "available", (json_int_t)available, "price",
	                 (json_int_t)price, "name", "saga-smoke product");
	if (url.failed || !body) {
		snprintf(what, what_len, "PUT %s: out of memory", product_id);
		goto release;
	}
	headers[0] = api->admin_auth;
	rc = call(api, "PUT", svc_buf_str(&url), headers, body, 200, 201, &answer, what, what_len);
release:
	json_decref(answer);
	json_decref(body);
	svc_buf_release(&url);
	return rc;
}

int smoke_create_order(const struct smoke_api *api, const char *user_id, const char *product_id,
                       long quantity, const char *idempotency_key, struct smoke_order *out,
                       char *what, size_t what_len)
{
	struct svc_buf url, key;
	json_t *body = NULL, *answer = NULL;
	const char *headers[] = {NULL, NULL, NULL};
	int rc = SVC_EPERMANENT;
	size_t used;

	svc_buf_init(&url);
	svc_buf_init(&key);
	svc_buf_addf(&url, "%s/api/orders", api->order_url);
	svc_buf_addf(&key, "Idempotency-Key: %s", idempotency_key);
	body = json_pack("{s:s, s:[{s:s, s:I}]}", "userId", user_id, "items", "productId",
	                 product_id, "quantity", (json_int_t)quantity);
	if (url.failed || key.failed || !body) {
		snprintf(what, what_len, "POST order of %s: out of memory", product_id);
		goto release;
	}
	headers[0] = svc_buf_str(&key);
	headers[1] = api->customer_auth;
	rc = call(api, "POST", svc_buf_str(&url), headers, body, 200, 202, &answer, what, what_len);
	if (rc)
		goto release;
	copy_member(answer, "orderId", out->id, sizeof(out->id));
	copy_member(answer, "status", out->status, sizeof(out->status));
	out->reason[0] = '\0';
	if (!out->id[0]) {
		used = strlen(what);
		snprintf(what + used, what_len - used, ", but the answer has no orderId");
		rc = SVC_EPERMANENT;
	}
release:
	json_decref(answer);
	json_decref(body);
	svc_buf_release(&key);
	svc_buf_release(&url);
	return rc;
}

int smoke_get_order(const struct smoke_api *api, struct smoke_order *out, char *what,
                    size_t what_len)
{
	struct svc_buf url;
	json_t *answer = NULL;
	const char *headers[] = {api->customer_auth, NULL};
	int rc = SVC_EPERMANENT;

	svc_buf_init(&url);
	svc_buf_addf(&url, "%s/api/orders/%s", api->order_url, out->id);
	if (url.failed) {
		snprintf(what, what_len, "GET order %s: out of memory", out->id);
		goto release;
	}
	rc = call(api, "GET", svc_buf_str(&url), headers, NULL, 200, 200, &answer, what, what_len);
	if (rc)
		goto release;
	copy_member(answer, "status", out->status, sizeof(out->status));
	copy_member(answer, "cancellationReason", out->reason, sizeof(out->reason));
release:
	json_decref(answer);
	svc_buf_release(&url);
	return rc;
}
