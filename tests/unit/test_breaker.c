/* Unit tests of resilience/breaker.h, driven by a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "resilience/breaker.h"

/* The fake clock: tests move it by hand. */
static uint64_t now_ms;

static struct rs_breaker *new_breaker(unsigned window, unsigned min_calls, unsigned rate,
                                      uint64_t slow_ms)
{
	struct rs_breaker_config cfg;
	struct rs_breaker *b;

	rs_breaker_config_default(&cfg);
	cfg.window = window;
	cfg.min_calls = min_calls;
	cfg.failure_rate_pct = rate;
	cfg.open_ms = 1000;
	cfg.slow_call_ms = slow_ms;
	cfg.half_open_calls = 2;
	b = rs_breaker_new("test", &cfg);
	assert_non_null(b);
	now_ms = 1000000;
	return b;
}

/* One admitted call with the given outcome, 10 ms long. */
static void call(struct rs_breaker *b, bool success)
{
	assert_true(rs_breaker_allow(b, now_ms));
	rs_breaker_record(b, now_ms, success, 10);
}

static void calls(struct rs_breaker *b, const char *outcomes)
{
	for (const char *p = outcomes; *p; p++)
		call(b, *p == 'S');
}

static void assert_state(struct rs_breaker *b, enum rs_breaker_state s)
{
	assert_string_equal(rs_breaker_state_name(rs_breaker_state(b, now_ms)),
	                    rs_breaker_state_name(s));
}

/* Opens b (window 10, min 4, 50 %) with four failures. */
static void open_it(struct rs_breaker *b)
{
	calls(b, "FFFF");
	assert_state(b, RS_BREAKER_OPEN);
}

static void test_breaker_defaults_match_header(void **state)
{
	struct rs_breaker_config cfg;

	(void)state;
	rs_breaker_config_default(&cfg);
	assert_int_equal(cfg.window, 20);
	assert_int_equal(cfg.min_calls, 10);
	assert_int_equal(cfg.failure_rate_pct, 50);
	assert_int_equal(cfg.open_ms, 5000);
	assert_int_equal(cfg.slow_call_ms, 0);
	assert_int_equal(cfg.half_open_calls, 3);
}

static void test_breaker_rejects_invalid_config(void **state)
{
	struct rs_breaker_config cfg;

	(void)state;
	rs_breaker_config_default(&cfg);
	cfg.window = 0;
	assert_null(rs_breaker_new("x", &cfg));
	cfg.window = 1025;
	assert_null(rs_breaker_new("x", &cfg));
	rs_breaker_config_default(&cfg);
	cfg.failure_rate_pct = 0;
	assert_null(rs_breaker_new("x", &cfg));
	cfg.failure_rate_pct = 101;
	assert_null(rs_breaker_new("x", &cfg));
	rs_breaker_config_default(&cfg);
	cfg.half_open_calls = 0;
	assert_null(rs_breaker_new("x", &cfg));
	rs_breaker_config_default(&cfg);
	cfg.min_calls = cfg.window + 1; /* could never open */
	assert_null(rs_breaker_new("x", &cfg));
}

static void test_breaker_copies_name_and_names_states(void **state)
{
	char name[] = "gateway";
	struct rs_breaker *b = rs_breaker_new(name, NULL);

	(void)state;
	assert_non_null(b);
	name[0] = 'X';
	assert_string_equal(rs_breaker_name(b), "gateway");
	assert_string_equal(rs_breaker_state_name(RS_BREAKER_CLOSED), "closed");
	assert_string_equal(rs_breaker_state_name(RS_BREAKER_OPEN), "open");
	assert_string_equal(rs_breaker_state_name(RS_BREAKER_HALF_OPEN), "half-open");
	rs_breaker_free(b);
	rs_breaker_free(NULL);
}

static void test_breaker_starts_closed_and_allows(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	assert_state(b, RS_BREAKER_CLOSED);
	calls(b, "SSSSSSSSSSSSSSSSSSSSSSSS");
	assert_state(b, RS_BREAKER_CLOSED);
	rs_breaker_free(b);
}

static void test_breaker_stays_closed_below_min_calls(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	calls(b, "FFF"); /* 100 % failures, but only 3 calls */
	assert_state(b, RS_BREAKER_CLOSED);
	call(b, false);
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_opens_after_failure_rate_exceeded(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	calls(b, "SSSSSSFFFF"); /* 4 of 10: 40 % */
	assert_state(b, RS_BREAKER_CLOSED);
	call(b, false); /* S dropped: 5 of 10, exactly 50 % */
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_stays_closed_below_failure_rate(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	calls(b, "SSFSSFSSFSSFSSFSF"); /* at most 4 of 10 */
	assert_state(b, RS_BREAKER_CLOSED);
	rs_breaker_free(b);
}

static void test_breaker_slow_calls_count_as_failures(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 100);

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(rs_breaker_allow(b, now_ms));
		rs_breaker_record(b, now_ms, true, 101);
	}
	assert_state(b, RS_BREAKER_CLOSED);
	assert_true(rs_breaker_allow(b, now_ms));
	rs_breaker_record(b, now_ms, true, 5000);
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_call_at_slow_threshold_is_not_slow(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 100);

	(void)state;
	for (int i = 0; i < 10; i++) {
		assert_true(rs_breaker_allow(b, now_ms));
		rs_breaker_record(b, now_ms, true, 100);
	}
	assert_state(b, RS_BREAKER_CLOSED);
	rs_breaker_free(b);
}

static void test_breaker_slow_call_off_when_zero(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	for (int i = 0; i < 10; i++) {
		assert_true(rs_breaker_allow(b, now_ms));
		rs_breaker_record(b, now_ms, true, 1000000);
	}
	assert_state(b, RS_BREAKER_CLOSED);
	rs_breaker_free(b);
}

static void test_breaker_open_rejects_calls_until_open_ms(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	open_it(b);
	assert_false(rs_breaker_allow(b, now_ms));
	now_ms += 999;
	assert_false(rs_breaker_allow(b, now_ms));
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_goes_half_open_after_open_ms(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	open_it(b);
	now_ms += 1000;
	assert_state(b, RS_BREAKER_HALF_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_half_open_admits_only_half_open_calls_probes(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	open_it(b);
	now_ms += 1000;
	assert_true(rs_breaker_allow(b, now_ms));
	assert_true(rs_breaker_allow(b, now_ms));
	assert_false(rs_breaker_allow(b, now_ms)); /* both probe slots taken */
	assert_false(rs_breaker_allow(b, now_ms));
	/* A finished probe frees its slot. */
	rs_breaker_record(b, now_ms, true, 10);
	assert_state(b, RS_BREAKER_HALF_OPEN);
	assert_true(rs_breaker_allow(b, now_ms));
	assert_false(rs_breaker_allow(b, now_ms));
	rs_breaker_free(b);
}

static void test_breaker_half_open_closes_after_probe_successes(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	open_it(b);
	now_ms += 1000;
	call(b, true);
	assert_state(b, RS_BREAKER_HALF_OPEN);
	call(b, true);
	assert_state(b, RS_BREAKER_CLOSED);
	/* Closed again with a fresh window: three failures stay under min_calls. */
	calls(b, "FFF");
	assert_state(b, RS_BREAKER_CLOSED);
	rs_breaker_free(b);
}

static void test_breaker_half_open_reopens_on_failure(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	open_it(b);
	now_ms += 1000;
	call(b, true);
	now_ms += 10;
	call(b, false);
	assert_state(b, RS_BREAKER_OPEN);
	assert_false(rs_breaker_allow(b, now_ms));
	/* The open period restarts at the failed probe. */
	now_ms += 999;
	assert_state(b, RS_BREAKER_OPEN);
	now_ms += 1;
	assert_state(b, RS_BREAKER_HALF_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_half_open_slow_probe_reopens(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 100);

	(void)state;
	open_it(b);
	now_ms += 1000;
	assert_true(rs_breaker_allow(b, now_ms));
	rs_breaker_record(b, now_ms, true, 250);
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_ignores_stale_outcomes_while_open(void **state)
{
	struct rs_breaker *b = new_breaker(10, 4, 50, 0);

	(void)state;
	/* Two calls admitted while closed finish after the breaker opened. */
	assert_true(rs_breaker_allow(b, now_ms));
	assert_true(rs_breaker_allow(b, now_ms));
	open_it(b);
	rs_breaker_record(b, now_ms, true, 10);
	now_ms += 1000;
	assert_state(b, RS_BREAKER_HALF_OPEN);
	/* The other one lands in half-open with no probe out: not a probe. */
	rs_breaker_record(b, now_ms, true, 10);
	rs_breaker_record(b, now_ms, false, 10);
	assert_state(b, RS_BREAKER_HALF_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_window_slides_so_old_outcomes_are_forgotten(void **state)
{
	/* 100 %: opens only once the window holds nothing but failures. */
	struct rs_breaker *b = new_breaker(4, 4, 100, 0);

	(void)state;
	calls(b, "SFFF");
	assert_state(b, RS_BREAKER_CLOSED);
	call(b, false); /* the S slides out */
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

static void test_breaker_failures_sliding_out_stop_counting(void **state)
{
	struct rs_breaker *b = new_breaker(4, 4, 75, 0);

	(void)state;
	calls(b, "FFSS"); /* FFSS 50 % */
	calls(b, "S");    /* FSSS 25 % */
	calls(b, "F");    /* SSSF 25 % */
	calls(b, "F");    /* SSFF 50 % */
	assert_state(b, RS_BREAKER_CLOSED);
	calls(b, "F"); /* SFFF 75 % */
	assert_state(b, RS_BREAKER_OPEN);
	rs_breaker_free(b);
}

struct hammer {
	struct rs_breaker *b;
	unsigned allowed;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < 20000; i++) {
		if (rs_breaker_allow(h->b, 1)) {
			h->allowed++;
			rs_breaker_record(h->b, 1, i % 4 != 0, 1);
		}
	}
	return NULL;
}

static void test_breaker_is_consistent_under_concurrent_calls(void **state)
{
	struct rs_breaker_config cfg;
	struct hammer h[4];
	pthread_t t[4];

	(void)state;
	rs_breaker_config_default(&cfg);
	cfg.window = 100;
	cfg.min_calls = 100;
	cfg.failure_rate_pct = 50; /* 25 % failures: must never open */
	h[0].b = rs_breaker_new("hammer", &cfg);
	for (int i = 0; i < 4; i++) {
		h[i].b = h[0].b;
		h[i].allowed = 0;
	}
	assert_non_null(h[0].b);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(h[i].allowed, 20000);
	assert_int_equal(rs_breaker_state(h[0].b, 1), RS_BREAKER_CLOSED);
	rs_breaker_free(h[0].b);
}

/* What the on_change callback saw, in order. */
struct changes {
	char log[256];
	int n;
};

static void record_change(const char *name, enum rs_breaker_state from, enum rs_breaker_state to,
                          void *arg)
{
	struct changes *c = arg;
	size_t len = strlen(c->log);

	snprintf(c->log + len, sizeof(c->log) - len, "%s%s:%s>%s", len ? " " : "", name,
	         rs_breaker_state_name(from), rs_breaker_state_name(to));
	c->n++;
}

static void test_breaker_reports_each_state_change_once(void **state)
{
	struct rs_breaker_config cfg;
	struct changes seen = {.n = 0};
	struct rs_breaker *b;

	(void)state;
	rs_breaker_config_default(&cfg);
	assert_null(cfg.on_change);
	cfg.window = 4;
	cfg.min_calls = 2;
	cfg.open_ms = 1000;
	cfg.half_open_calls = 1;
	cfg.on_change = record_change;
	cfg.on_change_arg = &seen;
	b = rs_breaker_new("svc", &cfg);
	assert_non_null(b);
	now_ms = 1000000;
	calls(b, "FF"); /* opens */
	assert_state(b, RS_BREAKER_OPEN);
	assert_state(b, RS_BREAKER_OPEN); /* asking again changes nothing */
	now_ms += 1000;
	assert_state(b, RS_BREAKER_HALF_OPEN); /* time-driven: seen by the query */
	assert_state(b, RS_BREAKER_HALF_OPEN);
	call(b, false); /* failed probe: open again */
	now_ms += 1000;
	call(b, true); /* half-open, then the probe closes it */
	calls(b, "S");
	assert_string_equal(seen.log, "svc:closed>open svc:open>half-open svc:half-open>open "
	                              "svc:open>half-open svc:half-open>closed");
	assert_int_equal(seen.n, 5);
	rs_breaker_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_breaker_defaults_match_header),
	        cmocka_unit_test(test_breaker_rejects_invalid_config),
	        cmocka_unit_test(test_breaker_copies_name_and_names_states),
	        cmocka_unit_test(test_breaker_starts_closed_and_allows),
	        cmocka_unit_test(test_breaker_stays_closed_below_min_calls),
	        cmocka_unit_test(test_breaker_opens_after_failure_rate_exceeded),
	        cmocka_unit_test(test_breaker_stays_closed_below_failure_rate),
	        cmocka_unit_test(test_breaker_slow_calls_count_as_failures),
	        cmocka_unit_test(test_breaker_call_at_slow_threshold_is_not_slow),
	        cmocka_unit_test(test_breaker_slow_call_off_when_zero),
	        cmocka_unit_test(test_breaker_open_rejects_calls_until_open_ms),
	        cmocka_unit_test(test_breaker_goes_half_open_after_open_ms),
	        cmocka_unit_test(test_breaker_half_open_admits_only_half_open_calls_probes),
	        cmocka_unit_test(test_breaker_half_open_closes_after_probe_successes),
	        cmocka_unit_test(test_breaker_half_open_reopens_on_failure),
	        cmocka_unit_test(test_breaker_half_open_slow_probe_reopens),
	        cmocka_unit_test(test_breaker_ignores_stale_outcomes_while_open),
	        cmocka_unit_test(test_breaker_window_slides_so_old_outcomes_are_forgotten),
	        cmocka_unit_test(test_breaker_failures_sliding_out_stop_counting),
	        cmocka_unit_test(test_breaker_is_consistent_under_concurrent_calls),
	        cmocka_unit_test(test_breaker_reports_each_state_change_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
