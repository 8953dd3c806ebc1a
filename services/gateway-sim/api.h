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

/* Initialises `app` from the environment (GATEWAY_*; GATEWAY_LEDGER_FILE:
 * the store's journal, gw_store_journal, with GATEWAY_LEDGER_FSYNC 0 or 1).
 * 0, SVC_ENOMEM, or SVC_ETRANSIENT when the ledger cannot be read or
 * written (logged). Not thread-safe; `app` is then shared by the handlers. */
int gw_app_init(struct gw_app *app);
void gw_app_release(struct gw_app *app);

/* The route table; handlers take the struct gw_app * as ctx. */
extern const struct svc_http_route gw_routes[];
extern const size_t gw_nroutes;

/* /admin/config and health alone, for the admin listener
 * (GATEWAY_ADMIN_PORT), whose threads no slow charge can take. */
extern const struct svc_http_route gw_admin_routes[];
extern const size_t gw_admin_nroutes;

#endif
