/*
 * Inventory HTTP API (openapi.json):
 *   PUT /api/inventory/{productId}  create a product or set its stock and price
 *   GET /api/inventory/{productId}  stock, served from the Redis cache
 *   GET /api/inventory?ids=P1,P2,.. the same for 1..INV_BULK_MAX products at
 *                                   once: {"products":[..],"missing":[ids]}
 *                                   (the Order service's price look-ups)
 */
#ifndef INV_API_H
#define INV_API_H

#include <stddef.h>

#include "svc/http.h"

#define INV_BULK_MAX 200 /* ids in one GET /api/inventory?ids= (repeats count) */

extern const struct svc_http_route inv_routes[];
extern const size_t inv_nroutes;

#endif
