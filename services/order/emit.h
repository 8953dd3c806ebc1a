/*
 * The events and commands the Order service sends, written to the outbox in
 * the caller's transaction `tx` (svc_outbox_emit). Every message is keyed by the
 * orderId with correlationId = orderId; causationId is the event that caused
 * it (NULL for a request or a timeout). Fields: svc/events.h.
 */
#ifndef ORDER_EMIT_H
#define ORDER_EMIT_H

#include "services/order/store.h"
#include "svc/tx.h"

/* order.events OrderCreated for an order just inserted; its event id is
 * written to event_id (for the history row). */
int order_emit_created(struct svc_tx *tx, const struct order_new *o, const char *source,
                       char event_id[40]);

/*
 * The messages a saga result asks for (enum order_action bits; a
 * RESET_DEADLINE bit is not a message and is skipped): OrderConfirmed,
 * OrderCancelled (with `reason`), ProcessPayment, ReleaseInventory and
 * RefundPayment (with `reason`).
 *
 * ProcessPayment names a new payment id, stored as the order's
 * (orders.payment_id) in the caller's transaction: Payment charges under
 * that id and reports it back, and only a capture under it confirms the
 * order. RefundPayment names the payment to refund: the order's own when it
 * asked for one, else `captured_id` (the paymentId of the capture that
 * caused it; NULL: none, and Payment refunds whatever the order holds).
 */
int order_emit_actions(struct svc_tx *tx, const struct order_row *row, unsigned actions,
                       const char *reason, const char *captured_id, const char *source,
                       const char *causation_id);

#endif
