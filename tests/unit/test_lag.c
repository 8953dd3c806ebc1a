/*
 * Unit tests of resilience/sidecar/lag.h against the fake broker
 * (fake_kafka.h): the lag of each subscribed partition is its high watermark
 * minus the group's committed offset, or minus the log start when nothing
 * is committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/lag.h"
#include "svc/buf.h"
#include "svc/prom.h"
#include "tests/unit/fake_kafka.h"

struct fixture {
	struct fake_kafka *fk;
	struct sc_config cfg;
	struct svc_prom *prom;
	struct svc_buf text;
	struct sc_lag *lag; /* the test's, freed by the teardown */
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	sc_lag_free(f->lag);
	svc_buf_release(&f->text);
	svc_prom_free(f->prom);
	fake_kafka_free(f->fk);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f)
		return -1;
	if (!(f->fk = fake_kafka_new()) || !(f->prom = svc_prom_new()))
		goto fail;
	fake_kafka_sidecar_config(f->fk, &f->cfg);
	f->cfg.subscribe = "a.events,b.events";
	fake_kafka_topic(f->fk, "a.events", 2);
	fake_kafka_topic(f->fk, "b.events", 1);
	svc_buf_init(&f->text);
	return 0;

fail:
	teardown(state);
	return -1;
}

/* The rendered metrics after one collection by `lag`. */
static const char *scrape(struct fixture *f, struct sc_lag *lag)
{
	svc_buf_release(&f->text);
	svc_buf_init(&f->text);
	assert_int_equal(svc_prom_on_collect(f->prom, sc_lag_collect, lag), 0);
	assert_int_equal(svc_prom_render(f->prom, &f->text), 0);
	return svc_buf_str(&f->text);
}

static void test_lag_is_the_high_watermark_minus_the_committed_offset(void **state)
{
	struct fixture *f = *state;
	struct sc_lag *lag = f->lag = sc_lag_new(&f->cfg);
	const char *text;

	assert_non_null(lag);
	for (int i = 0; i < 5; i++)
		fake_kafka_append(f->fk, "a.events", 0, "k", "v", NULL, 0);
	fake_kafka_set_committed(f->fk, "a.events", 0, 3);
	for (int i = 0; i < 4; i++)
		fake_kafka_append(f->fk, "b.events", 0, "k", "v", NULL, 0);
	fake_kafka_set_low(f->fk, "b.events", 0, 1); /* nothing committed: from the log start */
	text = scrape(f, lag);
	assert_non_null(strstr(text, "saga_consumer_lag{topic=\"a.events\",partition=\"0\"} 2"));
	assert_non_null(strstr(text, "saga_consumer_lag{topic=\"a.events\",partition=\"1\"} 0"));
	assert_non_null(strstr(text, "saga_consumer_lag{topic=\"b.events\",partition=\"0\"} 3"));
	/* the three partitions' ends in one request and, as two have nothing
	 * committed, their starts in one more; none asked for one by one */
	assert_int_equal(fake_kafka_calls(f->fk, "offsets_for_times"), 2);
	assert_int_equal(fake_kafka_calls(f->fk, "query_watermark_offsets"), 0);
}

static void test_lag_asks_for_the_log_starts_only_when_nothing_is_committed(void **state)
{
	struct fixture *f = *state;
	struct sc_lag *lag = f->lag = sc_lag_new(&f->cfg);
	const char *text;

	assert_non_null(lag);
	for (int i = 0; i < 6; i++)
		fake_kafka_append(f->fk, "a.events", 1, "k", "v", NULL, 0);
	fake_kafka_set_committed(f->fk, "a.events", 0, 0);
	fake_kafka_set_committed(f->fk, "a.events", 1, 2);
	fake_kafka_set_committed(f->fk, "b.events", 0, 0);
	fake_kafka_set_low(f->fk, "a.events", 1, 5); /* not read: 2 is committed */
	text = scrape(f, lag);
	assert_non_null(strstr(text, "saga_consumer_lag{topic=\"a.events\",partition=\"1\"} 4"));
	assert_int_equal(fake_kafka_calls(f->fk, "offsets_for_times"), 1);
}

static void test_lag_without_the_log_ends_is_left_out(void **state)
{
	struct fixture *f = *state;
	struct sc_lag *lag = f->lag = sc_lag_new(&f->cfg);
	const char *text;

	assert_non_null(lag);
	fake_kafka_set_committed(f->fk, "a.events", 0, 0);
	fake_kafka_fail(f->fk, "offsets_for_times", RD_KAFKA_RESP_ERR__TIMED_OUT, 1);
	text = scrape(f, lag);
	assert_null(strstr(text, "saga_consumer_lag{"));
	/* the next scrape reads them again */
	text = scrape(f, lag);
	assert_non_null(strstr(text, "saga_consumer_lag{topic=\"a.events\",partition=\"0\"} 0"));
}

static void test_lag_of_an_unreadable_partition_is_left_out(void **state)
{
	struct fixture *f = *state;
	struct sc_lag *lag = f->lag = sc_lag_new(&f->cfg);
	const char *text;

	assert_non_null(lag);
	fake_kafka_fail(f->fk, "committed", RD_KAFKA_RESP_ERR__TIMED_OUT, 1);
	text = scrape(f, lag);
	assert_null(strstr(text, "saga_consumer_lag{"));
}

static void test_lag_needs_topics_and_a_client(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "new_client", RD_KAFKA_RESP_ERR__INVALID_ARG, 1);
	assert_null(sc_lag_new(&f->cfg));
	f->cfg.subscribe = " , ";
	assert_null(sc_lag_new(&f->cfg));
	sc_lag_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(
	                test_lag_is_the_high_watermark_minus_the_committed_offset, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_lag_asks_for_the_log_starts_only_when_nothing_is_committed, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_lag_of_an_unreadable_partition_is_left_out,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lag_without_the_log_ends_is_left_out, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_lag_needs_topics_and_a_client, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
