/*
 * Gateway simulator rules (rules.h): configuration parsing and the charge
 * verdict, free of I/O so they are unit-tested directly.
 */
#include "services/gateway-sim/rules.h"

#include <stdio.h>
#include <string.h>

#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

#define GW_DEFAULT_DECLINE_ABOVE 100000
#define GW_MAX_LATENCY_MS        600000

void gw_config_defaults(struct gw_config *c)
{
	c->latency_ms = 0;
	c->decline_rate = 0.0;
	c->decline_above = GW_DEFAULT_DECLINE_ABOVE;
	c->fail_rate = 0.0;
}

/* A probability from the environment; `def` when unset or not in [0,1]. */
static double env_rate(const char *name, double def)
{
	const char *s = svc_env_str(name, NULL);
	char *end = NULL;
	double v;

	if (!s)
		return def;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
		svc_warn("%s=%s is not a probability in [0,1]; using %g", name, s, def);
		return def;
	}
	return v;
}

void gw_config_from_env(struct gw_config *c)
{
	gw_config_defaults(c);
	c->latency_ms = svc_env_long("GATEWAY_LATENCY_MS", 0, 0, GW_MAX_LATENCY_MS);
	c->decline_above =
	        svc_env_long("GATEWAY_DECLINE_ABOVE", GW_DEFAULT_DECLINE_ABOVE, 0, INT64_MAX);
	c->decline_rate = env_rate("GATEWAY_DECLINE_RATE", 0.0);
	c->fail_rate = env_rate("GATEWAY_FAIL_RATE", 0.0);
}

static int bad(const char *name, char *field, size_t fieldlen, char *err, size_t errlen,
               const char *msg)
{
	snprintf(field, fieldlen, "%s", name);
	snprintf(err, errlen, "%s %s", name, msg);
	return SVC_EPERMANENT;
}

int gw_config_patch(struct gw_config *c, const json_t *patch, char *field, size_t fieldlen,
                    char *err, size_t errlen)
{
	struct gw_config next = *c;
	const char *key;
	json_t *val;

	if (!json_is_object(patch))
		return bad("body", field, fieldlen, err, errlen, "must be a JSON object");
	/* json_object_foreach takes a non-const object; we only read. */
	json_object_foreach((json_t *)patch, key, val)
	{
		if (!strcmp(key, "latencyMs")) {
			if (!json_is_integer(val) || json_integer_value(val) < 0 ||
			    json_integer_value(val) > GW_MAX_LATENCY_MS)
				return bad(key, field, fieldlen, err, errlen,
				           "must be an integer in [0, 600000]");
			next.latency_ms = (long)json_integer_value(val);
		} else if (!strcmp(key, "declineAbove")) {
			if (!json_is_integer(val) || json_integer_value(val) < 0)
				return bad(key, field, fieldlen, err, errlen,
				           "must be a non-negative integer (minor units)");
			next.decline_above = json_integer_value(val);
		} else if (!strcmp(key, "declineRate") || !strcmp(key, "failRate")) {
			double v = json_number_value(val);

			if (!json_is_number(val) || !(v >= 0.0 && v <= 1.0))
				return bad(key, field, fieldlen, err, errlen,
				           "must be a number in [0, 1]");
			if (key[0] == 'd')
				next.decline_rate = v;
			else
				next.fail_rate = v;
		} else {
			return bad(key, field, fieldlen, err, errlen, "is not a known setting");
		}
	}
	*c = next;
	return 0;
}

json_t *gw_config_json(const struct gw_config *c)
{
	return json_pack("{s:I, s:f, s:I, s:f}", "latencyMs", (json_int_t)c->latency_ms,
	                 "declineRate", c->decline_rate, "declineAbove",
	                 (json_int_t)c->decline_above, "failRate", c->fail_rate);
}

enum gw_verdict gw_decide(const struct gw_config *c, int64_t amount, double u_fail,
                          double u_decline)
{
	if (u_fail < c->fail_rate)
		return GW_FAIL;
	if (amount > c->decline_above)
		return GW_DECLINE_LIMIT;
	if (u_decline < c->decline_rate)
		return GW_DECLINE_RANDOM;
	return GW_CAPTURE;
}

const char *gw_verdict_reason(enum gw_verdict v)
{
	switch (v) {
	case GW_DECLINE_LIMIT:
		return "amount above limit";
	case GW_DECLINE_RANDOM:
		return "card declined";
	default:
		return NULL;
	}
}
