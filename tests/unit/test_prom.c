/* The Prometheus metrics library (svc/prom.h): registration, series, updates
 * and the text exposition format 0.0.4 of its renderer. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/buf.h"
#include "svc/prom.h"

/* The registry's text (caller frees). */
static char *render(struct svc_prom *r)
{
	struct svc_buf b;

	svc_buf_init(&b);
	assert_int_equal(svc_prom_render(r, &b), 0);
	return svc_buf_take(&b);
}

static void test_prom_counter_without_labels_renders_help_type_and_zero(void **state)
{
	struct svc_prom *r = svc_prom_new();
	char *text;

	(void)state;
	assert_non_null(svc_prom_counter(r, "saga_dlq_total", "Messages dead-lettered.", NULL));
	text = render(r);
	assert_string_equal(text, "# HELP saga_dlq_total Messages dead-lettered.\n"
	                          "# TYPE saga_dlq_total counter\n"
	                          "saga_dlq_total 0\n");
	free(text);
	svc_prom_free(r);
}

static void test_prom_counter_series_per_label_values_in_first_use_order(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m =
	        svc_prom_counter(r, "svc_http_requests_total", "HTTP requests.", "route,code");
	char *text;

	(void)state;
	svc_prom_inc(svc_prom_at(m, "/api/orders", "2xx"));
	svc_prom_add(svc_prom_at(m, "/api/orders/{orderId}", "4xx"), 5);
	svc_prom_inc(svc_prom_at(m, "/api/orders", "2xx"));
	assert_ptr_equal(svc_prom_at(m, "/api/orders", "2xx"),
	                 svc_prom_at(m, "/api/orders", "2xx"));
	assert_int_equal(svc_prom_value(svc_prom_at(m, "/api/orders", "2xx")), 2);
	text = render(r);
	assert_string_equal(text, "# HELP svc_http_requests_total HTTP requests.\n"
	                          "# TYPE svc_http_requests_total counter\n"
	                          "svc_http_requests_total{route=\"/api/orders\",code=\"2xx\"} 2\n"
	                          "svc_http_requests_total{route=\"/api/orders/{orderId}\","
	                          "code=\"4xx\"} 5\n");
	free(text);
	svc_prom_free(r);
}

static void test_prom_gauge_sets_and_adds_negative(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m = svc_prom_gauge(r, "saga_in_flight", "Sagas.", "state");
	struct svc_prom_series *s = svc_prom_at(m, "PENDING");
	char *text;

	(void)state;
	svc_prom_set(s, 10);
	svc_prom_gauge_add(s, -13);
	assert_int_equal(svc_prom_value(s), -3);
	text = render(r);
	assert_non_null(strstr(text, "# TYPE saga_in_flight gauge\n"
	                             "saga_in_flight{state=\"PENDING\"} -3\n"));
	free(text);
	svc_prom_free(r);
}

static void test_prom_histogram_buckets_are_cumulative_with_sum_and_count(void **state)
{
	static const double bounds[] = {0.25, 0.5, 1};
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m =
	        svc_prom_histogram(r, "saga_step_duration_seconds", "Step.", "step", bounds, 3);
	struct svc_prom_series *s = svc_prom_at(m, "PAYMENT");
	char *text;

	(void)state;
	/* binary fractions: the sum is exact */
	svc_prom_observe(s, 0.125); /* le 0.25 */
	svc_prom_observe(s, 0.25);  /* le 0.25: bounds are inclusive */
	svc_prom_observe(s, 0.75);  /* le 1 */
	svc_prom_observe(s, 3);     /* +Inf */
	assert_int_equal(svc_prom_count(s), 4);
	assert_float_equal(svc_prom_sum(s), 4.125, 1e-12);
	text = render(r);
	assert_string_equal(text,
	                    "# HELP saga_step_duration_seconds Step.\n"
	                    "# TYPE saga_step_duration_seconds histogram\n"
	                    "saga_step_duration_seconds_bucket{step=\"PAYMENT\",le=\"0.25\"} 2\n"
	                    "saga_step_duration_seconds_bucket{step=\"PAYMENT\",le=\"0.5\"} 2\n"
	                    "saga_step_duration_seconds_bucket{step=\"PAYMENT\",le=\"1\"} 3\n"
	                    "saga_step_duration_seconds_bucket{step=\"PAYMENT\",le=\"+Inf\"} 4\n"
	                    "saga_step_duration_seconds_sum{step=\"PAYMENT\"} 4.125\n"
	                    "saga_step_duration_seconds_count{step=\"PAYMENT\"} 4\n");
	free(text);
	svc_prom_free(r);
}

static void test_prom_histogram_without_bounds_uses_latency_bounds(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m = svc_prom_histogram(r, "x_seconds", "X.", NULL, NULL, 0);
	char *text;

	(void)state;
	svc_prom_observe(svc_prom_at(m), 0.002);
	text = render(r);
	assert_non_null(strstr(text, "x_seconds_bucket{le=\"0.001\"} 0\n"
	                             "x_seconds_bucket{le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(text, "x_seconds_bucket{le=\"10\"} 1\n"
	                             "x_seconds_bucket{le=\"+Inf\"} 1\n"
	                             "x_seconds_sum 0.002\n"
	                             "x_seconds_count 1\n"));
	free(text);
	svc_prom_free(r);
}

static void test_prom_label_values_and_help_are_escaped(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m = svc_prom_counter(r, "e_total", "a \\ b\nc", "v");
	char *text;

	(void)state;
	svc_prom_inc(svc_prom_at(m, "q\"b\\s\nn"));
	text = render(r);
	assert_string_equal(text, "# HELP e_total a \\\\ b\\nc\n"
	                          "# TYPE e_total counter\n"
	                          "e_total{v=\"q\\\"b\\\\s\\nn\"} 1\n");
	free(text);
	svc_prom_free(r);
}

static void test_prom_refuses_invalid_names_and_labels(void **state)
{
	static const double unsorted[] = {1, 0.5};
	struct svc_prom *r = svc_prom_new();

	(void)state;
	assert_null(svc_prom_counter(r, "", "h", NULL));
	assert_null(svc_prom_counter(r, "9lives", "h", NULL));
	assert_null(svc_prom_counter(r, "has-dash", "h", NULL));
	assert_null(svc_prom_counter(r, "ok_total", "h", "bad label"));
	assert_null(svc_prom_counter(r, "ok_total", "h", "a,"));
	assert_null(svc_prom_counter(r, "ok_total", "h", "__reserved"));
	assert_null(svc_prom_counter(r, "ok_total", "h", "a,b,c,d,e"));
	assert_null(svc_prom_histogram(r, "h_seconds", "h", "le", NULL, 0));
	assert_null(svc_prom_histogram(r, "h_seconds", "h", NULL, unsorted, 2));
	assert_non_null(svc_prom_counter(r, "ns:ok_total", "h", "a,b,c,d"));
	svc_prom_free(r);
}

static void test_prom_same_registration_returns_the_metric_another_fails(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m = svc_prom_counter(r, "a_total", "h", "x");

	(void)state;
	assert_ptr_equal(svc_prom_counter(r, "a_total", "other help", "x"), m);
	assert_null(svc_prom_counter(r, "a_total", "h", "y"));
	assert_null(svc_prom_gauge(r, "a_total", "h", "x"));
	svc_prom_free(r);
}

static void test_prom_null_handles_are_ignored(void **state)
{
	struct svc_buf b;

	(void)state;
	assert_null(svc_prom_counter(NULL, "a_total", "h", NULL));
	assert_null(svc_prom_at(NULL, "x"));
	svc_prom_inc(NULL);
	svc_prom_add(NULL, 3);
	svc_prom_set(NULL, 3);
	svc_prom_gauge_add(NULL, 3);
	svc_prom_observe(NULL, 1.0);
	assert_int_equal(svc_prom_value(NULL), 0);
	svc_buf_init(&b);
	assert_int_equal(svc_prom_render(NULL, &b), 0);
	svc_buf_release(&b);
	svc_prom_free(NULL);
}

static void test_prom_series_beyond_the_cap_are_dropped(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m = svc_prom_counter(r, "many_total", "h", "id");
	char id[16];
	size_t made = 0;

	(void)state;
	for (int i = 0; i < SVC_PROM_MAX_SERIES + 50; i++) {
		snprintf(id, sizeof(id), "%d", i);
		made += svc_prom_at(m, id) != NULL;
	}
	assert_int_equal(made, SVC_PROM_MAX_SERIES);
	/* the ones there are still found */
	assert_non_null(svc_prom_at(m, "7"));
	svc_prom_free(r);
}

static int collected;

static void collect(struct svc_prom *r, void *arg)
{
	(void)r;
	svc_prom_set(svc_prom_at(arg, "db"), 42);
	collected++;
}

static void test_prom_collect_functions_run_before_each_render(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *m = svc_prom_gauge(r, "pool_in_use", "h", "pool");
	char *text;

	(void)state;
	collected = 0;
	assert_int_equal(svc_prom_on_collect(r, collect, m), 0);
	text = render(r);
	assert_int_equal(collected, 1);
	assert_non_null(strstr(text, "pool_in_use{pool=\"db\"} 42\n"));
	free(text);
	svc_prom_free(r);
}

#define THREADS    4
#define PER_THREAD 100000

struct hammer {
	struct svc_prom_metric *counter, *hist;
	int id;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	char label[8];

	snprintf(label, sizeof(label), "t%d", h->id % 2);
	for (int i = 0; i < PER_THREAD; i++) {
		/* looked up every time: lookups race with the first inserts */
		svc_prom_inc(svc_prom_at(h->counter, label));
		svc_prom_observe(svc_prom_at(h->hist), 0.5);
	}
	return NULL;
}

static void test_prom_concurrent_updates_are_all_counted(void **state)
{
	struct svc_prom *r = svc_prom_new();
	struct hammer h[THREADS];
	pthread_t t[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		h[i] = (struct hammer){svc_prom_counter(r, "c_total", "h", "t"),
		                       svc_prom_histogram(r, "h_seconds", "h", NULL, NULL, 0), i};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(svc_prom_value(svc_prom_at(h[0].counter, "t0")) +
	                         svc_prom_value(svc_prom_at(h[0].counter, "t1")),
	                 THREADS * PER_THREAD);
	assert_int_equal(svc_prom_count(svc_prom_at(h[0].hist)), THREADS * PER_THREAD);
	assert_float_equal(svc_prom_sum(svc_prom_at(h[0].hist)), THREADS * PER_THREAD * 0.5, 1e-6);
	svc_prom_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_prom_counter_without_labels_renders_help_type_and_zero),
	        cmocka_unit_test(test_prom_counter_series_per_label_values_in_first_use_order),
	        cmocka_unit_test(test_prom_gauge_sets_and_adds_negative),
	        cmocka_unit_test(test_prom_histogram_buckets_are_cumulative_with_sum_and_count),
	        cmocka_unit_test(test_prom_histogram_without_bounds_uses_latency_bounds),
	        cmocka_unit_test(test_prom_label_values_and_help_are_escaped),
	        cmocka_unit_test(test_prom_refuses_invalid_names_and_labels),
	        cmocka_unit_test(test_prom_same_registration_returns_the_metric_another_fails),
	        cmocka_unit_test(test_prom_null_handles_are_ignored),
	        cmocka_unit_test(test_prom_series_beyond_the_cap_are_dropped),
	        cmocka_unit_test(test_prom_collect_functions_run_before_each_render),
	        cmocka_unit_test(test_prom_concurrent_updates_are_all_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
