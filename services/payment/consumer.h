/*
 * The payment service's consumer, through the payment core (process.h):
 *   payment.commands  ProcessPayment, RefundPayment
 *   order.events      OrderConfirmed, OrderCancelled (outcomes for the
 *                     reconciliation; a cancelled order's capture is
 *                     refunded); OrderCreated is not wanted (ignored)
 */
#ifndef PAY_CONSUMER_H
#define PAY_CONSUMER_H

#include "svc/consumer.h"

extern const struct svc_consumer_ops pay_consumer_ops;

#endif
