/*
 * Egress proxy: the service's outbound HTTP calls go through the sidecar,
 * which adds a timeout, retries of transient failures with backoff and one
 * circuit breaker per route.
 *
 *   POST /egress/<route>/<rest>?q  ->  <route url>/<rest>?q
 */
#ifndef SC_EGRESS_H
#define SC_EGRESS_H

#include <jansson.h>

#include "svc/http.h"

struct sc_egress;

/*
 * spec = EGRESS_ROUTES, "name=http://host:port[/base][,name=url...]"; NULL or
 * "" = no routes. Names are [A-Za-z0-9._-]; URLs are http:// or https://
 * without query or fragment. Also reads EGRESS_TIMEOUT_MS (2000, per
 * attempt), EGRESS_RETRIES (2), EGRESS_BACKOFF_MS (50), EGRESS_DEADLINE_MS
 * (default timeout * (retries + 1): all attempts and backoff pauses of one
 * request together) and the breaker's
 * EGRESS_BREAKER_WINDOW (20), _MIN_CALLS (10), _FAILURE_RATE (50, percent),
 * _OPEN_MS (5000), _SLOW_MS (0 = off), _HALF_OPEN_CALLS (3).
 * NULL on a malformed spec or invalid breaker config (logged) or on OOM.
 * Caller owns the result; free it with sc_egress_free() after the HTTP
 * server that calls sc_egress_handle() has stopped.
 */
struct sc_egress *sc_egress_new(const char *spec);
/* Accepts NULL. */
void sc_egress_free(struct sc_egress *eg);

/*
 * Forwards req (method, body, Content-Type, Accept and Idempotency-Key
 * headers, query string) to <route url>/<rest> and copies the upstream
 * status, body and content type into res, plus "X-Egress-Attempts: n".
 * - unknown route -> 404 problem; "." or ".." segments in rest -> 400 problem;
 * - breaker open -> 503 problem with "X-Egress-Breaker: open", no upstream call;
 * - a transient failure (no response, or 408/425/429/5xx per rs_classify_http)
 *   is retried with rs_backoff only when the request is safe to repeat
 *   (GET, HEAD, PUT, DELETE, or it carries an Idempotency-Key), at most
 *   EGRESS_RETRIES times, while the breaker allows and while the deadline
 *   leaves time: no retry starts once backoff would reach the deadline, and a
 *   retry's timeout is cut to what is left of it;
 * - after the last attempt: the upstream's response if there was one, else
 *   504 problem (timed out) or 502 problem (no connection / reset).
 * Each attempt is recorded in the route's breaker: transient outcomes and
 * calls slower than EGRESS_BREAKER_SLOW_MS are failures; permanent ones
 * (4xx) are the caller's fault and count as successes.
 * Thread-safe; blocks for the attempts and backoff sleeps. `rest` may be NULL.
 */
void sc_egress_handle(struct sc_egress *eg, const char *route, const char *rest,
                      const struct svc_http_request *req, struct svc_http_response *res);

/*
 * Adds one member per route to the object `details` (readiness, /metrics):
 * "<route>": {"breaker": "closed|open|half-open", "url": "...",
 *             "calls": attempts made, "failures": attempts that failed}
 */
void sc_egress_status(struct sc_egress *eg, json_t *details);

#endif
