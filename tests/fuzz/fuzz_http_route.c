/*
 * Route matching (svc_http_route_match) on hostile request lines, over tables
 * that mirror the real ones: each service's routes followed by the built-in
 * ones of svc_run, the sidecar's admin/egress table and the gateway
 * simulator's. A match must rebuild the exact path from its pattern and
 * parameters; parameters must sit in the caller's scratch, terminated.
 *
 * Input: byte 0 picks the method, byte 1 the table, byte 2 the scratch size,
 * the rest is the path (cut at a NUL, as the server receives it).
 */
#include "tests/fuzz/fuzz.h"

#include "svc/http.h"

static void handler(void *ctx, const struct svc_http_request *req, struct svc_http_response *res)
{
	(void)ctx;
	(void)req;
	(void)res;
}

/* svc_run appends these to every service's own routes (services/common/src/service.c) */
#define BUILTIN                                                                                    \
	{"GET", "/health/live", handler, SVC_HTTP_PUBLIC},                                         \
	        {"GET", "/health/ready", handler, SVC_HTTP_PUBLIC},                                \
	        {"GET", "/openapi.json", handler, SVC_HTTP_PUBLIC},                                \
	        {"GET", "/swagger-ui.html", handler, SVC_HTTP_PUBLIC},                             \
	        {"GET", "/swagger-ui/*", handler, SVC_HTTP_PUBLIC},                                \
	        {"POST", "/internal/events", handler, SVC_HTTP_PUBLIC},
/* the sidecar's egress routes, per method (resilience/sidecar/admin.c) */
#define EGRESS(m)                                                                                  \
	{m, "/egress/{route}/*", handler, SVC_HTTP_LOCAL},                                         \
	        {m, "/egress/{route}", handler, SVC_HTTP_LOCAL},

static const struct svc_http_route order_routes[] = {
        {"POST", "/api/orders", handler, SVC_HTTP_PUBLIC},
        {"GET", "/api/orders/{orderId}", handler, SVC_HTTP_PUBLIC},
        BUILTIN};
static const struct svc_http_route inventory_routes[] = {
        {"GET", "/api/inventory/{productId}", handler, SVC_HTTP_PUBLIC},
        {"PUT", "/api/inventory/{productId}", handler, SVC_HTTP_PUBLIC},
        BUILTIN};
static const struct svc_http_route payment_routes[] = {
        {"POST", "/api/payments", handler, SVC_HTTP_PUBLIC},
        {"GET", "/api/payments/reconciliation", handler, SVC_HTTP_ADMIN},
        {"GET", "/api/payments/{orderId}", handler, SVC_HTTP_CUSTOMER},
        BUILTIN};
static const struct svc_http_route notification_routes[] = {
        {"POST", "/api/notifications", handler, SVC_HTTP_PUBLIC},
        {"GET", "/api/notifications", handler, SVC_HTTP_PUBLIC},
        {"GET", "/api/notifications/{notificationId}", handler, SVC_HTTP_PUBLIC},
        BUILTIN};
static const struct svc_http_route sidecar_routes[] = {
        {"GET", "/health/live", handler, SVC_HTTP_PUBLIC},
        {"GET", "/health/ready", handler, SVC_HTTP_PUBLIC},
        {"GET", "/metrics", handler, SVC_HTTP_PUBLIC},
        EGRESS("GET") EGRESS("POST") EGRESS("PUT") EGRESS("PATCH") EGRESS("DELETE") EGRESS("HEAD")};
static const struct svc_http_route gateway_routes[] = {
        {"POST", "/v1/charges", handler, SVC_HTTP_PUBLIC},
        {"GET", "/v1/charges/{chargeId}", handler, SVC_HTTP_PUBLIC},
        {"POST", "/v1/refunds", handler, SVC_HTTP_PUBLIC},
        {"GET", "/admin/config", handler, SVC_HTTP_PUBLIC},
        {"POST", "/admin/config", handler, SVC_HTTP_PUBLIC},
        {"GET", "/health/live", handler, SVC_HTTP_PUBLIC},
        {"GET", "/health/ready", handler, SVC_HTTP_PUBLIC},
};

#define NROUTES(t) (sizeof(t) / sizeof(t[0]))
static const struct {
	const struct svc_http_route *routes;
	size_t n;
} tables[] = {
        {order_routes, NROUTES(order_routes)},
        {inventory_routes, NROUTES(inventory_routes)},
        {payment_routes, NROUTES(payment_routes)},
        {notification_routes, NROUTES(notification_routes)},
        {sidecar_routes, NROUTES(sidecar_routes)},
        {gateway_routes, NROUTES(gateway_routes)},
};

static const char *const methods[] = {"GET",  "POST",    "PUT", "PATCH", "DELETE",
                                      "HEAD", "OPTIONS", "get", ""};

/* Rebuilds the path a match stands for; false when it does not fit `out`. */
static bool rebuild(const char *pattern, const char *const *params, size_t nparams, char *out,
                    size_t outlen)
{
	size_t k = 0, o = 0;

	for (const char *p = pattern; *p;) {
		const char *piece = p;
		size_t len = 1;

		if (*p == '{' || (p[0] == '*' && p[1] == '\0')) {
			FUZZ_CHECK(k < nparams);
			piece = params[k++];
			len = strlen(piece);
			p = *p == '{' ? strchr(p, '}') + 1 : p + 1;
		} else {
			p++;
		}
		if (o + len >= outlen)
			return false;
		memcpy(out + o, piece, len);
		o += len;
	}
	FUZZ_CHECK(k == nparams);
	out[o] = '\0';
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096], again[4096 + 16];
	char scratch[2048];
	const char *params[SVC_HTTP_MAX_PARAMS];
	const struct svc_http_route *routes;
	size_t nparams = 99, n, scratch_len, plen;
	const char *method;
	bool mismatch;
	int idx;

	if (size < 3)
		return 0;
	method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	routes = tables[data[1] % (sizeof(tables) / sizeof(tables[0]))].routes;
	n = tables[data[1] % (sizeof(tables) / sizeof(tables[0]))].n;
	/* small scratch sizes too: parameters that do not fit make the route unknown */
	scratch_len = data[2] & 0x80 ? (size_t)(data[2] & 0x7f) : sizeof(scratch);
	plen = size - 3 < sizeof(path) - 1 ? size - 3 : sizeof(path) - 1;
	memcpy(path, data + 3, plen);
	path[plen] = '\0';

	idx = svc_http_route_match(routes, n, method, path, params, &nparams, scratch, scratch_len,
	                           &mismatch);
	FUZZ_CHECK(idx >= -1 && idx < (int)n);
	if (idx < 0) {
		FUZZ_CHECK(nparams == 0);
		return 0;
	}
	FUZZ_CHECK(!mismatch);
	FUZZ_CHECK(strcmp(routes[idx].method, method) == 0);
	FUZZ_CHECK(nparams <= SVC_HTTP_MAX_PARAMS);
	for (size_t i = 0; i < nparams; i++) {
		size_t len = strlen(params[i]);

		FUZZ_CHECK(params[i] >= scratch && params[i] + len < scratch + scratch_len);
	}
	for (const char *p = routes[idx].pattern, *q; (q = strchr(p, '{')) != NULL;
	     p = strchr(q, '}') + 1) {
		size_t k = 0;

		for (const char *c = routes[idx].pattern; c < q; c++)
			k += *c == '{';
		/* a {placeholder} is one non-empty segment */
		FUZZ_CHECK(params[k][0] != '\0' && strchr(params[k], '/') == NULL);
	}
	FUZZ_CHECK(rebuild(routes[idx].pattern, params, nparams, again, sizeof(again)));
	FUZZ_CHECK(strcmp(again, path) == 0);
	return 0;
}
