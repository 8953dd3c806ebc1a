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
/* Request headers passed on to the upstream, in the order egress.h gives. */
const char *const sc_egress_forwarded[SC_EGRESS_NFORWARDED] = {"Content-Type", "Accept",
                                                               "Idempotency-Key"};

struct sc_route {
	char *name;
	char *url; /* without trailing '/' */
	struct rs_breaker *breaker;
	atomic_uint_fast64_t requests; /* requests from the service (a batch is one) */
	atomic_uint_fast64_t calls;    /* attempts made */
	atomic_uint_fast64_t failures; /* attempts recorded as breaker failures */
};

struct sc_egress {
	struct sc_route *routes;
	size_t nroutes;
	long timeout_ms;  /* per attempt */
	long deadline_ms; /* all attempts and backoff sleeps of one request */
	unsigned retries;
	unsigned parallel; /* upstream calls of one batch under way at once */
	struct rs_backoff backoff;
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

struct sc_route *sc_egress_route(const struct sc_egress *eg, const char *name)
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
	if (sc_egress_route(eg, name)) {
		svc_error("EGRESS_ROUTES: route '%s' given twice", name);
		return SVC_EPERMANENT;
	}
	r->name = strdup(name);
	r->url = strdup(url);
	r->breaker = rs_breaker_new(name, bcfg);
	atomic_init(&r->requests, 0);
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
	eg->parallel = (unsigned)svc_env_long("EGRESS_BATCH_PARALLEL", 32, 1, 1024);
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
bool sc_egress_has_dot_segment(const char *rest)
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

int sc_egress_item_headers(struct sc_egress_item *it, const char *const *values)
{
	size_t n = 0;

	memset(it->headers, 0, sizeof(it->headers));
	for (size_t i = 0; i < SC_EGRESS_NFORWARDED; i++) {
		const char *v = values[i];
		struct svc_buf b;

		/* CR/LF would let a caller inject headers of its own. */
		if (v && strpbrk(v, "\r\n"))
			v = NULL;
		/* No Content-Type: an empty one stops curl from claiming
		 * application/x-www-form-urlencoded for the body. */
		if (!v && i != 0)
			continue;
		svc_buf_init(&b);
		svc_buf_addf(&b, "%s:%s%s", sc_egress_forwarded[i], v ? " " : "", v ? v : "");
		it->headers[n] = svc_buf_take(&b);
		if (!it->headers[n])
			return SVC_ENOMEM;
		n++;
	}
	return 0;
}

const char *sc_egress_route_url(const struct sc_route *r)
{
	return r->url;
}

/* Safe to send twice: the method says so, or the caller gave a key the
 * upstream deduplicates on. */
unsigned sc_egress_max_attempts(const struct sc_egress *eg, const char *method,
                                bool has_idempotency_key)
{
	static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE"};
	bool repeatable = has_idempotency_key;

	for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
		repeatable = repeatable || !strcmp(method, idempotent[i]);
	return repeatable ? 1 + eg->retries : 1;
}

static enum rs_class item_class(const struct sc_egress_item *it)
{
	if (it->rc == 0)
		return rs_classify_http(it->resp.status);
	return it->rc == SVC_EPERMANENT ? RS_PERMANENT : RS_TRANSIENT;
}

/* The per-attempt timeout, cut to what is left before `deadline` (>= 1 ms). */
static long attempt_timeout(long timeout_ms, uint64_t deadline, uint64_t now)
{
	uint64_t left = deadline > now ? deadline - now : 1;

	return left < (uint64_t)timeout_ms ? (long)left : timeout_ms;
}

/* Starts the item's next attempt, or ends the item when the breaker holds
 * it back. True when a transfer is under way. `cap` bounds its answer. */
static bool attempt_start(struct sc_egress *eg, struct sc_route *r, struct sc_egress_item *it,
                          uint64_t deadline, uint64_t now, size_t cap)
{
	if (!rs_breaker_allow(r->breaker, now)) {
		it->done = true;
		return false;
	}
	svc_httpc_response_release(&it->resp);
	it->rc = SVC_ETRANSIENT;
	/* The first attempt always runs (deadline >= 1 ms); a retry only gets
	 * what is left of the deadline. */
	it->timeout_ms = attempt_timeout(eg->timeout_ms, deadline, now);
	it->started = now;
	it->call = (struct svc_httpc_call){
	        .method = it->method,
	        .url = it->url,
	        .headers = (const char *const *)it->headers,
	        .body = it->body_len ? it->body : NULL,
	        .body_len = it->body_len,
	        .timeout_ms = it->timeout_ms,
	        .max_response = cap,
	};
	it->running = svc_httpc_start(&it->call) == 0;
	return it->running;
}

/* Records the attempt that just ended (it->call) in the route's breaker and
 * counters, and decides whether the item goes again after a backoff. */
static void attempt_end(struct sc_egress *eg, struct sc_route *r, struct sc_egress_item *it,
                        uint64_t deadline)
{
	uint64_t now = svc_mono_ms(), delay;
	enum rs_class cls;
	bool failed;

	it->running = false;
	it->rc = it->call.rc;
	it->resp = it->call.resp;
	memset(&it->call.resp, 0, sizeof(it->call.resp));
	it->duration_ms = now - it->started;
	it->attempts++;
	cls = item_class(it);
	/* A 4xx is the caller's mistake, not a sign the upstream is unwell;
	 * a malformed URL (rc EPERMANENT) is a broken route and counts. */
	failed = cls == RS_TRANSIENT || it->rc == SVC_EPERMANENT;
	rs_breaker_record(r->breaker, now, !failed, it->duration_ms);
	atomic_fetch_add(&r->calls, 1);
	if (failed)
		atomic_fetch_add(&r->failures, 1);
	if (cls != RS_TRANSIENT || it->attempts >= it->max_attempts) {
		it->done = true;
		return;
	}
	delay = rs_backoff_delay_ms(&eg->backoff, it->attempts - 1, rs_random());
	if (now + delay >= deadline)
		it->done = true; /* no time left for another attempt */
	else
		it->next_at = now + delay;
}

void sc_egress_run(struct sc_egress *eg, struct sc_route *r, struct sc_egress_item *items, size_t n)
{
	uint64_t deadline = svc_mono_ms() + (uint64_t)eg->deadline_ms;
	size_t left = n, running = 0;
	/* A batch's answers are held together, and travel escaped in one JSON
	 * body: each gets a share of what one answer may be (at least 64 KiB). */
	size_t cap = n > 1 ? SVC_HTTPC_MAX_RESPONSE_DEFAULT / (2 * n) : 0;

	if (cap && cap < 65536)
		cap = 65536;
	atomic_fetch_add(&r->requests, 1);
	for (size_t i = 0; i < n; i++) {
		items[i].attempts = 0;
		items[i].next_at = 0;
		items[i].running = false;
		items[i].done = false;
	}
	while (left > 0) {
		uint64_t now = svc_mono_ms(), wake = UINT64_MAX;
		struct svc_httpc_call *c;

		for (size_t i = 0; i < n; i++) {
			struct sc_egress_item *it = &items[i];

			if (it->done || it->running)
				continue;
			if (it->next_at > now) {
				wake = it->next_at < wake ? it->next_at : wake;
				continue;
			}
			if (running >= eg->parallel)
				continue;
			if (attempt_start(eg, r, it, deadline, now, cap))
				running++;
			else if (!it->done)
				attempt_end(eg, r, it, deadline); /* could not start: failed */
			if (it->done)
				left--;
		}
		if (left == 0)
			break;
		if (running == 0) {
			/* only backoff pauses left */
			if (wake != UINT64_MAX && wake > now)
				svc_sleep_ms(wake - now);
			continue;
		}
		c = svc_httpc_next_done(wake == UINT64_MAX ? 1000
		                                           : (long)(wake > now ? wake - now : 0));
		if (!c)
			continue;
		running--;
		{
			struct sc_egress_item *it =
			        (struct sc_egress_item *)((char *)c -
			                                  offsetof(struct sc_egress_item, call));

			attempt_end(eg, r, it, deadline);
			if (it->done)
				left--;
		}
	}
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

void sc_egress_item_reply(const struct sc_route *r, const struct sc_egress_item *it,
                          struct svc_http_response *res)
{
	char count[16];

	if (it->attempts == 0) {
		svc_http_reply_problem(res, 503, "Circuit breaker open", NULL,
		                       "egress route '%s' is failing; calls are held back",
		                       r->name);
		svc_http_add_header(res, "X-Egress-Breaker", "open");
		return;
	}
	/* When the breaker opened between retries, the last outcome stands. */
	if (it->rc == 0 && (it->resp.status < 100 || it->resp.status > 599)) {
		svc_http_reply_problem(res, 502, "Bad upstream response", NULL,
		                       "route '%s': status %ld", r->name, it->resp.status);
	} else if (it->rc == 0) {
		svc_http_reply_raw(res, (int)it->resp.status,
		                   static_content_type(it->resp.content_type, it->resp.body,
		                                       it->resp.body_len),
		                   it->resp.body ? it->resp.body : "", it->resp.body_len);
	} else if (it->rc == SVC_EPERMANENT) {
		svc_http_reply_problem(res, 502, "Bad egress route", NULL,
		                       "route '%s' cannot reach %s", r->name, r->url);
	} else if (it->resp.timed_out || it->duration_ms >= (uint64_t)it->timeout_ms) {
		svc_http_reply_problem(res, 504, "Upstream timed out", NULL,
		                       "route '%s': no answer within %ld ms", r->name,
		                       it->timeout_ms);
	} else {
		svc_http_reply_problem(res, 502, "Upstream unreachable", NULL,
		                       "route '%s': no response from upstream", r->name);
	}
	snprintf(count, sizeof(count), "%u", it->attempts);
	svc_http_add_header(res, "X-Egress-Attempts", count);
}

void sc_egress_item_release(struct sc_egress_item *it)
{
	svc_httpc_response_release(&it->resp);
	for (size_t i = 0; i < SC_EGRESS_NLINES; i++)
		free(it->headers[i]);
	free(it->url);
	memset(it, 0, sizeof(*it));
}

void sc_egress_handle(struct sc_egress *eg, const char *route, const char *rest,
                      const struct svc_http_request *req, struct svc_http_response *res)
{
	const char *values[SC_EGRESS_NFORWARDED];
	struct sc_egress_item it = {0};
	struct sc_route *r = sc_egress_route(eg, route);

	if (!r) {
		svc_http_reply_problem(res, 404, "Unknown egress route", NULL,
		                       "no egress route named '%s'", route ? route : "");
		return;
	}
	rest = rest ? rest : "";
	while (*rest == '/')
		rest++;
	if (sc_egress_has_dot_segment(rest)) {
		svc_http_reply_problem(res, 400, "Invalid egress path", NULL,
		                       "'.' and '..' path segments are not forwarded");
		return;
	}
	for (size_t i = 0; i < SC_EGRESS_NFORWARDED; i++)
		values[i] = svc_http_header(req, sc_egress_forwarded[i]);
	it.method = req->method;
	it.body = req->body;
	it.body_len = req->body_len;
	it.url = upstream_url(r, rest, req);
	if (!it.url || sc_egress_item_headers(&it, values) != 0) {
		svc_http_reply_problem(res, 500, "Out of memory", NULL, "egress request not sent");
		goto out;
	}
	it.max_attempts = sc_egress_max_attempts(eg, req->method, values[2] != NULL);
	sc_egress_run(eg, r, &it, 1);
	sc_egress_item_reply(r, &it, res);
out:
	sc_egress_item_release(&it);
}
void sc_egress_status(struct sc_egress *eg, json_t *details)
{
	if (!eg || !json_is_object(details))
		return;
	for (size_t i = 0; i < eg->nroutes; i++) {
		struct sc_route *r = &eg->routes[i];
		enum rs_breaker_state s = rs_breaker_state(r->breaker, svc_mono_ms());

		json_object_set_new(details, r->name,
		                    json_pack("{s:s, s:s, s:I, s:I, s:I}", "breaker",
		                              rs_breaker_state_name(s), "url", r->url, "requests",
		                              (json_int_t)atomic_load(&r->requests), "calls",
		                              (json_int_t)atomic_load(&r->calls), "failures",
		                              (json_int_t)atomic_load(&r->failures)));
	}
}
