/*
 * Payment HTTP API (openapi.json). Payments are a step of the order saga:
 * no route charges or refunds.
 *   POST /api/payments                 410 Gone (it used to charge by hand)
 *   GET  /api/payments/reconciliation  admin: the captures that must not stay
 *                                      (reconcile.h)
 *   GET  /api/payments/{orderId}       the order's payment: its payer's, or an
 *                                      admin's (404 for anyone else)
 */
#ifndef PAY_API_H
#define PAY_API_H

#include <stddef.h>

#include "svc/http.h"

extern const struct svc_http_route pay_routes[];
extern const size_t pay_nroutes;

#endif
