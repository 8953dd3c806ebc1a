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

#define ORDER_ID_MAX       64 /* longest userId / productId */
#define ORDER_MAX_ITEMS    50
#define ORDER_MAX_QUANTITY 1000

struct order_item {
	char product_id[ORDER_ID_MAX + 1];
	int quantity;
};

struct order_request {
	char user_id[ORDER_ID_MAX + 1];
	size_t nitems;
	struct order_item items[ORDER_MAX_ITEMS];
	int single_form; /* given as {"productId","quantity"}: errors name those fields */
};

/* Why a request was refused, for an RFC 7807 answer: the HTTP status (here
 * 400 for a missing or mistyped member, 422 for a value out of its rules),
 * the offending field as the client wrote it ("items[1].quantity"; "" for
 * none) and a sentence. */
struct order_problem {
	int status;
	char field[48];
	char detail[160];
};

/* Fills *p; returns SVC_EPERMANENT so callers can `return order_problem_set(...)`. */
int order_problem_set(struct order_problem *p, int status, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * Validates `body` (a JSON object; borrowed) into *out. 0 on success, or
 * SVC_EPERMANENT with *err filled.
 */
int order_request_parse(const json_t *body, struct order_request *out, struct order_problem *err);

/* True when `s` is a valid userId/productId (see the rules above). */
bool order_request_id_valid(const char *s);

/*
 * The canonical text of a validated request, for the Idempotency-Key check:
 * the userId and the merged lines sorted by productId, so that two bodies
 * asking for the same thing (members reordered, prices added, lines in
 * another order) compare equal. Malloc'd (caller frees); NULL on OOM.
 */
char *order_request_canonical(const struct order_request *req);

#endif
