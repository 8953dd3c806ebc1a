/* The set of channels this process can send through, chosen from the environment. */
#include "services/notification/channel.h"

#include <string.h>
#include <strings.h>

#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

void notif_channel_free(struct notif_channel *ch)
{
	if (!ch)
		return;
	if (ch->ctx_free)
		ch->ctx_free(ch->ctx);
	free(ch);
}

int notif_channels_init(struct notif_channels *chs)
{
	const char *want = svc_env_str("NOTIFY_CHANNEL", "log");
	const char *sidecar = svc_env_str("SIDECAR_URL", "http://127.0.0.1:9084");
	long timeout_ms = svc_env_long("NOTIFY_TIMEOUT_MS", 10000, 100, 120000);

	memset(chs, 0, sizeof(*chs));
	chs->log = notif_channel_log_new();
	chs->webhook = notif_channel_webhook_new(sidecar, timeout_ms);
	chs->smtp = notif_channel_smtp_new();
	if (!chs->log || !chs->webhook) {
		svc_error("cannot create the notification channels");
		goto fail;
	}
	chs->dflt = notif_channels_find(chs, want);
	if (!chs->dflt) {
		svc_error("NOTIFY_CHANNEL=%s: unknown or not configured (log|webhook|smtp; smtp "
		          "needs SMTP_URL and SMTP_FROM)",
		          want);
		goto fail;
	}
	svc_info("notifications go out through channel %s", chs->dflt->name);
	return 0;
fail:
	notif_channels_release(chs);
	return SVC_EPERMANENT;
}

void notif_channels_release(struct notif_channels *chs)
{
	notif_channel_free(chs->log);
	notif_channel_free(chs->webhook);
	notif_channel_free(chs->smtp);
	memset(chs, 0, sizeof(*chs));
}

struct notif_channel *notif_channels_find(const struct notif_channels *chs, const char *name)
{
	struct notif_channel *all[] = {chs->log, chs->webhook, chs->smtp};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && strcasecmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
