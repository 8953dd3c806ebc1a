/* The delivery workers' retry and dead-letter decision (retry.h). */
#include "resilience/sidecar/retry.h"

enum sc_retry_action sc_retry_decide(const struct sc_retry_attempt *a, unsigned max_refused)
{
	if (a->verdict == SC_VERDICT_DONE || a->left == 0)
		return SC_RETRY_NEXT;
	if (a->verdict == SC_VERDICT_REJECTED)
		return SC_RETRY_DEAD_LETTER;
	if (a->status == 413 && a->nsent > 1)
		return SC_RETRY_SPLIT;
	if (a->status != 200 && a->class == RS_PERMANENT) {
		if (a->refused + 1 >= max_refused && a->left == 1)
			return SC_RETRY_DEAD_LETTER;
		return SC_RETRY_NARROW;
	}
	return SC_RETRY_BACKOFF;
}

const char *sc_retry_action_name(enum sc_retry_action action)
{
	switch (action) {
	case SC_RETRY_NEXT:
		return "next";
	case SC_RETRY_SPLIT:
		return "split";
	case SC_RETRY_BACKOFF:
		return "backoff";
	case SC_RETRY_NARROW:
		return "narrow";
	case SC_RETRY_DEAD_LETTER:
		return "dead-letter";
	}
	return "?";
}
