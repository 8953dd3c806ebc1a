/*
 * Line prices from the price cache, else from the Inventory service through
 * the sidecar's egress, many requests' products in one call (see
 * pricing.h). Client-sent prices are never used.
 */
#include "services/order/pricing.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "services/order/create.h"
#include "services/order/price_cache.h"

#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/combine.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/money.h"

struct order_pricing {
	struct svc_combiner combiner; /* items: struct order_price_ask */
	const struct order_config *cfg;
	struct order_price_cache *prices; /* NULL: no cache */
};

/* ---- the grouping (pure) --------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The index of `id` in the sorted ids[0..n), or n when it is not there. */
static size_t find_id(const char *const *ids, size_t n, const char *id)
{
	const char *const *at = bsearch(&id, ids, n, sizeof(*ids), cmp_id);

	return at ? (size_t)(at - ids) : n;
}

/* Asks for ids[0..n) (sorted, distinct) in chunks; stops at the first
 * failed call. rcs[] arrive SVC_ETRANSIENT and keep it for what is not
 * answered. */
static void fetch_chunks(const char **ids, size_t n, int64_t *prices, int *rcs,
                         order_price_fetch_fn fetch, void *arg)
{
	for (size_t at = 0, k; at < n; at += k) {
		k = n - at < ORDER_PRICING_CHUNK ? n - at : ORDER_PRICING_CHUNK;
		if (fetch(arg, ids + at, k, prices + at, rcs + at) == 0)
			continue;
		for (size_t i = at; i < at + k; i++) /* a failed call tells nothing */
			rcs[i] = SVC_ETRANSIENT;
		return;
	}
}

int order_pricing_group(void *const *asks, size_t nasks, order_price_fetch_fn fetch, void *arg)
{
	const char **ids = NULL;
	int64_t *prices = NULL;
	int *rcs = NULL;
	size_t total = 0, n = 0, i, j;
	int rc = SVC_ENOMEM;

	for (i = 0; i < nasks; i++)
		total += ((const struct order_price_ask *)asks[i])->n;
	if (total == 0)
		return 0;
	ids = malloc(total * sizeof(*ids));
	prices = calloc(total, sizeof(*prices));
	rcs = malloc(total * sizeof(*rcs));
	if (!ids || !prices || !rcs)
		goto free_all;
	for (i = 0; i < nasks; i++) {
		const struct order_price_ask *a = asks[i];

		for (j = 0; j < a->n; j++)
			ids[n++] = a->ids[j];
	}
	/* the distinct ids of every ask, sorted */
	qsort(ids, total, sizeof(*ids), cmp_id);
	for (i = 0, n = 0; i < total; i++)
		if (n == 0 || strcmp(ids[n - 1], ids[i]) != 0)
			ids[n++] = ids[i];
	for (i = 0; i < n; i++)
		rcs[i] = SVC_ETRANSIENT;
	fetch_chunks(ids, n, prices, rcs, fetch, arg);
	for (i = 0; i < nasks; i++) {
		struct order_price_ask *a = asks[i];

		for (j = 0; j < a->n; j++) {
			size_t at = find_id(ids, n, a->ids[j]);

			a->prices[j] = prices[at];
			a->rcs[j] = rcs[at];
		}
	}
	rc = 0;
free_all:
	free(rcs);
	free(prices);
	free(ids);
	return rc;
}

/* ---- the call ---------------------------------------------------------- */

/* Reads the answer `doc` into prices/rcs of ids[0..n) and caches the
 * prices. 0, or SVC_ETRANSIENT when it is not the expected object. */
static int read_answer(struct order_pricing *p, const json_t *doc, const char *const *ids, size_t n,
                       int64_t *prices, int *rcs)
{
	const json_t *products = json_object_get(doc, "products");
	const json_t *missing = json_object_get(doc, "missing");
	int64_t now = (int64_t)svc_mono_ms();
	const json_t *v;
	size_t i, at;

	if (!json_is_array(products) || !json_is_array(missing))
		return SVC_ETRANSIENT;
	json_array_foreach(products, i, v)
	{
		const char *id = json_string_value(json_object_get(v, "productId"));
		const json_t *price = json_object_get(v, "price");

		at = id ? find_id(ids, n, id) : n;
		if (at == n) /* not asked: nothing to do with it */
			continue;
		if (!json_is_integer(price) || json_integer_value(price) < 0) {
			svc_warn("pricing: inventory answer for %s has no valid price", id);
			continue; /* stays unanswered */
		}
		prices[at] = json_integer_value(price);
		rcs[at] = 0;
		/* a failed store only means asking again next time */
		(void)order_price_cache_put(p->prices, ids[at], prices[at], now);
	}
	json_array_foreach(missing, i, v)
	{
		at = json_is_string(v) ? find_id(ids, n, json_string_value(v)) : n;
		if (at < n && rcs[at] == SVC_ETRANSIENT)
			rcs[at] = SVC_ENOTFOUND;
	}
	return 0;
}

/* order_price_fetch_fn: GET /api/inventory?ids=... through the egress
 * (pricing.h). Failures are logged. */
static int fetch_prices(void *arg, const char *const *ids, size_t n, int64_t *prices, int *rcs)
{
	struct order_pricing *p = arg;
	const char *const headers[] = {"Accept: application/json", NULL};
	struct svc_httpc_response res = {0};
	struct svc_buf url;
	json_t *doc = NULL;
	int rc;

	/* product ids are [A-Za-z0-9._:@-]: safe in a query without escaping */
	svc_buf_init(&url);
	svc_buf_addf(&url, "%s/egress/inventory/api/inventory?ids=", p->cfg->sidecar_url);
	for (size_t i = 0; i < n; i++) {
		svc_buf_adds(&url, i ? "," : "");
		svc_buf_adds(&url, ids[i]);
	}
	rc = url.failed ? SVC_ENOMEM
	                : svc_httpc_request("GET", svc_buf_str(&url), headers, NULL, 0,
	                                    p->cfg->pricing_timeout_ms, &res);
	if (rc != 0) {
		svc_warn("pricing: no answer for %zu product(s) (%s, ...): %s", n, ids[0],
		         svc_strerror(rc));
		rc = SVC_ETRANSIENT;
		goto release_res;
	}
	rc = SVC_ETRANSIENT;
	if (res.status != 200) {
		svc_warn("pricing: inventory answered %ld for %zu product(s) (%s, ...)", res.status,
		         n, ids[0]);
		goto release_res;
	}
	doc = json_loadb(res.body ? res.body : "", res.body_len, 0, NULL);
	rc = read_answer(p, doc, ids, n, prices, rcs);
	if (rc != 0)
		svc_warn("pricing: inventory answer for %zu product(s) (%s, ...) is not a product "
		         "list",
		         n, ids[0]);
	json_decref(doc);
release_res:
	svc_httpc_response_release(&res);
	svc_buf_release(&url);
	return rc;
}

/* The combiner's run: one group of struct order_price_ask. */
static int run_group(void *arg, void *const *asks, size_t n)
{
	return order_pricing_group(asks, n, fetch_prices, arg);
}

struct order_pricing *order_pricing_new(const struct order_config *cfg,
                                        struct order_price_cache *prices)
{
	struct order_pricing *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = cfg;
	p->prices = prices;
	if (svc_combiner_init(&p->combiner, run_group, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void order_pricing_free(struct order_pricing *p)
{
	if (!p)
		return;
	svc_combiner_release(&p->combiner);
	free(p);
}

size_t order_pricing_waiting(struct order_pricing *p)
{
	return svc_combiner_waiting(&p->combiner);
}

/* Answers `ask` from Inventory: with the requests asking at the same time
 * when the service has its combiner, else alone. 0 or SVC_ENOMEM. */
static int ask_inventory(const struct order_app *app, struct order_price_ask *ask)
{
	struct order_pricing alone = {.cfg = &app->cfg, .prices = app->prices};
	void *item = ask;

	if (app->pricing)
		return svc_combine_linger(&app->pricing->combiner, ask,
		                          order_create_linger_ms(app, false));
	return order_pricing_group(&item, 1, fetch_prices, &alone);
}

int order_pricing_quote(const struct order_app *app, const struct order_request *req,
                        int64_t unit_prices[ORDER_MAX_ITEMS], int64_t *total,
                        struct svc_problem *err)
{
	struct order_price_ask ask = {0};
	/* the line's index in ask, or ORDER_MAX_ITEMS: cached (zeroed only for the
	 * static analysers, which miss that the first loop sets every line's) */
	size_t asked[ORDER_MAX_ITEMS] = {0};
	int64_t now = (int64_t)svc_mono_ms(), sum = 0;
	size_t i;

	for (i = 0; i < req->nitems; i++) {
		asked[i] = ORDER_MAX_ITEMS;
		if (order_price_cache_get(app->prices, req->items[i].product_id, now,
		                          &unit_prices[i]))
			continue;
		asked[i] = ask.n;
		ask.ids[ask.n++] = req->items[i].product_id;
	}
	/* lines are distinct products (request.h): an ask holds each once */
	if (ask.n > 0 && ask_inventory(app, &ask) != 0)
		for (i = 0; i < ask.n; i++)
			ask.rcs[i] = SVC_ETRANSIENT;
	for (i = 0; i < req->nitems; i++) {
		const struct order_item *it = &req->items[i];
		int rc = asked[i] == ORDER_MAX_ITEMS ? 0 : ask.rcs[asked[i]];
		int64_t line;
		char field[48];

		if (asked[i] != ORDER_MAX_ITEMS)
			unit_prices[i] = ask.prices[asked[i]];
		if (req->single_form)
			snprintf(field, sizeof(field), "productId");
		else
			snprintf(field, sizeof(field), "items[%zu].productId", i);
		if (rc == SVC_ENOTFOUND) {
			svc_problem_set(err, 422, field, "unknown product %s", it->product_id);
			return rc;
		}
		if (rc != 0) {
			svc_problem_set(err, 503, "",
			                "the inventory service cannot be asked for prices now; "
			                "retry later");
			return SVC_ETRANSIENT;
		}
		if (svc_money_mul(unit_prices[i], it->quantity, &line) != 0 ||
		    svc_money_add(sum, line, &sum) != 0) {
			svc_problem_set(err, 422, "", "the order total is too large");
			return SVC_ERANGE;
		}
	}
	*total = sum;
	return 0;
}
