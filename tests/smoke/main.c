/*
 * saga-smoke: the smoke test of a deployed system (`helm test`). Two products
 * and one order of each: the cheap one must end CONFIRMED, the one priced
 * above the payment gateway's decline threshold CANCELLED (declined, stock
 * released). Every step is printed.
 *
 *   saga-smoke
 *
 * Environment: ORDER_URL (http://saga-order:8081), INVENTORY_URL
 * (http://saga-inventory:8083), JWT_SECRET (required: the HS256 key the
 * services verify bearer tokens with; the products are put with an admin
 * token, the orders placed and read with the token of a customer named after
 * the run), GATEWAY_DECLINE_ABOVE (100000: the gateway simulator's setting;
 * the second product costs one minor unit more), SMOKE_TIMEOUT_S (120: the
 * deadline of the whole run). Requests that get no
 * answer or a 5xx are retried until the deadline (a system still starting);
 * any other unexpected answer fails at once. Product ids and idempotency keys
 * carry a per-run id, so runs never interfere.
 *
 * Exit status: 0 when both orders ended as expected, 1 when not, 2 on bad
 * configuration.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc/auth.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/url.h"
#include "tests/smoke/smoke.h"

#define SMOKE_REQUEST_TIMEOUT_MS 10000
#define SMOKE_POLL_MS            250
#define SMOKE_RETRY_MS           2000
#define SMOKE_URL_MAX            512
#define SMOKE_PRODUCT_ID_MAX     64
#define SMOKE_STOCK              10
/* Inventory refuses prices above this many minor units. */
#define SMOKE_PRICE_MAX (INT64_MAX / 1000000)
/* The subject of the admin token (the products). */
#define SMOKE_ADMIN_SUBJECT "saga-smoke-admin"
/* Token lifetime beyond the run's deadline. */
#define SMOKE_TOKEN_SLACK_S 300

/* One order of the run and what it must end as. */
struct smoke_case {
	const char *label;
	char product_id[SMOKE_PRODUCT_ID_MAX];
	int64_t price;
	const char *expect;
	struct smoke_order order;
	bool terminal;
};

/* `name` from the environment without trailing slashes, into buf; -1 when too long. */
static int env_url(const char *name, const char *def, char *buf, size_t len)
{
	if (svc_url_join(buf, len, svc_env_str(name, def), "") != 0 || !buf[0]) {
		fprintf(stderr, "saga-smoke: %s is empty or too long\n", name);
		return -1;
	}
	return 0;
}

/* The header line "Authorization: Bearer <token>" for `subject` with
 * `roles` (enum svc_role bits), signed with the HS256 key `secret`, valid
 * for `ttl_s`. malloc'd (free()), NULL on failure. */
static char *auth_header(const char *secret, const char *subject, unsigned roles, long ttl_s)
{
	char *token =
	        svc_auth_mint_hs256(secret, strlen(secret), subject, roles, time(NULL), ttl_s);
	char *line = NULL;
	struct svc_buf buf;

	if (!token)
		return NULL;
	svc_buf_init(&buf);
	svc_buf_addf(&buf, "Authorization: Bearer %s", token);
	line = svc_buf_take(&buf); /* NULL when it failed */
	free(token);
	return line;
}

static bool is_terminal(const char *status)
{
	return !strcmp(status, "CONFIRMED") || !strcmp(status, "CANCELLED");
}

/* After a failed step: true (having waited) when `rc` is worth another try
 * before `deadline`. */
static bool retry_later(int rc, double deadline)
{
	if (rc != SVC_ETRANSIENT || svc_mono_s() + SMOKE_RETRY_MS / 1000.0 >= deadline)
		return false;
	printf("  (again in %d ms)\n", SMOKE_RETRY_MS);
	svc_sleep_ms(SMOKE_RETRY_MS);
	return true;
}

static int put_product(const struct smoke_api *api, const struct smoke_case *c, double deadline)
{
	char what[512];
	int rc;

	for (;;) {
		rc = smoke_put_product(api, c->product_id, SMOKE_STOCK, c->price, what,
		                       sizeof(what));
		printf("  price %lld, %d in stock: %s\n", (long long)c->price, SMOKE_STOCK, what);
		if (!rc || !retry_later(rc, deadline))
			return rc;
	}
}

static int create_order(const struct smoke_api *api, const char *run_id, struct smoke_case *c,
                        double deadline)
{
	char what[512], key[128];
	int rc;

	snprintf(key, sizeof(key), "%s-%s", run_id, c->label);
	for (;;) {
		rc = smoke_create_order(api, run_id, c->product_id, 1, key, &c->order, what,
		                        sizeof(what));
		printf("  1 x %s: %s", c->product_id, what);
		if (!rc)
			printf(", order %s %s", c->order.id, c->order.status);
		printf("\n");
		if (!rc || !retry_later(rc, deadline))
			return rc;
	}
}

/* Polls every order until all are terminal or `deadline` passes; prints each
 * status change. Returns 0 when all are terminal. */
static int wait_terminal(const struct smoke_api *api, struct smoke_case *cases, size_t n, double t0,
                         double deadline)
{
	char what[512], seen[SMOKE_TEXT_MAX];
	size_t left = n;
	int rc;

	while (left > 0) {
		for (size_t i = 0; i < n; i++) {
			struct smoke_case *c = &cases[i];
			if (c->terminal)
				continue;
			snprintf(seen, sizeof(seen), "%s", c->order.status);
			rc = smoke_get_order(api, &c->order, what, sizeof(what));
			if (rc == SVC_EPERMANENT) {
				printf("  order %s: %s\n", c->order.id, what);
				return -1;
			}
			if (rc) {
				printf("  order %s: %s (will retry)\n", c->order.id, what);
				continue;
			}
			if (strcmp(seen, c->order.status))
				printf("  %6.2f s  order %s (%s): %s\n", svc_mono_s() - t0,
				       c->order.id, c->label, c->order.status);
			if (is_terminal(c->order.status)) {
				c->terminal = true;
				left--;
			}
		}
		if (left == 0)
			break;
		if (svc_mono_s() >= deadline) {
			printf("  %zu order(s) not terminal by the deadline\n", left);
			return -1;
		}
		svc_sleep_ms(SMOKE_POLL_MS);
	}
	return 0;
}

int main(void)
{
	char order_url[SMOKE_URL_MAX], inventory_url[SMOKE_URL_MAX], run_id[64];
	struct smoke_api api = {.order_url = order_url,
	                        .inventory_url = inventory_url,
	                        .timeout_ms = SMOKE_REQUEST_TIMEOUT_MS};
	struct smoke_case cases[] = {
	        {.label = "cheap", .price = 1999, .expect = "CONFIRMED"},
	        {.label = "declined", .expect = "CANCELLED"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct timespec wall;
	const char *secret;
	char *admin_auth = NULL, *customer_auth = NULL;
	long decline_above, timeout_s;
	double t0, deadline;
	int failed = 0, rc = EXIT_FAILURE;

	svc_log_init("saga-smoke");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (env_url("ORDER_URL", "http://saga-order:8081", order_url, sizeof(order_url)) ||
	    env_url("INVENTORY_URL", "http://saga-inventory:8083", inventory_url,
	            sizeof(inventory_url)))
		return 2;
	decline_above = svc_env_long("GATEWAY_DECLINE_ABOVE", 100000, 0, SMOKE_PRICE_MAX - 1);
	timeout_s = svc_env_long("SMOKE_TIMEOUT_S", 120, 1, 86400);
	cases[1].price = (int64_t)decline_above + 1;
	secret = svc_auth_signing_secret("saga-smoke");
	if (!secret)
		return 2;
	if (svc_httpc_global_init()) {
		fprintf(stderr, "saga-smoke: curl_global_init failed\n");
		return 2;
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	snprintf(run_id, sizeof(run_id), "smoke-%lld-%ld-%ld", (long long)wall.tv_sec,
	         (long)getpid(), wall.tv_nsec / 1000);
	for (size_t i = 0; i < n; i++) {
		size_t len = sizeof(cases[i].product_id);
		if ((size_t)snprintf(cases[i].product_id, len, "%s-%s", run_id, cases[i].label) >=
		    len) {
			fprintf(stderr, "saga-smoke: product id too long\n");
			return 2;
		}
	}
	/* the run's customer is the user its orders are for (run_id) */
	admin_auth = auth_header(secret, SMOKE_ADMIN_SUBJECT, SVC_ROLE_ADMIN,
	                         timeout_s + SMOKE_TOKEN_SLACK_S);
	customer_auth =
	        auth_header(secret, run_id, SVC_ROLE_CUSTOMER, timeout_s + SMOKE_TOKEN_SLACK_S);
	if (!admin_auth || !customer_auth) {
		fprintf(stderr, "saga-smoke: cannot sign the bearer tokens\n");
		rc = 2;
		goto release;
	}
	api.admin_auth = admin_auth;
	api.customer_auth = customer_auth;
	t0 = svc_mono_s();
	deadline = t0 + (double)timeout_s;
	printf("saga-smoke %s: order %s, inventory %s, decline above %ld, deadline %ld s\n", run_id,
	       order_url, inventory_url, decline_above, timeout_s);

	printf("1. products\n");
	for (size_t i = 0; i < n; i++)
		if (put_product(&api, &cases[i], deadline))
			goto fail;
	printf("2. orders\n");
	for (size_t i = 0; i < n; i++)
		if (create_order(&api, run_id, &cases[i], deadline))
			goto fail;
	printf("3. waiting for the sagas to end\n");
	if (wait_terminal(&api, cases, n, t0, deadline))
		goto fail;
	printf("4. outcome\n");
	for (size_t i = 0; i < n; i++) {
		const struct smoke_case *c = &cases[i];
		bool ok = !strcmp(c->order.status, c->expect);
		printf("  %s: order %s (%s) %s%s%s, want %s\n", ok ? "ok  " : "FAIL", c->order.id,
		       c->label, c->order.status, c->order.reason[0] ? ": " : "", c->order.reason,
		       c->expect);
		failed += !ok;
	}
	if (failed)
		goto fail;
	printf("saga-smoke: PASS in %.1f s\n", svc_mono_s() - t0);
	rc = EXIT_SUCCESS;
	goto release;
fail:
	printf("saga-smoke: FAIL after %.1f s\n", svc_mono_s() - t0);
release:
	free(customer_auth);
	free(admin_auth);
	return rc;
}
