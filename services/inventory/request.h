/*
 * Validation of PUT /api/inventory/{productId} bodies (pure: no I/O):
 *   {"available": <count>, "price": <minor units>, "name"?: "<text>"}
 * available is a JSON integer 0..INT_MAX, price 0..INT64_MAX/1000000 (room
 * for totals of up to a million units), name 1..255 bytes when given.
 * Unknown members are ignored.
 */
#ifndef INV_REQUEST_H
#define INV_REQUEST_H

#include <jansson.h>
#include <stdint.h>

#include "svc/validate.h"

#define INV_NAME_MAX 255

struct inv_put_request {
	int64_t available;
	int64_t price;
	const char *name; /* points into the body; NULL when absent */
};

/*
 * Validates `body` (borrowed; out->name stays valid as long as it) into *out.
 * 0, or SVC_EPERMANENT with *err filled: 400 when a count is missing or not
 * an integer, 422 when a value is out of range; err->field names the member.
 */
int inv_put_request_parse(const json_t *body, struct inv_put_request *out, struct svc_problem *err);

#endif
