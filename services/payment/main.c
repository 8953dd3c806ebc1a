/*
 * payment-service: charges orders through the virtual gateway (via its
 * sidecar's egress route "gateway") and refunds or voids them on command;
 * records the orders' outcomes and reconciles the captures against them.
 */
#include <stdio.h>
#include <string.h>

#include "services/payment/api.h"
#include "services/payment/consumer.h"
#include "services/payment/process.h"
#include "services/payment/reconcile.h"
#include "svc/config.h"
#include "svc/log.h"
#include "svc/service.h"
#include "svc/url.h"

static int start(struct svc_ctx *ctx)
{
	struct pay_service *ps = ctx->user;
	const char *url = svc_env_str("SIDECAR_URL", "http://127.0.0.1:9082");

	/* Paths are appended with their own slash. */
	if (svc_url_join(ps->sidecar_url, sizeof(ps->sidecar_url), url, "") != 0) {
		svc_error("SIDECAR_URL is longer than %zu bytes: refused",
		          sizeof(ps->sidecar_url) - 1);
		return 1;
	}
	ps->write_requested = pay_jobs_write_requested;
	ps->write_arg = ctx;
	ps->reconciler = pay_reconciler_start(ctx);
	return ps->reconciler ? 0 : 1;
}

static void stop(struct svc_ctx *ctx)
{
	struct pay_service *ps = ctx->user;

	pay_reconciler_stop(ps->reconciler);
	ps->reconciler = NULL;
}

static void metrics(struct svc_ctx *ctx, json_t *out)
{
	struct pay_service *ps = ctx->user;

	pay_reconciler_metrics(ps->reconciler, out);
}

int main(void)
{
	static struct pay_service ps;
	const struct svc_service payment_service = {
	        .name = "payment",
	        .source = "payment-service",
	        .default_port = 8082,
	        .routes = pay_routes,
	        .nroutes = pay_nroutes,
	        .consumer = &pay_consumer_ops,
	        .start = start,
	        .stop = stop,
	        .metrics = metrics,
	};

	return svc_run(&payment_service, &ps);
}
