/*
 * Gateway client (gateway.h): builds the request, posts it through the
 * sidecar and classifies the answer with pay_gw_classify.
 */
#include "services/payment/gateway.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "svc/config.h"
#include "svc/httpc.h"
#include "svc/log.h"

/* Above the sidecar's own budget (2 s x 3 attempts + backoff). */
#define PAY_GATEWAY_TIMEOUT_MS 10000

static void post(const char *sidecar_url, const char *path, const char *key, json_t *body,
                 struct pay_gw_answer *out)
{
	struct svc_httpc_response res = {0};
	char url[512], keyhdr[128];
	const char *headers[] = {"Content-Type: application/json", keyhdr, NULL};
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *answer = NULL;
	const char *s;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s/egress/gateway%s", sidecar_url, path);
	snprintf(keyhdr, sizeof(keyhdr), "Idempotency-Key: %s", key);
	if (!text) {
		out->result = PAY_GW_TRANSIENT;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		goto release;
	}
	rc = svc_httpc_request(
	        "POST", url, headers, text, strlen(text),
	        svc_env_long("GATEWAY_TIMEOUT_MS", PAY_GATEWAY_TIMEOUT_MS, 100, 600000), &res);
	out->http_status = res.status;
	out->result = pay_gw_classify(rc, res.status);
	if (res.body)
		answer = json_loadb(res.body, res.body_len, 0, NULL);
	if ((s = json_string_value(json_object_get(answer, "id"))))
		snprintf(out->ref, sizeof(out->ref), "%s", s);
	if ((s = json_string_value(json_object_get(answer, "reason"))) ||
	    (s = json_string_value(json_object_get(answer, "detail"))))
		snprintf(out->reason, sizeof(out->reason), "%s", s);
	else if (out->result != PAY_GW_OK && res.status == 0)
		snprintf(out->reason, sizeof(out->reason), "no answer from the gateway");
	else if (out->result != PAY_GW_OK)
		snprintf(out->reason, sizeof(out->reason), "gateway answered HTTP %ld", res.status);
	if (out->result == PAY_GW_OK && !out->ref[0]) {
		/* A 2xx without an id is not an answer we can record. */
		out->result = PAY_GW_TRANSIENT;
		snprintf(out->reason, sizeof(out->reason), "gateway answer without an id");
	}
	svc_debug("gateway %s key=%s -> %ld (%s)", path, key, res.status, out->reason);
release:
	json_decref(answer);
	free(text);
	svc_httpc_response_release(&res);
}

int pay_gateway_charge(const char *sidecar_url, const char *order_id, int64_t amount,
                       const char *currency, struct pay_gw_answer *out)
{
	json_t *body = json_pack("{s:s, s:I, s:s}", "orderId", order_id, "amount",
	                         (json_int_t)amount, "currency", currency);

	post(sidecar_url, "/v1/charges", order_id, body, out);
	json_decref(body);
	return 0;
}

int pay_gateway_refund(const char *sidecar_url, const char *order_id, const char *charge_id,
                       int64_t amount, struct pay_gw_answer *out)
{
	json_t *body = json_pack("{s:s, s:I}", "chargeId", charge_id, "amount", (json_int_t)amount);
	char key[64];

	snprintf(key, sizeof(key), "refund-%s", order_id);
	post(sidecar_url, "/v1/refunds", key, body, out);
	json_decref(body);
	return 0;
}
