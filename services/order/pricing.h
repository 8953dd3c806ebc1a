/*
 * Prices of an order's lines, asked from the Inventory service through the
 * order sidecar's egress route "inventory" (so its timeout, retries and
 * circuit breaker apply):
 *   GET {SIDECAR_URL}/egress/inventory/api/inventory?ids=P1,P2,...
 *   -> 200 {"products":[{"productId","price",...}],"missing":["Px"]}
 *   (price in minor units)
 * Answers are kept in the service's price cache (price_cache.h), so a price
 * may be up to PRICE_CACHE_MS (2 s) old when an order is accepted with it;
 * Inventory's InventoryReserved carries the prices it actually reserved at.
 *
 * Products not fresh in the cache are asked through a combiner
 * (svc/combine.h): the create requests that need prices at the same time
 * share one call for the distinct products of them all (at most
 * ORDER_PRICING_CHUNK per call), instead of one call per product each. A
 * lone request waits a little for company while the service is quiet
 * (order_create_linger_ms, create.h).
 */
#ifndef ORDER_PRICING_H
#define ORDER_PRICING_H

#include <stddef.h>
#include <stdint.h>

#include "services/order/order.h"
#include "services/order/request.h"

/* Ids per call: the inventory's limit for GET /api/inventory?ids=. */
#define ORDER_PRICING_CHUNK 200

/*
 * Fills unit_prices[i] for every line of `req` and *total = sum(price * qty),
 * from app->prices when fresh there, else from Inventory (then cached).
 * 0 on success; otherwise *err says what to answer (the first line, in
 * request order, that cannot be priced or overflows decides):
 *   SVC_ENOTFOUND  422, a product the inventory does not know (field names it)
 *   SVC_ERANGE     422, the total overflows
 *   SVC_ETRANSIENT 503, the inventory did not answer, answered 5xx or nonsense
 */
int order_pricing_quote(const struct order_app *app, const struct order_request *req,
                        int64_t unit_prices[ORDER_MAX_ITEMS], int64_t *total,
                        struct svc_problem *err);

/*
 * The shared look-ups: asks Inventory with cfg's sidecar URL and timeout,
 * stores the answers in `prices` (NULL: no cache). Both are borrowed and
 * must outlive it. NULL on OOM. _free accepts NULL; no quote may be running.
 */
struct order_pricing *order_pricing_new(const struct order_config *cfg,
                                        struct order_price_cache *prices);
void order_pricing_free(struct order_pricing *p);

/* Quotes queued for the next call to Inventory, not yet taken (tests). */
size_t order_pricing_waiting(struct order_pricing *p);

/* ---- the grouping, pure (exposed for tests) ----------------------------- */

/* One create request's products missing from the cache, and their prices. */
struct order_price_ask {
	size_t n;
	const char *ids[ORDER_MAX_ITEMS]; /* distinct within the request; borrowed */
	int64_t prices[ORDER_MAX_ITEMS];  /* out: price of ids[i] when rcs[i] is 0 */
	/* out: 0 priced, SVC_ENOTFOUND unknown to the inventory, SVC_ETRANSIENT
	 * not answered (the call failed, or its answer left the id out) */
	int rcs[ORDER_MAX_ITEMS];
};

/*
 * One call for the prices of ids[0..n) (distinct, sorted by strcmp,
 * 1 <= n <= ORDER_PRICING_CHUNK): sets prices[i] and rcs[i] to 0 for each
 * product it was told, rcs[i] to SVC_ENOTFOUND for each id it was told is
 * unknown; the others keep the SVC_ETRANSIENT they arrive with. Returns 0,
 * or SVC_ETRANSIENT when the call failed as a whole.
 */
typedef int (*order_price_fetch_fn)(void *arg, const char *const *ids, size_t n, int64_t *prices,
                                    int *rcs);

/*
 * Answers the asks asks[0..nasks) (each a struct order_price_ask *, as a
 * combiner hands its items over): the distinct ids of them all go to
 * `fetch` (with `arg`) in sorted chunks of at most ORDER_PRICING_CHUNK;
 * after a failed call none is made (the inventory is unwell) and every id
 * not priced yet counts SVC_ETRANSIENT. Fills every ask's prices and rcs.
 * 0, or SVC_ENOMEM (nothing asked, the asks untouched).
 */
int order_pricing_group(void *const *asks, size_t nasks, order_price_fetch_fn fetch, void *arg);

#endif
