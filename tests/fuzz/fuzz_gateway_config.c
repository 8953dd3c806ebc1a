/*
 * The gateway simulator's POST /admin/config body (gw_config_patch), all or
 * nothing: a rejected patch leaves the configuration as it was and names the
 * member; an accepted one keeps every setting in its documented range. The
 * result is then rendered (gw_config_json) and a charge decided on it.
 */
#include "tests/fuzz/fuzz.h"

#include "services/gateway-sim/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *patch = fuzz_body_parse(data, size);
	struct gw_config c, before;
	struct svc_http_response res = {.status = 200};
	char field[32], err[128];
	json_t *out;

	if (!patch)
		return 0;
	gw_config_defaults(&c);
	before = c;
	if (gw_config_patch(&c, patch, field, sizeof(field), err, sizeof(err)) != 0) {
		FUZZ_CHECK(memcmp(&c, &before, sizeof(c)) == 0);
		FUZZ_CHECK(fuzz_terminated(field, sizeof(field))); /* "" for a member named "" */
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)) && err[0]);
		/* both go into the 422 problem+json reply, as handle_set_config makes it */
		svc_http_reply_problem(&res, 422, "Invalid configuration", field, "%s", err);
		fuzz_check_problem_reply(&res, 422, true);
		json_decref(patch);
		return 0;
	}
	FUZZ_CHECK(c.latency_ms >= 0 && c.latency_ms <= 600000);
	FUZZ_CHECK(c.decline_above >= 0);
	FUZZ_CHECK(c.decline_rate >= 0.0 && c.decline_rate <= 1.0);
	FUZZ_CHECK(c.fail_rate >= 0.0 && c.fail_rate <= 1.0);
	out = gw_config_json(&c);
	FUZZ_CHECK(out != NULL);
	json_decref(out);
	(void)gw_decide(&c, (int64_t)size * 1000, 0.5, 0.5);
	json_decref(patch);
	return 0;
}
