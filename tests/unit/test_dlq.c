/* Unit tests of resilience/sidecar/dlq.h: the provenance headers of a dead
 * letter, what a re-driven message carries into them, and sending it with
 * the producer over the fake broker (fake_kafka.h): retried until
 * acknowledged, given up only at stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/dlq.h"
#include "svc/error.h"
#include "tests/unit/fake_kafka.h"

/* The value of header `name` as a string (copied into buf). */
static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t len)
{
	const void *value = NULL;
	size_t size = 0;

	if (rd_kafka_header_get_last(h, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (size >= len)
		size = len - 1;
	memcpy(buf, value, size);
	buf[size] = '\0';
	return buf;
}

static void test_dlq_headers_say_why_and_where_from(void **state)
{
	(void)state;
	struct sc_dlq_record r = {
	        .source_topic = "order.events",
	        .source_partition = 4,
	        .source_offset = 987654321012LL,
	        .key = "order-42",
	        .keylen = 8,
	        .payload = "{}",
	        .len = 2,
	        .reason = "unknown event type",
	        .attempts = 3,
	};
	char buf[64];
	rd_kafka_headers_t *h = sc_dlq_headers(&r, "inventory", 1700000000123LL);

	assert_non_null(h);
	assert_string_equal(header(h, "dlq-reason", buf, sizeof(buf)), "unknown event type");
	assert_string_equal(header(h, "dlq-source-topic", buf, sizeof(buf)), "order.events");
	assert_string_equal(header(h, "dlq-source-partition", buf, sizeof(buf)), "4");
	assert_string_equal(header(h, "dlq-source-offset", buf, sizeof(buf)), "987654321012");
	assert_string_equal(header(h, "dlq-timestamp", buf, sizeof(buf)), "1700000000123");
	assert_string_equal(header(h, "dlq-attempts", buf, sizeof(buf)), "3");
	assert_string_equal(header(h, "dlq-service", buf, sizeof(buf)), "inventory");
	assert_string_equal(header(h, "order-id", buf, sizeof(buf)), "order-42");
	rd_kafka_headers_destroy(h);
}

static void test_dlq_headers_tolerate_missing_key_and_reason(void **state)
{
	(void)state;
	struct sc_dlq_record r = {.source_topic = "t", .reason = NULL, .key = NULL};
	char buf[16];
	rd_kafka_headers_t *h = sc_dlq_headers(&r, "order", 1);

	assert_non_null(h);
	assert_string_equal(header(h, "order-id", buf, sizeof(buf)), "");
	assert_string_equal(header(h, "dlq-reason", buf, sizeof(buf)), "");
	rd_kafka_headers_destroy(h);
}

static void test_dlq_record_carries_a_redriven_messages_identity(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = rd_kafka_headers_new(4);
	struct sc_dlq_record r = {.source_topic = "order.events", .attempts = 2};
	char buf[64];

	rd_kafka_header_add(h, "event-id", -1, "e-7", -1);
	rd_kafka_header_add(h, "dlq-entry", -1, "test.dlq/1/5", -1);
	rd_kafka_header_add(h, "dlq-attempts-before", -1, "3", -1);
	rd_kafka_header_add(h, "dlq-redrives", -1, "1", -1);
	sc_dlq_record_carry(&r, h);
	assert_memory_equal(r.event_id, "e-7", r.event_id_len);
	assert_memory_equal(r.entry_id, "test.dlq/1/5", r.entry_id_len);
	assert_int_equal(r.attempts_before, 3);
	assert_int_equal(r.redrives, 1);
	rd_kafka_headers_t *out = sc_dlq_headers(&r, "test", 1);
	assert_string_equal(header(out, "dlq-attempts", buf, sizeof(buf)), "5"); /* 3 + 2 */
	assert_string_equal(header(out, "dlq-entry", buf, sizeof(buf)), "test.dlq/1/5");
	assert_string_equal(header(out, "dlq-redrives", buf, sizeof(buf)), "1");
	assert_string_equal(header(out, "event-id", buf, sizeof(buf)), "e-7");
	rd_kafka_headers_destroy(out);
	rd_kafka_headers_destroy(h);
}

static void test_dlq_record_ignores_malformed_carried_numbers(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = rd_kafka_headers_new(3);
	struct sc_dlq_record r = {0};

	rd_kafka_header_add(h, "dlq-entry", -1, "x/0/1", -1);
	rd_kafka_header_add(h, "dlq-attempts-before", -1, "-4", -1);
	rd_kafka_header_add(h, "dlq-redrives", -1, "9z", -1);
	sc_dlq_record_carry(&r, h);
	assert_non_null(r.entry_id);
	assert_int_equal(r.attempts_before, 0);
	assert_int_equal(r.redrives, 0);
	assert_null(r.event_id);
	sc_dlq_record_carry(&r, NULL); /* no headers: nothing changes */
	rd_kafka_headers_destroy(h);
}

/* ---- sending, with the producer over the fake broker ---------------------------- */

struct fixture {
	struct fake_kafka *fk;
	struct sc_config cfg;
	struct sc_producer *producer;
	struct sc_stop stop;
	struct sc_dlq dlq;
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	sc_producer_free(f->producer);
	sc_stop_release(&f->stop);
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
	if (!(f->fk = fake_kafka_new()) || sc_stop_init(&f->stop) != 0)
		goto fail;
	fake_kafka_sidecar_config(f->fk, &f->cfg);
	f->producer = sc_producer_new(&f->cfg);
	f->dlq = (struct sc_dlq){.producer = f->producer,
	                         .topic = "test.dlq",
	                         .service = "test",
	                         .stop = &f->stop,
	                         .backoff = {.base_ms = 1, .max_ms = 5}};
	if (f->producer)
		return 0;
fail:
	teardown(state);
	return -1;
}

static const struct sc_dlq_record record = {
        .source_topic = "order.events",
        .source_partition = 1,
        .source_offset = 42,
        .key = "order-1",
        .keylen = 7,
        .payload = "{}",
        .len = 2,
        .reason = "rejected",
        .attempts = 1,
};

static void test_dlq_send_produces_the_copy_to_the_dlq_topic(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(sc_dlq_send(&f->dlq, &record), 0);
	assert_int_equal(fake_kafka_produced_count(f->fk), 1);
	const struct fake_kafka_produced *p = fake_kafka_produced(f->fk, 0);
	assert_string_equal(p->topic, "test.dlq");
	assert_string_equal(p->key, "order-1");
	assert_string_equal(p->payload, "{}");
	assert_string_equal(fake_kafka_header(p, "dlq-source-offset", buf, sizeof(buf)), "42");
	assert_string_equal(fake_kafka_header(p, "dlq-service", buf, sizeof(buf)), "test");
}

static void test_dlq_send_retries_until_the_copy_is_acknowledged(void **state)
{
	struct fixture *f = *state;

	fake_kafka_report(f->fk, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
	fake_kafka_report(f->fk, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
	fake_kafka_fail(f->fk, "produce", RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	assert_int_equal(sc_dlq_send(&f->dlq, &record), 0);
	assert_int_equal(fake_kafka_calls(f->fk, "produce"), 4);
	assert_int_equal(fake_kafka_produced_count(f->fk), 3);
	assert_int_equal(fake_kafka_produced(f->fk, 2)->error, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void test_dlq_send_gives_up_only_when_stop_is_requested(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "produce", RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, -1);
	sc_stop_request(&f->stop);
	assert_int_equal(sc_dlq_send(&f->dlq, &record), SVC_ETRANSIENT);
	assert_int_equal(fake_kafka_produced_count(f->fk), 0);
}

static void test_dlq_send_once_reports_why_it_failed(void **state)
{
	struct fixture *f = *state;

	fake_kafka_report(f->fk, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE);
	assert_int_equal(sc_dlq_send_once(&f->dlq, &record),
	                 RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE);
	assert_int_equal(fake_kafka_calls(f->fk, "produce"), 1);
}

static void test_dlq_produce_wait_frees_the_headers_of_a_refused_send(void **state)
{
	struct fixture *f = *state;
	rd_kafka_headers_t *h = rd_kafka_headers_new(1);

	rd_kafka_header_add(h, "x", -1, "y", -1);
	fake_kafka_fail(f->fk, "produce", RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	/* a leak of h here shows under ASan and valgrind */
	assert_int_equal(sc_dlq_produce_wait(f->producer, "nowhere", NULL, 5, NULL, 9, h),
	                 RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dlq_headers_say_why_and_where_from),
	        cmocka_unit_test(test_dlq_headers_tolerate_missing_key_and_reason),
	        cmocka_unit_test(test_dlq_record_carries_a_redriven_messages_identity),
	        cmocka_unit_test(test_dlq_record_ignores_malformed_carried_numbers),
	        cmocka_unit_test_setup_teardown(test_dlq_send_produces_the_copy_to_the_dlq_topic,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_dlq_send_retries_until_the_copy_is_acknowledged, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dlq_send_gives_up_only_when_stop_is_requested,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dlq_send_once_reports_why_it_failed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_dlq_produce_wait_frees_the_headers_of_a_refused_send, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
