/*
 * An in-process cache of product prices for POST /api/orders, so that an
 * order does not cost a round trip to the Inventory service per line.
 *
 * Entries live `ttl_ms` (PRICE_CACHE_MS, default 2000) after they were
 * stored: an order may therefore be priced with a price up to that old. That
 * is accepted on purpose: the price an order is created with is a quote, and
 * Inventory's InventoryReserved carries the prices it reserved at. At most
 * `max_entries` (PRICE_CACHE_MAX, default 100000) are kept; when a stripe is
 * full the entry stored longest ago is evicted first.
 *
 * Pure (no I/O, no clock): the caller passes the time, a monotonic clock in
 * milliseconds. Thread-safe: the table is split into stripes, each with its
 * own mutex, chosen by the key's hash.
 */
#ifndef ORDER_PRICE_CACHE_H
#define ORDER_PRICE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct order_price_cache;

/*
 * A cache of at most `max_entries` prices valid `ttl_ms` each. Returns NULL
 * when memory runs out or when `max_entries` or `ttl_ms` is 0 (caching off).
 * Every function below accepts a NULL cache: it never hits and stores nothing.
 */
struct order_price_cache *order_price_cache_new(size_t max_entries, int64_t ttl_ms);
/* Frees the cache and every entry (accepts NULL). */
void order_price_cache_free(struct order_price_cache *c);

/* True with *price when `product_id` has an entry stored less than ttl_ms
 * before `now_ms`; an expired entry is dropped and counts as a miss. */
bool order_price_cache_get(struct order_price_cache *c, const char *product_id, int64_t now_ms,
                           int64_t *price);
/*
 * Stores (or refreshes) the price of `product_id` as of `now_ms`, evicting
 * the oldest entry of its stripe when the stripe is full. Returns 0,
 * SVC_EPERMANENT for a key longer than SVC_ID_MAX (not cached) or SVC_ENOMEM.
 * A failure only means the next order asks Inventory again.
 */
int order_price_cache_put(struct order_price_cache *c, const char *product_id, int64_t price,
                          int64_t now_ms);

/* Number of entries held (expired ones included until touched or evicted). */
size_t order_price_cache_size(struct order_price_cache *c);

#endif
