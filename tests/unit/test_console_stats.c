/* Unit tests of services/console/stats.h and the console's configuration
 * parsing (config.h) and sidecar metrics reading (sidecars.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/console/config.h"
#include "services/console/sidecars.h"
#include "services/console/stats.h"

/* The order service's metrics text with these counts. */
static size_t metrics(char *buf, size_t size, int created, int fast, int slow, int cancelled)
{
	return (size_t)snprintf(
	        buf, size,
	        "svc_http_requests_total{route=\"/api/"
	        "orders\",method=\"POST\",status_class=\"2xx\"} "
	        "%d\n"
	        "svc_http_requests_total{route=\"/api/"
	        "orders\",method=\"POST\",status_class=\"4xx\"} "
	        "5\n"
	        "saga_completion_seconds_bucket{outcome=\"CONFIRMED\",le=\"0.1\"} %d\n"
	        "saga_completion_seconds_bucket{outcome=\"CONFIRMED\",le=\"1\"} %d\n"
	        "saga_completion_seconds_bucket{outcome=\"CONFIRMED\",le=\"+Inf\"} %d\n"
	        "saga_completion_seconds_count{outcome=\"CONFIRMED\"} %d\n"
	        "saga_completion_seconds_bucket{outcome=\"CANCELLED\",le=\"0.1\"} 0\n"
	        "saga_completion_seconds_bucket{outcome=\"CANCELLED\",le=\"1\"} %d\n"
	        "saga_completion_seconds_bucket{outcome=\"CANCELLED\",le=\"+Inf\"} %d\n",
	        created, fast, fast + slow, fast + slow, fast + slow, cancelled, cancelled);
}

static void reading(struct console_order_reading *r, uint64_t t_ms, int created, int fast, int slow,
                    int cancelled)
{
	char text[2048];
	size_t len = metrics(text, sizeof(text), created, fast, slow, cancelled);

	r->t_ms = t_ms;
	assert_true(console_order_reading_parse(text, len, r) > 0);
	assert_int_equal(r->t_ms, t_ms);
}

static void test_stats_reading_takes_accepted_orders_and_completion_buckets(void **state)
{
	struct console_order_reading r;

	(void)state;
	reading(&r, 5, 100, 60, 30, 10);
	assert_true(r.created == 100); /* 4xx not counted */
	assert_int_equal(r.completion[CONSOLE_CONFIRMED].n, 3);
	assert_true(r.completion[CONSOLE_CONFIRMED].cum[2] == 90);
	assert_true(isinf(r.completion[CONSOLE_CONFIRMED].le[2]));
	assert_true(r.completion[CONSOLE_CANCELLED].cum[1] == 10);
	assert_int_equal(console_order_reading_parse("nothing 1\n", 10, &r), 0);
}

static void test_stats_quantile_interpolates_inside_the_bucket(void **state)
{
	struct console_hist h = {.n = 3, .le = {1, 2, INFINITY}, .cum = {50, 100, 100}};

	(void)state;
	assert_float_equal(console_hist_quantile(&h, 0.5), 1.0, 1e-9);
	assert_float_equal(console_hist_quantile(&h, 0.25), 0.5, 1e-9);
	assert_float_equal(console_hist_quantile(&h, 0.75), 1.5, 1e-9);
	h.cum[2] = 200; /* half of them past the last bound */
	assert_float_equal(console_hist_quantile(&h, 0.99), 2.0, 1e-9);
	h.n = 0;
	assert_true(isnan(console_hist_quantile(&h, 0.5)));
}

static void test_stats_window_gives_rates_and_recent_percentiles(void **state)
{
	struct console_window w = {0};
	struct console_order_reading r;
	struct console_summary s;

	(void)state;
	console_window_summary(&w, 5000, 60000, &s);
	assert_false(s.known);
	reading(&r, 1000, 100, 100, 0, 0);
	console_window_push(&w, &r);
	reading(&r, 6000, 150, 100, 40, 10); /* 40 slow confirmations, 10 cancellations */
	console_window_push(&w, &r);
	console_window_summary(&w, 5000, 60000, &s);
	assert_true(s.known);
	assert_float_equal(s.rate_s, 5.0, 1e-9);
	assert_float_equal(s.created_per_s, 10.0, 1e-9);
	assert_float_equal(s.finished_per_s[CONSOLE_CONFIRMED], 8.0, 1e-9);
	assert_float_equal(s.finished_per_s[CONSOLE_CANCELLED], 2.0, 1e-9);
	assert_float_equal(s.completions, 50.0, 1e-9);
	/* the 100 fast ones from before the window do not count: all 50 in 0.1..1 s */
	assert_true(s.p50 > 0.1 && s.p50 < 1.0);
	assert_true(s.created_total == 150);
}

static void test_stats_window_counts_from_zero_after_a_restart(void **state)
{
	struct console_window w = {0};
	struct console_order_reading r;
	struct console_summary s;

	(void)state;
	reading(&r, 0, 1000, 500, 0, 0);
	console_window_push(&w, &r);
	reading(&r, 2000, 20, 4, 0, 0);
	console_window_push(&w, &r);
	console_window_summary(&w, 5000, 60000, &s);
	assert_float_equal(s.created_per_s, 10.0, 1e-9);
	assert_float_equal(s.completions, 4.0, 1e-9);
}

static void test_stats_window_keeps_the_newest_readings(void **state)
{
	struct console_window w = {0};
	struct console_order_reading r;
	struct console_summary s;

	(void)state;
	for (int i = 0; i < CONSOLE_WINDOW_MAX + 10; i++) {
		reading(&r, (uint64_t)i * 1000, i * 10, 0, 0, 0);
		console_window_push(&w, &r);
	}
	assert_int_equal(w.count, CONSOLE_WINDOW_MAX);
	console_window_summary(&w, 1000000, 1000000, &s);
	assert_float_equal(s.rate_s, CONSOLE_WINDOW_MAX - 1, 1e-9);
	assert_float_equal(s.created_per_s, 10.0, 1e-9);
}

static void test_console_targets_parse_names_and_urls(void **state)
{
	struct console_target t[2];

	(void)state;
	assert_int_equal(console_targets_parse("order=http://a:9081,,payment=https://b/", t, 2), 2);
	assert_string_equal(t[0].name, "order");
	assert_string_equal(t[0].url, "http://a:9081");
	assert_string_equal(t[1].url, "https://b/");
	assert_int_equal(console_targets_parse("", t, 2), 0);
	assert_int_equal(console_targets_parse("a=http://x,b=http://y,c=http://z", t, 2), -1);
	assert_int_equal(console_targets_parse("order", t, 2), -1);
	assert_int_equal(console_targets_parse("Order=http://a", t, 2), -1);
	assert_int_equal(console_targets_parse("order=ftp://a", t, 2), -1);
	assert_int_equal(console_targets_parse("=http://a", t, 2), -1);
}

static void test_console_sidecar_status_names_breaker_states(void **state)
{
	const char text[] = "saga_breaker_state{route=\"gateway\"} 2\n"
	                    "saga_breaker_state{route=\"service\"} 0\n"
	                    "saga_breaker_state{route=\"x\"} 1\n"
	                    "saga_dlq_messages_total{stage=\"delivery\"} 3\n";
	json_t *out = json_array(), *item;

	(void)state;
	assert_int_equal(console_sidecar_status_parse("payment", text, sizeof(text) - 1, out), 0);
	item = json_array_get(out, 0);
	assert_string_equal(json_string_value(json_object_get(item, "service")), "payment");
	assert_true(json_is_true(json_object_get(item, "up")));
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(item, "breakers"), 0), "state")),
	                    "open");
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(item, "breakers"), 2), "state")),
	                    "half-open");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(item, "deadLettered"),
	                                                    "delivery")),
	                 3);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stats_reading_takes_accepted_orders_and_completion_buckets),
	        cmocka_unit_test(test_stats_quantile_interpolates_inside_the_bucket),
	        cmocka_unit_test(test_stats_window_gives_rates_and_recent_percentiles),
	        cmocka_unit_test(test_stats_window_counts_from_zero_after_a_restart),
	        cmocka_unit_test(test_stats_window_keeps_the_newest_readings),
	        cmocka_unit_test(test_console_targets_parse_names_and_urls),
	        cmocka_unit_test(test_console_sidecar_status_names_breaker_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
