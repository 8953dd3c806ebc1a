/*
 * Prices of an order's lines, asked from the Inventory service through the
 * order sidecar's egress route "inventory" (so its timeout, retries and
 * circuit breaker apply):
 *   GET {SIDECAR_URL}/egress/inventory/api/inventory/{productId}
 *   -> 200 {"productId","available","reserved","price"}   price in minor units
 * Answers are kept in the service's price cache (price_cache.h), so a price
 * may be up to PRICE_CACHE_MS (2 s) old when an order is accepted with it;
 * Inventory's InventoryReserved carries the prices it actually reserved at.
 */
#ifndef ORDER_PRICING_H
#define ORDER_PRICING_H

#include <stdint.h>

#include "services/order/order.h"
#include "services/order/request.h"

/*
 * Fills unit_prices[i] for every line of `req` and *total = sum(price * qty),
 * from app->prices when fresh there, else from Inventory (then cached).
 * 0 on success; otherwise *err says what to answer:
 *   SVC_ENOTFOUND  422, a product the inventory does not know (field names it)
 *   SVC_ERANGE     422, the total overflows
 *   SVC_ETRANSIENT 503, the inventory did not answer, answered 5xx or nonsense
 */
int order_pricing_quote(const struct order_app *app, const struct order_request *req,
                        int64_t unit_prices[ORDER_MAX_ITEMS], int64_t *total,
                        struct svc_problem *err);

#endif
