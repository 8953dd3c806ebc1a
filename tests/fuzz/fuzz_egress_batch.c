/*
 * The sidecar's POST /egress-batch/<route> body (sc_egress_batch_read,
 * resilience/sidecar/egress_batch.c), read for a route to
 * http://127.0.0.1:1/base: a refused body names the field in a 400 problem
 * and sends nothing; an accepted one gives 1 to SC_EGRESS_BATCH_MAX items,
 * each with a known method and a URL below the route's that no request line
 * could be broken or climbed out of with, and header lines without CR/LF.
 * Nothing is sent: the items are only read.
 */
#include "tests/fuzz/fuzz.h"

#include "resilience/sidecar/egress.h"
#include "svc/error.h"

#define ROUTE_URL "http://127.0.0.1:1/base"

static struct sc_egress *eg;

static bool url_safe(const char *url)
{
	const char *rest = url + strlen(ROUTE_URL "/"), *seg;
	size_t plen;

	if (strncmp(url, ROUTE_URL "/", strlen(ROUTE_URL "/")) != 0)
		return false;
	for (const char *s = rest; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '#' || *s == '\\')
			return false;
	plen = strcspn(rest, "?");
	for (size_t i = 0; i + 3 <= plen; i++)
		if (rest[i] == '%' && rest[i + 1] == '2' && (rest[i + 2] | 0x20) == 'e')
			return false; /* a percent-encoded dot */
	for (seg = rest; seg < rest + plen;) {
		size_t len = strcspn(seg, "/?");

		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		seg += len + 1;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svc_problem p = {0};
	struct sc_egress_item *items = NULL;
	size_t n = 0;
	int rc;

	if (!eg) {
		setenv("LOG_LEVEL", "error", 0);
		eg = sc_egress_new("up=" ROUTE_URL);
		FUZZ_CHECK(eg != NULL);
	}
	rc = sc_egress_batch_read(eg, sc_egress_route(eg, "up"), (const char *)data, size, &items,
	                          &n, &p);
	if (rc != 0) {
		FUZZ_CHECK(rc == SVC_EPERMANENT && items == NULL && n == 0);
		fuzz_check_problem(&p);
		FUZZ_CHECK(p.status == 400 && strncmp(p.field, "requests", 8) == 0);
		return 0;
	}
	FUZZ_CHECK(n >= 1 && n <= SC_EGRESS_BATCH_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct sc_egress_item *it = &items[i];

		FUZZ_CHECK(it->method && strchr("GHPD", it->method[0]));
		FUZZ_CHECK(url_safe(it->url));
		FUZZ_CHECK(it->max_attempts >= 1);
		FUZZ_CHECK(it->headers[0] && !strncmp(it->headers[0], "Content-Type:", 13));
		for (size_t h = 0; h < SC_EGRESS_NLINES && it->headers[h]; h++)
			FUZZ_CHECK(!strpbrk(it->headers[h], "\r\n"));
		FUZZ_CHECK(it->body_len == 0 || it->body != NULL);
	}
	sc_egress_batch_free(items, n);
	return 0;
}
