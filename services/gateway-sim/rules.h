/*
 * The gateway simulator's behaviour, pure: configuration (from the
 * environment or POST /admin/config) and the verdict for one charge.
 */
#ifndef GW_RULES_H
#define GW_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gw_config {
	long latency_ms;       /* GATEWAY_LATENCY_MS: delay before answering a charge */
	double decline_rate;   /* GATEWAY_DECLINE_RATE: probability of a random decline */
	int64_t decline_above; /* GATEWAY_DECLINE_ABOVE: amounts above this are declined */
	double fail_rate;      /* GATEWAY_FAIL_RATE: probability of a 503 answer */
};

enum gw_verdict {
	GW_CAPTURE,
	GW_DECLINE_LIMIT,  /* amount above decline_above: the documented way to force a decline */
	GW_DECLINE_RANDOM, /* drawn with decline_rate */
	GW_FAIL,           /* drawn with fail_rate: the gateway is "unhealthy" (503) */
};

/* Defaults: no latency, no random declines, decline above 100000 (1000.00), no failures. */
void gw_config_defaults(struct gw_config *c);
/* Defaults overridden by the GATEWAY_* environment variables. */
void gw_config_from_env(struct gw_config *c);

/*
 * Applies the members of `patch` ({"latencyMs","declineRate","declineAbove",
 * "failRate"}, all optional) to `c`, all or nothing. 0, or SVC_EPERMANENT with
 * the offending member's name in `field` and a message in `err` (wrong type,
 * rate outside [0,1], negative latency or limit, unknown member).
 */
int gw_config_patch(struct gw_config *c, const json_t *patch, char *field, size_t fieldlen,
                    char *err, size_t errlen);

/* The configuration as {"latencyMs",...} (new reference; NULL on OOM). */
json_t *gw_config_json(const struct gw_config *c);

/*
 * Decides one charge of `amount`. `u_fail` and `u_decline` are uniform draws
 * in [0,1) supplied by the caller, so the rule itself is deterministic:
 * failure first (an unhealthy gateway answers nothing useful), then the
 * amount limit, then the random decline.
 */
enum gw_verdict gw_decide(const struct gw_config *c, int64_t amount, double u_fail,
                          double u_decline);

/* Decline reason for the 402 body ("amount above limit", ...); NULL for others. */
const char *gw_verdict_reason(enum gw_verdict v);

#endif
