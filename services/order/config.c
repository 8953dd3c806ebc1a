/*
 * The Order service's configuration from the environment (see order.h).
 */
#include "services/order/order.h"

#include <ctype.h>
#include <stdio.h>

#include "svc/config.h"
#include "svc/log.h"

#define DAY_MS (24L * 3600 * 1000)

void order_config_load(struct order_config *cfg)
{
	const char *cur = svc_env_str("CURRENCY", "USD");
	long step = svc_env_long("SAGA_STEP_TIMEOUT_MS", 300000, 1, DAY_MS);

	/* ISO 4217: three upper-case letters */
	if (!(isupper((unsigned char)cur[0]) && isupper((unsigned char)cur[1]) &&
	      isupper((unsigned char)cur[2]) && cur[3] == '\0')) {
		svc_warn("CURRENCY=%s is not an ISO 4217 code; using USD", cur);
		cur = "USD";
	}
	snprintf(cfg->currency, sizeof(cfg->currency), "%s", cur);
	cfg->sidecar_url = svc_env_str("SIDECAR_URL", "http://127.0.0.1:9081");
	cfg->pricing_timeout_ms = svc_env_long("PRICING_TIMEOUT_MS", 2000, 1, 60000);
	cfg->price_cache_ms = svc_env_long("PRICE_CACHE_MS", 2000, 0, 3600000);
	cfg->in_flight_refresh_ms = svc_env_long("SAGA_IN_FLIGHT_REFRESH_MS", 5000, 0, 3600000);
	cfg->price_cache_max = svc_env_long("PRICE_CACHE_MAX", 100000, 0, 10000000);
	cfg->step_timeout_ms[ORDER_PENDING] =
	        svc_env_long("SAGA_TIMEOUT_INVENTORY_MS", step, 1, DAY_MS);
	cfg->step_timeout_ms[ORDER_PAYMENT_PENDING] =
	        svc_env_long("SAGA_TIMEOUT_PAYMENT_MS", step, 1, DAY_MS);
	cfg->step_timeout_ms[ORDER_COMPENSATING] =
	        svc_env_long("SAGA_TIMEOUT_COMPENSATION_MS", step, 1, DAY_MS);
	cfg->step_timeout_ms[ORDER_CONFIRMED] = 0;
	cfg->step_timeout_ms[ORDER_CANCELLED] = 0;
	cfg->scan_ms = svc_env_long("SAGA_SCAN_MS", 1000, 10, 3600000);
	cfg->rate_per_s = (double)svc_env_long("ORDER_RATE_PER_S", 20, 0, 1000000);
	cfg->rate_burst = (double)svc_env_long("ORDER_RATE_BURST", 40, 1, 1000000);
	cfg->create_linger_ms = svc_env_long("ORDER_CREATE_LINGER_MS", 25, 0, 1000);
	cfg->create_linger_group =
	        (unsigned)svc_env_long("ORDER_CREATE_LINGER_GROUP", 8, 0, 100000);
}

long order_config_step_timeout(const struct order_config *cfg, enum order_state s)
{
	if ((unsigned)s >= ORDER_STATE_COUNT || order_state_is_terminal(s))
		return 0;
	return cfg->step_timeout_ms[s];
}
