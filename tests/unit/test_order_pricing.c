/*
 * Unit tests of services/order/pricing.h: the grouping of many requests'
 * products into shared calls (order_pricing_group, with a fake call), and
 * order_pricing_quote against a fake sidecar egress on a random port of
 * 127.0.0.1 (its answers, its error mapping, concurrent requests sharing a
 * call). How a combiner forms groups is test_combine.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "services/order/order.h"
#include "services/order/price_cache.h"
#include "services/order/pricing.h"
#include "services/order/request.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/http.h"
#include "svc/httpc.h"
#include "svc/log.h"

/* ---- order_pricing_group with a fake call ------------------------------ */

#define MAX_CALLS 8

/* What the fake call saw and how it answers: every id costs 100 times its
 * length, except "unknown*" (missing) and "silent*" (left out). */
struct fake {
	size_t ncalls;
	size_t sizes[MAX_CALLS];
	char first[MAX_CALLS][16]; /* the first id of each call */
	size_t fail_from;          /* calls from this one on fail (0: none) */
	size_t seen;               /* ids asked, in all calls */
	int sorted;                /* every call's ids were sorted and distinct */
};

static int fake_fetch(void *arg, const char *const *ids, size_t n, int64_t *prices, int *rcs)
{
	struct fake *f = arg;

	assert_true(n >= 1 && n <= ORDER_PRICING_CHUNK);
	assert_true(f->ncalls < MAX_CALLS);
	f->sizes[f->ncalls] = n;
	snprintf(f->first[f->ncalls], sizeof(f->first[0]), "%s", ids[0]);
	f->ncalls++;
	f->seen += n;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rcs[i], SVC_ETRANSIENT);
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			f->sorted = 0;
	}
	if (f->fail_from && f->ncalls >= f->fail_from) {
		rcs[0] = 0; /* whatever a failed call left behind counts for nothing */
		return SVC_ETRANSIENT;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(ids[i], "unknown", 7) == 0) {
			rcs[i] = SVC_ENOTFOUND;
		} else if (strncmp(ids[i], "silent", 6) != 0) {
			prices[i] = 100 * (int64_t)strlen(ids[i]);
			rcs[i] = 0;
		}
	}
	return 0;
}

static struct order_price_ask ask_of(const char *const *ids, size_t n)
{
	struct order_price_ask a;

	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i < n; i++)
		a.ids[a.n++] = ids[i];
	return a;
}

static void test_order_pricing_group_asks_each_distinct_id_once_across_requests(void **state)
{
	static const char *const r1[] = {"P3", "P1"}, *const r2[] = {"P1", "P22"},
	                         *const r3[] = {"P3"};
	struct order_price_ask a = ask_of(r1, 2), b = ask_of(r2, 2), c = ask_of(r3, 1);
	void *asks[] = {&a, &b, &c};
	struct fake f = {.sorted = 1};

	(void)state;
	assert_int_equal(order_pricing_group(asks, 3, fake_fetch, &f), 0);
	assert_int_equal(f.ncalls, 1);
	assert_int_equal(f.sizes[0], 3); /* P1, P22, P3 */
	assert_string_equal(f.first[0], "P1");
	assert_true(f.sorted);
}

/* The group of two requests' ids through the fake call. */
static void group_two(struct order_price_ask *a, struct order_price_ask *b, struct fake *f)
{
	void *asks[] = {a, b};

	f->sorted = 1;
	assert_int_equal(order_pricing_group(asks, 2, fake_fetch, f), 0);
}

/* Line i of the ask came back with `rc`, and with `price` when priced. */
static void expect_line(const struct order_price_ask *a, size_t i, int rc, int64_t price)
{
	assert_int_equal(a->rcs[i], rc);
	if (rc == 0)
		assert_int_equal(a->prices[i], price);
}

static void test_order_pricing_group_gives_each_request_its_own_prices(void **state)
{
	static const char *const r1[] = {"P3", "P1"}, *const r2[] = {"P1", "P22"};
	struct order_price_ask a = ask_of(r1, 2), b = ask_of(r2, 2);
	struct fake f = {0};

	(void)state;
	group_two(&a, &b, &f);
	expect_line(&a, 0, 0, 200); /* P3 */
	expect_line(&a, 1, 0, 200); /* P1 */
	expect_line(&b, 0, 0, 200); /* P1 */
	expect_line(&b, 1, 0, 300); /* P22 */
}

static void test_order_pricing_group_marks_unknown_and_unanswered_ids_per_request(void **state)
{
	static const char *const r1[] = {"P1", "unknown-1"}, *const r2[] = {"silent-1", "P1"};
	struct order_price_ask a = ask_of(r1, 2), b = ask_of(r2, 2);
	struct fake f = {0};

	(void)state;
	group_two(&a, &b, &f);
	expect_line(&a, 0, 0, 200);
	expect_line(&a, 1, SVC_ENOTFOUND, 0);
	expect_line(&b, 0, SVC_ETRANSIENT, 0); /* the answer left it out */
	expect_line(&b, 1, 0, 200);
	assert_int_equal(f.ncalls, 1);
}

/* n asks of 50 distinct ids each: "Q0000" ... */
static void many_asks(struct order_price_ask *asks, void **items, char (*names)[8], size_t nasks)
{
	for (size_t i = 0; i < nasks; i++) {
		memset(&asks[i], 0, sizeof(asks[i]));
		for (size_t j = 0; j < ORDER_MAX_ITEMS; j++) {
			char *name = names[i * ORDER_MAX_ITEMS + j];

			/* under 10000 (500 here): the modulo tells gcc so at -Og too */
			snprintf(name, 8, "Q%04zu", (i * ORDER_MAX_ITEMS + j) % 10000);
			asks[i].ids[asks[i].n++] = name;
		}
		items[i] = &asks[i];
	}
}

static void test_order_pricing_group_splits_distinct_ids_into_chunks_of_200(void **state)
{
	static struct order_price_ask asks[10];
	static char names[10 * ORDER_MAX_ITEMS][8];
	void *items[11];
	struct order_price_ask again;
	struct fake f = {.sorted = 1};

	(void)state;
	many_asks(asks, items, names, 10); /* 500 distinct ids */
	again = asks[3];                   /* plus 50 repeated */
	items[10] = &again;
	assert_int_equal(order_pricing_group(items, 11, fake_fetch, &f), 0);
	assert_int_equal(f.ncalls, 3);
	assert_int_equal(f.sizes[0], 200);
	assert_int_equal(f.sizes[1], 200);
	assert_int_equal(f.sizes[2], 100);
	assert_string_equal(f.first[1], "Q0200");
	assert_int_equal(f.seen, 500);
	assert_true(f.sorted);
	assert_int_equal(asks[9].rcs[49], 0);
	assert_int_equal(asks[9].prices[49], 500);
	assert_int_equal(again.rcs[0], 0);
}

static void test_order_pricing_group_stops_after_a_failed_call(void **state)
{
	static struct order_price_ask asks[10];
	static char names[10 * ORDER_MAX_ITEMS][8];
	void *items[10];
	struct fake f = {.sorted = 1, .fail_from = 2};

	(void)state;
	many_asks(asks, items, names, 10);
	assert_int_equal(order_pricing_group(items, 10, fake_fetch, &f), 0);
	assert_int_equal(f.ncalls, 2); /* the third chunk is not asked */
	assert_int_equal(asks[0].rcs[0], 0);
	assert_int_equal(asks[3].rcs[49], 0);             /* Q0199: first call */
	assert_int_equal(asks[4].rcs[0], SVC_ETRANSIENT); /* Q0200: the failed one */
	assert_int_equal(asks[9].rcs[49], SVC_ETRANSIENT);
}

static void test_order_pricing_group_without_ids_makes_no_call(void **state)
{
	struct order_price_ask a = {0};
	void *asks[] = {&a};
	struct fake f = {.sorted = 1};

	(void)state;
	assert_int_equal(order_pricing_group(asks, 1, fake_fetch, &f), 0);
	assert_int_equal(f.ncalls, 0);
}

/* ---- order_pricing_quote against a fake egress ------------------------- */

/* The fake inventory behind the egress: answers GET .../api/inventory?ids=
 * with price 100 * length for every id but "unknown*" (missing). */
struct inventory {
	atomic_int calls;
	atomic_int status; /* 200, or what to answer instead */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool held; /* under mu: calls wait until it is cleared */
};

static struct inventory inv = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void inventory_hold(bool held)
{
	pthread_mutex_lock(&inv.mu);
	inv.held = held;
	pthread_cond_broadcast(&inv.cv);
	pthread_mutex_unlock(&inv.mu);
}

/* Polls until what(arg) is at least `want`, for at most 5 s; its last value. */
static size_t poll_until(size_t (*what)(void *), void *arg, size_t want)
{
	uint64_t deadline = svc_mono_ms() + 5000;
	size_t got;

	while ((got = what(arg)) < want && svc_mono_ms() < deadline)
		svc_sleep_ms(1);
	return got;
}

static void fake_inventory(void *ctx, const struct svc_http_request *req,
                           struct svc_http_response *res)
{
	const char *list = svc_http_query(req, "ids");
	json_t *products = json_array(), *missing = json_array();
	char *copy = strdup(list ? list : ""), *save = NULL;

	(void)ctx;
	atomic_fetch_add(&inv.calls, 1);
	pthread_mutex_lock(&inv.mu);
	while (inv.held)
		pthread_cond_wait(&inv.cv, &inv.mu);
	pthread_mutex_unlock(&inv.mu);
	for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
		if (strncmp(id, "unknown", 7) == 0)
			json_array_append_new(missing, json_string(id));
		else
			json_array_append_new(products,
			                      json_pack("{s:s, s:I}", "productId", id, "price",
			                                (json_int_t)(100 * strlen(id))));
	}
	free(copy);
	if (atomic_load(&inv.status) != 200) {
		json_decref(products);
		json_decref(missing);
		svc_http_reply_problem(res, atomic_load(&inv.status), NULL, NULL, "fake failure");
		return;
	}
	svc_http_reply_json(res, 200,
	                    json_pack("{s:o, s:o}", "products", products, "missing", missing));
}

static const struct svc_http_route egress_routes[] = {
        {"GET", "/egress/inventory/api/inventory", fake_inventory, SVC_HTTP_PUBLIC},
};

struct quote_fixture {
	struct svc_http_server *srv;
	char url[64];
	struct order_app app;
};

static int setup_egress(void **state)
{
	static struct quote_fixture f;
	struct svc_http_server_config cfg = {
	        .bind_addr = "127.0.0.1", .threads = 4, .max_body = 65536};

	memset(&f, 0, sizeof(f));
	for (int i = 0; i < 10 && !f.srv; i++) {
		cfg.port = 20000 + (unsigned)(rand() % 30000);
		f.srv = svc_http_server_start(&cfg, egress_routes, 1, NULL);
	}
	if (!f.srv)
		return -1;
	snprintf(f.url, sizeof(f.url), "http://127.0.0.1:%u", cfg.port);
	order_config_load(&f.app.cfg);
	f.app.cfg.sidecar_url = f.url;
	f.app.cfg.pricing_timeout_ms = 5000;
	*state = &f;
	return 0;
}

static int teardown_egress(void **state)
{
	struct quote_fixture *f = *state;

	svc_http_server_free(f->srv);
	return 0;
}

static int teardown_quote(void **state)
{
	struct quote_fixture *f = *state;

	order_pricing_free(f->app.pricing);
	order_price_cache_free(f->app.prices);
	f->app.pricing = NULL;
	f->app.prices = NULL;
	return 0;
}

/* Before each quote test: a fresh cache and combiner, a healthy inventory. */
static int setup_quote(void **state)
{
	struct quote_fixture *f = *state;

	f->app.prices = order_price_cache_new(1000, 60000);
	f->app.pricing = order_pricing_new(&f->app.cfg, f->app.prices);
	atomic_store(&inv.calls, 0);
	atomic_store(&inv.status, 200);
	inventory_hold(false);
	if (f->app.prices && f->app.pricing)
		return 0;
	teardown_quote(state); /* cmocka calls no teardown after a failed setup */
	return -1;
}

static struct order_request request_of(const char *const *ids, const int *qty, size_t n)
{
	struct order_request r;

	memset(&r, 0, sizeof(r));
	snprintf(r.user_id, sizeof(r.user_id), "U1");
	for (size_t i = 0; i < n; i++) {
		snprintf(r.items[i].product_id, sizeof(r.items[i].product_id), "%s", ids[i]);
		r.items[i].quantity = qty[i];
	}
	r.nitems = n;
	return r;
}

static void test_order_pricing_quote_prices_lines_in_one_call(void **state)
{
	struct quote_fixture *f = *state;
	static const char *const ids[] = {"P1", "P22", "P333"};
	static const int qty[] = {1, 2, 3};
	struct order_request r = request_of(ids, qty, 3);
	int64_t prices[ORDER_MAX_ITEMS], total = 0;
	struct svc_problem err;

	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), 0);
	assert_int_equal(prices[0], 200);
	assert_int_equal(prices[1], 300);
	assert_int_equal(prices[2], 400);
	assert_int_equal(total, 200 + 600 + 1200);
	assert_int_equal(atomic_load(&inv.calls), 1);
}

static void test_order_pricing_quote_with_every_price_cached_asks_nobody(void **state)
{
	struct quote_fixture *f = *state;
	static const char *const ids[] = {"P1", "P22"};
	static const int qty[] = {1, 1};
	struct order_request r = request_of(ids, qty, 2);
	int64_t prices[ORDER_MAX_ITEMS], total = 0;
	struct svc_problem err;

	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), 0);
	atomic_store(&inv.status, 500); /* would fail if asked */
	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), 0);
	assert_int_equal(total, 500);
	assert_int_equal(atomic_load(&inv.calls), 1);
}

static void test_order_pricing_quote_unknown_product_is_422_naming_its_line(void **state)
{
	struct quote_fixture *f = *state;
	static const char *const ids[] = {"P1", "unknown-7", "unknown-8"};
	static const int qty[] = {1, 1, 1};
	struct order_request r = request_of(ids, qty, 3);
	int64_t prices[ORDER_MAX_ITEMS], total = 0;
	struct svc_problem err;

	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), SVC_ENOTFOUND);
	assert_int_equal(err.status, 422);
	assert_string_equal(err.field, "items[1].productId");
	assert_non_null(strstr(err.detail, "unknown-7"));
	r.single_form = 1;
	r.nitems = 2;
	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), SVC_ENOTFOUND);
	assert_string_equal(err.field, "productId");
}

static void test_order_pricing_quote_failed_inventory_is_503(void **state)
{
	struct quote_fixture *f = *state;
	static const char *const ids[] = {"P1", "unknown-7"};
	static const int qty[] = {1, 1};
	struct order_request r = request_of(ids, qty, 2);
	int64_t prices[ORDER_MAX_ITEMS], total = 0;
	struct svc_problem err;

	atomic_store(&inv.status, 500);
	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), SVC_ETRANSIENT);
	assert_int_equal(err.status, 503);
}

static void test_order_pricing_quote_overflowing_total_is_422(void **state)
{
	struct quote_fixture *f = *state;
	static const char *const ids[] = {"P1"};
	static const int qty[] = {1};
	struct order_request r = request_of(ids, qty, 1);
	int64_t prices[ORDER_MAX_ITEMS], total = 0;
	struct svc_problem err;

	/* a cached price that 1000 units take past the money range */
	r.items[0].quantity = 1000;
	assert_int_equal(
	        order_price_cache_put(f->app.prices, "P1", INT64_MAX / 2, (int64_t)svc_mono_ms()),
	        0);
	assert_int_equal(order_pricing_quote(&f->app, &r, prices, &total, &err), SVC_ERANGE);
	assert_int_equal(err.status, 422);
	assert_int_equal(atomic_load(&inv.calls), 0);
}

#define NQUOTERS 8

struct quoter {
	const struct order_app *app;
	struct order_request r;
	int rc;
	int64_t total;
};

static void *quote_thread(void *arg)
{
	struct quoter *q = arg;
	int64_t prices[ORDER_MAX_ITEMS];
	struct svc_problem err;

	q->rc = order_pricing_quote(q->app, &q->r, prices, &q->total, &err);
	return NULL;
}

static size_t calls_made(void *arg)
{
	(void)arg;
	return (size_t)atomic_load(&inv.calls);
}

static size_t quotes_waiting(void *arg)
{
	return order_pricing_waiting(arg);
}

static void test_order_pricing_quote_concurrent_requests_share_calls(void **state)
{
	struct quote_fixture *f = *state;
	static struct quoter q[NQUOTERS];
	pthread_t t[NQUOTERS];
	char ids[NQUOTERS][8];
	size_t first_calls = 0, queued = 0;

	/* the first quote's call is held at the inventory while the others queue */
	inventory_hold(true);
	for (int i = 0; i < NQUOTERS; i++) {
		const char *id = ids[i];
		static const int qty[] = {2};

		snprintf(ids[i], sizeof(ids[i]), "C%d", i * 11); /* 2 or 3 characters */
		q[i].app = &f->app;
		q[i].r = request_of(&id, qty, 1);
		assert_int_equal(pthread_create(&t[i], NULL, quote_thread, &q[i]), 0);
		if (i == 0)
			first_calls = poll_until(calls_made, NULL, 1);
	}
	queued = poll_until(quotes_waiting, f->app.pricing, NQUOTERS - 1);
	inventory_hold(false);
	/* every thread joined before any assertion can leave the test */
	for (int i = 0; i < NQUOTERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < NQUOTERS; i++) {
		assert_int_equal(q[i].rc, 0);
		assert_int_equal(q[i].total, 2 * 100 * (int64_t)strlen(ids[i]));
	}
	assert_int_equal(first_calls, 1);
	assert_int_equal(queued, NQUOTERS - 1);
	/* the first call ran alone, the others waited and shared the next */
	assert_int_equal(atomic_load(&inv.calls), 2);
}

int main(void)
{
	const struct CMUnitTest grouping[] = {
	        cmocka_unit_test(
	                test_order_pricing_group_asks_each_distinct_id_once_across_requests),
	        cmocka_unit_test(test_order_pricing_group_gives_each_request_its_own_prices),
	        cmocka_unit_test(
	                test_order_pricing_group_marks_unknown_and_unanswered_ids_per_request),
	        cmocka_unit_test(test_order_pricing_group_splits_distinct_ids_into_chunks_of_200),
	        cmocka_unit_test(test_order_pricing_group_stops_after_a_failed_call),
	        cmocka_unit_test(test_order_pricing_group_without_ids_makes_no_call),
	};
	const struct CMUnitTest quotes[] = {
	        cmocka_unit_test_setup_teardown(test_order_pricing_quote_prices_lines_in_one_call,
	                                        setup_quote, teardown_quote),
	        cmocka_unit_test_setup_teardown(
	                test_order_pricing_quote_with_every_price_cached_asks_nobody, setup_quote,
	                teardown_quote),
	        cmocka_unit_test_setup_teardown(
	                test_order_pricing_quote_unknown_product_is_422_naming_its_line,
	                setup_quote, teardown_quote),
	        cmocka_unit_test_setup_teardown(test_order_pricing_quote_failed_inventory_is_503,
	                                        setup_quote, teardown_quote),
	        cmocka_unit_test_setup_teardown(test_order_pricing_quote_overflowing_total_is_422,
	                                        setup_quote, teardown_quote),
	        cmocka_unit_test_setup_teardown(
	                test_order_pricing_quote_concurrent_requests_share_calls, setup_quote,
	                teardown_quote),
	};
	int failed;

	setenv("LOG_LEVEL", "error", 0);
	svc_log_init("test_order_pricing");
	svc_httpc_global_init();
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	failed = cmocka_run_group_tests_name("grouping", grouping, NULL, NULL);
	failed += cmocka_run_group_tests_name("quote", quotes, setup_egress, teardown_egress);
	return failed;
}
