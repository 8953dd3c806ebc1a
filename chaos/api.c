/*
 * The system's APIs for the chaos runner (see api.h).
 */
#include "chaos/api.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/error.h"
#include "svc/httpc.h"

/* dead letters read per sidecar: SC_DLQ_LIMIT_MAX */
#define DLQ_LIMIT 10000

/* one request; the answer parsed when it is JSON */
static int request(const struct chaos_api *api, const char *method, const char *url,
                   const char *body, long *status, json_t **out)
{
	struct svc_httpc_response res = {0};
	const char *headers[] = {api->admin_auth, NULL};
	int rc;

	*status = 0;
	*out = NULL;
	rc = svc_httpc_request(method, url, headers, body, body ? strlen(body) : 0, api->timeout_ms,
	                       &res);
	if (rc == 0) {
		*status = res.status;
		*out = res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
	}
	svc_httpc_response_release(&res);
	return rc;
}

int chaos_api_get(const struct chaos_api *api, const char *url, long *status, json_t **out)
{
	return request(api, "GET", url, NULL, status, out);
}

/* The result of a call whose answer had `status`: 0 in [200, 299]; 404
 * SVC_ENOTFOUND; 5xx SVC_ETRANSIENT; else SVC_EPERMANENT. */
static int classify(int rc, long status)
{
	if (rc)
		return rc;
	if (status >= 200 && status <= 299)
		return 0;
	if (status == 404)
		return SVC_ENOTFOUND;
	return status >= 500 ? SVC_ETRANSIENT : SVC_EPERMANENT;
}

int chaos_api_put_product(const struct chaos_api *api, const char *id, long available,
                          int64_t price, char *err, size_t errlen)
{
	struct svc_buf url;
	json_t *body = NULL, *answer = NULL;
	char *text = NULL;
	long status = 0;
	int rc = SVC_ENOMEM;

	svc_buf_init(&url);
	svc_buf_addf(&url, "%s/api/inventory/%s", api->inventory_url, id);
	body = json_pack("{s:I, s:I, s:s}", "available", (json_int_t)available, "price",
	                 (json_int_t)price, "name", "chaos test product");
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (text && !url.failed) {
		rc = request(api, "PUT", svc_buf_str(&url), text, &status, &answer);
		rc = classify(rc, status);
	}
	if (rc)
		snprintf(err, errlen, "PUT %s: %s (HTTP %ld)", svc_buf_str(&url), svc_strerror(rc),
		         status);
	json_decref(answer);
	free(text);
	json_decref(body);
	svc_buf_release(&url);
	return rc;
}

int chaos_api_decline_above(const struct chaos_api *api, int64_t *out, char *err, size_t errlen)
{
	struct svc_buf url;
	json_t *doc = NULL, *v;
	long status = 0;
	int rc;

	svc_buf_init(&url);
	svc_buf_addf(&url, "%s/admin/config", api->gateway_url);
	rc = url.failed ? SVC_ENOMEM : chaos_api_get(api, svc_buf_str(&url), &status, &doc);
	rc = classify(rc, status);
	v = json_object_get(doc, "declineAbove");
	if (rc == 0 && !json_is_integer(v))
		rc = SVC_EPERMANENT;
	if (rc == 0)
		*out = (int64_t)json_integer_value(v);
	else
		snprintf(err, errlen, "GET %s: %s (HTTP %ld)", svc_buf_str(&url), svc_strerror(rc),
		         status);
	json_decref(doc);
	svc_buf_release(&url);
	return rc;
}

/* GET base + fmt(id) into *doc; the call's result as classify() says */
static int get_doc(const struct chaos_api *api, const char *base, const char *path, const char *id,
                   json_t **doc)
{
	struct svc_buf url;
	long status = 0;
	int rc;

	*doc = NULL;
	svc_buf_init(&url);
	svc_buf_addf(&url, "%s%s%s", base, path, id);
	rc = url.failed ? SVC_ENOMEM : chaos_api_get(api, svc_buf_str(&url), &status, doc);
	rc = classify(rc, status);
	svc_buf_release(&url);
	if (rc) {
		json_decref(*doc);
		*doc = NULL;
	}
	return rc;
}

int chaos_api_read_order(const struct chaos_api *api, struct chaos_order *o)
{
	json_t *doc;
	int rc = get_doc(api, api->order_url, "/api/orders/", o->id, &doc);

	if (rc == SVC_ENOTFOUND)
		o->status = CHAOS_ORDER_MISSING;
	else if (rc == 0)
		rc = chaos_order_read(doc, o);
	json_decref(doc);
	return rc;
}

int chaos_api_read_money(const struct chaos_api *api, struct chaos_order *o)
{
	json_t *doc;
	int rc = get_doc(api, api->payment_url, "/api/payments/", o->id, &doc);

	if (rc == SVC_ENOTFOUND) {
		o->pay_found = false;
		rc = 0;
	} else if (rc == 0) {
		rc = chaos_payment_read(doc, o);
	}
	json_decref(doc);
	if (rc)
		return rc;
	rc = get_doc(api, api->notification_url, "/api/notifications?orderId=", o->id, &doc);
	if (rc == 0)
		o->notified = json_array_size(json_object_get(doc, "items")) > 0;
	json_decref(doc);
	return rc;
}

int chaos_api_read_product(const struct chaos_api *api, struct chaos_product *p)
{
	json_t *doc;
	int rc = get_doc(api, api->inventory_url, "/api/inventory/", p->id, &doc);

	if (rc == SVC_ENOTFOUND)
		p->found = false;
	else if (rc == 0)
		rc = chaos_product_read(doc, p);
	json_decref(doc);
	return rc;
}

int chaos_api_read_dlq(const struct chaos_api *api, const char *service, const char *ip, int port,
                       struct chaos_dlq_entry **v, size_t *n, size_t *cap)
{
	struct svc_buf base;
	json_t *doc = NULL;
	char limit[32];
	int rc;

	svc_buf_init(&base);
	svc_buf_addf(&base, strchr(ip, ':') ? "http://[%s]:%d" : "http://%s:%d", ip, port);
	snprintf(limit, sizeof(limit), "%d", DLQ_LIMIT);
	rc = base.failed ? SVC_ENOMEM
	                 : get_doc(api, svc_buf_str(&base), "/dlq?limit=", limit, &doc);
	if (rc == 0)
		rc = chaos_dlq_read(doc, service, v, n, cap);
	json_decref(doc);
	svc_buf_release(&base);
	return rc;
}

struct parallel {
	size_t n;
	atomic_size_t next;
	void (*fn)(void *arg, size_t i);
	void *arg;
};

static void *parallel_worker(void *p)
{
	struct parallel *w = p;
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->n)
		w->fn(w->arg, i);
	return NULL;
}

void chaos_parallel(size_t n, unsigned threads, void (*fn)(void *arg, size_t i), void *arg)
{
	struct parallel w = {.n = n, .fn = fn, .arg = arg};
	pthread_t tids[32];
	unsigned started = 0;

	atomic_init(&w.next, 0);
	if (threads > 32)
		threads = 32;
	for (; started < threads && started < n; started++)
		if (pthread_create(&tids[started], NULL, parallel_worker, &w) != 0)
			break;
	parallel_worker(&w); /* and this thread too: done even when none started */
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
}
