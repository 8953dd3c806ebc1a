/*
 * Inventory HTTP API (openapi.json):
 *   PUT /api/inventory/{productId}  create a product or set its stock and price
 *   GET /api/inventory/{productId}  stock, served from the Redis cache
 */
#ifndef INV_API_H
#define INV_API_H

#include <stddef.h>

#include "svc/http.h"

extern const struct svc_http_route inv_routes[];
extern const size_t inv_nroutes;

#endif
