/*
 * notification-service: tells customers how their orders ended. Consumes
 * order.events (through its sidecar), sends through the channel chosen by
 * NOTIFY_CHANNEL and records every notification; see events.h and api.h.
 */
#include <stdbool.h>

#include "services/notification/api.h"
#include "services/notification/events.h"
#include "services/notification/notify.h"
#include "svc/service.h"

static int notif_start(struct svc_ctx *ctx)
{
	struct notif_service *ns = ctx->user;

	if (notif_contacts_init(&ns->contacts, ctx->db) != 0)
		return 1;
	if (notif_channels_init(&ns->channels) != 0) {
		notif_contacts_release(&ns->contacts);
		return 1;
	}
	return 0;
}

static void notif_stop(struct svc_ctx *ctx)
{
	struct notif_service *ns = ctx->user;

	notif_channels_release(&ns->channels);
	notif_contacts_release(&ns->contacts);
}

static bool notif_ready(struct svc_ctx *ctx, json_t *details)
{
	struct notif_service *ns = ctx->user;

	json_object_set_new(details, "channel",
	                    json_string(ns->channels.dflt ? ns->channels.dflt->name : "none"));
	return ns->channels.dflt != NULL;
}

static const struct svc_service notif_service_def = {
        .name = "notification",
        .source = NOTIF_SOURCE,
        .default_port = 8084,
        .routes = notif_api_routes,
        .consumer = &notif_consumer_ops,
        .start = notif_start,
        .stop = notif_stop,
        .ready = notif_ready,
};

int main(void)
{
	static struct notif_service ns;
	struct svc_service svc = notif_service_def;

	/* nroutes is not a constant expression across translation units. */
	svc.nroutes = notif_api_nroutes;
	return svc_run(&svc, &ns);
}
