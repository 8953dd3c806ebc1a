/*
 * The events and commands the Order service sends, written to the outbox in
 * the caller's transaction (svc_outbox_emit). Every message is keyed by the
 * orderId with correlationId = orderId; causationId is the event that caused
 * it (NULL for a request or a timeout). Fields: svc/events.h.
 */
#ifndef ORDER_EMIT_H
#define ORDER_EMIT_H

#include <mysql.h>

#include "services/order/store.h"

/* order.events OrderCreated for an order just inserted; its event id is
 * written to event_id (for the history row). */
int order_emit_created(MYSQL *conn, const struct order_new *o, const char *source,
                       char event_id[40]);

/*
 * The messages a saga result asks for (enum order_action bits; a
 * RESET_DEADLINE bit is not a message and is skipped): OrderConfirmed,
 * OrderCancelled (with `reason`), ProcessPayment, ReleaseInventory and
 * RefundPayment (with `reason`).
 */
int order_emit_actions(MYSQL *conn, const struct order_row *row, unsigned actions,
                       const char *reason, const char *source, const char *causation_id);

#endif
