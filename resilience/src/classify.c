/*
 * Failure classification: the one table that says which outcomes are worth
 * retrying (see resilience/classify.h).
 */
#include "resilience/classify.h"

enum rs_class rs_classify_http(long status)
{
	if (status == 0)
		return RS_TRANSIENT; /* no response: the upstream or network may recover */
	if (status >= 200 && status <= 299)
		return RS_SUCCESS;
	if (status == 408 || status == 425 || status == 429)
		return RS_TRANSIENT; /* timeout, too early, rate limited: try again later */
	if (status >= 500 && status <= 599 && status != 501 && status != 505)
		return RS_TRANSIENT; /* 501/505 say "never supported", the rest may pass */
	return RS_PERMANENT;
}

const char *rs_class_name(enum rs_class c)
{
	switch (c) {
	case RS_SUCCESS:
		return "success";
	case RS_TRANSIENT:
		return "transient";
	case RS_PERMANENT:
		return "permanent";
	}
	return "unknown";
}
