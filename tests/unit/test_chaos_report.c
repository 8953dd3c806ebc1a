/* Unit tests of chaos/report.h: the Markdown, JSON and SVG of the chaos report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/report.h"
#include "svc/error.h"

static const char result_text[] =
        "{\"scenario\":\"payment-kill\",\"description\":\"the payment pod | deleted\","
        "\"verdict\":\"PASS\",\"failures\":[],"
        "\"settings\":{\"selector\":\"app.kubernetes.io/"
        "component=payment\",\"action\":\"delete-now\","
        " \"container\":\"\",\"signal\":\"KILL\",\"mode\":\"one\",\"interval_s\":0,\"duration_s\":"
        "0,"
        " \"baseline_s\":20,\"observe_s\":40,\"rate\":25.0,\"decline_every\":4,"
        " \"recovery_target_s\":10},"
        "\"deadlines\":{\"inventory_ms\":15000,\"payment_ms\":15000,\"compensation_ms\":15000,"
        " \"scan_ms\":1000,\"terminal_bound_s\":76.0},"
        "\"kills\":[{\"at_s\":20.01,\"pods\":[\"saga-payment-7d9\"],\"ready_s\":2.5,"
        " \"order_s\":3.25}],"
        "\"recovery\":{\"baseline_per_s\":18.7,\"ready_s\":2.5,\"order_s\":3.25,\"rate_s\":4.0,"
        " \"recovery_s\":4.0,\"target_s\":10,\"met\":true},"
        "\"orders\":{\"requests\":1500,\"accepted\":1498,\"confirmed\":1120,\"cancelled\":378,"
        " \"declined\":374,\"cancelled_by_fault\":4,\"lost\":0,\"not_terminal\":0,\"late\":0,"
        " \"http_errors\":2,\"no_answer\":1,\"dropped\":0,"
        " \"errors_by_status\":{\"503\":1,\"no answer\":1},"
        " \"cancel_reasons\":{\"step PAYMENT timed out\":4}},"
        "\"invariants\":{\"ok\":true,\"captured_net\":2238880,\"confirmed_totals\":2238880,"
        " \"checks\":[{\"name\":\"terminal\",\"violations\":0,\"examples\":[]},"
        "  {\"name\":\"money\",\"violations\":0,\"examples\":[]}]},"
        "\"series\":{\"created\":[25,25,25,25],\"confirmed\":[18,19,0,40],"
        " \"cancelled\":[6,6,6,6],\"errors\":[0,0,2,0]}}";

static json_t *one_result(void)
{
	json_t *r = json_loads(result_text, 0, NULL);

	assert_non_null(r);
	return r;
}

static void test_chaos_report_svg_draws_four_series_and_marks_kill_and_recovery(void **state)
{
	json_t *r = one_result();
	struct svc_buf b;
	const char *s, *p;
	int lines = 0;

	(void)state;
	/* the series are 4 s long: the kill at 20 s is off the chart, widen it */
	json_object_set_new(json_object_get(r, "series"), "created", json_pack("[i,i]", 1, 2));
	svc_buf_init(&b);
	assert_int_equal(chaos_report_svg(r, &b), 0);
	s = svc_buf_str(&b);
	assert_true(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
	assert_non_null(strstr(s, "</svg>\n"));
	for (p = s; (p = strstr(p, "<polyline")); p++)
		lines++;
	assert_int_equal(lines, 4);
	assert_non_null(strstr(s, ">payment-kill</text>"));
	/* y axis up to a round number above the largest count (40) */
	assert_non_null(strstr(s, ">50</text>"));
	svc_buf_release(&b);

	/* a series long enough to hold the kill (20.01 s) and the recovery (24.01 s) */
	{
		json_t *longer = json_array();

		for (int i = 0; i < 60; i++)
			json_array_append_new(longer, json_integer(i == 21 ? 0 : 20));
		json_object_set_new(json_object_get(r, "series"), "created", longer);
	}
	svc_buf_init(&b);
	assert_int_equal(chaos_report_svg(r, &b), 0);
	s = svc_buf_str(&b);
	assert_non_null(strstr(s, ">kill 1</text>"));
	assert_non_null(strstr(s, ">recovered (4.0 s)</text>"));
	assert_non_null(strstr(s, "stroke-dasharray"));
	svc_buf_release(&b);
	json_decref(r);
}

static void test_chaos_report_svg_needs_a_series_and_escapes_names(void **state)
{
	json_t *r = json_pack("{s:s, s:{s:[i]}}", "scenario", "a<b&\"c\"", "series", "created", 3);
	json_t *none = json_pack("{s:s}", "scenario", "x");
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(chaos_report_svg(none, &b), SVC_EPERMANENT);
	assert_int_equal(chaos_report_svg(r, &b), 0);
	assert_non_null(strstr(svc_buf_str(&b), ">a&lt;b&amp;&quot;c&quot;</text>"));
	svc_buf_release(&b);
	json_decref(r);
	json_decref(none);
}

static void test_chaos_report_markdown_has_a_row_and_a_section_per_scenario(void **state)
{
	json_t *results = json_array();
	struct svc_buf b;
	const char *s;

	(void)state;
	json_array_append_new(results, one_result());
	svc_buf_init(&b);
	assert_int_equal(chaos_report_markdown(results, "AMD EPYC (2 cpus)", "make chaos", &b), 0);
	s = svc_buf_str(&b);
	assert_non_null(strstr(s, "Reproduce: `make chaos`. Machine: AMD EPYC (2 cpus).\n"));
	assert_non_null(strstr(s,
	                       "| payment-kill | 2.50 s | 3.25 s | 4.00 s | **4.00 s** | < 10 s | "
	                       "1498 | 1120 | 374 / 4 | 0 | 2 | hold | PASS |\n"));
	assert_non_null(strstr(s, "### payment-kill: PASS\n"));
	/* a pipe in a description must not split the table or the text */
	assert_non_null(strstr(s, "the payment pod \\| deleted"));
	assert_non_null(strstr(s, "| 1 | 20.01 s | saga-payment-7d9 | 2.50 s | 3.25 s |"));
	assert_non_null(strstr(s, "(503: 1, no answer: 1)"));
	assert_non_null(strstr(s, "Cancelled because of the fault: step PAYMENT timed out (4)"));
	assert_non_null(strstr(s, "- money: holds\n"));
	assert_non_null(strstr(s, "![payment-kill](chaos-payment-kill.svg)"));
	svc_buf_release(&b);
	json_decref(results);
}

static void test_chaos_report_markdown_shows_failures_and_unknown_times(void **state)
{
	json_t *results = json_array(), *r = one_result();
	json_t *rec = json_object_get(r, "recovery");
	struct svc_buf b;
	const char *s;

	(void)state;
	json_object_set_new(rec, "rate_s", json_null());
	json_object_set_new(rec, "recovery_s", json_null());
	json_object_set_new(r, "verdict", json_string("FAIL"));
	json_object_set_new(r, "failures", json_pack("[s]", "not recovered"));
	json_object_set_new(json_object_get(r, "invariants"), "ok", json_false());
	json_object_set_new(
	        json_array_get(json_object_get(json_object_get(r, "invariants"), "checks"), 1),
	        "violations", json_integer(2));
	json_object_set_new(
	        json_array_get(json_object_get(json_object_get(r, "invariants"), "checks"), 1),
	        "examples", json_pack("[s]", "captured - refunded = 1, totals = 2"));
	json_array_append_new(results, r);
	svc_buf_init(&b);
	assert_int_equal(chaos_report_markdown(results, NULL, NULL, &b), 0);
	s = svc_buf_str(&b);
	assert_null(strstr(s, "Reproduce"));
	assert_non_null(strstr(s, "| n/a | **n/a** |"));
	assert_non_null(strstr(s, "| **violated** | FAIL |"));
	assert_non_null(
	        strstr(s, "- money: **violated** (2): captured - refunded = 1, totals = 2\n"));
	assert_non_null(strstr(s, "Why it failed: not recovered\n"));
	assert_false(chaos_report_all_passed(results));
	svc_buf_release(&b);
	json_decref(results);
}

static void test_chaos_report_json_counts_passed_and_failed(void **state)
{
	json_t *results = json_array(), *r = one_result(), *doc;

	(void)state;
	assert_false(chaos_report_all_passed(results));
	json_array_append_new(results, json_deep_copy(r));
	assert_true(chaos_report_all_passed(results));
	json_object_set_new(r, "verdict", json_string("FAIL"));
	json_array_append_new(results, r);
	doc = chaos_report_json(results, "cpu", NULL, "2026-01-01T00:00:00Z");
	assert_non_null(doc);
	assert_int_equal(json_integer_value(json_object_get(doc, "passed")), 1);
	assert_int_equal(json_integer_value(json_object_get(doc, "failed")), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "cpu")), "cpu");
	assert_true(json_is_null(json_object_get(doc, "command")));
	assert_int_equal(json_array_size(json_object_get(doc, "scenarios")), 2);
	json_decref(doc);
	json_decref(results);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(
	                test_chaos_report_svg_draws_four_series_and_marks_kill_and_recovery),
	        cmocka_unit_test(test_chaos_report_svg_needs_a_series_and_escapes_names),
	        cmocka_unit_test(test_chaos_report_markdown_has_a_row_and_a_section_per_scenario),
	        cmocka_unit_test(test_chaos_report_markdown_shows_failures_and_unknown_times),
	        cmocka_unit_test(test_chaos_report_json_counts_passed_and_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
