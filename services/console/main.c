/*
 * saga-console: the operators' page and the API behind it (console.h).
 * svc_run() gives it what every service has (tokens, health, metrics, the
 * database pool: order_db, read only, so no migrations).
 */
#include "services/console/console.h"
#include "services/console/kafka.h"
#include "services/console/sampler.h"
#include "svc/log.h"
#include "svc/service.h"

static int start(struct svc_ctx *ctx)
{
	struct console_app *app = ctx->user;

	if (console_config_load(&app->cfg) != 0)
		return -1;
	app->kafka = console_kafka_new(&app->cfg);
	if (!app->kafka)
		svc_warn("no Kafka client: the topics view is off");
	app->sampler = console_sampler_start(&app->cfg);
	return app->sampler ? 0 : -1;
}

static void stop(struct svc_ctx *ctx)
{
	struct console_app *app = ctx->user;

	console_sampler_stop(app->sampler);
	app->sampler = NULL;
	console_kafka_free(app->kafka);
	app->kafka = NULL;
}

int main(void)
{
	static struct console_app app;
	const struct svc_service svc = {
	        .name = "console",
	        .source = "saga-console",
	        .default_port = 8090,
	        .routes = console_routes,
	        .nroutes = console_nroutes,
	        .reads_foreign_db = true,
	        .start = start,
	        .stop = stop,
	};

	return svc_run(&svc, &app);
}
