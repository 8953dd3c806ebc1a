/*
 * Delivery channels: how a notification leaves the service. Each channel is
 * a small struct of function pointers so the consumer and the API do not
 * care whether a message is logged, POSTed to a webhook or mailed.
 *
 *   log      one svc_info line per notification (the default)
 *   webhook  POST JSON to {SIDECAR_URL}/egress/webhook/ (NOTIFY_TIMEOUT_MS, default
 *            10000, covers the egress retries; the sidecar's egress
 *            route owns retries and the circuit breaker)
 *   smtp     libcurl SMTP to SMTP_URL (SMTP_FROM, SMTP_USER, SMTP_PASSWORD,
 *            SMTP_STARTTLS, SMTP_TIMEOUT_MS)
 */
#ifndef NOTIF_CHANNEL_H
#define NOTIF_CHANNEL_H

#include <stddef.h>

/* One notification ready to send. Strings are borrowed from the caller. */
struct notif_message {
	const char *notification_id;
	/* Stable across redeliveries of the same event (the event id; the
	 * notification id for a manual send): lets a webhook receiver and the
	 * sidecar's retry logic treat repeats as one. */
	const char *idempotency_key;
	const char *order_id; /* "" when the notification is about no order */
	const char *kind;     /* "order-confirmed", "order-cancelled", "manual" */
	const char *recipient;
	const char *subject;
	const char *body;
};

struct notif_channel {
	const char *name; /* "log", "webhook", "smtp" */
	/*
	 * Sends `msg`. Returns 0, SVC_ETRANSIENT (may pass when retried: no
	 * answer, timeout, 5xx, breaker open) or SVC_EPERMANENT (never will:
	 * rejected recipient, 4xx); a reason goes to `err` on failure. Called
	 * from several threads at once.
	 */
	int (*send)(void *ctx, const struct notif_message *msg, char *err, size_t errlen);
	/* Frees ctx. Optional. */
	void (*ctx_free)(void *ctx);
	void *ctx;
};

/* Constructors; NULL on allocation failure or bad configuration (logged). */
struct notif_channel *notif_channel_log_new(void);
/* `sidecar_url` like "http://127.0.0.1:9084" (copied). */
struct notif_channel *notif_channel_webhook_new(const char *sidecar_url, long timeout_ms);
/* Reads SMTP_* from the environment; NULL when SMTP_URL or SMTP_FROM is unset. */
struct notif_channel *notif_channel_smtp_new(void);
/* Accepts NULL. */
void notif_channel_free(struct notif_channel *ch);

/* The channels of this process: log and webhook always, smtp when configured. */
struct notif_channels {
	struct notif_channel *log;
	struct notif_channel *webhook;
	struct notif_channel *smtp; /* NULL when SMTP_URL is unset */
	struct notif_channel *dflt; /* NOTIFY_CHANNEL: one of the above */
};

/* Builds the set from the environment. 0, or SVC_EPERMANENT when
 * NOTIFY_CHANNEL names an unknown or unconfigured channel (logged). */
int notif_channels_init(struct notif_channels *chs);
void notif_channels_release(struct notif_channels *chs);
/* The configured channel called `name`, or NULL. */
struct notif_channel *notif_channels_find(const struct notif_channels *chs, const char *name);

/*
 * Classification of a finished SMTP transfer (pure; exposed for tests):
 * `curl_code` is the CURLcode, `reply` the last SMTP reply code (0 if none).
 * 0 on success, SVC_ETRANSIENT for 4xx replies and connection trouble,
 * SVC_EPERMANENT for 5xx replies, refused logins and malformed URLs.
 */
int notif_smtp_classify(int curl_code, long reply);

#endif
