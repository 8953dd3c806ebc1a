/*
 * Egress proxy (see egress.h): route lookup, upstream URL building, the
 * retry loop around svc_httpc_request() and the per-route circuit breaker.
 */
#include "egress.h"

#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "resilience/backoff.h"
#include "resilience/breaker.h"
#include "resilience/classify.h"
#include "svc/breaker.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/url.h"

#define EGRESS_MAX_ROUTES 64
#define EGRESS_MAX_NAME   64
/* Request headers passed on to the upstream; Content-Type must stay first. */
static const char *const forwarded_headers[] = {"Content-Type", "Accept", "Idempotency-Key"};
#define EGRESS_NFORWARDED (sizeof(forwarded_headers) / sizeof(forwarded_headers[0]))
#define EGRESS_NLINES     (EGRESS_NFORWARDED + 1) /* + the NULL terminator */

struct sc_route {
	char *name;
	char *url; /* without trailing '/' */
	struct rs_breaker *breaker;
	atomic_uint_fast64_t calls;    /* attempts made */
	atomic_uint_fast64_t failures; /* attempts recorded as breaker failures */
};

struct sc_egress {
	struct sc_route *routes;
	size_t nroutes;
	long timeout_ms;  /* per attempt */
	long deadline_ms; /* all attempts and backoff sleeps of one request */
	unsigned retries;
	struct rs_backoff backoff;
};

/* Outcome of one upstream attempt. */
struct attempt {
	int rc; /* svc_httpc_request() result */
	struct svc_httpc_response resp;
	long timeout_ms; /* what this attempt was given */
	uint64_t duration_ms;
};

/* ---- configuration --------------------------------------------------- */

static bool route_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > EGRESS_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* http(s)://host[...] with no blanks, controls, query or fragment. */
static bool route_url_valid(const char *s)
{
	const char *host;

	if (!strncmp(s, "http://", 7))
		host = s + 7;
	else if (!strncmp(s, "https://", 8))
		host = s + 8;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '?' || *s == '#')
			return false;
	return true;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static struct sc_route *find_route(const struct sc_egress *eg, const char *name)
{
	for (size_t i = 0; eg && name && i < eg->nroutes; i++)
		if (!strcmp(eg->routes[i].name, name))
			return &eg->routes[i];
	return NULL;
}

/* Parses one "name=url" entry into the next route. 0 or SVC_EPERMANENT/ENOMEM. */
static int add_route(struct sc_egress *eg, char *entry, const struct rs_breaker_config *bcfg)
{
	struct sc_route *r = &eg->routes[eg->nroutes];
	char *eq = strchr(entry, '=');
	char *name, *url;

	if (!eq) {
		svc_error("EGRESS_ROUTES: '%s' is not name=url", entry);
		return SVC_EPERMANENT;
	}
	*eq = '\0';
	name = trim(entry);
	url = trim(eq + 1);
	url[svc_url_base_len(url)] = '\0';
	if (!route_name_valid(name) || !route_url_valid(url)) {
		svc_error("EGRESS_ROUTES: bad route '%s=%s' (name [A-Za-z0-9._-], url "
		          "http(s)://host...)",
		          name, url);
		return SVC_EPERMANENT;
	}
	if (find_route(eg, name)) {
		svc_error("EGRESS_ROUTES: route '%s' given twice", name);
		return SVC_EPERMANENT;
	}
	r->name = strdup(name);
	r->url = strdup(url);
	r->breaker = rs_breaker_new(name, bcfg);
	atomic_init(&r->calls, 0);
	atomic_init(&r->failures, 0);
	eg->nroutes++; /* counted now so that sc_egress_free() releases it */
	return r->name && r->url && r->breaker ? 0 : SVC_ENOMEM;
}

static int parse_routes(struct sc_egress *eg, const char *spec)
{
	struct rs_breaker_config bcfg;
	char *copy = NULL, *save = NULL, *entry;
	int rc = 0;

	rs_breaker_config_default(&bcfg);
	if (svc_breaker_config_from_env(&bcfg, "EGRESS_BREAKER", "egress route") != 0)
		return SVC_EPERMANENT;
	copy = strdup(spec);
	if (!copy)
		return SVC_ENOMEM;
	for (entry = strtok_r(copy, ",", &save); entry && rc == 0;
	     entry = strtok_r(NULL, ",", &save)) {
		entry = trim(entry);
		if (*entry == '\0')
			continue; /* "a=...,,b=..." or a trailing comma */
		if (eg->nroutes == EGRESS_MAX_ROUTES) {
			svc_error("EGRESS_ROUTES: more than %d routes", EGRESS_MAX_ROUTES);
			rc = SVC_ERANGE;
			break;
		}
		rc = add_route(eg, entry, &bcfg);
	}
	free(copy);
	return rc;
}

struct sc_egress *sc_egress_new(const char *spec)
{
	struct sc_egress *eg = calloc(1, sizeof(*eg));
	long backoff_ms;

	if (!eg)
		goto fail;
	eg->routes = calloc(EGRESS_MAX_ROUTES, sizeof(*eg->routes));
	if (!eg->routes)
		goto fail;
	eg->timeout_ms = svc_env_long("EGRESS_TIMEOUT_MS", 2000, 1, 3600000L);
	eg->retries = (unsigned)svc_env_long("EGRESS_RETRIES", 2, 0, 10);
	eg->deadline_ms = svc_env_long("EGRESS_DEADLINE_MS",
	                               eg->timeout_ms * (long)(eg->retries + 1), 1, 36000000L);
	backoff_ms = svc_env_long("EGRESS_BACKOFF_MS", 50, 0, 60000);
	eg->backoff.base_ms = (uint32_t)backoff_ms;
	/* A pause longer than one attempt's timeout buys nothing. */
	eg->backoff.max_ms = (uint32_t)(eg->timeout_ms > backoff_ms ? eg->timeout_ms : backoff_ms);
	if (spec && parse_routes(eg, spec) != 0)
		goto fail;
	for (size_t i = 0; i < eg->nroutes; i++)
		svc_info("egress route %s -> %s", eg->routes[i].name, eg->routes[i].url);
	return eg;

fail:
	svc_error("egress: cannot set up routes from EGRESS_ROUTES");
	sc_egress_free(eg);
	return NULL;
}

void sc_egress_free(struct sc_egress *eg)
{
	if (!eg)
		return;
	for (size_t i = 0; eg->routes && i < eg->nroutes; i++) {
		free(eg->routes[i].name);
		free(eg->routes[i].url);
		rs_breaker_free(eg->routes[i].breaker);
	}
	free(eg->routes);
	free(eg);
}

/* ---- the upstream request -------------------------------------------- */

/* Appends s percent-encoded: RFC 3986 unreserved bytes and those in `keep`
 * stay as they are. MHD hands us decoded paths and arguments. */
static void add_encoded(struct svc_buf *b, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = {'%', 0, 0};

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (keep && strchr(keep, c))) {
			svc_buf_add(b, s, 1);
		} else {
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 15];
			svc_buf_add(b, esc, 3);
		}
	}
}

/* "." and ".." segments would let a caller climb out of the route's base
 * path (curl and servers resolve them), so they are refused. */
static bool rest_has_dot_segment(const char *rest)
{
	const char *seg = rest;

	while (seg) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		seg = slash ? slash + 1 : NULL;
	}
	return false;
}

static enum MHD_Result add_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct svc_buf *b = cls;

	(void)kind;
	svc_buf_adds(b, b->data && strchr(b->data, '?') ? "&" : "?");
	add_encoded(b, key, NULL);
	if (value) {
		svc_buf_adds(b, "=");
		add_encoded(b, value, NULL);
	}
	return MHD_YES;
}

/* <route url>/<rest>[?query]. NULL on OOM. Caller frees. */
static char *upstream_url(const struct sc_route *r, const char *rest,
                          const struct svc_http_request *req)
{
	struct svc_buf b;

	svc_buf_init(&b);
	svc_buf_adds(&b, r->url);
	svc_buf_adds(&b, "/");
	add_encoded(&b, rest, "/:@!$&'()*+,;=");
	if (req->conn)
		MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_query_arg, &b);
	return svc_buf_take(&b);
}

/* "Name: value" lines for the forwarded request headers, NULL-terminated in
 * `lines`. SVC_ENOMEM with whatever was built left for free_header_lines(). */
static int header_lines(const struct svc_http_request *req, char *lines[EGRESS_NLINES])
{
	size_t n = 0;

	memset(lines, 0, EGRESS_NLINES * sizeof(*lines));
	for (size_t i = 0; i < EGRESS_NFORWARDED; i++) {
		const char *v = svc_http_header(req, forwarded_headers[i]);
		struct svc_buf b;

		/* CR/LF would let a caller inject headers of its own. */
		if (v && strpbrk(v, "\r\n"))
			v = NULL;
		/* No Content-Type: an empty one stops curl from claiming
		 * application/x-www-form-urlencoded for the body. */
		if (!v && i != 0)
			continue;
		svc_buf_init(&b);
		svc_buf_addf(&b, "%s:%s%s", forwarded_headers[i], v ? " " : "", v ? v : "");
		lines[n] = svc_buf_take(&b);
		if (!lines[n])
			return SVC_ENOMEM;
		n++;
	}
	return 0;
}

static void free_header_lines(char *lines[EGRESS_NLINES])
{
	for (size_t i = 0; i < EGRESS_NLINES; i++)
		free(lines[i]);
}

/* Safe to send twice: the method says so, or the caller gave a key the
 * upstream deduplicates on. */
static bool repeatable(const struct svc_http_request *req)
{
	static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE"};

	for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
		if (!strcmp(req->method, idempotent[i]))
			return true;
	return svc_http_header(req, "Idempotency-Key") != NULL;
}

static enum rs_class attempt_class(const struct attempt *a)
{
	if (a->rc == 0)
		return rs_classify_http(a->resp.status);
	return a->rc == SVC_EPERMANENT ? RS_PERMANENT : RS_TRANSIENT;
}

/* One upstream call, recorded in the route's breaker and counters. */
static void attempt_run(struct sc_route *r, long timeout_ms, const char *method, const char *url,
                        char *const *headers, const struct svc_http_request *req, struct attempt *a)
{
	uint64_t start = svc_mono_ms();
	enum rs_class cls;
	bool failed;

	a->timeout_ms = timeout_ms;
	a->rc = svc_httpc_request(method, url, (const char *const *)headers,
	                          req->body_len ? req->body : NULL, req->body_len, timeout_ms,
	                          &a->resp);
	a->duration_ms = svc_mono_ms() - start;
	cls = attempt_class(a);
	/* A 4xx is the caller's mistake, not a sign the upstream is unwell;
	 * a malformed URL (rc EPERMANENT) is a broken route and counts. */
	failed = cls == RS_TRANSIENT || a->rc == SVC_EPERMANENT;
	rs_breaker_record(r->breaker, svc_mono_ms(), !failed, a->duration_ms);
	atomic_fetch_add(&r->calls, 1);
	if (failed)
		atomic_fetch_add(&r->failures, 1);
}

/* The per-attempt timeout, cut to what is left before `deadline` (>= 1 ms). */
static long attempt_timeout(long timeout_ms, uint64_t deadline, uint64_t now)
{
	uint64_t left = deadline > now ? deadline - now : 1;

	return left < (uint64_t)timeout_ms ? (long)left : timeout_ms;
}

/* ---- the response ---------------------------------------------------- */

/* res->content_type must be a static string, so the upstream's type is
 * mapped onto this table by its media type (parameters dropped). */
static const char *const known_types[] = {
        "application/json", "application/problem+json", "text/plain",
        "text/html",        "application/xml",          "text/xml",
        "text/csv",
};

static const char *static_content_type(const char *upstream, const char *body, size_t len)
{
	json_error_t err;
	json_t *j;

	for (size_t i = 0; upstream && i < sizeof(known_types) / sizeof(known_types[0]); i++) {
		size_t n = strlen(known_types[i]);

		if (!strncasecmp(upstream, known_types[i], n) &&
		    (upstream[n] == '\0' || upstream[n] == ';' || upstream[n] == ' '))
			return known_types[i];
	}
	if (upstream || len == 0)
		return "application/octet-stream";
	/* No Content-Type from the upstream: JSON, which is what every
	 * upstream here speaks, is recognised by parsing it. */
	j = json_loadb(body, len, JSON_DECODE_ANY, &err);
	json_decref(j);
	return j ? "application/json" : "application/octet-stream";
}

static void reply_from_attempt(const struct sc_route *r, const struct attempt *a,
                               struct svc_http_response *res)
{
	if (a->rc == 0 && (a->resp.status < 100 || a->resp.status > 599)) {
		svc_http_reply_problem(res, 502, "Bad upstream response", NULL,
		                       "route '%s': status %ld", r->name, a->resp.status);
	} else if (a->rc == 0) {
		svc_http_reply_raw(
		        res, (int)a->resp.status,
		        static_content_type(a->resp.content_type, a->resp.body, a->resp.body_len),
		        a->resp.body ? a->resp.body : "", a->resp.body_len);
	} else if (a->rc == SVC_EPERMANENT) {
		svc_http_reply_problem(res, 502, "Bad egress route", NULL,
		                       "route '%s' cannot reach %s", r->name, r->url);
	} else if (a->duration_ms >= (uint64_t)a->timeout_ms) {
		svc_http_reply_problem(res, 504, "Upstream timed out", NULL,
		                       "route '%s': no answer within %ld ms", r->name,
		                       a->timeout_ms);
	} else {
		svc_http_reply_problem(res, 502, "Upstream unreachable", NULL,
		                       "route '%s': no response from upstream", r->name);
	}
}

void sc_egress_handle(struct sc_egress *eg, const char *route, const char *rest,
                      const struct svc_http_request *req, struct svc_http_response *res)
{
	char *headers[EGRESS_NLINES];
	struct attempt a = {0};
	struct sc_route *r = find_route(eg, route);
	unsigned attempts = 0, max_attempts;
	uint64_t deadline = svc_mono_ms() + (uint64_t)eg->deadline_ms, now, delay;
	char *url = NULL;
	char count[16];

	memset(headers, 0, sizeof(headers));
	if (!r) {
		svc_http_reply_problem(res, 404, "Unknown egress route", NULL,
		                       "no egress route named '%s'", route ? route : "");
		goto out;
	}
	rest = rest ? rest : "";
	while (*rest == '/')
		rest++;
	if (rest_has_dot_segment(rest)) {
		svc_http_reply_problem(res, 400, "Invalid egress path", NULL,
		                       "'.' and '..' path segments are not forwarded");
		goto out;
	}
	url = upstream_url(r, rest, req);
	if (!url || header_lines(req, headers) != 0) {
		svc_http_reply_problem(res, 500, "Out of memory", NULL, "egress request not sent");
		goto out;
	}
	max_attempts = repeatable(req) ? 1 + eg->retries : 1;
	for (;;) {
		now = svc_mono_ms();
		if (!rs_breaker_allow(r->breaker, now))
			break;
		svc_httpc_response_release(&a.resp);
		/* The first attempt always runs (deadline >= 1 ms); a retry only
		 * gets what is left of the deadline. */
		attempt_run(r, attempt_timeout(eg->timeout_ms, deadline, now), req->method, url,
		            headers, req, &a);
		attempts++;
		if (attempt_class(&a) != RS_TRANSIENT || attempts >= max_attempts)
			break;
		delay = rs_backoff_delay_ms(&eg->backoff, attempts - 1, rs_random());
		if (svc_mono_ms() + delay >= deadline)
			break; /* no time left for another attempt */
		svc_sleep_ms(delay);
	}
	if (attempts == 0) {
		svc_http_reply_problem(res, 503, "Circuit breaker open", NULL,
		                       "egress route '%s' is failing; calls are held back",
		                       r->name);
		svc_http_add_header(res, "X-Egress-Breaker", "open");
		goto out;
	}
	/* When the breaker opened between retries, the last outcome stands. */
	reply_from_attempt(r, &a, res);
	snprintf(count, sizeof(count), "%u", attempts);
	svc_http_add_header(res, "X-Egress-Attempts", count);
out:
	svc_httpc_response_release(&a.resp);
	free_header_lines(headers);
	free(url);
}

void sc_egress_status(struct sc_egress *eg, json_t *details)
{
	if (!eg || !json_is_object(details))
		return;
	for (size_t i = 0; i < eg->nroutes; i++) {
		struct sc_route *r = &eg->routes[i];
		enum rs_breaker_state s = rs_breaker_state(r->breaker, svc_mono_ms());

		json_object_set_new(details, r->name,
		                    json_pack("{s:s, s:s, s:I, s:I}", "breaker",
		                              rs_breaker_state_name(s), "url", r->url, "calls",
		                              (json_int_t)atomic_load(&r->calls), "failures",
		                              (json_int_t)atomic_load(&r->failures)));
	}
}
