/* The "log" channel: a notification becomes one log line (development, tests). */
#include "services/notification/channel.h"

#include "svc/log.h"

static int log_send(void *ctx, const struct notif_message *msg, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	svc_info("notification %s kind=%s order=%s to=%s subject=\"%s\": %s", msg->notification_id,
	         msg->kind, msg->order_id[0] ? msg->order_id : "-", msg->recipient, msg->subject,
	         msg->body);
	return 0;
}

struct notif_channel *notif_channel_log_new(void)
{
	struct notif_channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->name = "log";
	ch->send = log_send;
	return ch;
}
