/*
 * Unit tests of resilience/sidecar/dlq_reader.h against the fake broker
 * (fake_kafka.h): which messages a window selects, reading up to the high
 * watermark of the start, and what each failure returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/dlq_reader.h"
#include "svc/error.h"
#include "tests/unit/fake_kafka.h"

#define DLQ "test.dlq"

struct fixture {
	struct fake_kafka *fk;
	struct sc_kafka_client kafka;
	struct sc_dlq_reader_config cfg;
	/* what the visitor saw */
	int32_t parts[32];
	int64_t offsets[32];
	int64_t timestamps[32];
	char reasons[32][32];
	size_t n;
	size_t stop_after; /* the visitor returns SVC_ECONFLICT after this many (0: never) */
	bool append_while_reading;
};

/* A dead letter's headers, with `reason`. */
static rd_kafka_headers_t *headers(const char *reason)
{
	struct sc_dlq_record r = {
	        .source_topic = "order.events", .reason = reason, .key = "o-1", .keylen = 3};

	return sc_dlq_headers(&r, "test", 1700000000000LL);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_kafka_free(f->fk);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char reason[16];

	*state = f;
	if (!f)
		return -1;
	if (!(f->fk = fake_kafka_new()))
		goto fail;
	f->kafka.brokers = "fake:9092";
	fake_kafka_install(f->fk, &f->kafka);
	f->cfg = (struct sc_dlq_reader_config){
	        .kafka = &f->kafka, .topic = DLQ, .client_id = "test-dlq", .timeout_ms = 2000};
	fake_kafka_topic(f->fk, DLQ, 2);
	for (int i = 0; i < 4; i++) { /* partition 0: offsets 0..3; partition 1: 0 */
		snprintf(reason, sizeof(reason), "r0-%d", i);
		fake_kafka_append(f->fk, DLQ, 0, "o-1", "{}", headers(reason), 1000 + i);
	}
	fake_kafka_append(f->fk, DLQ, 1, "o-2", "{}", headers("r1-0"), 2000);
	return 0;

fail:
	teardown(state);
	return -1;
}

static int visit(void *arg, const struct sc_dlq_message *m)
{
	struct fixture *f = arg;
	const void *value = NULL;
	size_t size = 0;

	if (f->n >= 32)
		return SVC_ENOMEM;
	f->parts[f->n] = m->partition;
	f->offsets[f->n] = m->offset;
	f->timestamps[f->n] = m->timestamp_ms;
	f->reasons[f->n][0] = '\0';
	if (m->hdrs && rd_kafka_header_get_last(m->hdrs, "dlq-reason", &value, &size) == 0 &&
	    size < 32) {
		memcpy(f->reasons[f->n], value, size);
		f->reasons[f->n][size] = '\0';
	}
	f->n++;
	if (f->append_while_reading && f->n == 1)
		fake_kafka_append(f->fk, DLQ, 0, "o-9", "{}", NULL, 9000);
	return f->stop_after && f->n >= f->stop_after ? SVC_ECONFLICT : 0;
}

static int read_window(struct fixture *f, int32_t partition, int64_t offset, int64_t tail)
{
	struct sc_dlq_window w = {.partition = partition, .offset = offset, .tail = tail};

	return sc_dlq_read(&f->cfg, &w, visit, f);
}

static size_t count_partition(const struct fixture *f, int32_t p)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->parts[i] == p;
	return n;
}

static void test_dlq_read_reads_every_partition_in_offset_order(void **state)
{
	struct fixture *f = *state;
	int64_t last = -1;

	assert_int_equal(read_window(f, -1, -1, 0), 0);
	assert_int_equal(f->n, 5);
	assert_int_equal(count_partition(f, 0), 4);
	assert_int_equal(count_partition(f, 1), 1);
	for (size_t i = 0; i < f->n; i++) {
		if (f->parts[i] != 0)
			continue;
		assert_true(f->offsets[i] > last);
		last = f->offsets[i];
		char want[16];
		snprintf(want, sizeof(want), "r0-%d", (int)f->offsets[i]);
		assert_string_equal(f->reasons[i], want); /* headers reach the visitor */
		assert_int_equal(f->timestamps[i], 1000 + f->offsets[i]);
	}
	assert_int_equal(fake_kafka_calls(f->fk, "consumer_close"), 1);
	assert_int_equal(fake_kafka_clients(f->fk), 0); /* the read's consumer is gone */
}

static void test_dlq_read_tail_keeps_the_newest_of_each_partition(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(read_window(f, -1, -1, 2), 0);
	assert_int_equal(f->n, 3);
	assert_int_equal(count_partition(f, 0), 2);
	for (size_t i = 0; i < f->n; i++)
		if (f->parts[i] == 0)
			assert_true(f->offsets[i] >= 2);
}

static void test_dlq_read_one_offset_reads_that_message_only(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(read_window(f, 0, 2, 0), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->parts[0], 0);
	assert_int_equal(f->offsets[0], 2);
	assert_string_equal(f->reasons[0], "r0-2");
}

static void test_dlq_read_offset_outside_the_log_is_not_found(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(read_window(f, 0, 4, 0), SVC_ENOTFOUND); /* at the high watermark */
	fake_kafka_set_low(f->fk, DLQ, 0, 2);
	assert_int_equal(read_window(f, 0, 1, 0), SVC_ENOTFOUND);  /* below the low one */
	assert_int_equal(read_window(f, 5, -1, 0), SVC_ENOTFOUND); /* no such partition */
	assert_int_equal(f->n, 0);
}

static void test_dlq_read_skips_what_is_below_the_low_watermark(void **state)
{
	struct fixture *f = *state;

	fake_kafka_set_low(f->fk, DLQ, 0, 3);
	assert_int_equal(read_window(f, 0, -1, 0), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->offsets[0], 3);
}

static void test_dlq_read_of_an_unknown_topic_is_not_found(void **state)
{
	struct fixture *f = *state;

	f->cfg.topic = "nobody.dlq";
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ENOTFOUND);
}

static void test_dlq_read_failures_of_kafka_are_transient(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "metadata", RD_KAFKA_RESP_ERR__TRANSPORT, 1);
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ETRANSIENT);
	fake_kafka_fail(f->fk, "query_watermark_offsets", RD_KAFKA_RESP_ERR__TIMED_OUT, 1);
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ETRANSIENT);
	fake_kafka_fail(f->fk, "assign", RD_KAFKA_RESP_ERR__STATE, 1);
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ETRANSIENT);
	fake_kafka_fail(f->fk, "new_client", RD_KAFKA_RESP_ERR__INVALID_ARG, 1);
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ENOMEM);
	assert_int_equal(f->n, 0);
}

static void test_dlq_read_does_not_see_what_arrives_during_the_read(void **state)
{
	struct fixture *f = *state;

	f->append_while_reading = true;
	assert_int_equal(read_window(f, 0, -1, 0), 0);
	assert_int_equal(f->n, 4); /* not offset 4, appended after the start */
}

static void test_dlq_read_stops_with_the_visitors_code(void **state)
{
	struct fixture *f = *state;

	f->stop_after = 2;
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ECONFLICT);
	assert_int_equal(f->n, 2);
}

static void test_dlq_read_of_an_empty_topic_assigns_nothing(void **state)
{
	struct fixture *f = *state;

	fake_kafka_topic(f->fk, "empty.dlq", 3);
	f->cfg.topic = "empty.dlq";
	assert_int_equal(read_window(f, -1, -1, 0), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(fake_kafka_calls(f->fk, "assign"), 0);
}

static void test_dlq_read_skips_consumer_errors(void **state)
{
	struct fixture *f = *state;

	fake_kafka_push_error(f->fk, RD_KAFKA_RESP_ERR__TRANSPORT);
	assert_int_equal(read_window(f, 1, -1, 0), 0);
	assert_int_equal(f->n, 1);
}

static void test_dlq_read_gives_up_at_its_deadline(void **state)
{
	struct fixture *f = *state;

	f->cfg.timeout_ms = 300;
	fake_kafka_fail(f->fk, "consumer_poll", RD_KAFKA_RESP_ERR__TIMED_OUT, -1);
	assert_int_equal(read_window(f, -1, -1, 0), SVC_ETRANSIENT);
	assert_int_equal(f->n, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_dlq_read_reads_every_partition_in_offset_order),
	        T(test_dlq_read_tail_keeps_the_newest_of_each_partition),
	        T(test_dlq_read_one_offset_reads_that_message_only),
	        T(test_dlq_read_offset_outside_the_log_is_not_found),
	        T(test_dlq_read_skips_what_is_below_the_low_watermark),
	        T(test_dlq_read_of_an_unknown_topic_is_not_found),
	        T(test_dlq_read_failures_of_kafka_are_transient),
	        T(test_dlq_read_does_not_see_what_arrives_during_the_read),
	        T(test_dlq_read_stops_with_the_visitors_code),
	        T(test_dlq_read_of_an_empty_topic_assigns_nothing),
	        T(test_dlq_read_skips_consumer_errors),
	        T(test_dlq_read_gives_up_at_its_deadline),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
