/*
 * The Redis stock cache: hash "inv:{productId}" with available, reserved,
 * sold, price, name, version. The database is the truth; a write only lands
 * when its version is newer than the cached one (compare-and-set in one Lua
 * script), so concurrent writers can never leave an older state behind.
 * Every Redis failure is a miss; the caller reads the database.
 */
#ifndef INV_CACHE_H
#define INV_CACHE_H

#include <stddef.h>

#include "services/inventory/stock.h"

struct svc_ctx;

/* Caches `p` unless the cache already holds this version or a newer one.
 * No-op without Redis. */
void inv_cache_store(struct svc_ctx *ctx, const struct inv_product *p);
/* 0 and *p filled on a hit; SVC_ENOTFOUND on a miss or when Redis fails. */
int inv_cache_load(struct svc_ctx *ctx, const char *product_id, struct inv_product *p);
/* Re-reads the products from the database (after a commit) and stores them. */
void inv_cache_refresh(struct svc_ctx *ctx, const struct inv_item *items, size_t n);

#endif
