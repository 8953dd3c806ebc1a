/*
 * The delivery workers' retry and dead-letter decision (inbound_worker.c),
 * pure: after one delivery attempt of a range of messages, and once the
 * finished ones are stored (or dead-lettered for a "rejected" answer), what
 * the worker does with the rest.
 */
#ifndef SC_RETRY_H
#define SC_RETRY_H

#include <stddef.h>

#include "resilience/classify.h"
#include "resilience/sidecar/delivery.h"

enum sc_retry_action {
	SC_RETRY_NEXT,        /* nothing of the range is left: on to the next one */
	SC_RETRY_SPLIT,       /* too large for the service: resend at once, fewer per request */
	SC_RETRY_BACKOFF,     /* wait (backoff), then resend the same range */
	SC_RETRY_NARROW,      /* refused as it is (4xx): wait, resend the first message alone */
	SC_RETRY_DEAD_LETTER, /* give the first message up: to the DLQ, offset stored */
};

/* One delivery attempt, as sc_retry_decide() reads it. */
struct sc_retry_attempt {
	enum sc_verdict verdict; /* of the first unfinished message; DONE when none is */
	long status;             /* HTTP status; 0 when no response came */
	enum rs_class class;     /* rs_classify_http(status) */
	size_t nsent;            /* messages the request held */
	size_t left;             /* messages of the range not finished */
	unsigned refused;        /* refusals (permanent statuses) in a row before this one */
};

/*
 * NEXT when the range is finished. A message still "rejected" is given up
 * (DEAD_LETTER). Else: HTTP 413 for a request of several messages splits
 * it; another permanent status narrows the range to its first message
 * (NARROW) and, when that message alone was refused `max_refused` times in
 * a row (this attempt included), gives it up (DEAD_LETTER); anything else
 * (no response, a transient status, 200 with answers to retry) is retried
 * after a backoff (BACKOFF). The caller counts refusals: one more after
 * NARROW and DEAD_LETTER, none after BACKOFF and NEXT, unchanged after SPLIT.
 */
enum sc_retry_action sc_retry_decide(const struct sc_retry_attempt *a, unsigned max_refused);

/* The action's name ("next", "split", ...): static, for logs and tests. */
const char *sc_retry_action_name(enum sc_retry_action action);

#endif
