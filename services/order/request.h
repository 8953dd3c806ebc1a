/*
 * Validation of POST /api/orders bodies (pure: no I/O).
 *
 * Two accepted forms:
 *   {"userId":"u-1","items":[{"productId":"p-1","quantity":2}, ...]}
 *   {"userId":"u-1","productId":"p-1","quantity":2}        (the spec's form)
 * Any other member (a client "price", "unitPrice", "totalAmount", ...) is
 * ignored: prices come from the Inventory service only.
 *
 * Rules: userId and productId are 1..64 characters of [A-Za-z0-9._:@-];
 * quantity is a JSON integer 1..1000; 1..50 items. The same productId given
 * twice is merged into one line (quantities added; the sum must still be at
 * most 1000), keeping the position of its first occurrence.
 */
#ifndef ORDER_REQUEST_H
#define ORDER_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "svc/validate.h"

#define ORDER_MAX_ITEMS    50
#define ORDER_MAX_QUANTITY 1000

struct order_item {
	char product_id[SVC_ID_MAX + 1];
	int quantity;
};

struct order_request {
	char user_id[SVC_ID_MAX + 1];
	size_t nitems;
	struct order_item items[ORDER_MAX_ITEMS];
	int single_form; /* given as {"productId","quantity"}: errors name those fields */
};

/*
 * Validates `body` (a JSON object; borrowed) into *out. 0 on success, or
 * SVC_EPERMANENT with *err filled.
 */
int order_request_parse(const json_t *body, struct order_request *out, struct svc_problem *err);

/*
 * The canonical text of a validated request, for the Idempotency-Key check:
 * the userId and the merged lines sorted by productId, so that two bodies
 * asking for the same thing (members reordered, prices added, lines in
 * another order) compare equal. Malloc'd (caller frees); NULL on OOM.
 */
char *order_request_canonical(const struct order_request *req);

#endif
