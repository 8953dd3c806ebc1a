/*
 * The client of the sidecar's /egress-batch/{route} (see svc/egress.h).
 */
#include "svc/egress.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/json.h"
#include "svc/log.h"

/* {"requests":[{"method","path","headers":{"Idempotency-Key"?},"body"?}]}
 * as text; NULL on OOM. */
static char *batch_body(const struct svc_egress_req *reqs, size_t n)
{
	json_t *list = json_array(), *doc;
	char *text;

	for (size_t i = 0; list && i < n; i++) {
		json_t *headers = json_object(), *r;

		if (reqs[i].idempotency_key)
			json_object_set_new(headers, "Idempotency-Key",
			                    json_string(reqs[i].idempotency_key));
		json_object_set_new(headers, "Content-Type", json_string("application/json"));
		r = json_pack("{s:s, s:s, s:o}", "method", reqs[i].method, "path", reqs[i].path,
		              "headers", headers);
		if (r && reqs[i].body)
			json_object_set_new(r, "body", json_string(reqs[i].body));
		if (!r || json_array_append_new(list, r) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	doc = json_pack("{s:o}", "requests", list);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return text;
}

/* Takes each answer of `responses` into its request; false when they are
 * not one object with a status per request. */
static bool read_answers(json_t *responses, struct svc_egress_req *reqs, size_t n)
{
	if (!json_is_array(responses) || json_array_size(responses) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(responses, i);
		json_t *status = json_object_get(a, "status"), *body = json_object_get(a, "body");

		if (!json_is_integer(status) || (body && !json_is_string(body)))
			return false;
		reqs[i].status = (long)json_integer_value(status);
		if (body) {
			reqs[i].answer_len = json_string_length(body);
			reqs[i].answer = malloc(reqs[i].answer_len + 1);
			if (!reqs[i].answer)
				return false;
			memcpy(reqs[i].answer, json_string_value(body), reqs[i].answer_len + 1);
		}
	}
	return true;
}

static void forget_answers(struct svc_egress_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		svc_egress_req_release(&reqs[i]);
		reqs[i].status = 0;
	}
}

int svc_egress_batch(const char *sidecar_url, const char *route, struct svc_egress_req *reqs,
                     size_t n, long timeout_ms)
{
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	struct svc_httpc_response res = {0};
	struct svc_buf url;
	json_t *doc = NULL;
	char *body = NULL;
	int rc = SVC_ETRANSIENT;

	for (size_t i = 0; i < n; i++) {
		reqs[i].status = 0;
		reqs[i].answer = NULL;
		reqs[i].answer_len = 0;
	}
	if (n == 0)
		return 0;
	if (n > SVC_EGRESS_BATCH_MAX)
		return SVC_EPERMANENT;
	svc_buf_init(&url);
	svc_buf_addf(&url, "%s/egress-batch/%s", sidecar_url, route);
	body = batch_body(reqs, n);
	if (!url.data || !body)
		goto out;
	rc = svc_httpc_request("POST", url.data, headers, body, strlen(body), timeout_ms, &res);
	if (rc == 0 && res.status >= 400 && res.status < 500) {
		svc_warn("egress batch to %s refused: HTTP %ld %.200s", route, res.status,
		         res.body ? res.body : "");
		rc = SVC_EPERMANENT;
		goto out;
	}
	if (rc != 0 || res.status != 200) {
		rc = rc == SVC_EPERMANENT ? SVC_EPERMANENT : SVC_ETRANSIENT;
		goto out;
	}
	doc = svc_json_loadb(res.body, res.body_len, 0, NULL);
	rc = read_answers(json_object_get(doc, "responses"), reqs, n) ? 0 : SVC_ETRANSIENT;
out:
	if (rc != 0)
		forget_answers(reqs, n);
	json_decref(doc);
	svc_httpc_response_release(&res);
	free(body);
	svc_buf_release(&url);
	return rc;
}

void svc_egress_req_release(struct svc_egress_req *req)
{
	if (!req)
		return;
	free(req->answer);
	req->answer = NULL;
	req->answer_len = 0;
}
