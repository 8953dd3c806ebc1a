/*
 * Whether one delivery to the service counts as a failure for the service's
 * circuit breaker (inbound.h). Pure.
 */
#ifndef SC_OUTCOME_H
#define SC_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

#include "resilience/sidecar/delivery.h"

/*
 * A delivery failed when no answer came (status 0), the status is transient
 * (5xx, 408, 425, 429: rs_classify_http), or the service answered 200 but
 * every one of the `n` messages is still to be retried (it is up but cannot
 * work: its database or an upstream is down). A permanent status (4xx) is not
 * a failure: the service is there and judged the request. With n == 0 nothing
 * was asked and nothing failed. On failure `why` gets a short description
 * ("no response", "HTTP 503", "every message answered retry: <reason>").
 */
bool sc_delivery_failed(long status, const struct sc_delivery_result *results, size_t n, char *why,
                        size_t whylen);

#endif
