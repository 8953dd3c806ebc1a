/*
 * Unit tests of resilience/sidecar/producer.h against the fake broker
 * (fake_kafka.h): delivery reports reach their acks, transient and
 * permanent produce failures, flush at free, fatal errors, reachability.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/producer.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "tests/unit/fake_kafka.h"

struct fixture {
	struct fake_kafka *fk;
	struct sc_config cfg;
	struct sc_producer *p;
	struct sc_ack_group group;
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	sc_producer_free(f->p);
	sc_ack_group_release(&f->group);
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
	f->fk = fake_kafka_new();
	if (!f->fk || sc_ack_group_init(&f->group) != 0)
		goto fail;
	fake_kafka_sidecar_config(f->fk, &f->cfg);
	f->p = sc_producer_new(&f->cfg);
	if (f->p)
		return 0;
fail:
	teardown(state);
	return -1;
}

/* Sends "v" keyed "k" to `topic` with one header; the send's result. */
static int send_one(struct fixture *f, const char *topic, struct sc_ack *ack)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(1);

	rd_kafka_header_add(h, "event-id", -1, "e-1", -1);
	ack->group = &f->group;
	ack->err = RD_KAFKA_RESP_ERR__FAIL;
	return sc_producer_send(f->p, topic, "k", 1, "v", 1, h, ack);
}

static void test_producer_ack_gets_the_delivery_report(void **state)
{
	struct fixture *f = *state;
	struct sc_ack ack;
	char buf[32];

	assert_int_equal(send_one(f, "order.events", &ack), 0);
	sc_ack_group_wait(&f->group);
	assert_int_equal(ack.err, RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(f->group.pending, 0);
	assert_int_equal(fake_kafka_produced_count(f->fk), 1);
	const struct fake_kafka_produced *p = fake_kafka_produced(f->fk, 0);
	assert_string_equal(p->topic, "order.events");
	assert_memory_equal(p->key, "k", 1);
	assert_memory_equal(p->payload, "v", 1);
	assert_string_equal(fake_kafka_header(p, "event-id", buf, sizeof(buf)), "e-1");
	assert_true(p->reported);
}

static void test_producer_failed_delivery_reaches_the_ack(void **state)
{
	struct fixture *f = *state;
	struct sc_ack ok, failed;

	fake_kafka_report(f->fk, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
	assert_int_equal(send_one(f, "order.events", &failed), 0);
	assert_int_equal(send_one(f, "order.events", &ok), 0);
	sc_ack_group_wait(&f->group);
	assert_int_equal(failed.err, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
	assert_int_equal(ok.err, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void test_producer_full_queue_is_retried_until_it_drains(void **state)
{
	struct fixture *f = *state;
	struct sc_ack ack;

	fake_kafka_fail(f->fk, "produce", RD_KAFKA_RESP_ERR__QUEUE_FULL, 3);
	assert_int_equal(send_one(f, "order.events", &ack), 0);
	sc_ack_group_wait(&f->group);
	assert_int_equal(ack.err, RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(fake_kafka_calls(f->fk, "produce"), 4);
	assert_int_equal(fake_kafka_produced_count(f->fk), 1);
}

static void test_producer_full_queue_for_too_long_is_transient(void **state)
{
	struct fixture *f = *state;
	struct sc_ack ack;
	uint64_t start = svc_mono_ms();

	fake_kafka_fail(f->fk, "produce", RD_KAFKA_RESP_ERR__QUEUE_FULL, -1);
	assert_int_equal(send_one(f, "order.events", &ack), SVC_ETRANSIENT);
	assert_true(svc_mono_ms() - start >= 4900); /* kept trying ~5 s */
	assert_int_equal(ack.err, RD_KAFKA_RESP_ERR__QUEUE_FULL);
	assert_int_equal(f->group.pending, 0); /* no report will come: nothing to wait for */
	sc_ack_group_wait(&f->group);
}

static void test_producer_unknown_topic_is_permanent_at_once(void **state)
{
	struct fixture *f = *state;
	struct sc_ack ack;

	fake_kafka_fail(f->fk, "produce", RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	assert_int_equal(send_one(f, "nowhere", &ack), SVC_EPERMANENT);
	assert_int_equal(ack.err, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
	assert_int_equal(fake_kafka_calls(f->fk, "produce"), 1);
	assert_int_equal(f->group.pending, 0);
	assert_int_equal(fake_kafka_produced_count(f->fk), 0);
}

static void test_producer_free_flushes_what_is_in_flight(void **state)
{
	struct fixture *f = *state;
	struct sc_ack a, b;

	fake_kafka_hold_reports(f->fk, true);
	assert_int_equal(send_one(f, "order.events", &a), 0);
	assert_int_equal(send_one(f, "order.events", &b), 0);
	svc_sleep_ms(50);
	assert_int_equal(f->group.pending, 2);
	fake_kafka_hold_reports(f->fk, false);
	sc_producer_free(f->p);
	f->p = NULL;
	assert_int_equal(fake_kafka_calls(f->fk, "flush"), 1);
	assert_int_equal(f->group.pending, 0);
	assert_true(fake_kafka_produced(f->fk, 0)->reported);
	assert_true(fake_kafka_produced(f->fk, 1)->reported);
	assert_int_equal(fake_kafka_clients(f->fk), 0);
}

static void test_producer_free_gives_up_on_a_flush_that_times_out(void **state)
{
	struct fixture *f = *state;
	struct sc_ack a;

	fake_kafka_hold_reports(f->fk, true);
	fake_kafka_fail(f->fk, "flush", RD_KAFKA_RESP_ERR__TIMED_OUT, 1);
	assert_int_equal(send_one(f, "order.events", &a), 0);
	sc_producer_free(f->p); /* logs the undelivered message, frees anyway */
	f->p = NULL;
	assert_int_equal(fake_kafka_clients(f->fk), 0);
	/* the report never came: release the group as the caller would after a crash */
	f->group.pending = 0;
}

static void test_producer_unhealthy_after_a_fatal_error(void **state)
{
	struct fixture *f = *state;

	assert_true(sc_producer_healthy(f->p));
	fake_kafka_set_fatal(f->fk, RD_KAFKA_RESP_ERR__FENCED);
	assert_false(sc_producer_healthy(f->p));
	assert_false(sc_producer_healthy(f->p)); /* logged once, still unhealthy */
}

static void test_producer_reachable_is_cached_for_a_second(void **state)
{
	struct fixture *f = *state;

	assert_true(sc_producer_reachable(f->p));
	fake_kafka_set_brokers(f->fk, 0);
	assert_true(sc_producer_reachable(f->p)); /* cached */
	assert_int_equal(fake_kafka_calls(f->fk, "metadata"), 1);
	svc_sleep_ms(1100);
	assert_false(sc_producer_reachable(f->p)); /* no broker listed */
	assert_int_equal(fake_kafka_calls(f->fk, "metadata"), 2);
}

static void test_producer_unreachable_when_metadata_fails(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "metadata", RD_KAFKA_RESP_ERR__TRANSPORT, 1);
	assert_false(sc_producer_reachable(f->p));
}

static void test_producer_new_refused_by_the_client_is_null(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "new_client", RD_KAFKA_RESP_ERR__INVALID_ARG, 1);
	assert_null(sc_producer_new(&f->cfg));
	assert_int_equal(fake_kafka_clients(f->fk), 1); /* the fixture's only */
}

static void test_producer_new_refuses_a_bad_compression(void **state)
{
	struct fixture *f = *state;

	f->cfg.kafka_compression = "carrier-pigeon";
	assert_null(sc_producer_new(&f->cfg));
	assert_int_equal(fake_kafka_calls(f->fk, "new_client"), 1); /* the fixture's */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_producer_ack_gets_the_delivery_report, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_producer_failed_delivery_reaches_the_ack,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_full_queue_is_retried_until_it_drains,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_full_queue_for_too_long_is_transient,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_unknown_topic_is_permanent_at_once,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_free_flushes_what_is_in_flight, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_producer_free_gives_up_on_a_flush_that_times_out, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_unhealthy_after_a_fatal_error, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_producer_reachable_is_cached_for_a_second,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_unreachable_when_metadata_fails,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_new_refused_by_the_client_is_null,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_producer_new_refuses_a_bad_compression, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
