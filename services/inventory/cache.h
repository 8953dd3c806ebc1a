/*
 * The Redis stock cache: hash "inv:{productId}" with available, reserved,
 * sold, price, name, version. The database is the truth; a write only lands
 * when its version is newer than the cached one (compare-and-set in one Lua
 * script), so concurrent writers can never leave an older state behind.
 * Every Redis failure is a miss; the caller reads the database.
 *
 * Redis calls go through a circuit breaker ("redis", REDIS_BREAKER_WINDOW
 * (20), _MIN_CALLS (10), _FAILURE_RATE (50), _OPEN_MS (5000), _SLOW_MS (0 =
 * off), _HALF_OPEN_CALLS (3)): while it is open, reads go straight to the
 * database and cache writes are skipped, so an unwell Redis costs no
 * timeouts. A product whose write was skipped or failed is remembered (up
 * to INV_CACHE_DIRTY_MAX of them) and its cached copy deleted once Redis
 * answers again, so the cache converges instead of serving what it held
 * before the outage; beyond that many, stale copies live until their TTL
 * (INVENTORY_CACHE_TTL_S, 300 s).
 *
 * The cache state is the service's ctx->user (struct inv_cache); without it
 * (or without Redis) every call is a miss / no-op.
 */
#ifndef INV_CACHE_H
#define INV_CACHE_H

#include <jansson.h>
#include <stddef.h>

#include "services/inventory/stock.h"

#define INV_CACHE_DIRTY_MAX 4096

struct svc_ctx;
struct inv_cache;

/* The breaker from REDIS_BREAKER_*. NULL (logged) on invalid settings or OOM. */
struct inv_cache *inv_cache_new(void);
/* Accepts NULL. */
void inv_cache_free(struct inv_cache *c);

/* Caches `p` unless the cache already holds this version or a newer one.
 * No-op without Redis or while the breaker is open. */
void inv_cache_store(struct svc_ctx *ctx, const struct inv_product *p);
/* 0 and *p filled on a hit; SVC_ENOTFOUND on a miss, when Redis fails or
 * while the breaker is open. */
int inv_cache_load(struct svc_ctx *ctx, const char *product_id, struct inv_product *p);

/*
 * The same for many products in one Redis round trip: fills each *ps[i]
 * the cache holds (p.c.found set) and leaves the others as they are (the
 * caller sets product_id and clears found first). A Redis failure or an
 * open breaker leaves them all: misses.
 */
void inv_cache_load_many(struct svc_ctx *ctx, struct inv_product *const *ps, size_t n);
/* inv_cache_store() for ps[0..n) in one Redis round trip, each product
 * version-guarded on its own. */
void inv_cache_store_many(struct svc_ctx *ctx, const struct inv_product *const *ps, size_t n);

/* Adds "redisBreaker": "closed|open|half-open" to `details` (readiness,
 * /metrics); nothing without Redis. */
void inv_cache_status(struct svc_ctx *ctx, json_t *details);

#endif
