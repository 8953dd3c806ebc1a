/* Order events -> notification text (pure). */
#include "services/notification/format.h"

#include <ctype.h>
#include <string.h>

#include "svc/error.h"
#include "svc/events.h"
#include "svc/money.h"

bool notif_order_event_wanted(const char *type)
{
	return strcmp(type, EV_ORDER_CONFIRMED) == 0 || strcmp(type, EV_ORDER_CANCELLED) == 0;
}

int notif_order_event_read(const struct svc_event *ev, struct notif_order_event *out, char *err,
                           size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!notif_order_event_wanted(ev->type))
		return SVC_IGNORED;
	out->cancelled = strcmp(ev->type, EV_ORDER_CANCELLED) == 0;
	rc = svc_event_str(ev, "orderId", &out->order_id, err, errlen);
	if (rc == 0)
		rc = svc_event_str(ev, "userId", &out->user_id, err, errlen);
	if (rc == 0 && out->cancelled)
		rc = svc_event_str(ev, "reason", &out->reason, err, errlen);
	if (rc == 0 && !out->cancelled)
		rc = svc_event_int(ev, "totalAmount", &out->total_amount, err, errlen);
	if (rc == 0 && !out->cancelled)
		rc = svc_event_str(ev, "currency", &out->currency, err, errlen);
	if (rc != 0)
		return SVC_EPERMANENT;
	if (!svc_uuid_valid(out->order_id)) {
		snprintf(err, errlen, "data.orderId: not a UUID");
		return SVC_EPERMANENT;
	}
	if (out->user_id[0] == '\0' || strlen(out->user_id) > 64) {
		snprintf(err, errlen, "data.userId: must be 1..64 characters");
		return SVC_EPERMANENT;
	}
	if (!out->cancelled && out->total_amount < 0) {
		snprintf(err, errlen, "data.totalAmount: negative");
		return SVC_EPERMANENT;
	}
	return 0;
}

/* The longest prefix of `s`, at most `max` bytes, that does not cut a UTF-8
 * character (`s` is valid UTF-8, as every jansson string is): the texts are
 * stored in utf8mb4 columns and sent as JSON, which refuse half characters. */
static int utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) /* continuation byte */
			n--;
	return (int)n;
}

int notif_format_order(const struct notif_order_event *oe, struct notif_text *out)
{
	char amount[32];

	if (oe->cancelled) {
		out->kind = NOTIF_KIND_CANCELLED;
		snprintf(out->subject, sizeof(out->subject), "Order %s cancelled", oe->order_id);
		const char *reason = oe->reason[0] ? oe->reason : "no reason given";

		snprintf(out->body, sizeof(out->body), "Your order %s was cancelled: %.*s",
		         oe->order_id, utf8_prefix(reason, 500), reason);
		return 0;
	}
	if (svc_money_format(oe->total_amount, amount, sizeof(amount)) != 0)
		return SVC_ERANGE;
	out->kind = NOTIF_KIND_CONFIRMED;
	snprintf(out->subject, sizeof(out->subject), "Order %s confirmed", oe->order_id);
	snprintf(out->body, sizeof(out->body), "Your order %s is confirmed: total %s %.*s",
	         oe->order_id, amount, utf8_prefix(oe->currency, 8), oe->currency);
	return 0;
}

void notif_fallback_recipient(const char *user_id, char *out, size_t outlen)
{
	static const char domain[] = "@customers.invalid";
	size_t max_local = outlen > sizeof(domain) ? outlen - sizeof(domain) : 0;
	size_t n = 0;

	if (outlen == 0)
		return;
	if (max_local > 64)
		max_local = 64;
	for (const char *p = user_id; *p && n < max_local; p++) {
		unsigned char c = (unsigned char)*p;

		out[n++] = (isalnum(c) || c == '.' || c == '-' || c == '_') ? (char)c : '_';
	}
	if (n == 0 && max_local > 0)
		out[n++] = '_';
	out[n] = '\0';
	if (outlen - n >= sizeof(domain))
		memcpy(out + n, domain, sizeof(domain));
}
