/*
 * payment.commands consumer: ProcessPayment and RefundPayment through the
 * payment core (process.h).
 */
#ifndef PAY_CONSUMER_H
#define PAY_CONSUMER_H

#include "svc/consumer.h"

extern const struct svc_consumer_ops pay_consumer_ops;

#endif
