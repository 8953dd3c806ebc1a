/*
 * Gateway client (gateway.h): builds the request, posts it through the
 * sidecar and classifies the answer with pay_gw_classify.
 */
#include "services/payment/gateway.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/config.h"
#include "svc/egress.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"

/* Above the sidecar's own budget (2 s x 3 attempts + backoff). */
#define PAY_GATEWAY_TIMEOUT_MS 10000

static long gateway_timeout_ms(void)
{
	return svc_env_long("GATEWAY_TIMEOUT_MS", PAY_GATEWAY_TIMEOUT_MS, 100, 600000);
}

/* Fills `out` from what came back for one call: the transport's result and,
 * when an answer came, its status and body. */
static void read_answer(int rc, long status, const char *body, size_t len,
                        struct pay_gw_answer *out)
{
	json_t *answer = body ? json_loadb(body, len, 0, NULL) : NULL;
	const char *s;

	memset(out, 0, sizeof(*out));
	out->http_status = status;
	out->result = pay_gw_classify(rc, status);
	if ((s = json_string_value(json_object_get(answer, "id"))))
		snprintf(out->ref, sizeof(out->ref), "%s", s);
	if ((s = json_string_value(json_object_get(answer, "reason"))) ||
	    (s = json_string_value(json_object_get(answer, "detail"))))
		snprintf(out->reason, sizeof(out->reason), "%s", s);
	else if (out->result != PAY_GW_OK && status == 0)
		snprintf(out->reason, sizeof(out->reason), "no answer from the gateway");
	else if (out->result != PAY_GW_OK)
		snprintf(out->reason, sizeof(out->reason), "gateway answered HTTP %ld", status);
	if (out->result == PAY_GW_OK && !out->ref[0]) {
		/* A 2xx without an id is not an answer we can record. */
		out->result = PAY_GW_TRANSIENT;
		snprintf(out->reason, sizeof(out->reason), "gateway answer without an id");
	}
	json_decref(answer);
}

/* Posts `text` (JSON; NULL: it could not be made) and frees it. */
static void post(const char *sidecar_url, const char *path, const char *key, char *text,
                 struct pay_gw_answer *out)
{
	struct svc_httpc_response res = {0};
	char url[512], keyhdr[128];
	const char *headers[] = {"Content-Type: application/json", keyhdr, NULL};
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s/egress/gateway%s", sidecar_url, path);
	snprintf(keyhdr, sizeof(keyhdr), "Idempotency-Key: %s", key);
	if (!text) {
		out->result = PAY_GW_TRANSIENT;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	rc = svc_httpc_request("POST", url, headers, text, strlen(text), gateway_timeout_ms(),
	                       &res);
	read_answer(rc, res.status, res.body, res.body_len, out);
	svc_debug("gateway %s key=%s -> %ld (%s)", path, key, res.status, out->reason);
	free(text);
	svc_httpc_response_release(&res);
}

static char *charge_body(const char *order_id, int64_t amount, const char *currency)
{
	json_t *body = json_pack("{s:s, s:I, s:s}", "orderId", order_id, "amount",
	                         (json_int_t)amount, "currency", currency);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	return text;
}

int pay_gateway_charge(const char *sidecar_url, const char *order_id, int64_t amount,
                       const char *currency, struct pay_gw_answer *out)
{
	post(sidecar_url, "/v1/charges", order_id, charge_body(order_id, amount, currency), out);
	return 0;
}

int pay_gateway_charge_many(const char *sidecar_url, struct pay_charge *const *charges, size_t n)
{
	struct svc_egress_req *reqs = calloc(n ? n : 1, sizeof(*reqs));
	char **bodies = calloc(n ? n : 1, sizeof(*bodies));
	int rc = SVC_ENOMEM;
	size_t i;

	for (i = 0; reqs && bodies && i < n; i++) {
		bodies[i] =
		        charge_body(charges[i]->order_id, charges[i]->amount, charges[i]->currency);
		if (!bodies[i])
			break;
		reqs[i].method = "POST";
		reqs[i].path = "v1/charges";
		reqs[i].idempotency_key = charges[i]->order_id;
		reqs[i].body = bodies[i];
	}
	if (reqs && bodies && i == n)
		rc = svc_egress_batch(sidecar_url, "gateway", reqs, n, gateway_timeout_ms());
	if (rc == SVC_EPERMANENT) {
		/* The sidecar refused the batch itself (one without
		 * /egress-batch answers 404): each charge goes alone. */
		for (i = 0; i < n; i++)
			pay_gateway_charge(sidecar_url, charges[i]->order_id, charges[i]->amount,
			                   charges[i]->currency, &charges[i]->out);
	} else {
		for (i = 0; i < n; i++) {
			if (rc == SVC_ENOMEM) {
				memset(&charges[i]->out, 0, sizeof(charges[i]->out));
				charges[i]->out.result = PAY_GW_TRANSIENT;
				snprintf(charges[i]->out.reason, sizeof(charges[i]->out.reason),
				         "out of memory");
				continue;
			}
			read_answer(rc, reqs[i].status, reqs[i].answer, reqs[i].answer_len,
			            &charges[i]->out);
			svc_debug("gateway charge key=%s -> %ld (%s)", charges[i]->order_id,
			          reqs[i].status, charges[i]->out.reason);
		}
	}
	for (i = 0; i < n; i++) {
		if (reqs)
			svc_egress_req_release(&reqs[i]);
		if (bodies)
			free(bodies[i]);
	}
	free(reqs);
	free(bodies);
	return 0;
}

int pay_gateway_refund(const char *sidecar_url, const char *order_id, const char *charge_id,
                       int64_t amount, struct pay_gw_answer *out)
{
	json_t *body = json_pack("{s:s, s:I}", "chargeId", charge_id, "amount", (json_int_t)amount);
	char key[64];

	snprintf(key, sizeof(key), "refund-%s", order_id);
	post(sidecar_url, "/v1/refunds", key, body ? json_dumps(body, JSON_COMPACT) : NULL, out);
	json_decref(body);
	return 0;
}
