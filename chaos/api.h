/*
 * The system's APIs as the chaos runner uses them, over libsvc's HTTP
 * client (svc/httpc.h): setting up products, and reading back orders,
 * payments, notifications, stock, dead letters and the gateway's decline
 * threshold with an admin token. Safe to call from several threads.
 */
#ifndef CHAOS_API_H
#define CHAOS_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos/orders.h"

struct chaos_api {
	const char *order_url; /* "http://saga-order:8081", no trailing slash */
	const char *inventory_url;
	const char *payment_url;
	const char *notification_url;
	const char *gateway_url;
	const char *admin_auth; /* "Authorization: Bearer <admin token>" */
	long timeout_ms;
};

/*
 * GET url with the admin token. 0 when an answer came, whatever its status
 * (*status; *out the parsed body, NULL when not JSON; caller owns);
 * SVC_ETRANSIENT when none did, SVC_EPERMANENT for a bad URL.
 */
int chaos_api_get(const struct chaos_api *api, const char *url, long *status, json_t **out);

/* PUT /api/inventory/{id} with `available` units at `price`: 0 on 200/201,
 * SVC_ETRANSIENT (no answer, 5xx) or SVC_EPERMANENT, why in err. */
int chaos_api_put_product(const struct chaos_api *api, const char *id, long available,
                          int64_t price, char *err, size_t errlen);

/* GET /admin/config of gateway-sim: its declineAbove into *out. 0, or as
 * chaos_api_put_product. */
int chaos_api_decline_above(const struct chaos_api *api, int64_t *out, char *err, size_t errlen);

/*
 * Reads order o->id (GET /api/orders/{id}) into o. 0; SVC_ENOTFOUND (404:
 * o->status MISSING); SVC_ETRANSIENT (no answer, 5xx: o unchanged);
 * SVC_EPERMANENT.
 */
int chaos_api_read_order(const struct chaos_api *api, struct chaos_order *o);

/* Reads the payment of o (GET /api/payments/{id}) and whether it has a
 * notification (GET /api/notifications?orderId=); 0 or as above. */
int chaos_api_read_money(const struct chaos_api *api, struct chaos_order *o);

/* Reads product p->id (GET /api/inventory/{id}) into p; 0 or as above. */
int chaos_api_read_product(const struct chaos_api *api, struct chaos_product *p);

/* GET http://<ip>:<port>/dlq?limit=... of one sidecar, its entries
 * appended to *v (see chaos_dlq_read). 0 or as above. */
int chaos_api_read_dlq(const struct chaos_api *api, const char *service, const char *ip, int port,
                       struct chaos_dlq_entry **v, size_t *n, size_t *cap);

/* Calls fn(arg, i) for every i in [0, n) on `threads` threads. */
void chaos_parallel(size_t n, unsigned threads, void (*fn)(void *arg, size_t i), void *arg);

#endif
