/*
 * Inbound order events: OrderConfirmed and OrderCancelled become a customer
 * notification; every other event type is ignored.
 *
 * prepare() (outside the transaction) finds the recipient (contacts.h) and
 * sends; apply() (inside) records the outcome and emits NotificationSent, in
 * the transaction that claims the event id in processed_messages. The
 * consumer runs prepare() only for an event id not claimed yet, and the
 * record and the claim commit together, so the claim alone says whether the
 * event was sent and recorded. A redelivery after a send whose transaction
 * was lost (a crash, a failed commit) sends again, with the same idempotency
 * key (the event id) on channels that carry one: at least once, never
 * silently lost, and recorded once (notifications.event_id is UNIQUE).
 */
#ifndef NOTIF_EVENTS_H
#define NOTIF_EVENTS_H

#include "svc/consumer.h"

extern const struct svc_consumer_ops notif_consumer_ops;

#endif
