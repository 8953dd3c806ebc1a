/*
 * inventory-service: reserves, releases and sells stock for the order saga
 * and serves stock levels from a Redis cache over the database.
 */
#include "services/inventory/api.h"
#include "services/inventory/cache.h"
#include "services/inventory/consumer.h"
#include "svc/error.h"
#include "svc/service.h"

/* The cache state (its Redis breaker) becomes ctx->user. */
static int inventory_start(struct svc_ctx *ctx)
{
	ctx->user = inv_cache_new();
	return ctx->user ? 0 : SVC_EPERMANENT;
}

static void inventory_stop(struct svc_ctx *ctx)
{
	inv_cache_free(ctx->user);
	ctx->user = NULL;
}

/* Redis is a cache: its state is reported, never a reason to be unready. */
static bool inventory_ready(struct svc_ctx *ctx, json_t *details)
{
	inv_cache_status(ctx, details);
	return true;
}

static void inventory_metrics(struct svc_ctx *ctx, json_t *out)
{
	inv_cache_status(ctx, out);
}

int main(void)
{
	const struct svc_service inventory_service = {
	        .name = "inventory",
	        .source = "inventory-service",
	        .default_port = 8083,
	        .routes = inv_routes,
	        .nroutes = inv_nroutes,
	        .consumer = &inv_consumer_ops,
	        .start = inventory_start,
	        .stop = inventory_stop,
	        .ready = inventory_ready,
	        .metrics = inventory_metrics,
	};

	return svc_run(&inventory_service, NULL);
}
