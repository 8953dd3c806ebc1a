/*
 * Payment HTTP API (openapi.json):
 *   POST /api/payments            process a payment by hand (same core as the saga)
 *   GET  /api/payments/{orderId}  the order's payment record
 */
#ifndef PAY_API_H
#define PAY_API_H

#include <stddef.h>

#include "svc/http.h"

extern const struct svc_http_route pay_routes[];
extern const size_t pay_nroutes;

#endif
