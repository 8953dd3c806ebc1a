/* Failure classification of one delivery for the service breaker (outcome.h). */
#include "resilience/sidecar/outcome.h"

#include <stdio.h>

#include "resilience/classify.h"

bool sc_delivery_failed(long status, const struct sc_delivery_result *results, size_t n, char *why,
                        size_t whylen)
{
	if (status == 0) {
		snprintf(why, whylen, "no response");
		return true;
	}
	if (status != 200) {
		if (rs_classify_http(status) != RS_TRANSIENT)
			return false;
		snprintf(why, whylen, "HTTP %ld", status);
		return true;
	}
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (results[i].verdict != SC_VERDICT_RETRY)
			return false;
	snprintf(why, whylen, "every message answered retry: %s", results[0].reason);
	return true;
}
