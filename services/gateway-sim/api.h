/*
 * The gateway simulator's HTTP API (see openapi.json): charges with
 * idempotency keys, refunds, charge lookup, run-time configuration, health.
 */
#ifndef GW_API_H
#define GW_API_H

#include <pthread.h>
#include <stddef.h>

#include "services/gateway-sim/rules.h"
#include "services/gateway-sim/store.h"
#include "svc/http.h"

struct gw_app {
	pthread_mutex_t cfg_lock; /* guards cfg (changed by POST /admin/config) */
	struct gw_config cfg;
	pthread_mutex_t refund_lock; /* serializes refunds: check-and-apply is one step */
	struct gw_store *store;
};

/* Initialises `app` from the environment (GATEWAY_*). 0 or SVC_ENOMEM. */
int gw_app_init(struct gw_app *app);
void gw_app_release(struct gw_app *app);

/* The route table; handlers take the struct gw_app * as ctx. */
extern const struct svc_http_route gw_routes[];
extern const size_t gw_nroutes;

#endif
