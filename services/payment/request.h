/*
 * Validation of POST /api/payments bodies (pure: no I/O):
 *   {"orderId": "<uuid>", "amount": <minor units>, "currency"?: "EUR"}
 * orderId is a UUID string, amount a JSON integer > 0, currency (default
 * "USD") three upper-case letters. Unknown members are ignored.
 */
#ifndef PAY_REQUEST_H
#define PAY_REQUEST_H

#include <jansson.h>
#include <stdint.h>

#include "svc/validate.h"

struct pay_request {
	char order_id[37];
	int64_t amount;
	char currency[4];
};

/*
 * Validates `body` (borrowed) into *out. 0, or SVC_EPERMANENT with *err
 * filled: 400 when orderId or amount is missing or mistyped, 422 when a
 * value breaks its rule; err->field names the member.
 */
int pay_request_parse(const json_t *body, struct pay_request *out, struct svc_problem *err);

#endif
