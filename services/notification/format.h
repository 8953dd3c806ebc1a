/*
 * What a notification says: reading the order events this service reacts to
 * and turning them into a kind, a subject and a body. Pure: no I/O.
 */
#ifndef NOTIF_FORMAT_H
#define NOTIF_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/event.h"

#define NOTIF_KIND_CONFIRMED "order-confirmed"
#define NOTIF_KIND_CANCELLED "order-cancelled"
#define NOTIF_KIND_MANUAL    "manual"

/* The fields of an OrderConfirmed / OrderCancelled event that a notification
 * needs. Strings point into the event's data (valid while the event lives). */
struct notif_order_event {
	bool cancelled;
	const char *order_id;
	const char *user_id;
	int64_t total_amount; /* minor units; confirmed only */
	const char *currency; /* confirmed only */
	const char *reason;   /* cancelled only */
};

/* Whether events of `type` lead to a notification: OrderConfirmed and
 * OrderCancelled. */
bool notif_order_event_wanted(const char *type);

/*
 * Reads `ev`. 0; SVC_IGNORED for every event type other than OrderConfirmed
 * and OrderCancelled; SVC_EPERMANENT with a reason naming the field when a
 * needed field is missing, mistyped or out of range.
 */
int notif_order_event_read(const struct svc_event *ev, struct notif_order_event *out, char *err,
                           size_t errlen);

struct notif_text {
	const char *kind; /* NOTIF_KIND_* (static) */
	char subject[256];
	char body[1024];
};

/*
 * "Your order <id> is confirmed: total 39.98 USD" / "Your order <id> was
 * cancelled: <reason>". 0, or SVC_ERANGE when the amount cannot be
 * formatted.
 */
int notif_format_order(const struct notif_order_event *oe, struct notif_text *out);

/* Where to send when the user has no contact row: "<userId>@customers.invalid",
 * characters that cannot stand in an address's local part replaced by '_'. */
void notif_fallback_recipient(const char *user_id, char *out, size_t outlen);

#endif
