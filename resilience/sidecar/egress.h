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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/http.h"
#include "svc/httpc.h"
#include "svc/validate.h"

struct sc_egress;
struct sc_route;
struct sc_egress_item;

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
 * POST /egress-batch/<route>: many requests to one route in one call, run
 * at the same time on the handler's thread (at most EGRESS_BATCH_PARALLEL,
 * 32, under way at once), each with the rules of sc_egress_handle (its own
 * retries, the route's breaker, the deadline). Body (at most
 * SC_EGRESS_BATCH_MAX requests):
 *   {"requests": [{"method": "POST", "path": "v1/charges?x=1",
 *                  "headers": {"Idempotency-Key": "k", "Content-Type": "..."},
 *                  "body": "<text>"}, ...]}
 * "path" is sent as given below the route's URL (the caller encodes it; no
 * "." or ".." segment, no blank or control byte, no '#'); "headers" and
 * "body" may be left out, and only the headers sc_egress_handle forwards
 * are. Answer 200, in request order:
 *   {"responses": [{"status": 201, "attempts": 1, "contentType": "...",
 *                   "body": "<text>", "breaker": "open"?}, ...]}
 * where status, content type and body are what sc_egress_handle would have
 * answered for that request alone (a problem for breaker open, 502, 504).
 * 404 for an unknown route, 400 (problem naming the field) for a body that
 * is not such a list; nothing is sent then.
 */
void sc_egress_batch_handle(struct sc_egress *eg, const char *route,
                            const struct svc_http_request *req, struct svc_http_response *res);

#define SC_EGRESS_BATCH_MAX 256

/*
 * Reads a batch body into *items (n of them, each ready for sc_egress_run;
 * free them with sc_egress_batch_free). 0; SVC_EPERMANENT with p saying why
 * (400, the field: "requests" or "requests[i].<member>"), or SVC_ENOMEM.
 */
int sc_egress_batch_read(const struct sc_egress *eg, const struct sc_route *r, const char *body,
                         size_t len, struct sc_egress_item **items, size_t *n,
                         struct svc_problem *p);
void sc_egress_batch_free(struct sc_egress_item *items, size_t n);

/* ---- shared by the single and the batch handler (egress_batch.c) ------ */

/* Request headers passed on to the upstream: Content-Type, Accept,
 * Idempotency-Key, in this order. */
#define SC_EGRESS_NFORWARDED 3
#define SC_EGRESS_NLINES     (SC_EGRESS_NFORWARDED + 1) /* + the NULL terminator */
extern const char *const sc_egress_forwarded[SC_EGRESS_NFORWARDED];

/* One request to a route and what became of it. */
struct sc_egress_item {
	/* the request: url and headers are the item's own (malloc'd) */
	const char *method;
	char *url;
	char *headers[SC_EGRESS_NLINES];
	const char *body;
	size_t body_len;
	unsigned max_attempts; /* 1, or 1 + EGRESS_RETRIES when repeatable */
	/* the last attempt (attempts == 0: the breaker held it back) */
	unsigned attempts;
	int rc; /* svc_httpc_request's result */
	struct svc_httpc_response resp;
	long timeout_ms; /* what the last attempt was given */
	uint64_t duration_ms;
	json_t *doc; /* sc_egress_batch_read: the body the batch's items point into */
	/* sc_egress_run's own */
	uint64_t started, next_at;
	bool running, done;
	struct svc_httpc_call call;
};

/* The route named `name`, or NULL. */
struct sc_route *sc_egress_route(const struct sc_egress *eg, const char *name);
/* True when a "." or ".." segment is in the path `rest`. */
bool sc_egress_has_dot_segment(const char *rest);
/* The route's URL (no trailing '/'). */
const char *sc_egress_route_url(const struct sc_route *r);
/* 1 + EGRESS_RETRIES for a request safe to send twice (GET, HEAD, PUT,
 * DELETE, or one with an Idempotency-Key), else 1. */
unsigned sc_egress_max_attempts(const struct sc_egress *eg, const char *method,
                                bool has_idempotency_key);
/* Sets it->headers from the values of sc_egress_forwarded (NULL: absent).
 * 0 or SVC_ENOMEM (then release the item). */
int sc_egress_item_headers(struct sc_egress_item *it, const char *const *values);
/* Runs every item to its end on this thread (attempts, backoff, breaker).
 * In a batch (n > 1) each answer is read up to 8 MiB / (2n), at least
 * 64 KiB: a longer one fails its attempt as no answer would. */
void sc_egress_run(struct sc_egress *eg, struct sc_route *r, struct sc_egress_item *items,
                   size_t n);
/* Puts what sc_egress_handle answers for a finished item into res. */
void sc_egress_item_reply(const struct sc_route *r, const struct sc_egress_item *it,
                          struct svc_http_response *res);
/* Frees the item's url, headers and response. */
void sc_egress_item_release(struct sc_egress_item *it);

/*
 * Adds one member per route to the object `details` (readiness, /metrics):
 * "<route>": {"breaker": "closed|open|half-open", "url": "...",
 *             "requests": calls from the service (a batch counts once),
 *             "calls": attempts made, "failures": attempts that failed}
 */
void sc_egress_status(struct sc_egress *eg, json_t *details);

#endif
