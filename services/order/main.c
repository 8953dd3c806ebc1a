/*
 * order-service: creates and reads orders and orchestrates each order's saga
 * (docs/architecture.md). Everything generic comes from svc_run(); this file
 * says only what is the Order service's own.
 */
#include "services/order/order.h"
#include "services/order/price_cache.h"
#include "services/order/pricing.h"
#include "svc/log.h"
#include "svc/ratelimit.h"

#define RATE_SLOTS 65536

static int start(struct svc_ctx *ctx)
{
	struct order_app *app = ctx->user;

	order_config_load(&app->cfg);
	app->prices =
	        order_price_cache_new((size_t)app->cfg.price_cache_max, app->cfg.price_cache_ms);
	if (!app->prices && app->cfg.price_cache_max > 0 && app->cfg.price_cache_ms > 0)
		svc_warn("no memory for the price cache: every order asks inventory for prices");
	app->pricing = order_pricing_new(&app->cfg, app->prices);
	if (!app->pricing)
		svc_warn("no memory for shared price look-ups: each order asks inventory alone");
	app->rate = svc_ratelimit_new(app->cfg.rate_per_s, app->cfg.rate_burst, RATE_SLOTS);
	if (!app->rate && app->cfg.rate_per_s > 0)
		return -1;
	order_metrics_init(&app->metrics, ctx, app->cfg.in_flight_refresh_ms);
	app->timeouts = order_timeouts_start(ctx);
	return app->timeouts ? 0 : -1;
}

static void stop(struct svc_ctx *ctx)
{
	struct order_app *app = ctx->user;

	order_timeouts_stop(app->timeouts);
	app->timeouts = NULL;
	order_pricing_free(app->pricing); /* the HTTP server is stopped: no quote runs */
	app->pricing = NULL;
	order_price_cache_free(app->prices);
	app->prices = NULL;
	svc_ratelimit_free(app->rate);
	app->rate = NULL;
}

int main(void)
{
	static struct order_app app;
	/* svc_run() returns only at exit, so automatic storage is fine. */
	const struct svc_service svc = {
	        .name = "order",
	        .source = "order-service",
	        .default_port = 8081,
	        .routes = order_routes,
	        .nroutes = order_nroutes,
	        .consumer = &order_consumer_ops,
	        .start = start,
	        .stop = stop,
	};

	return svc_run(&svc, &app);
}
