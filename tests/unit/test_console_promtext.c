/* Unit tests of services/console/promtext.h: reading Prometheus text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/console/promtext.h"

#define MAX_SEEN 16

struct seen {
	size_t n;
	struct console_prom_sample s[MAX_SEEN];
};

static int keep(const struct console_prom_sample *s, void *arg)
{
	struct seen *seen = arg;

	if (seen->n < MAX_SEEN)
		seen->s[seen->n++] = *s;
	return 0;
}

static size_t parse(const char *text, struct seen *seen)
{
	size_t bad = 0;

	memset(seen, 0, sizeof(*seen));
	assert_int_equal(console_prom_parse(text, strlen(text), keep, seen, &bad), 0);
	return bad;
}

static void test_promtext_reads_what_svc_prom_writes(void **state)
{
	struct seen seen;
	const char *text = "# HELP svc_http_requests_total Responses.\n"
	                   "# TYPE svc_http_requests_total counter\n"
	                   "svc_http_requests_total{route=\"/api/"
	                   "orders\",method=\"POST\",status_class=\"2xx\"} "
	                   "42\n"
	                   "saga_completion_seconds_bucket{outcome=\"CONFIRMED\",le=\"+Inf\"} 7\n"
	                   "saga_outbox_backlog 0\n";

	(void)state;
	assert_int_equal(parse(text, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.s[0].name, "svc_http_requests_total");
	assert_int_equal(seen.s[0].nlabels, 3);
	assert_string_equal(console_prom_label(&seen.s[0], "route"), "/api/orders");
	assert_string_equal(console_prom_label(&seen.s[0], "status_class"), "2xx");
	assert_null(console_prom_label(&seen.s[0], "le"));
	assert_true(seen.s[0].value == 42);
	assert_string_equal(console_prom_label(&seen.s[1], "le"), "+Inf");
	assert_int_equal(seen.s[2].nlabels, 0);
	assert_true(seen.s[2].value == 0);
}

static void test_promtext_unescapes_label_values_and_takes_special_values(void **state)
{
	struct seen seen;
	const char *text = "m{a=\"x\\\"y\\\\z\\n\",} +Inf 1700000000000\r\n"
	                   "m -Inf\n"
	                   "m NaN\n"
	                   "m 1.5e3\n";

	(void)state;
	assert_int_equal(parse(text, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_string_equal(console_prom_label(&seen.s[0], "a"), "x\"y\\z\n");
	assert_true(isinf(seen.s[0].value) && seen.s[0].value > 0);
	assert_true(isinf(seen.s[1].value) && seen.s[1].value < 0);
	assert_true(isnan(seen.s[2].value));
	assert_true(seen.s[3].value == 1500);
}

static void test_promtext_skips_and_counts_unreadable_lines(void **state)
{
	struct seen seen;
	const char *text = "ok 1\n"
	                   "1bad 1\n"
	                   "m{a=\"unterminated} 1\n"
	                   "m{a=\"x\" b=\"y\"} 1\n"
	                   "m{a=\"\\q\"} 1\n"
	                   "m 0x10\n"
	                   "m 1 2 3\n"
	                   "m\n"
	                   "m{} 2\n";

	(void)state;
	assert_int_equal(parse(text, &seen), 7);
	assert_int_equal(seen.n, 2);
	assert_true(seen.s[0].value == 1);
	assert_true(seen.s[1].value == 2);
}

static void test_promtext_refuses_names_and_labels_beyond_its_buffers(void **state)
{
	struct seen seen;
	char text[1024];
	char longname[CONSOLE_PROM_NAME_MAX + 1];

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(text, sizeof(text),
	         "%s 1\nm{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",f=\"6\",g=\"7\","
	         "h=\"8\",i=\"9\"} 1\n",
	         longname);
	assert_int_equal(parse(text, &seen), 2);
	assert_int_equal(seen.n, 0);
}

static int stop_at_second(const struct console_prom_sample *s, void *arg)
{
	size_t *n = arg;

	(void)s;
	return ++*n == 2 ? 7 : 0;
}

static void test_promtext_stops_when_the_callback_says_so(void **state)
{
	size_t n = 0;
	const char text[] = "a 1\nb 2\nc 3\n";

	(void)state;
	assert_int_equal(console_prom_parse(text, sizeof(text) - 1, stop_at_second, &n, NULL), 7);
	assert_int_equal(n, 2);
}

static void test_promtext_reads_only_len_bytes(void **state)
{
	struct seen seen;
	const char text[] = "a 1\nb 22";

	(void)state;
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(console_prom_parse(text, 7, keep, &seen, NULL), 0);
	assert_int_equal(seen.n, 2);
	assert_true(seen.s[1].value == 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_promtext_reads_what_svc_prom_writes),
	        cmocka_unit_test(test_promtext_unescapes_label_values_and_takes_special_values),
	        cmocka_unit_test(test_promtext_skips_and_counts_unreadable_lines),
	        cmocka_unit_test(test_promtext_refuses_names_and_labels_beyond_its_buffers),
	        cmocka_unit_test(test_promtext_stops_when_the_callback_says_so),
	        cmocka_unit_test(test_promtext_reads_only_len_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
