/*
 * HTTP server on libmicrohttpd (see svc/http.h): route matching, whole-body
 * request accumulation with a size limit, and response building.
 *
 * MHD calls the access handler several times per request: once when the
 * headers are in (*con_cls == NULL), once per chunk of upload data, and a
 * last time with *upload_data_size == 0. The per-request state below lives
 * in *con_cls from the first call until MHD's "request completed" callback.
 */
#include "svc/http.h"

#include "svc/utf8.h"
#include "svc/validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "svc/auth.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/prom.h"

#define HTTP_CONNECTION_TIMEOUT_S 30
/* Files served by svc_http_reply_file (the Swagger UI bundle is ~1.5 MB). */
#define HTTP_FILE_MAX (16 * 1024 * 1024)
/* Room for the copied path segments that route parameters point into. */
#define HTTP_SCRATCH_LEN 2048

struct svc_http_server {
	struct MHD_Daemon *daemon;
	const struct svc_http_route *routes;
	size_t nroutes;
	void *ctx;
	size_t max_body;
	const struct svc_http_body_limit *body_limits;
	size_t nbody_limits;
	struct svc_http_stats *stats; /* NULL: not counted */
	const struct svc_auth *auth;  /* NULL: no token routes */
	/* svc_http_requests_total, svc_http_request_duration_seconds; NULL
	 * without a registry */
	struct svc_prom_metric *requests, *latency;
};

/* One request in flight. */
struct http_request_state {
	struct svc_buf body;
	size_t max_body; /* the limit of the request's route */
	bool too_large;  /* body over max_body: its bytes are discarded */
	bool answered;   /* a response was queued early (413 from Content-Length) */
	int route;       /* index of the matched route, -1 until matched */
	uint64_t started_us;
};

/* ---- responses ------------------------------------------------------- */

static void response_set_body(struct svc_http_response *res, int status, const char *content_type,
                              char *body, size_t len)
{
	free(res->body);
	res->status = status;
	res->content_type = content_type;
	res->body = body;
	res->body_len = len;
}

void svc_http_reply_invalid(struct svc_http_response *res, const struct svc_problem *p)
{
	svc_http_reply_problem(res, p->status, NULL, p->field[0] ? p->field : NULL, "%s",
	                       p->detail);
}

void svc_http_reply_error(struct svc_http_response *res, int rc, const char *what)
{
	switch (rc) {
	case SVC_ETRANSIENT:
		svc_http_reply_problem(res, 503, NULL, NULL,
		                       "%s: a dependency is unavailable; retry later", what);
		break;
	case SVC_ENOTFOUND:
		svc_http_reply_problem(res, 404, NULL, NULL, "%s: not found", what);
		break;
	case SVC_ECONFLICT:
		svc_http_reply_problem(res, 409, NULL, NULL, "%s: conflicts with the current state",
		                       what);
		break;
	default:
		svc_http_reply_problem(res, 500, NULL, NULL, "%s failed (%s)", what,
		                       svc_strerror(rc));
		break;
	}
}

void svc_http_reply_raw(struct svc_http_response *res, int status, const char *content_type,
                        const void *data, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy) {
		response_set_body(res, 500, "text/plain", NULL, 0);
		return;
	}
	if (len)
		memcpy(copy, data, len);
	copy[len] = '\0';
	response_set_body(res, status, content_type, copy, len);
}

void svc_http_reply_json(struct svc_http_response *res, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	if (!text && !body) {
		svc_http_reply_raw(res, status, "application/json", "{}", 2);
		goto release;
	}
	if (!text) {
		/* Only allocation failure (or a non-serialisable value) ends here. */
		svc_http_reply_raw(res, 500, "application/json", "{}", 2);
		goto release;
	}
	response_set_body(res, status, "application/json", text, strlen(text));
release:
	json_decref(body);
}

static const char *status_title(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* Copies `s` into out[outlen] (or cleans `out` in place when s == out),
 * replacing every byte that is not part of valid UTF-8 by '?': problem texts
 * echo request input (a JSON key, a parser message) and may be cut
 * mid-character, and jansson refuses invalid text. */
static const char *utf8_clean(const char *s, char *out, size_t outlen)
{
	size_t i = 0, len, n;

	if (s != out) /* cleaning in place is allowed */
		snprintf(out, outlen, "%s", s);
	len = strlen(out);
	while (i < len) {
		n = svc_utf8_seq_len(out + i, len - i);
		if (n == 0)
			out[i++] = '?';
		else
			i += n;
	}
	return out;
}

void svc_http_reply_problem(struct svc_http_response *res, int status, const char *title,
                            const char *field, const char *detail_fmt, ...)
{
	char detail[512], clean_title[128], clean_field[128];
	json_t *p;
	char *text;
	va_list ap;

	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	utf8_clean(detail, detail, sizeof(detail));

	p = json_pack(
	        "{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
	        utf8_clean(title ? title : status_title(status), clean_title, sizeof(clean_title)),
	        "status", status, "detail", detail);
	if (p && field)
		json_object_set_new(
		        p, "field",
		        json_string(utf8_clean(field, clean_field, sizeof(clean_field))));
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!text) {
		svc_http_reply_raw(res, status, "application/problem+json", "{}", 2);
		return;
	}
	response_set_body(res, status, "application/problem+json", text, strlen(text));
}

static const char *content_type_for(const char *path)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".css", "text/css; charset=utf-8"},
	        {".js", "application/javascript; charset=utf-8"},
	        {".json", "application/json"},
	        {".map", "application/json"},
	        {".png", "image/png"},
	        {".svg", "image/svg+xml"},
	        {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

void svc_http_reply_file(struct svc_http_response *res, const char *path)
{
	FILE *f = NULL;
	char *data = NULL;
	long size;

	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > HTTP_FILE_MAX ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto not_found;
	data = malloc((size_t)size + 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size)
		goto not_found;
	data[size] = '\0';
	response_set_body(res, 200, content_type_for(path), data, (size_t)size);
	data = NULL;
	goto close;
not_found:
	svc_http_reply_problem(res, 404, NULL, NULL, "no such file");
close:
	free(data);
	if (f)
		fclose(f);
}

int svc_http_add_header(struct svc_http_response *res, const char *name, const char *value)
{
	char *n, *v;

	if (res->nheaders >= SVC_HTTP_MAX_HEADERS)
		return SVC_ERANGE;
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return SVC_ENOMEM;
	}
	/* the pair in one copy: two stores at a variable index made clang's
	 * analyzer lose the first pointer and report it leaked; cppcheck, for
	 * its part, does not follow pointers through memcpy */
	char *pair[2] = {n, v};

	memcpy(res->headers[res->nheaders++], pair, sizeof(pair));
	/* cppcheck-suppress memleak */
	return 0;
}

void svc_http_response_release(struct svc_http_response *res)
{
	size_t i;

	free(res->body);
	for (i = 0; i < res->nheaders; i++) {
		free(res->headers[i][0]);
		free(res->headers[i][1]);
	}
	memset(res, 0, sizeof(*res));
}

const char *svc_http_header(const struct svc_http_request *req, const char *name)
{
	return req->conn ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *svc_http_query(const struct svc_http_request *req, const char *name)
{
	return req->conn ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name)
	                 : NULL;
}

/* ---- route matching -------------------------------------------------- */

struct span {
	const char *start;
	size_t len;
};

/* Matches one pattern against `path`; fills spans[] with the parameters. */
static bool pattern_match(const char *p, const char *s, struct span spans[SVC_HTTP_MAX_PARAMS],
                          size_t *nspans)
{
	*nspans = 0;
	while (*p) {
		if (p[0] == '*' && p[1] == '\0') {
			if (*nspans >= SVC_HTTP_MAX_PARAMS)
				return false;
			spans[*nspans].start = s;
			spans[(*nspans)++].len = strlen(s);
			return true;
		}
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t seg = strcspn(s, "/");

			if (!close || seg == 0 || *nspans >= SVC_HTTP_MAX_PARAMS)
				return false;
			spans[*nspans].start = s;
			spans[(*nspans)++].len = seg;
			p = close + 1;
			s += seg;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

int svc_http_route_match(const struct svc_http_route *routes, size_t nroutes, const char *method,
                         const char *path, const char *params[SVC_HTTP_MAX_PARAMS], size_t *nparams,
                         char *scratch, size_t scratch_len, bool *method_mismatch)
{
	struct span spans[SVC_HTTP_MAX_PARAMS];
	size_t nspans, i, j, used = 0;

	*nparams = 0;
	*method_mismatch = false;
	if (!method || !path)
		return -1;
	for (i = 0; i < nroutes; i++) {
		if (!pattern_match(routes[i].pattern, path, spans, &nspans))
			continue;
		if (strcmp(routes[i].method, method) != 0) {
			*method_mismatch = true;
			continue;
		}
		/* Copy each parameter, NUL-terminated, into the caller's scratch. */
		for (j = 0; j < nspans; j++) {
			if (spans[j].len + 1 > scratch_len - used) {
				*nparams = 0;
				*method_mismatch = false;
				return -1; /* too long to hold: treated as unknown */
			}
			memcpy(scratch + used, spans[j].start, spans[j].len);
			scratch[used + spans[j].len] = '\0';
			params[j] = scratch + used;
			used += spans[j].len + 1;
		}
		*nparams = nspans;
		*method_mismatch = false;
		return (int)i;
	}
	return -1;
}

size_t svc_http_body_limit(const struct svc_http_route *routes, size_t nroutes,
                           const struct svc_http_body_limit *limits, size_t nlimits,
                           const char *method, const char *path, size_t max_body)
{
	char scratch[HTTP_SCRATCH_LEN];
	const char *params[SVC_HTTP_MAX_PARAMS];
	size_t nparams, i;
	bool mismatch;
	int idx;

	if (!limits || nlimits == 0)
		return max_body;
	idx = svc_http_route_match(routes, nroutes, method, path, params, &nparams, scratch,
	                           sizeof(scratch), &mismatch);
	for (i = 0; idx >= 0 && i < nlimits; i++)
		if (!strcmp(limits[i].method, routes[idx].method) &&
		    !strcmp(limits[i].pattern, routes[idx].pattern))
			return limits[i].max_body;
	return max_body;
}

/* ---- MHD glue -------------------------------------------------------- */

void svc_http_reply_metrics(struct svc_http_response *res, struct svc_prom *r)
{
	struct svc_buf text;

	svc_buf_init(&text);
	if (svc_prom_render(r, &text) == 0)
		svc_http_reply_raw(res, 200, SVC_PROM_CONTENT_TYPE, svc_buf_str(&text), text.len);
	else
		svc_http_reply_problem(res, 503, NULL, NULL, "out of memory");
	svc_buf_release(&text);
}

static const char *const status_classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

/* Counts one response into the server's metrics, by the route's template
 * (bounded, unlike the raw path): "unmatched" for refusals before a route
 * was found. `st` NULL: a refusal before the request had any state. */
static void count_response(struct svc_http_server *srv, const struct http_request_state *st,
                           int status)
{
	const struct svc_http_route *route = st && st->route >= 0 ? &srv->routes[st->route] : NULL;
	const char *pattern = route ? route->pattern : "unmatched";
	const char *method = route ? route->method : "";
	int cls = status / 100 - 1;

	if (!srv->requests)
		return;
	svc_prom_inc(svc_prom_at(srv->requests, pattern, method,
	                         status_classes[cls < 0   ? 0
	                                        : cls > 4 ? 4
	                                                  : cls]));
	if (st && st->started_us)
		svc_prom_observe(svc_prom_at(srv->latency, pattern, method),
		                 (double)(svc_mono_us() - st->started_us) / 1e6);
}

static enum MHD_Result queue_response(struct svc_http_server *srv, struct MHD_Connection *conn,
                                      const struct http_request_state *st,
                                      struct svc_http_response *res)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	size_t i;

	if (!res->body && res->status != 204 && res->status != 304)
		svc_http_reply_problem(res, 500, NULL, NULL, "the handler produced no response");
	count_response(srv, st, res->status);
	if (srv->stats) {
		atomic_fetch_add(&srv->stats->requests, 1);
		if (res->status >= 500 && res->status <= 599)
			atomic_fetch_add(&srv->stats->errors5xx, 1);
	}
	if (res->body) {
		r = MHD_create_response_from_buffer(res->body_len, res->body,
		                                    MHD_RESPMEM_MUST_FREE);
		if (r)
			res->body = NULL; /* MHD frees it now */
	} else {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		goto release;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        res->content_type ? res->content_type : "application/json");
	for (i = 0; i < res->nheaders; i++)
		MHD_add_response_header(r, res->headers[i][0], res->headers[i][1]);
	ret = MHD_queue_response(conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
release:
	svc_http_response_release(res);
	return ret;
}

static enum MHD_Result reply_problem_now(struct svc_http_server *srv, struct MHD_Connection *conn,
                                         const struct http_request_state *st, int status,
                                         const char *detail)
{
	struct svc_http_response res = {.status = status};

	svc_http_reply_problem(&res, status, NULL, NULL, "%s", detail);
	return queue_response(srv, conn, st, &res);
}

/* ---- access and media type ------------------------------------------ */

int svc_http_authorize(const struct svc_auth *auth, enum svc_http_access access,
                       const char *authorization, bool peer_is_loopback, long now,
                       struct svc_principal *who, char *why, size_t whylen)
{
	unsigned needed =
	        access == SVC_HTTP_ADMIN ? SVC_ROLE_ADMIN : SVC_ROLE_CUSTOMER | SVC_ROLE_ADMIN;

	memset(who, 0, sizeof(*who));
	if (access == SVC_HTTP_PUBLIC)
		return 0;
	if (access == SVC_HTTP_LOCAL) {
		if (peer_is_loopback)
			return 0;
		snprintf(why, whylen, "served to the containers of the same pod only");
		return 403;
	}
	if (!auth) {
		snprintf(why, whylen, "no token verifier is configured");
		return 401;
	}
	if (svc_auth_verify(auth, authorization, (time_t)now, who, why, whylen) != 0)
		return 401;
	if (!svc_principal_has(who, needed)) {
		snprintf(why, whylen, "the token lacks the %s role",
		         access == SVC_HTTP_ADMIN ? "admin" : "customer");
		memset(who, 0, sizeof(*who));
		return 403;
	}
	return 0;
}

bool svc_http_is_json_type(const char *ct)
{
	size_t n;

	if (!ct || strncasecmp(ct, "application/", 12) != 0)
		return false;
	ct += 12;
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 4 && !strncasecmp(ct, "json", 4))
		return true;
	return n > 5 && !strncasecmp(ct + n - 5, "+json", 5) && !memchr(ct, '/', n);
}

static bool peer_is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa && sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >>
		        24) == 127;
	if (sa && sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		        &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return false;
}

static bool has_body_method(const char *method)
{
	return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
}

static void dispatch(struct svc_http_server *srv, struct MHD_Connection *conn, const char *method,
                     const char *url, struct http_request_state *st, struct svc_http_response *res)
{
	char scratch[HTTP_SCRATCH_LEN], why[160];
	struct svc_http_request req = {0};
	struct svc_principal who;
	bool mismatch;
	int idx, status;

	idx = svc_http_route_match(srv->routes, srv->nroutes, method, url, req.params, &req.nparams,
	                           scratch, sizeof(scratch), &mismatch);
	st->route = idx;
	if (idx < 0 && mismatch) {
		svc_http_reply_problem(res, 405, NULL, NULL, "%s is not allowed here", method);
		return;
	}
	if (idx < 0) {
		svc_http_reply_problem(res, 404, NULL, NULL, "no such resource");
		return;
	}
	status = svc_http_authorize(
	        srv->auth, srv->routes[idx].access,
	        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	        peer_is_loopback(conn), (long)time(NULL), &who, why, sizeof(why));
	if (status != 0) {
		svc_http_reply_problem(res, status, NULL, NULL, "%s", why);
		if (status == 401)
			svc_http_add_header(res, "WWW-Authenticate",
			                    "Bearer realm=\"saga-orders\"");
		return;
	}
	/* JSON bodies only, on the routes a browser can reach (a cross-site form
	 * posts text/plain); the pod-internal ones carry what they proxy. */
	if (srv->routes[idx].access != SVC_HTTP_LOCAL && st->body.len > 0 &&
	    has_body_method(method) &&
	    !svc_http_is_json_type(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                                       MHD_HTTP_HEADER_CONTENT_TYPE))) {
		svc_http_reply_problem(res, 415, NULL, NULL,
		                       "the body must be sent as Content-Type: application/json");
		return;
	}
	req.principal = &who;
	req.method = method;
	req.path = url;
	req.body = svc_buf_str(&st->body);
	req.body_len = st->body.len;
	req.conn = conn;
	srv->routes[idx].handler(srv->ctx, &req, res);
	svc_log_context_clear(); /* what a handler set is not the next request's */
}

/* Sums the sizes of the request's header lines (MHD iterator). */
static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
	size_t *total = cls;

	(void)kind;
	*total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
	return MHD_YES;
}

/* The problem status (400, 414, 431) of a request line or headers we refuse
 * before routing, or 0. */
static int refuse_early(struct MHD_Connection *conn, const char *url, const char **detail)
{
	size_t headers = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)url; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*detail = "the path contains a NUL or control character";
			return 400;
		}
	if (strlen(url) > SVC_HTTP_MAX_URL) {
		*detail = "the path is too long";
		return 414;
	}
	MHD_get_connection_values(conn, MHD_HEADER_KIND, &add_header_size, &headers);
	if (headers > SVC_HTTP_MAX_HEADER_BYTES) {
		*detail = "the request headers are too large";
		return 431;
	}
	return 0;
}

/*
 * MHD's unescaper for paths and query arguments, with one difference: a
 * percent-encoded NUL becomes 0x01 instead of ending the string there, so
 * that "/api/inventory/x%00evil" is refused (refuse_early) rather than read
 * as "/api/inventory/x".
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *in = s, *hi, *lo;
	char *out = s;

	(void)cls;
	(void)conn;
	while (*in) {
		if (in[0] == '%' && in[1] && in[2] && (hi = strchr(hex, in[1] | 0x20)) &&
		    (lo = strchr(hex, in[2] | 0x20))) {
			char c = (char)((hi - hex) * 16 + (lo - hex));

			*out++ = c ? c : '\x01';
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* True when the request announces a body larger than the limit. */
static bool announced_too_large(struct MHD_Connection *conn, size_t max_body)
{
	const char *cl =
	        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end = NULL;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno == 0 && end != cl && n > max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct svc_http_server *srv = cls;
	struct http_request_state *st = *con_cls;
	struct svc_http_response res = {.status = 200};
	const char *detail = NULL;
	int status;

	(void)version;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO; /* closes the connection */
		svc_buf_init(&st->body);
		st->route = -1;
		st->started_us = svc_mono_us();
		*con_cls = st;
		status = refuse_early(conn, url, &detail);
		if (status != 0) {
			st->answered = true;
			return reply_problem_now(srv, conn, st, status, detail);
		}
		st->max_body = svc_http_body_limit(srv->routes, srv->nroutes, srv->body_limits,
		                                   srv->nbody_limits, method, url, srv->max_body);
		if (announced_too_large(conn, st->max_body)) {
			/* Answer before the body is sent; MHD then closes the connection. */
			st->answered = true;
			return reply_problem_now(srv, conn, st, 413, "request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!st->answered && !st->too_large) {
			if (*upload_data_size > st->max_body - st->body.len) {
				/* Chunked upload past the limit: drop what we have and
				 * discard the rest, answering 413 at the end. */
				st->too_large = true;
				svc_buf_release(&st->body);
				svc_buf_init(&st->body);
			} else if (svc_buf_add(&st->body, upload_data, *upload_data_size) != 0) {
				return MHD_NO;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->answered)
		return MHD_YES;
	if (st->too_large)
		return reply_problem_now(srv, conn, st, 413, "request body too large");
	if (st->body.failed)
		return reply_problem_now(srv, conn, st, 500, "out of memory");
	dispatch(srv, conn, method, url, st, &res);
	return queue_response(srv, conn, st, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_request_state *st = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!st)
		return;
	svc_buf_release(&st->body);
	free(st);
	*con_cls = NULL;
}

/* libmicrohttpd's printf-style log callback (format attribute: -Wformat=2). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	svc_warn("http: %s", msg);
}

struct svc_http_server *svc_http_server_start(const struct svc_http_server_config *cfg,
                                              const struct svc_http_route *routes, size_t nroutes,
                                              void *ctx)
{
	struct svc_http_server *srv = NULL;
	struct sockaddr_in addr = {0};
	unsigned threads = cfg->threads ? cfg->threads : 1;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	/* MHD's default is select()'s FD_SETSIZE - 4 even with epoll: too few
	 * for a load balancer or load generator keeping thousands open. */
	unsigned max_connections =
	        cfg->max_connections ? cfg->max_connections : SVC_HTTP_MAX_CONNECTIONS_DEFAULT;
	size_t i;

	if (cfg->port == 0 || cfg->port > 65535) {
		svc_error("http: invalid port %u", cfg->port);
		goto fail;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	if (cfg->bind_addr && *cfg->bind_addr &&
	    inet_pton(AF_INET, cfg->bind_addr, &addr.sin_addr) != 1) {
		svc_error("http: invalid bind address \"%s\"", cfg->bind_addr);
		goto fail;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		goto fail;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->ctx = ctx;
	srv->max_body = cfg->max_body;
	srv->body_limits = cfg->body_limits;
	srv->nbody_limits = cfg->nbody_limits;
	srv->stats = cfg->stats;
	srv->auth = cfg->auth;
	srv->requests =
	        svc_prom_counter(cfg->prom, "svc_http_requests_total",
	                         "HTTP responses by route template, method and status class.",
	                         "route,method,status_class");
	srv->latency = svc_prom_histogram(cfg->prom, "svc_http_request_duration_seconds",
	                                  "Time from a request's headers to its response queued.",
	                                  "route,method", NULL, 0);
	for (i = 0; i < nroutes && !cfg->auth; i++)
		if (routes[i].access == SVC_HTTP_ADMIN || routes[i].access == SVC_HTTP_CUSTOMER) {
			svc_error("http: %s %s needs a token and no verifier is configured "
			          "(JWT_SECRET or JWT_PUBLIC_KEY_FILE)",
			          routes[i].method, routes[i].pattern);
			goto fail;
		}
	/* One option and its arguments per line. */
	/* clang-format off */
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)cfg->port, NULL, NULL, &on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, NULL, /* first, to catch everything */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
		MHD_OPTION_NOTIFY_COMPLETED, &on_completed, srv,
		MHD_OPTION_UNESCAPE_CALLBACK, &unescape, NULL,
		MHD_OPTION_END);
	/* clang-format on */
	if (!srv->daemon) {
		svc_error("http: cannot listen on %s:%u",
		          cfg->bind_addr ? cfg->bind_addr : "0.0.0.0", cfg->port);
		goto fail;
	}
	svc_info("http: listening on %s:%u with %u threads",
	         cfg->bind_addr ? cfg->bind_addr : "0.0.0.0", cfg->port, threads);
	return srv;
fail:
	free(srv);
	return NULL;
}

void svc_http_server_free(struct svc_http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
