/*
 * Circuit breaker set-up shared by the services and sidecars (svc/breaker.h):
 * one way to configure a breaker from the environment and to log its changes.
 */
#include "svc/breaker.h"

#include <stdint.h>
#include <stdio.h>

#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

/* <prefix>_<suffix> as a long in [min, max], `def` when unset or invalid. */
static long env_long(const char *prefix, const char *suffix, long def, long min, long max)
{
	char name[96];

	snprintf(name, sizeof(name), "%s_%s", prefix, suffix);
	return svc_env_long(name, def, min, max);
}

int svc_breaker_config_from_env(struct rs_breaker_config *cfg, const char *prefix, const char *what)
{
	cfg->window = (unsigned)env_long(prefix, "WINDOW", cfg->window, 1, 1024);
	cfg->min_calls = (unsigned)env_long(prefix, "MIN_CALLS", cfg->min_calls, 1, 1024);
	cfg->failure_rate_pct =
	        (unsigned)env_long(prefix, "FAILURE_RATE", cfg->failure_rate_pct, 1, 100);
	cfg->open_ms = (uint64_t)env_long(prefix, "OPEN_MS", (long)cfg->open_ms, 1, 86400000L);
	cfg->slow_call_ms =
	        (uint64_t)env_long(prefix, "SLOW_MS", (long)cfg->slow_call_ms, 0, 86400000L);
	cfg->half_open_calls =
	        (unsigned)env_long(prefix, "HALF_OPEN_CALLS", cfg->half_open_calls, 1, 1024);
	cfg->on_change = svc_breaker_log_change;
	cfg->on_change_arg = (void *)what;
	if (cfg->min_calls > cfg->window) {
		svc_error("%s_MIN_CALLS %u > %s_WINDOW %u: the breaker could never open", prefix,
		          cfg->min_calls, prefix, cfg->window);
		return SVC_EPERMANENT;
	}
	return 0;
}

void svc_breaker_log_change(const char *name, enum rs_breaker_state from, enum rs_breaker_state to,
                            void *arg)
{
	const char *what = arg;

	svc_log(to == RS_BREAKER_OPEN ? SVC_LOG_WARN : SVC_LOG_INFO,
	        "%s%s%s: circuit breaker %s -> %s", what ? what : "", what ? " " : "", name,
	        rs_breaker_state_name(from), rs_breaker_state_name(to));
}
