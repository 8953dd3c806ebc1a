/*
 * The catalogue of topics and event types: the contract between services.
 * Kafka key = orderId for every message, so the events of one order stay in
 * order on one partition. Envelope: svc/event.h. Money fields are integer
 * minor units; "items" is [{"productId","quantity","unitPrice"}].
 *
 * topic                produced by   consumed by
 * order.events         order         inventory, notification, payment
 * inventory.commands   order         inventory
 * inventory.events     inventory     order
 * payment.commands     order         payment
 * payment.events       payment       order
 * notification.events  notification  order
 * <service>.dlq        sidecars      operators (list / re-drive)
 */
#ifndef SVC_EVENTS_H
#define SVC_EVENTS_H

#define TOPIC_ORDER_EVENTS        "order.events"
#define TOPIC_INVENTORY_COMMANDS  "inventory.commands"
#define TOPIC_INVENTORY_EVENTS    "inventory.events"
#define TOPIC_PAYMENT_COMMANDS    "payment.commands"
#define TOPIC_PAYMENT_EVENTS      "payment.events"
#define TOPIC_NOTIFICATION_EVENTS "notification.events"

/* order.events
 * OrderCreated:   orderId, userId, items, productId (first item), quantity (sum),
 *                 totalAmount, currency, timestamp
 * OrderConfirmed: orderId, userId, items, totalAmount, currency, timestamp
 * OrderCancelled: orderId, userId, items, totalAmount, currency, reason, timestamp */
#define EV_ORDER_CREATED   "OrderCreatedEvent"
#define EV_ORDER_CONFIRMED "OrderConfirmedEvent"
#define EV_ORDER_CANCELLED "OrderCancelledEvent"

/* inventory.commands
 * ReleaseInventory: orderId, reason. Releases the order's reservation; when
 * there is none yet, leaves a tombstone so a late reservation is refused. */
#define CMD_RELEASE_INVENTORY "ReleaseInventoryCommand"

/* inventory.events
 * InventoryReserved: orderId, items (with the inventory's unitPrice), totalAmount
 * InventoryShortage: orderId, productId, requested, available, reason
 * InventoryReleased: orderId, reason */
#define EV_INVENTORY_RESERVED "InventoryReservedEvent"
#define EV_INVENTORY_SHORTAGE "InventoryShortageEvent"
#define EV_INVENTORY_RELEASED "InventoryReleasedEvent"

/* payment.commands
 * ProcessPayment: orderId, paymentId (named by the order: the payment's id,
 *                 which every PaymentCompleted must carry), userId, amount,
 *                 currency
 * RefundPayment:  orderId, reason, paymentId (optional: refused when it names
 *                 another payment than the order's). Refunds a capture; when
 *                 there is none yet, voids the order's payment so a late
 *                 ProcessPayment fails. */
#define CMD_PROCESS_PAYMENT "ProcessPaymentCommand"
#define CMD_REFUND_PAYMENT  "RefundPaymentCommand"

/* payment.events
 * PaymentRequested: orderId, paymentId, amount, currency
 * PaymentCompleted: orderId, paymentId, amount, currency, gatewayRef
 * PaymentFailed:    orderId, paymentId, amount, reason
 * PaymentRefunded:  orderId, paymentId, amount, reason */
#define EV_PAYMENT_REQUESTED "PaymentRequestedEvent"
#define EV_PAYMENT_COMPLETED "PaymentCompletedEvent"
#define EV_PAYMENT_FAILED    "PaymentFailedEvent"
#define EV_PAYMENT_REFUNDED  "PaymentRefundedEvent"

/* notification.events
 * NotificationSent: orderId, notificationId, channel, kind
 *                   ("order-confirmed" | "order-cancelled" | "manual"), recipient */
#define EV_NOTIFICATION_SENT "NotificationSentEvent"

#endif
