/*
 * Unit tests of inbound delivery (resilience/sidecar/inbound.h: inbound.c and
 * inbound_worker.c) against the fake broker (fake_kafka.h) and a tiny service
 * on 127.0.0.1 answering POST /internal/events as each test scripts it:
 * offsets stored only once the service answered, retries, dead letters,
 * flow control (pause/resume), rebalances.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/inbound.h"
#include "resilience/sidecar/producer.h"
#include "svc/clock.h"
#include "svc/http.h"
#include "svc/httpc.h"
#include "tests/unit/fake_http.h"
#include "tests/unit/fake_kafka.h"

#define TOPIC "order.events"

/* Waits up to 10 s for `cond`, then asserts it. */
#define WAIT_FOR(cond)                                                                             \
	do {                                                                                       \
		uint64_t wait_end_ = svc_mono_ms() + 10000;                                        \
		while (!(cond) && svc_mono_ms() < wait_end_)                                       \
			svc_sleep_ms(5);                                                           \
		assert_true(cond);                                                                 \
	} while (0)

/* ---- the service ---------------------------------------------------------------- */

/* How the service answers, and what it saw. Guarded by mu. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool hold;       /* answers wait until released */
	int statuses[8]; /* the next requests' statuses (0: 200) */
	size_t nstatuses;
	unsigned retry_first;     /* the first n requests answer "retry" for every message */
	int64_t reject_offset;    /* a message at this offset is "rejected" (-1: none) */
	unsigned retry_parts;     /* partitions (bits) whose messages are answered "retry"... */
	unsigned hold_at;         /* the request of this number (from 1) on are held */
	unsigned retry_part_left; /* ...in this many more requests */
	unsigned mixed;           /* requests holding messages of more than one partition */
	unsigned requests;        /* requests received */
	unsigned in_flight;       /* requests being answered */
	int64_t seen[256];        /* offsets answered "ok", in order */
	int32_t seen_part[256];   /* and their partitions */
	size_t nseen;
} svc = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void svc_reset(void)
{
	pthread_mutex_lock(&svc.mu);
	svc.hold = false;
	svc.nstatuses = 0;
	svc.retry_first = 0;
	svc.reject_offset = -1;
	svc.requests = 0;
	svc.retry_parts = 0;
	svc.hold_at = 0;
	svc.retry_part_left = 0;
	svc.mixed = 0;
	svc.nseen = 0;
	pthread_mutex_unlock(&svc.mu);
}

static void svc_hold(bool hold)
{
	pthread_mutex_lock(&svc.mu);
	svc.hold = hold;
	pthread_cond_broadcast(&svc.cond);
	pthread_mutex_unlock(&svc.mu);
}

static unsigned svc_requests(void)
{
	pthread_mutex_lock(&svc.mu);
	unsigned n = svc.requests;
	pthread_mutex_unlock(&svc.mu);
	return n;
}

static unsigned svc_in_flight(void)
{
	pthread_mutex_lock(&svc.mu);
	unsigned n = svc.in_flight;
	pthread_mutex_unlock(&svc.mu);
	return n;
}

static size_t svc_seen(void)
{
	pthread_mutex_lock(&svc.mu);
	size_t n = svc.nseen;
	pthread_mutex_unlock(&svc.mu);
	return n;
}

static void serve_events(void *ctx, const struct svc_http_request *req,
                         struct svc_http_response *res)
{
	json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
	json_t *msgs = json_object_get(root, "messages");
	json_t *results = json_array();
	int status = 200;
	bool retry;

	(void)ctx;
	pthread_mutex_lock(&svc.mu);
	svc.requests++;
	if (svc.requests == svc.hold_at)
		svc.hold = true;
	svc.in_flight++;
	while (svc.hold)
		pthread_cond_wait(&svc.cond, &svc.mu);
	if (svc.nstatuses > 0) {
		status = svc.statuses[0];
		for (size_t i = 1; i < svc.nstatuses; i++)
			svc.statuses[i - 1] = svc.statuses[i];
		svc.nstatuses--;
	}
	retry = svc.retry_first > 0;
	if (retry)
		svc.retry_first--;
	bool part_retry = false;
	int32_t first_part = -1;
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		int32_t p = (int32_t)json_integer_value(
		        json_object_get(json_array_get(msgs, i), "partition"));
		if (i == 0)
			first_part = p;
		else if (p != first_part && first_part >= 0) {
			svc.mixed++;
			first_part = -1;
		}
		part_retry = part_retry ||
		             (p < 32 && (svc.retry_parts >> p & 1u) && svc.retry_part_left > 0);
	}
	for (size_t i = 0; status == 200 && i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		int64_t off = (int64_t)json_integer_value(json_object_get(m, "offset"));
		int32_t part = (int32_t)json_integer_value(json_object_get(m, "partition"));
		const char *verdict =
		        retry || (part_retry && part < 32 && (svc.retry_parts >> part & 1u))
		                ? "retry"
		        : off == svc.reject_offset ? "rejected"
		                                   : "ok";
		json_array_append_new(
		        results, json_pack("{s:s, s:s}", "status", verdict, "reason", "scripted"));
		if (verdict[0] == 'o' && svc.nseen < 256) {
			svc.seen[svc.nseen] = off;
			svc.seen_part[svc.nseen++] =
			        (int32_t)json_integer_value(json_object_get(m, "partition"));
		}
	}
	if (part_retry)
		svc.retry_part_left--;
	svc.in_flight--;
	pthread_mutex_unlock(&svc.mu);
	if (status == 200)
		svc_http_reply_json(res, 200, json_pack("{s:o}", "results", results));
	else {
		json_decref(results);
		svc_http_reply_problem(res, status, NULL, NULL, "scripted");
	}
	json_decref(root);
}

static const struct svc_http_route routes[] = {
        {"POST", "/internal/events", serve_events, SVC_HTTP_PUBLIC},
};

static struct svc_http_server *srv;
static char base[64];

static int group_setup(void **state)
{
	struct svc_http_server_config cfg = {.threads = 4, .max_body = 1 << 20};

	(void)state;
	if (svc_httpc_global_init() != 0)
		return -1;
	srv = fake_http_start(&cfg, routes, 1, base, sizeof(base));
	return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	svc_http_server_free(srv);
	return 0;
}

/* ---- the sidecar ---------------------------------------------------------------- */

struct fixture {
	struct fake_kafka *fk;
	struct sc_config cfg;
	struct sc_metrics metrics;
	struct sc_stop stop;
	struct sc_producer *producer;
	struct sc_inbound *in;
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	svc_hold(false);
	sc_stop_request(&f->stop);
	sc_inbound_free(f->in);
	sc_producer_free(f->producer);
	sc_stop_release(&f->stop);
	fake_kafka_free(f->fk);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sc_config *c;

	*state = f;
	if (!f)
		return -1;
	if (!(f->fk = fake_kafka_new()) || sc_stop_init(&f->stop) != 0)
		goto fail;
	svc_reset();
	c = &f->cfg;
	fake_kafka_sidecar_config(f->fk, c);
	c->service_url = base;
	c->subscribe = TOPIC;
	c->delivery_batch_max = 4; /* pause past 8 queued, resume at 4 */
	c->delivery_batch_bytes = 512 * 1024;
	c->delivery_workers = 2;
	c->delivery_linger_ms = 50;
	c->delivery_timeout_ms = 5000;
	c->retry_base_ms = 5;
	c->retry_max_ms = 20;
	c->retry_max_attempts = 3;
	rs_breaker_config_default(&c->service_breaker);
	c->service_breaker.window = 100; /* never opens here */
	c->service_breaker.min_calls = 100;
	fake_kafka_topic(f->fk, TOPIC, 2);
	sc_metrics_init(&f->metrics);
	f->producer = sc_producer_new(&f->cfg);
	if (f->producer)
		return 0;
fail:
	teardown(state);
	return -1;
}

static void start(struct fixture *f)
{
	f->in = sc_inbound_start(&f->cfg, f->producer, &f->metrics, &f->stop);
	assert_non_null(f->in);
}

/* Pushes offsets [from, to) of partition p, keyed and with an event id. */
static void push(struct fixture *f, int32_t p, int64_t from, int64_t to)
{
	for (int64_t o = from; o < to; o++) {
		char payload[64], id[32];
		rd_kafka_headers_t *h = rd_kafka_headers_new(1);
		snprintf(payload, sizeof(payload), "{\"n\":%" PRId64 "}", o);
		snprintf(id, sizeof(id), "event-%" PRId64, o);
		rd_kafka_header_add(h, "event-id", -1, id, -1);
		fake_kafka_push_message(f->fk, TOPIC, p, o, "order-1", payload, h);
	}
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_inbound_delivers_in_order_and_stores_each_offset_after_the_answer(void **state)
{
	struct fixture *f = *state;

	start(f);
	assert_string_equal(fake_kafka_subscription(f->fk), TOPIC);
	push(f, 0, 0, 3);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 3);
	assert_int_equal(svc_seen(), 3);
	for (int64_t i = 0; i < 3; i++)
		assert_int_equal(svc.seen[i], i);
	assert_int_equal(atomic_load(&f->metrics.delivered), 3);
	assert_int_equal(fake_kafka_produced_count(f->fk), 0); /* nothing dead-lettered */
}

static void test_inbound_stores_nothing_while_the_service_has_not_answered(void **state)
{
	struct fixture *f = *state;

	svc_hold(true);
	start(f);
	push(f, 0, 0, 2);
	WAIT_FOR(svc_in_flight() == 1);
	svc_sleep_ms(100);
	assert_int_equal(fake_kafka_stored(f->fk, TOPIC, 0), -1);
	assert_int_equal(fake_kafka_calls(f->fk, "offsets_store"), 0);
	svc_hold(false);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 2);
}

static void test_inbound_resends_what_the_service_answered_retry(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_lock(&svc.mu);
	svc.retry_first = 2;
	pthread_mutex_unlock(&svc.mu);
	start(f);
	push(f, 0, 0, 2);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 2);
	assert_true(svc_requests() >= 3);
	assert_true(atomic_load(&f->metrics.retried) >= 2);
	assert_int_equal(fake_kafka_produced_count(f->fk), 0); /* transient: never dead-lettered */
}

static void test_inbound_retries_a_5xx_and_never_dead_letters_it(void **state)
{
	struct fixture *f = *state;
	json_t *details = json_object();

	pthread_mutex_lock(&svc.mu);
	for (int i = 0; i < 5; i++) /* more than retry_max_attempts */
		svc.statuses[svc.nstatuses++] = 503;
	pthread_mutex_unlock(&svc.mu);
	start(f);
	push(f, 0, 0, 1);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 1);
	assert_int_equal(svc_requests(), 6);
	assert_int_equal(fake_kafka_produced_count(f->fk), 0);
	sc_inbound_status(f->in, details);
	json_t *s = json_object_get(details, "service");
	assert_string_equal(json_string_value(json_object_get(s, "breaker")), "closed");
	assert_string_equal(json_string_value(json_object_get(s, "lastError")), "HTTP 503");
	json_decref(details);
}

static void test_inbound_dead_letters_a_rejected_message_then_stores_it(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	pthread_mutex_lock(&svc.mu);
	svc.reject_offset = 1;
	pthread_mutex_unlock(&svc.mu);
	start(f);
	push(f, 0, 0, 3);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 3);
	assert_int_equal(fake_kafka_produced_count(f->fk), 1);
	const struct fake_kafka_produced *p = fake_kafka_produced(f->fk, 0);
	assert_string_equal(p->topic, "test.dlq");
	assert_string_equal(p->payload, "{\"n\":1}");
	assert_string_equal(p->key, "order-1");
	assert_string_equal(fake_kafka_header(p, "dlq-reason", buf, sizeof(buf)), "scripted");
	assert_string_equal(fake_kafka_header(p, "dlq-source-offset", buf, sizeof(buf)), "1");
	assert_string_equal(fake_kafka_header(p, "event-id", buf, sizeof(buf)), "event-1");
	assert_string_equal(fake_kafka_header(p, "dlq-service", buf, sizeof(buf)), "test");
	assert_int_equal(atomic_load(&f->metrics.dead_lettered), 1);
	assert_int_equal(atomic_load(&f->metrics.delivered), 2);
}

static void test_inbound_keeps_the_offset_until_the_dead_letter_is_acknowledged(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_lock(&svc.mu);
	svc.reject_offset = 0;
	pthread_mutex_unlock(&svc.mu);
	fake_kafka_report(f->fk, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT); /* the first DLQ copy fails */
	fake_kafka_hold_reports(f->fk, true);
	start(f);
	push(f, 0, 0, 1);
	WAIT_FOR(fake_kafka_produced_count(f->fk) == 1);
	svc_sleep_ms(50);
	assert_int_equal(fake_kafka_stored(f->fk, TOPIC, 0), -1); /* not before the report */
	fake_kafka_hold_reports(f->fk, false);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 1);
	assert_int_equal(fake_kafka_produced_count(f->fk), 2); /* tried again */
	assert_false(fake_kafka_produced(f->fk, 0)->error == RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(fake_kafka_produced(f->fk, 1)->error, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void test_inbound_dead_letters_a_message_refused_with_4xx_enough_times(void **state)
{
	struct fixture *f = *state;
	char buf[128];

	pthread_mutex_lock(&svc.mu);
	for (int i = 0; i < 3; i++)
		svc.statuses[svc.nstatuses++] = 400;
	pthread_mutex_unlock(&svc.mu);
	start(f);
	push(f, 0, 0, 1);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 1);
	assert_int_equal(svc_requests(), 3);
	assert_int_equal(fake_kafka_produced_count(f->fk), 1);
	assert_string_equal(
	        fake_kafka_header(fake_kafka_produced(f->fk, 0), "dlq-reason", buf, sizeof(buf)),
	        "service answered HTTP 400 3 times");
	assert_string_equal(
	        fake_kafka_header(fake_kafka_produced(f->fk, 0), "dlq-attempts", buf, sizeof(buf)),
	        "3");
}

static void test_inbound_pauses_a_full_partition_and_resumes_it_once_drained(void **state)
{
	struct fixture *f = *state;

	svc_hold(true);
	start(f);
	push(f, 0, 0, 14); /* a batch of 4 held by a worker, 10 queued: over 8 */
	WAIT_FOR(fake_kafka_paused(f->fk, TOPIC, 0));
	assert_false(fake_kafka_paused(f->fk, TOPIC, 1));
	assert_int_equal(atomic_load(&f->metrics.delivery_paused), 1);
	svc_hold(false);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 14);
	WAIT_FOR(!fake_kafka_paused(f->fk, TOPIC, 0));
	assert_int_equal(fake_kafka_calls(f->fk, "resume_partitions"), 1);
	assert_int_equal(svc_seen(), 14);
	for (int64_t i = 0; i < 14; i++)
		assert_int_equal(svc.seen[i], i); /* one partition, in order */
}

static void test_inbound_revocation_drops_the_queued_messages(void **state)
{
	struct fixture *f = *state;

	svc_hold(true);
	start(f);
	push(f, 0, 0, 10);
	WAIT_FOR(svc_in_flight() == 1); /* offsets 0..3 held by a worker */
	WAIT_FOR(atomic_load(&f->metrics.delivery_queued) == 10);
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, TOPIC, 0);
	svc_sleep_ms(50);
	svc_hold(false); /* the batch in flight ends; the revocation waits for it */
	WAIT_FOR(fake_kafka_calls(f->fk, "assign") == 1);
	WAIT_FOR(atomic_load(&f->metrics.delivery_queued) == 0);
	svc_sleep_ms(100);
	assert_int_equal(svc_seen(), 4); /* 4..9 dropped: the new owner consumes them */
	assert_int_equal(fake_kafka_stored(f->fk, TOPIC, 0), 4);
	assert_int_equal(fake_kafka_calls(f->fk, "message_destroy"), 10);
}

static void test_inbound_revocation_drops_what_the_poll_round_holds(void **state)
{
	struct fixture *f = *state;

	start(f);
	svc_sleep_ms(20);
	/* one poll round: two messages of partition 1, then its revocation */
	push(f, 1, 0, 2);
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, TOPIC, 1);
	push(f, 0, 0, 1);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 1);
	WAIT_FOR(fake_kafka_calls(f->fk, "message_destroy") == 3);
	assert_int_equal(svc_seen(), 1);
	assert_int_equal(svc.seen_part[0], 0);
	assert_int_equal(fake_kafka_stored(f->fk, TOPIC, 1), -1);
}

static void test_inbound_resumes_a_paused_partition_when_it_is_revoked(void **state)
{
	struct fixture *f = *state;

	svc_hold(true);
	start(f);
	push(f, 0, 0, 14);
	WAIT_FOR(fake_kafka_paused(f->fk, TOPIC, 0));
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, TOPIC, 0);
	svc_hold(false);
	WAIT_FOR(!fake_kafka_paused(f->fk, TOPIC, 0)); /* librdkafka would keep the pause */
	WAIT_FOR(atomic_load(&f->metrics.delivery_paused) == 0);
}

static void test_inbound_cooperative_rebalance_is_incremental(void **state)
{
	struct fixture *f = *state;

	fake_kafka_set_protocol(f->fk, "COOPERATIVE");
	start(f);
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, TOPIC, 0);
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, TOPIC, 0);
	WAIT_FOR(fake_kafka_calls(f->fk, "incremental_unassign") == 1);
	assert_int_equal(fake_kafka_calls(f->fk, "incremental_assign"), 1);
	assert_int_equal(fake_kafka_calls(f->fk, "assign"), 0);
}

static void test_inbound_eager_rebalance_assigns_the_whole_set(void **state)
{
	struct fixture *f = *state;

	start(f);
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, TOPIC, 0);
	fake_kafka_push_rebalance(f->fk, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, TOPIC, 0);
	WAIT_FOR(fake_kafka_calls(f->fk, "assign") == 2);
	assert_int_equal(fake_kafka_calls(f->fk, "incremental_assign"), 0);
}

static void test_inbound_skips_consumer_errors(void **state)
{
	struct fixture *f = *state;

	start(f);
	fake_kafka_push_error(f->fk, RD_KAFKA_RESP_ERR__TRANSPORT);
	fake_kafka_push_error(f->fk, RD_KAFKA_RESP_ERR__PARTITION_EOF);
	push(f, 0, 0, 1);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 1);
	assert_int_equal(svc_seen(), 1);
}

static void test_inbound_free_closes_the_consumer(void **state)
{
	struct fixture *f = *state;

	start(f);
	sc_stop_request(&f->stop);
	sc_inbound_free(f->in);
	f->in = NULL;
	assert_int_equal(fake_kafka_calls(f->fk, "consumer_close"), 1);
	assert_int_equal(fake_kafka_clients(f->fk), 1); /* the producer's */
}

static void test_inbound_start_fails_cleanly_when_subscribe_is_refused(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "subscribe", RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	assert_null(sc_inbound_start(&f->cfg, f->producer, &f->metrics, &f->stop));
	assert_int_equal(fake_kafka_clients(f->fk), 1);
}

static void test_inbound_start_fails_cleanly_without_a_consumer(void **state)
{
	struct fixture *f = *state;

	fake_kafka_fail(f->fk, "new_client", RD_KAFKA_RESP_ERR__INVALID_ARG, 1);
	assert_null(sc_inbound_start(&f->cfg, f->producer, &f->metrics, &f->stop));
	f->cfg.service_breaker.min_calls = 1000; /* more than the window: refused */
	assert_null(sc_inbound_start(&f->cfg, f->producer, &f->metrics, &f->stop));
	assert_int_equal(fake_kafka_clients(f->fk), 1);
}

static unsigned svc_mixed(void)
{
	pthread_mutex_lock(&svc.mu);
	unsigned n = svc.mixed;
	pthread_mutex_unlock(&svc.mu);
	return n;
}

/* One worker, held by a first message of partition 0 while three more of
 * partition 0 and two of partition 1 queue up behind it. */
static void queue_behind_a_held_request(struct fixture *f)
{
	f->cfg.delivery_workers = 1;
	svc_hold(true);
	start(f);
	push(f, 0, 0, 1);
	WAIT_FOR(svc_in_flight() == 1);
	push(f, 0, 1, 3);
	push(f, 1, 0, 2);
	WAIT_FOR(atomic_load(&f->metrics.delivery_queued) == 5); /* the one held too */
	svc_hold(false);
}

/* The offsets of partition p the service answered "ok", in order, are
 * 0 .. n-1. */
static void assert_seen_in_order(int32_t p, int64_t n)
{
	int64_t next = 0;

	pthread_mutex_lock(&svc.mu);
	for (size_t i = 0; i < svc.nseen; i++)
		if (svc.seen_part[i] == p && svc.seen[i] == next)
			next++;
	pthread_mutex_unlock(&svc.mu);
	assert_int_equal(next, n);
}

static void test_inbound_combines_the_ready_partitions_in_one_request(void **state)
{
	struct fixture *f = *state;

	f->cfg.delivery_combine = 16;
	queue_behind_a_held_request(f);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 3 &&
	         fake_kafka_stored(f->fk, TOPIC, 1) == 2);
	assert_int_equal(svc_requests(), 2);
	assert_int_equal(svc_mixed(), 1);
	assert_int_equal(atomic_load(&f->metrics.delivery_combined), 1);
	assert_seen_in_order(0, 3);
	assert_seen_in_order(1, 2);
}

static void test_inbound_sends_one_partition_per_request_when_told_to(void **state)
{
	struct fixture *f = *state;

	f->cfg.delivery_combine = 1;
	queue_behind_a_held_request(f);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 3 &&
	         fake_kafka_stored(f->fk, TOPIC, 1) == 2);
	assert_int_equal(svc_requests(), 3);
	assert_int_equal(svc_mixed(), 0);
	assert_int_equal(atomic_load(&f->metrics.delivery_combined), 0);
}

static void test_inbound_a_partition_to_retry_goes_on_alone_and_in_order(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_lock(&svc.mu);
	svc.retry_parts = 1u << 0;
	svc.retry_part_left = 4; /* the first, the combined one, two of its own */
	pthread_mutex_unlock(&svc.mu);
	f->cfg.delivery_combine = 16;
	queue_behind_a_held_request(f);
	/* partition 1 is finished by the combined request, whatever 0 needs */
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 1) == 2);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 3);
	assert_int_equal(svc_mixed(), 1); /* the resends carried partition 0 alone */
	assert_true(svc_requests() >= 5);
	assert_seen_in_order(0, 3);
	assert_seen_in_order(1, 2);
	assert_int_equal(fake_kafka_produced_count(f->fk), 0); /* retries are never dead-lettered */
}

/* Two partitions left to retry after a combined request: the worker finishes
 * the first, the other goes back marked to be taken alone, and is not
 * combined with a partition that became ready meanwhile. */
static void test_inbound_a_partition_handed_back_is_not_combined_again(void **state)
{
	struct fixture *f = *state;

	fake_kafka_topic(f->fk, TOPIC, 3);
	f->cfg.delivery_combine = 16;
	f->cfg.delivery_workers = 1;
	pthread_mutex_lock(&svc.mu);
	svc.retry_parts = 1u << 1 | 1u << 2; /* in the combined request */
	svc.retry_part_left = 1;
	svc.hold_at = 3; /* partition 1 alone, held */
	pthread_mutex_unlock(&svc.mu);
	svc_hold(true);
	start(f);
	push(f, 0, 0, 1);
	WAIT_FOR(svc_in_flight() == 1);
	push(f, 0, 1, 2);
	push(f, 1, 0, 1);
	push(f, 2, 0, 1);
	WAIT_FOR(atomic_load(&f->metrics.delivery_queued) == 4);
	svc_hold(false);
	WAIT_FOR(svc_requests() == 3 && svc_in_flight() == 1);
	push(f, 0, 2, 3); /* ready behind partition 2 */
	WAIT_FOR(atomic_load(&f->metrics.delivery_queued) == 3);
	svc_hold(false);
	WAIT_FOR(fake_kafka_stored(f->fk, TOPIC, 0) == 3 &&
	         fake_kafka_stored(f->fk, TOPIC, 1) == 1 &&
	         fake_kafka_stored(f->fk, TOPIC, 2) == 1);
	assert_int_equal(svc_mixed(), 1);
	assert_int_equal(svc_requests(), 5);
	assert_seen_in_order(0, 3);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_inbound_delivers_in_order_and_stores_each_offset_after_the_answer),
	        T(test_inbound_stores_nothing_while_the_service_has_not_answered),
	        T(test_inbound_resends_what_the_service_answered_retry),
	        T(test_inbound_retries_a_5xx_and_never_dead_letters_it),
	        T(test_inbound_dead_letters_a_rejected_message_then_stores_it),
	        T(test_inbound_keeps_the_offset_until_the_dead_letter_is_acknowledged),
	        T(test_inbound_dead_letters_a_message_refused_with_4xx_enough_times),
	        T(test_inbound_pauses_a_full_partition_and_resumes_it_once_drained),
	        T(test_inbound_revocation_drops_the_queued_messages),
	        T(test_inbound_revocation_drops_what_the_poll_round_holds),
	        T(test_inbound_resumes_a_paused_partition_when_it_is_revoked),
	        T(test_inbound_cooperative_rebalance_is_incremental),
	        T(test_inbound_eager_rebalance_assigns_the_whole_set),
	        T(test_inbound_skips_consumer_errors),
	        T(test_inbound_free_closes_the_consumer),
	        T(test_inbound_start_fails_cleanly_when_subscribe_is_refused),
	        T(test_inbound_start_fails_cleanly_without_a_consumer),
	        T(test_inbound_combines_the_ready_partitions_in_one_request),
	        T(test_inbound_sends_one_partition_per_request_when_told_to),
	        T(test_inbound_a_partition_to_retry_goes_on_alone_and_in_order),
	        T(test_inbound_a_partition_handed_back_is_not_combined_again),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
