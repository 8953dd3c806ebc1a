/*
 * The Order service's own state and the entry points main.c wires into
 * struct svc_service. Internal to services/order/.
 */
#ifndef ORDER_ORDER_H
#define ORDER_ORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "services/order/metrics.h"
#include "services/order/saga.h"
#include "svc/consumer.h"
#include "svc/http.h"
#include "svc/service.h"

struct order_price_cache;
struct svc_principal;
struct svc_ratelimit;
struct order_pricing;
struct order_timeouts;

/* Configuration from the environment (read once at start-up). */
struct order_config {
	char currency[4];        /* CURRENCY, default "USD" */
	const char *sidecar_url; /* SIDECAR_URL, default http://127.0.0.1:9081 */
	long pricing_timeout_ms; /* PRICING_TIMEOUT_MS, default 2000 */
	/* The price cache (price_cache.h): an entry's life, PRICE_CACHE_MS
	 * (default 2000; 0 turns the cache off), and its size, PRICE_CACHE_MAX
	 * (default 100000 entries; 0 turns it off). */
	long price_cache_ms;
	long price_cache_max;
	/* Deadline of each waiting state's step: SAGA_TIMEOUT_INVENTORY_MS,
	 * SAGA_TIMEOUT_PAYMENT_MS, SAGA_TIMEOUT_COMPENSATION_MS, each defaulting
	 * to SAGA_STEP_TIMEOUT_MS (300000). Indexed by enum order_state. */
	long step_timeout_ms[ORDER_STATE_COUNT];
	long scan_ms; /* SAGA_SCAN_MS, default 1000 */
	/* saga_in_flight is read from the database at most this often:
	 * SAGA_IN_FLIGHT_REFRESH_MS, default 5000; 0 = at every scrape. */
	long in_flight_refresh_ms;
	/* POST /api/orders per user: ORDER_RATE_PER_S (default 20; 0 = no
	 * limit) with bursts of ORDER_RATE_BURST (default 40). */
	double rate_per_s, rate_burst;
	/* ORDER_CREATE_LINGER_MS (default 25; 0 = never): the longest a create
	 * that finds no transaction running and nobody waiting waits for
	 * others to share its transaction with; ORDER_CREATE_LINGER_GROUP
	 * (default 8; 0 = never): it waits as long as that many creates take
	 * to come at the last second's rate, if shorter (create.h). */
	long create_linger_ms;
	unsigned create_linger_group;
};

/* Everything the service keeps between requests: struct svc_ctx.user. */
struct order_app {
	struct order_config cfg;
	struct order_timeouts *timeouts;
	struct order_price_cache *prices; /* NULL when caching is off */
	/* The shared price look-ups (pricing.h); NULL: each request asks alone. */
	struct order_pricing *pricing;
	struct svc_ratelimit *rate; /* NULL: orders are not rate limited */
	struct order_metrics metrics;
};

/* Fills `cfg` from the environment (logs and uses the default for bad values). */
void order_config_load(struct order_config *cfg);
/* Milliseconds until the deadline of an order entering state `s`; 0 for the
 * terminal states (no deadline). */
long order_config_step_timeout(const struct order_config *cfg, enum order_state s);

/* Whether `who` may place another order now (app->rate); false when
 * answered 429 with Retry-After (api.c). */
bool order_rate_allow(const struct order_app *app, const struct svc_principal *who,
                      struct svc_http_response *res);

/* The public API routes (api.c). Handlers get the struct svc_ctx *. */
extern const struct svc_http_route order_routes[];
extern const size_t order_nroutes;

/* Inbound events from inventory, payment and notification (events.c). */
extern const struct svc_consumer_ops order_consumer_ops;

/*
 * The step-deadline scanner (timeouts.c): a thread that every cfg->scan_ms
 * applies StepTimeout to the orders whose deadline has passed. Safe with
 * several instances. _start returns NULL when the thread cannot start;
 * _stop joins and frees (accepts NULL).
 */
struct order_timeouts *order_timeouts_start(struct svc_ctx *ctx);
void order_timeouts_stop(struct order_timeouts *t);
/* One scan, exposed for tests: number of orders timed out, or an error code. */
int order_timeouts_scan(struct svc_ctx *ctx);

#endif
