/*
 * Inbound order events: OrderConfirmed and OrderCancelled become a customer
 * notification; every other event type is ignored.
 *
 * prepare() (outside the transaction) looks whether a notification for the
 * event is already recorded, finds the recipient and sends; apply() (inside)
 * records the outcome and emits NotificationSent. A redelivery after a send
 * whose recording was lost sends again: at least once, never silently lost.
 */
#ifndef NOTIF_EVENTS_H
#define NOTIF_EVENTS_H

#include "svc/consumer.h"

extern const struct svc_consumer_ops notif_consumer_ops;

#endif
