/*
 * The calls saga-smoke makes against a deployed system: a product through the
 * Inventory API (as an admin), an order through the Order API and the
 * order's status (as the customer). Each is one HTTP request over libsvc's
 * client (svc/httpc.h); none retries (the caller decides, from the result
 * code).
 */
#ifndef SMOKE_H
#define SMOKE_H

#include <stddef.h>
#include <stdint.h>

/* Longest order status or reason kept ("PAYMENT_PENDING", "payment declined: ..."). */
#define SMOKE_TEXT_MAX 256
/* Order ids are UUIDs: 36 characters. */
#define SMOKE_ID_MAX 64

struct smoke_api {
	const char *order_url;     /* e.g. "http://saga-order:8081", no trailing slash */
	const char *inventory_url; /* e.g. "http://saga-inventory:8083" */
	long timeout_ms;           /* per request */
	/* "Authorization: Bearer <token>" header lines (svc/auth.h), borrowed:
	 * an admin's for the products, and the customer's whose orders these
	 * are (its subject is the user_id given to smoke_create_order). */
	const char *admin_auth;
	const char *customer_auth;
};

struct smoke_order {
	char id[SMOKE_ID_MAX];
	char status[SMOKE_TEXT_MAX];
	char reason[SMOKE_TEXT_MAX]; /* cancellationReason, "" when none */
};

/*
 * PUT /api/inventory/{product_id} with `available` units at `price` (minor
 * units). Returns 0 on 200/201; SVC_ETRANSIENT when no answer arrived or the
 * answer was a 5xx (worth another try), SVC_EPERMANENT for any other answer.
 * `what` receives a one-line description of the outcome either way.
 */
int smoke_put_product(const struct smoke_api *api, const char *product_id, long available,
                      int64_t price, char *what, size_t what_len);

/*
 * POST /api/orders: one line of `quantity` x `product_id` for `user_id`,
 * under `idempotency_key` (so that a retry after a lost answer creates no
 * second order). On 200/201/202 fills out->id and out->status from the answer and
 * returns 0 (200 when the key was seen before: the same order); otherwise as
 * smoke_put_product. `what` as there.
 */
int smoke_create_order(const struct smoke_api *api, const char *user_id, const char *product_id,
                       long quantity, const char *idempotency_key, struct smoke_order *out,
                       char *what, size_t what_len);

/*
 * GET /api/orders/{out->id}: fills out->status and out->reason. Returns 0 on
 * 200, otherwise as smoke_put_product.
 */
int smoke_get_order(const struct smoke_api *api, struct smoke_order *out, char *what,
                    size_t what_len);

#endif
