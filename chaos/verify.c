/*
 * After the load: every accepted order read back until terminal (or past
 * its bound), then payments, notifications, stock and dead letters until
 * the invariants hold or the scenario's settle time passes (see run.h).
 */
#include <stdlib.h>
#include <string.h>

#include "chaos/api.h"
#include "chaos/check.h"
#include "chaos/run.h"
#include "svc/buf.h"
#include "svc/error.h"
#include "svc/log.h"

#define READ_TRIES  5
#define SETTLE_POLL 1000
#define VERIFY_POLL 2000

/* the sidecar port of each service's pods (the HTTP port + 1000) */
static const struct {
	const char *service;
	int port;
} sidecars[] = {{"order", 9081}, {"payment", 9082}, {"inventory", 9083}, {"notification", 9084}};

/* The accepted orders (2xx with an orderId) of the load's requests;
 * sold_exact when every other request was surely refused. */
static int collect(struct chaos__run *r)
{
	size_t n = 0;

	r->orders = calloc(r->nreqs + 1, sizeof(*r->orders));
	if (!r->orders)
		return SVC_ENOMEM;
	r->sold_exact = true;
	for (size_t i = 0; i < r->nreqs; i++) {
		const struct chaos_request *q = &r->reqs[i];
		struct chaos_order *o = &r->orders[n];

		if (q->status >= 200 && q->status <= 299 && q->order_id[0]) {
			memcpy(o->id, q->order_id, sizeof(o->id));
			o->product = q->product;
			o->expect_decline =
			        r->s->decline_every > 0 && q->product == r->nproducts - 1;
			o->quantity = 1;
			o->sent_ms = o->created_ms = q->sent_ms;
			o->done_ms = -1;
			o->status = CHAOS_ORDER_MISSING;
			n++;
		} else if (q->status == 0 || (q->status >= 500 && q->status != 503) ||
		           (q->status >= 200 && q->status <= 299)) {
			/* no answer, or one that does not say whether an order was made */
			r->sold_exact = false;
		}
	}
	r->norders = n;
	return 0;
}

/* the reads of api.h, each on its own kind of object */
typedef int (*read_fn)(const struct chaos_api *api, void *obj);

static int order_reader(const struct chaos_api *api, void *o)
{
	return chaos_api_read_order(api, o);
}

static int money_reader(const struct chaos_api *api, void *o)
{
	return chaos_api_read_money(api, o);
}

static int product_reader(const struct chaos_api *api, void *p)
{
	return chaos_api_read_product(api, p);
}

/* read(api, obj) until an answer comes, READ_TRIES times at most; true when
 * none came */
static bool read_retrying(const struct chaos_api *api, read_fn read, void *obj)
{
	for (int t = 0; t < READ_TRIES; t++) {
		if (read(api, obj) != SVC_ETRANSIENT)
			return false;
		svc_sleep_ms(500);
	}
	return true;
}

/* order i, unless terminal already */
static void read_order(void *arg, size_t i)
{
	struct chaos__run *r = arg;
	struct chaos_order *o = &r->orders[i];

	if (!chaos_order_terminal(o))
		o->unread = read_retrying(&r->cfg->api, order_reader, o);
}

static void read_money(void *arg, size_t i)
{
	struct chaos__run *r = arg;

	r->orders[i].money_unread = read_retrying(&r->cfg->api, money_reader, &r->orders[i]);
}

static void read_product(void *arg, size_t i)
{
	struct chaos__run *r = arg;

	r->products[i].unread = read_retrying(&r->cfg->api, product_reader, &r->products[i]);
}

static size_t count_open(const struct chaos__run *r)
{
	size_t open = 0;

	for (size_t i = 0; i < r->norders; i++)
		open += !chaos_order_terminal(&r->orders[i]);
	return open;
}

/* Reads the orders until all are terminal or the last one's bound passed. */
static void settle(struct chaos__run *r)
{
	int64_t last = r->t0_ms, deadline;
	size_t open;

	for (size_t i = 0; i < r->norders; i++)
		if (r->orders[i].sent_ms > last)
			last = r->orders[i].sent_ms;
	deadline = last + r->bound_ms;
	for (;;) {
		chaos_parallel(r->norders, r->cfg->check_threads, read_order, r);
		open = count_open(r);
		if (open == 0 || svc_now_ms() >= deadline)
			break;
		svc_info("%zu of %zu orders not terminal yet", open, r->norders);
		svc_sleep_ms(SETTLE_POLL);
	}
	svc_info("%zu orders accepted, %zu not terminal", r->norders, open);
}

static int by_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* True when the sorted ids[n] hold id. */
static bool has_id(const char **ids, size_t n, const char *id)
{
	return id[0] && bsearch(&id, ids, n, sizeof(*ids), by_id) != NULL;
}

/* One dead letter saying a DLQ could not be read (never explained). */
static void unreadable(struct chaos__run *r, const char *service, const char *why)
{
	struct chaos_dlq_entry *grown;

	if (r->ndlq == r->dlq_cap) {
		grown = realloc(r->dlq, (r->dlq_cap ? r->dlq_cap * 2 : 8) * sizeof(*grown));
		if (!grown)
			return;
		r->dlq = grown;
		r->dlq_cap = r->dlq_cap ? r->dlq_cap * 2 : 8;
	}
	memset(&r->dlq[r->ndlq], 0, sizeof(r->dlq[0]));
	snprintf(r->dlq[r->ndlq].service, sizeof(r->dlq[0].service), "%s", service);
	snprintf(r->dlq[r->ndlq].reason, sizeof(r->dlq[0].reason), "cannot read the DLQ: %s", why);
	r->dlq[r->ndlq++].at_ms = -1;
}

/* Every service's DLQ through one Ready pod's sidecar; kept: the entries of
 * this scenario's orders and those dead-lettered since it began. */
static void read_dlqs(struct chaos__run *r)
{
	const char **ids = calloc(r->norders + 1, sizeof(*ids));
	size_t keep = 0;

	r->ndlq = 0;
	for (size_t i = 0; ids && i < r->norders; i++)
		ids[i] = r->orders[i].id;
	if (ids)
		qsort(ids, r->norders, sizeof(*ids), by_id);
	for (size_t s = 0; s < sizeof(sidecars) / sizeof(sidecars[0]); s++) {
		struct chaos_pod *pods = NULL;
		struct svc_buf sel;
		size_t n = 0, p, before = r->ndlq;
		int rc = SVC_ENOTFOUND;

		svc_buf_init(&sel);
		svc_buf_addf(&sel, "app.kubernetes.io/instance=%s,app.kubernetes.io/component=%s",
		             r->cfg->release, sidecars[s].service);
		if (!sel.failed)
			chaos__list(r, svc_buf_str(&sel), &pods, &n);
		for (p = 0; p < n && rc != 0; p++)
			if (pods[p].ready && pods[p].ip[0])
				rc = chaos_api_read_dlq(&r->cfg->api, sidecars[s].service,
				                        pods[p].ip, sidecars[s].port, &r->dlq,
				                        &r->ndlq, &r->dlq_cap);
		if (rc) {
			r->ndlq = before;
			unreadable(r, sidecars[s].service, n ? svc_strerror(rc) : "no pod");
		}
		free(pods);
		svc_buf_release(&sel);
	}
	for (size_t i = 0; i < r->ndlq; i++) {
		const struct chaos_dlq_entry *d = &r->dlq[i];

		if (d->at_ms < 0 || d->at_ms >= r->t0_ms ||
		    (ids && has_id(ids, r->norders, d->order_id)))
			r->dlq[keep++] = *d;
	}
	r->ndlq = keep;
	free(ids);
}

static void evaluate(struct chaos__run *r)
{
	struct chaos_check_input in = {
	        .orders = r->orders,
	        .norders = r->norders,
	        .products = r->products,
	        .nproducts = r->nproducts,
	        .dlq = r->dlq,
	        .ndlq = r->ndlq,
	        .terminal_bound_ms = r->bound_ms,
	        .sold_exact = r->sold_exact,
	        .dlq_allow = r->s->dlq_allow,
	};

	chaos_check(&in, &r->verdict);
	r->verified_ms = svc_now_ms();
}

int chaos__verify(struct chaos__run *r)
{
	int64_t until;
	int rc = collect(r);

	if (rc)
		return rc;
	settle(r);
	until = svc_now_ms() + r->s->settle_s * 1000;
	for (;;) {
		chaos_parallel(r->norders, r->cfg->check_threads, read_order, r);
		chaos_parallel(r->norders, r->cfg->check_threads, read_money, r);
		chaos_parallel(r->nproducts, r->cfg->check_threads, read_product, r);
		read_dlqs(r);
		evaluate(r);
		if (chaos_verdict_ok(&r->verdict) || svc_now_ms() >= until)
			break;
		for (int i = 0; i < CHAOS_INV_COUNT; i++)
			if (r->verdict.inv[i].violations)
				svc_info("invariant %s: %ld violations (e.g. %s); again",
				         chaos_inv_name(i), r->verdict.inv[i].violations,
				         r->verdict.inv[i].examples[0]);
		svc_sleep_ms(VERIFY_POLL);
	}
	return 0;
}
