/*
 * Line prices from the price cache, else from the Inventory service through
 * the sidecar's egress (see pricing.h). Client-sent prices are never used.
 */
#include "services/order/pricing.h"

#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "services/order/price_cache.h"

#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/money.h"

/* Asks the price of one product. 0 with *price; SVC_ENOTFOUND for a 404;
 * SVC_ETRANSIENT for anything else (logged). */
static int fetch_price(const struct order_config *cfg, const char *product_id, int64_t *price)
{
	/* product ids are [A-Za-z0-9._:@-]: safe in a path without escaping */
	const char *const headers[] = {"Accept: application/json", NULL};
	struct svc_httpc_response res = {0};
	json_t *doc = NULL, *p;
	char url[512];
	int rc;

	snprintf(url, sizeof(url), "%s/egress/inventory/api/inventory/%s", cfg->sidecar_url,
	         product_id);
	rc = svc_httpc_request("GET", url, headers, NULL, 0, cfg->pricing_timeout_ms, &res);
	if (rc != 0) {
		svc_warn("pricing: no answer for %s: %s", product_id, svc_strerror(rc));
		rc = SVC_ETRANSIENT;
		goto release_res;
	}
	if (res.status == 404) {
		rc = SVC_ENOTFOUND;
		goto release_res;
	}
	rc = SVC_ETRANSIENT;
	if (res.status != 200) {
		svc_warn("pricing: inventory answered %ld for %s", res.status, product_id);
		goto release_res;
	}
	doc = json_loadb(res.body ? res.body : "", res.body_len, 0, NULL);
	p = json_object_get(doc, "price");
	if (!json_is_integer(p) || json_integer_value(p) < 0) {
		svc_warn("pricing: inventory answer for %s has no valid price", product_id);
		goto release_doc;
	}
	*price = json_integer_value(p);
	rc = 0;
release_doc:
	json_decref(doc);
release_res:
	svc_httpc_response_release(&res);
	return rc;
}

/* The cache's clock: monotonic, so a wall-clock step never keeps a price. */
static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The price of one product: cached when fresh, else asked and cached. */
static int price_of(const struct order_app *app, const char *product_id, int64_t *price)
{
	int64_t now = monotonic_ms();
	int rc;

	if (order_price_cache_get(app->prices, product_id, now, price))
		return 0;
	rc = fetch_price(&app->cfg, product_id, price);
	if (rc == 0) /* a failed store only means asking again next time */
		(void)order_price_cache_put(app->prices, product_id, *price, now);
	return rc;
}

int order_pricing_quote(const struct order_app *app, const struct order_request *req,
                        int64_t unit_prices[ORDER_MAX_ITEMS], int64_t *total,
                        struct svc_problem *err)
{
	int64_t sum = 0;

	for (size_t i = 0; i < req->nitems; i++) {
		const struct order_item *it = &req->items[i];
		int64_t line;
		char field[48];
		int rc;

		if (req->single_form)
			snprintf(field, sizeof(field), "productId");
		else
			snprintf(field, sizeof(field), "items[%zu].productId", i);
		rc = price_of(app, it->product_id, &unit_prices[i]);
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
