/*
 * HTTP server on libmicrohttpd: a route table, whole-body requests and
 * JSON / problem+json responses. Handlers run on the server's worker threads
 * (HTTP_THREADS of them) and may block (database calls).
 *
 * Every refusal is application/problem+json, in this order:
 *   a percent-encoded NUL or control character in the path -> 400,
 *   a path longer than SVC_HTTP_MAX_URL -> 414, request headers over
 *   SVC_HTTP_MAX_HEADER_BYTES -> 431,
 *   unknown path -> 404, known path with another method -> 405,
 *   body larger than the route's limit (svc_http_server_config: body_limits,
 *   else max_body) -> 413,
 *   the route's access (below) not granted -> 401 (no or bad token, with
 *   WWW-Authenticate: Bearer) or 403 (valid token without the role; a LOCAL
 *   route called from another host),
 *   a non-empty POST/PUT/PATCH body that is not Content-Type
 *   application/json (or application/<x>+json) -> 415, except on LOCAL
 *   routes (the sidecar's egress proxy carries whatever it forwards).
 */
#ifndef SVC_HTTP_H
#define SVC_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define SVC_HTTP_MAX_PARAMS              4
#define SVC_HTTP_MAX_HEADERS             4
#define SVC_HTTP_MAX_CONNECTIONS_DEFAULT 8192
#define SVC_HTTP_MAX_URL                 2048
#define SVC_HTTP_MAX_HEADER_BYTES        (16 * 1024)

struct MHD_Connection;
struct svc_auth;
struct svc_prom;
struct svc_principal;

struct svc_http_request {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* URL path without the query string */
	/* Values of the {placeholders} of the matched route pattern, in order. */
	const char *params[SVC_HTTP_MAX_PARAMS];
	size_t nparams;
	const char *body; /* NUL-terminated; "" when there is none */
	size_t body_len;
	/* The verified caller of a CUSTOMER or ADMIN route; anonymous (subject
	 * "", roles 0) on the others. Never NULL. */
	const struct svc_principal *principal;
	struct MHD_Connection *conn;
};

struct svc_http_response {
	int status; /* 200 unless a reply function sets it */
	char *body; /* malloc'd, owned by the response */
	size_t body_len;
	const char *content_type;               /* static string */
	char *headers[SVC_HTTP_MAX_HEADERS][2]; /* extra headers, malloc'd copies */
	size_t nheaders;
};

/* Sets a JSON body. Steals the reference to `body` (NULL gives "{}"). */
void svc_http_reply_json(struct svc_http_response *res, int status, json_t *body);
/* RFC 7807 problem: {"type":"about:blank","title","status","detail","field"?}
 * with content type application/problem+json. `field` names the offending
 * request field, or NULL. `detail` is printf-formatted. */
void svc_http_reply_problem(struct svc_http_response *res, int status, const char *title,
                            const char *field, const char *detail_fmt, ...)
        __attribute__((format(printf, 5, 6)));
struct svc_problem;
/* A validation problem (svc/validate.h): its status, field and detail. */
void svc_http_reply_invalid(struct svc_http_response *res, const struct svc_problem *p);
/* The reply for a failed operation's code: SVC_ETRANSIENT 503 ("retry
 * later"), SVC_ENOTFOUND 404, SVC_ECONFLICT 409, anything else 500. `what`
 * names what could not be done, for the detail. */
void svc_http_reply_error(struct svc_http_response *res, int rc, const char *what);
/* Copies `len` bytes of `data` as the body. */
void svc_http_reply_raw(struct svc_http_response *res, int status, const char *content_type,
                        const void *data, size_t len);
/* 200 with the Prometheus text of `r` (svc/prom.h; runs its collect
 * functions), or a 503 problem when out of memory. */
void svc_http_reply_metrics(struct svc_http_response *res, struct svc_prom *r);
/* Serves a file from disk (content type from its extension); 404 problem if
 * it cannot be read. */
void svc_http_reply_file(struct svc_http_response *res, const char *path);
/* Adds a response header (copied). SVC_ERANGE when the table is full. */
int svc_http_add_header(struct svc_http_response *res, const char *name, const char *value);
/* Frees the body and headers a reply put in `res` and zeroes it (the server
 * does this after sending; for a response built to be read, not sent). */
void svc_http_response_release(struct svc_http_response *res);

/* Request header / query argument, or NULL. Valid during the handler. */
const char *svc_http_header(const struct svc_http_request *req, const char *name);
const char *svc_http_query(const struct svc_http_request *req, const char *name);

typedef void (*svc_http_handler_fn)(void *ctx, const struct svc_http_request *req,
                                    struct svc_http_response *res);

/*
 * Pattern: "/api/orders/{orderId}". Literal segments match exactly; "{name}"
 * matches one non-empty segment and becomes the next params[] entry; a final
 * "*" matches the rest of the path (possibly empty) as one param.
 */
/*
 * Who may call a route, checked by the server before the handler runs. The
 * zero value is the strictest: a route that does not say is admin-only.
 */
enum svc_http_access {
	SVC_HTTP_ADMIN = 0, /* a verified token with the admin role */
	SVC_HTTP_CUSTOMER,  /* a verified token with the customer or admin role */
	SVC_HTTP_PUBLIC,    /* anyone: health, metrics, API documents */
	SVC_HTTP_LOCAL,     /* a connection from a loopback address only (the
	                     * containers of the same pod, the same host) */
};

struct svc_http_route {
	const char *method;
	const char *pattern;
	svc_http_handler_fn handler;
	enum svc_http_access access;
};

/* Pure route matching, exposed for tests: index of the route, or -1 with
 * *method_mismatch set when the path matched some route but not the method. */
int svc_http_route_match(const struct svc_http_route *routes, size_t nroutes, const char *method,
                         const char *path, const char *params[SVC_HTTP_MAX_PARAMS], size_t *nparams,
                         char *scratch, size_t scratch_len, bool *method_mismatch);

/*
 * A body limit for one route other than the server's max_body (the sidecar's
 * event batches are far bigger than a public request). Names the route by
 * its method and pattern, exactly as in the route table.
 */
struct svc_http_body_limit {
	const char *method;
	const char *pattern;
	size_t max_body; /* bytes */
};

/* The body limit of a request: that of the entry of `limits` naming the
 * route it matches, else `max_body` (also for an unknown path or method).
 * Pure; exposed for tests. */
size_t svc_http_body_limit(const struct svc_http_route *routes, size_t nroutes,
                           const struct svc_http_body_limit *limits, size_t nlimits,
                           const char *method, const char *path, size_t max_body);

/* Counters a server keeps when given them (svc_http_server_config.stats). */
struct svc_http_stats {
	atomic_uint_fast64_t requests;  /* responses queued, whatever their status */
	atomic_uint_fast64_t errors5xx; /* of those, status 500..599 */
};

struct svc_http_server_config {
	const char *bind_addr; /* NULL or "0.0.0.0": all interfaces */
	unsigned port;
	unsigned threads; /* worker threads, >= 1 */
	/* open connections accepted at once; 0 = SVC_HTTP_MAX_CONNECTIONS_DEFAULT */
	unsigned max_connections;
	size_t max_body; /* bytes; larger requests get 413 */
	/* Optional (NULL = none): routes with a limit of their own, chosen as
	 * soon as the request's headers are in. Borrowed, must outlive the
	 * server. */
	const struct svc_http_body_limit *body_limits;
	size_t nbody_limits;
	/* Optional (NULL = none): counted into; zeroed by the caller, borrowed,
	 * must outlive the server. */
	struct svc_http_stats *stats;
	/* Verifies the tokens of CUSTOMER and ADMIN routes; borrowed, must
	 * outlive the server. A server with such routes and no verifier does
	 * not start. */
	const struct svc_auth *auth;
	/* Optional (NULL = none): where the server registers and counts
	 * svc_http_requests_total{route,method,status_class} and
	 * svc_http_request_duration_seconds{route,method} (route: the matched
	 * route's pattern, "unmatched" for a request refused before one was
	 * found). Borrowed, must outlive the server. */
	struct svc_prom *prom;
};

struct svc_http_server;

/* The access check alone, for tests: 0 when granted (*who filled for token
 * routes), else the status to answer (401, 403) with the reason in why[]. */
int svc_http_authorize(const struct svc_auth *auth, enum svc_http_access access,
                       const char *authorization, bool peer_is_loopback, long now,
                       struct svc_principal *who, char *why, size_t whylen);

/* True when a Content-Type value names JSON: application/json or
 * application/<x>+json, with parameters or not, any case. Pure. */
bool svc_http_is_json_type(const char *content_type);

/* Starts serving at once. `routes` must outlive the server; `ctx` is passed
 * to every handler. NULL (and logged) when the port cannot be bound. */
struct svc_http_server *svc_http_server_start(const struct svc_http_server_config *cfg,
                                              const struct svc_http_route *routes, size_t nroutes,
                                              void *ctx);
/* Stops accepting, waits for running handlers, frees. Accepts NULL. */
void svc_http_server_free(struct svc_http_server *srv);

#endif
