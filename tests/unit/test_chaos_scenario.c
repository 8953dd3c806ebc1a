/* Unit tests of chaos/scenario.h: the scenario files' format and the kill schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/scenario.h"
#include "svc/error.h"

static int parse(struct chaos_scenario *s, const char *text, char *err)
{
	chaos_scenario_init(s, "t");
	return chaos_scenario_parse(s, text, err, 200);
}

static void test_chaos_scenario_defaults_fill_what_a_file_leaves_out(void **state)
{
	struct chaos_scenario s;
	char err[200] = "";

	(void)state;
	assert_int_equal(parse(&s,
	                       "selector = app.kubernetes.io/component=order\n"
	                       "action = delete-now\n",
	                       err),
	                 0);
	assert_string_equal(s.name, "t");
	assert_string_equal(s.selector, "app.kubernetes.io/component=order");
	assert_int_equal(s.action, CHAOS_ACTION_DELETE_NOW);
	assert_int_equal(s.mode, CHAOS_MODE_ONE);
	assert_int_equal(s.grace_s, -1);
	assert_int_equal(s.baseline_s, 20);
	assert_int_equal(s.observe_s, 40);
	assert_int_equal(s.decline_every, 4);
	assert_int_equal(s.target_s, 30);
	assert_string_equal(s.signal, "KILL");
	assert_int_equal(chaos_scenario_kills(&s), 1);
	assert_int_equal(chaos_scenario_kill_at_s(&s, 0), 20);
	assert_int_equal(chaos_scenario_load_s(&s), 60);
}

static void test_chaos_scenario_reads_every_key_with_comments_and_spaces(void **state)
{
	struct chaos_scenario s;
	char err[200] = "", mode[16];

	(void)state;
	assert_int_equal(parse(&s,
	                       "# a comment\n\n"
	                       "  description =  the payment pod, every 10 s  \n"
	                       "selector=app.kubernetes.io/component=payment,tier!=x\n"
	                       "action = kill-container\r\n"
	                       "container = sidecar\n"
	                       "signal = TERM\n"
	                       "mode = 34%\n"
	                       "interval = 10\n"
	                       "duration = 60\n"
	                       "baseline = 15\n"
	                       "observe = 30\n"
	                       "rate = 12.5\n"
	                       "decline_every = 0\n"
	                       "recovery_target = 10\n"
	                       "settle = 5\n"
	                       "dlq_allow = amount mismatch|unknown type",
	                       err),
	                 0);
	assert_string_equal(s.description, "the payment pod, every 10 s");
	assert_string_equal(s.selector, "app.kubernetes.io/component=payment,tier!=x");
	assert_int_equal(s.action, CHAOS_ACTION_KILL_CONTAINER);
	assert_string_equal(s.container, "sidecar");
	assert_string_equal(s.signal, "TERM");
	assert_int_equal(s.mode, CHAOS_MODE_PERCENT);
	assert_int_equal(s.percent, 34);
	chaos_mode_format(&s, mode, sizeof(mode));
	assert_string_equal(mode, "34%");
	assert_true(s.rate > 12.4 && s.rate < 12.6);
	assert_int_equal(s.decline_every, 0);
	assert_int_equal(s.target_s, 10);
	assert_int_equal(s.settle_s, 5);
	assert_string_equal(s.dlq_allow, "amount mismatch|unknown type");
	/* a kill every 10 s while under 60 s have passed: at 15, 25, ..., 65 */
	assert_int_equal(chaos_scenario_kills(&s), 6);
	assert_int_equal(chaos_scenario_kill_at_s(&s, 5), 65);
	assert_int_equal(chaos_scenario_load_s(&s), 95);
}

static void test_chaos_scenario_counts_a_partial_interval_as_a_kill(void **state)
{
	struct chaos_scenario s;
	char err[200] = "";

	(void)state;
	assert_int_equal(parse(&s, "selector=a=b\naction=delete\ninterval=10\nduration=65\n", err),
	                 0);
	assert_int_equal(chaos_scenario_kills(&s), 7);
	assert_int_equal(parse(&s, "selector=a=b\naction=delete\ninterval=30\nduration=1\n", err),
	                 0);
	assert_int_equal(chaos_scenario_kills(&s), 1);
}

/* each case: the text, and a piece of the error it must give */
static void test_chaos_scenario_refuses_bad_files_with_the_line(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	        {"action = delete\n", "selector is required"},
	        {"selector = a=b\n", "action is required"},
	        {"selector = a=b\naction = explode\n", "line 2: bad action"},
	        {"selector = a=b\naction = delete\nfrobnicate = 1\n", "line 3: unknown key"},
	        {"selector = a=b\nselector = c=d\naction = delete\n",
	         "line 2: selector given twice"},
	        {"selector = a b\naction = delete\n", "line 1: bad selector"},
	        {"selector = a=b\naction = delete\nmode = 0%\n", "bad mode"},
	        {"selector = a=b\naction = delete\nmode = 101%\n", "bad mode"},
	        {"selector = a=b\naction = delete\nmode = some\n", "bad mode"},
	        {"selector = a=b\naction = delete\nrate = 0\n", "bad rate"},
	        {"selector = a=b\naction = delete\nrate = fast\n", "bad rate"},
	        {"selector = a=b\naction = delete\nbaseline = 2\n", "bad baseline"},
	        {"selector = a=b\naction = delete\ninterval = -3\n", "bad interval"},
	        {"selector = a=b\naction = delete\ninterval = 10\n", "interval needs a duration"},
	        {"selector = a=b\naction = delete\nduration = 10\n", "duration needs an interval"},
	        {"selector = a=b\naction = delete\ndecline_every = 1\n", "bad decline_every"},
	        {"selector = a=b\naction = kill-container\n", "needs a container"},
	        {"selector = a=b\naction = delete\ncontainer = sidecar\n", "kill-container only"},
	        {"selector = a=b\naction = delete-now\ngrace = 5\n", "grace is for action delete"},
	        {"selector = a=b\naction = kill-container\ncontainer = Side_car\n",
	         "bad container"},
	        {"selector = a=b\naction = kill-container\ncontainer=s\nsignal = HUP\n",
	         "bad signal"},
	        {"selector = a=b\naction\n", "line 2: not `key = value`"},
	        {"selector = a=b\naction = delete\nobserve = 99999999999999999999\n",
	         "bad observe"},
	};
	struct chaos_scenario s;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(&s, cases[i].text, err), SVC_EPERMANENT);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
	}
}

static void test_chaos_scenario_refuses_an_overlong_line(void **state)
{
	struct chaos_scenario s;
	char text[2100], err[200] = "";

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "description = ", 14);
	assert_int_equal(parse(&s, text, err), SVC_EPERMANENT);
	assert_non_null(strstr(err, "line 1: longer than"));
}

static void test_chaos_scenario_load_names_it_after_the_file(void **state)
{
	struct chaos_scenario s;
	char path[] = "/tmp/test_chaos_scenario_XXXXXX", err[200] = "";
	FILE *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("selector = app.kubernetes.io/component=kafka\naction = delete\ngrace = 5\n", f);
	fclose(f);
	assert_int_equal(chaos_scenario_load(&s, path, err, sizeof(err)), 0);
	assert_string_equal(s.name, strrchr(path, '/') + 1);
	assert_int_equal(s.grace_s, 5);
	remove(path);
	assert_int_equal(chaos_scenario_load(&s, path, err, sizeof(err)), SVC_ENOTFOUND);
	assert_non_null(strstr(err, "cannot read"));
}

static void test_chaos_scenario_files_of_the_repository_parse(void **state)
{
	static const char *const names[] = {
	        "order-kill",   "order-kill-all",      "inventory-kill",    "inventory-kill-all",
	        "payment-kill", "payment-kill-repeat", "notification-kill", "sidecar-kill",
	        "kafka-kill",   "mysql-kill",          "redis-kill",        "gateway-kill"};
	struct chaos_scenario s;
	char path[128], err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "chaos/scenarios/%s", names[i]);
		err[0] = '\0';
		if (chaos_scenario_load(&s, path, err, sizeof(err)) != 0)
			fail_msg("%s: %s", path, err);
		assert_string_equal(s.name, names[i]);
		assert_true(s.description[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_scenario_defaults_fill_what_a_file_leaves_out),
	        cmocka_unit_test(test_chaos_scenario_reads_every_key_with_comments_and_spaces),
	        cmocka_unit_test(test_chaos_scenario_counts_a_partial_interval_as_a_kill),
	        cmocka_unit_test(test_chaos_scenario_refuses_bad_files_with_the_line),
	        cmocka_unit_test(test_chaos_scenario_refuses_an_overlong_line),
	        cmocka_unit_test(test_chaos_scenario_load_names_it_after_the_file),
	        cmocka_unit_test(test_chaos_scenario_files_of_the_repository_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
