/*
 * The outbox relay (resilience/sidecar/relay.c): its thread selects rows
 * FOR UPDATE SKIP LOCKED, produces them, settles what Kafka refused,
 * deletes what went and commits, once per batch or once per RELAY_COMMIT_MS.
 * Against the fake database (fake_db.h) and the sidecar's real producer over
 * the fake Kafka broker (fake_kafka.h), whose delivery reports come from the
 * producer's own poll thread. Each test starts the relay, waits until the
 * database saw what it waits for, stops the relay and then looks at what
 * happened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "resilience/sidecar/producer.h"
#include "resilience/sidecar/relay.h"
#include "svc/clock.h"
#include "tests/unit/fake_db.h"
#include "tests/unit/fake_kafka.h"

#define SELECT_OUTBOX "SELECT id, event_id, topic, msg_key, event_type, payload"

static struct sc_config cfg;
static struct sc_metrics metrics;
static struct sc_stop stop;
static struct svc_db *db;
static struct fake_kafka *fk;
static struct sc_producer *producer;
static struct sc_relay *relay;

static int teardown(void **state);

/* cmocka runs no teardown after a failed setup: a failing setup cleans up. */
static int setup(void **state)
{
	struct svc_db_config dbcfg = {
	        .host = "fake", .pool_size = 2, .timeout_s = 1, .read_committed = true};

	if (sc_stop_init(&stop) != 0)
		return -1;
	fake_db_install();
	memset(&metrics, 0, sizeof(metrics));
	memset(&cfg, 0, sizeof(cfg));
	fk = fake_kafka_new();
	if (!fk)
		goto fail;
	fake_kafka_sidecar_config(fk, &cfg);
	cfg.service = "order";
	snprintf(cfg.dlq_topic, sizeof(cfg.dlq_topic), "order.dlq");
	cfg.db.database = "order_db";
	cfg.outbox_poll_ms = 60000;
	cfg.outbox_batch = 10;
	cfg.relay_commit_ms = 0;
	cfg.retry_base_ms = 5;
	cfg.retry_max_ms = 10;
	producer = sc_producer_new(&cfg);
	db = svc_db_open(&dbcfg);
	if (!producer || !db)
		goto fail;
	return 0;

fail:
	teardown(state);
	return -1;
}

static int teardown(void **state)
{
	(void)state;
	if (relay) {
		sc_stop_request(&stop);
		sc_relay_free(relay);
		relay = NULL;
	}
	sc_stop_release(&stop);
	sc_producer_free(producer);
	producer = NULL;
	fake_kafka_free(fk);
	fk = NULL;
	svc_db_free(db);
	db = NULL;
	fake_db_uninstall();
	return 0;
}

/* The outbox rows (id, topic, key, payload) the relay's nth SELECT finds. */
struct row {
	const char *id, *topic, *key, *payload;
};

static void outbox_select(unsigned nth, const struct row *rows, size_t n)
{
	const char *cells[8 * 6];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		const char *c[6] = {rows[i].id,          "01a20fd7-0000-7000-8000-0000000000e1",
		                    rows[i].topic,       rows[i].key,
		                    "OrderCreatedEvent", rows[i].payload};

		memcpy(&cells[i * 6], c, sizeof(c));
	}
	fake_db_rows(fake_db_nth(fake_db_on(SELECT_OUTBOX, "FROM outbox_messages"), nth), 6, n,
	             cells);
}

static void start(void)
{
	relay = sc_relay_start(&cfg, db, producer, &metrics, &stop);
	assert_non_null(relay);
}

/* Waits (up to 10 s) until `done` holds. */
static void wait_until(bool (*done)(void))
{
	uint64_t deadline = svc_mono_ms() + 10000;

	while (!done()) {
		const struct timespec ms = {0, 1000000};

		if (svc_mono_ms() > deadline)
			fail_msg("the relay did not get there in time");
		nanosleep(&ms, NULL);
	}
}

/* Stops the relay and waits for its thread: what it did is final then. */
static void stop_relay(void)
{
	sc_stop_request(&stop);
	sc_relay_free(relay);
	relay = NULL;
}

static bool one_commit(void)
{
	return fake_db_commits() >= 1;
}

static bool two_commits(void)
{
	return fake_db_commits() >= 2;
}

static bool two_deletes(void)
{
	return fake_db_count(FAKE_DB_ANY, "DELETE FROM outbox_messages", NULL) >= 2;
}

static bool two_selects(void)
{
	return fake_db_count(FAKE_DB_ANY, SELECT_OUTBOX, NULL) >= 2;
}

static size_t deleted(const char *ids)
{
	return fake_db_count(FAKE_DB_COMMITTED, "DELETE FROM outbox_messages", ids);
}

static void test_relay_sends_rows_in_id_order_then_deletes_them(void **state)
{
	const struct row rows[] = {{"1", "order.events", "K1", "p1"},
	                           {"2", "payment.commands", "K2", "p2"},
	                           {"3", "order.events", "K1", "p3"}};

	(void)state;
	outbox_select(1, rows, 3);
	start();
	wait_until(one_commit);
	stop_relay();
	assert_int_equal(fake_kafka_find(fk, "order.events", "p1", 0), 0);
	assert_int_equal(fake_kafka_find(fk, "payment.commands", "p2", 0), 1);
	assert_int_equal(fake_kafka_find(fk, "order.events", "p3", 0), 2);
	assert_int_equal(deleted("IN (1,2,3)"), 1);
	assert_int_equal(atomic_load(&metrics.relayed), 3);
	assert_int_equal(atomic_load(&metrics.relay_batches), 1);
	/* a batch shorter than OUTBOX_BATCH: one transaction, committed */
	assert_int_equal(fake_db_begins(), fake_db_commits());
}

static void test_relay_commit_ms_keeps_one_transaction_open_across_batches(void **state)
{
	const struct row first[] = {{"1", "order.events", "K1", "p1"},
	                            {"2", "order.events", "K2", "p2"}};
	const struct row second[] = {{"3", "order.events", "K3", "p3"}};

	(void)state;
	cfg.outbox_batch = 2;
	cfg.relay_commit_ms = 60000;
	outbox_select(1, first, 2);
	outbox_select(2, second, 1);
	start();
	wait_until(two_deletes);
	/* both batches deleted in one transaction, not committed yet */
	assert_int_equal(fake_db_begins(), 1);
	assert_int_equal(fake_db_commits(), 0);
	assert_int_equal(fake_db_count(FAKE_DB_OPEN, "DELETE FROM outbox_messages", NULL), 2);
	assert_int_equal(atomic_load(&metrics.relayed), 0); /* not final yet */
	stop_relay();
	/* stopping commits what was sent */
	assert_int_equal(fake_db_commits(), 1);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "DELETE FROM outbox_messages", NULL), 2);
	assert_int_equal(atomic_load(&metrics.relayed), 3);
	assert_int_equal(atomic_load(&metrics.relay_batches), 2);
}

static void test_relay_commit_ms_zero_commits_every_batch(void **state)
{
	const struct row first[] = {{"1", "order.events", "K1", "p1"},
	                            {"2", "order.events", "K2", "p2"}};
	const struct row second[] = {{"3", "order.events", "K3", "p3"}};

	(void)state;
	cfg.outbox_batch = 2;
	outbox_select(1, first, 2);
	outbox_select(2, second, 1);
	start();
	wait_until(two_commits);
	stop_relay();
	assert_int_equal(fake_db_begins(), 2);
	assert_int_equal(fake_db_commits(), 2);
	assert_int_equal(deleted("IN (1,2)"), 1);
	assert_int_equal(deleted("IN (3)"), 1);
}

static void test_relay_row_refused_for_good_is_dead_lettered_and_its_key_goes_on(void **state)
{
	const struct row rows[] = {{"1", "order.events", "K1", "p1"},
	                           {"2", "order.events", "K1", "big"},
	                           {"3", "order.events", "K1", "p3"}};

	(void)state;
	/* the second delivery report (big's) refuses it; its DLQ copy goes */
	fake_kafka_report(fk, RD_KAFKA_RESP_ERR_NO_ERROR);
	fake_kafka_report(fk, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	outbox_select(1, rows, 3);
	start();
	wait_until(one_commit);
	stop_relay();
	/* the key's rows in id order; the refused one to the DLQ, as it was */
	assert_int_equal(fake_kafka_find(fk, "order.events", "p1", 0), 0);
	assert_int_equal(fake_kafka_find(fk, "order.events", "big", 0), 1);
	assert_int_equal(fake_kafka_find(fk, "order.events", "p3", 0), 2);
	assert_int_equal(fake_kafka_produced(fk, 1)->error, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	assert_int_equal(fake_kafka_count(fk, "order.dlq", "big"), 1);
	assert_int_equal(fake_kafka_count(fk, "order.events", NULL), 3);
	assert_int_equal(deleted("IN (1,2,3)"), 1);
	assert_int_equal(atomic_load(&metrics.relay_dead_lettered), 1);
	assert_int_equal(atomic_load(&metrics.relayed), 2);
}

static void test_relay_row_that_cannot_be_sent_holds_the_later_rows_of_its_key(void **state)
{
	const struct row rows[] = {{"1", "order.events", "K1", "p1"},
	                           {"2", "order.events", "K1", "p2"},
	                           {"3", "order.events", "K1", "p3"},
	                           {"4", "order.events", "K2", "p4"}};
	long p2_sent, p3_sent;

	(void)state;
	/* p2's produce (the second) fails at once, for a passing cause: its
	 * topic is not known yet */
	fake_kafka_fail_after(fk, "produce", 1, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	outbox_select(1, rows, 4);
	outbox_select(2, rows + 1, 2); /* what is left, after the backoff */
	start();
	wait_until(two_commits);
	stop_relay();
	/* first round: p2 refused, p3 held behind it, the other key went on */
	assert_int_equal(deleted("IN (1,4)"), 1);
	assert_int_equal(atomic_load(&metrics.relay_failures), 2);
	assert_int_equal(fake_kafka_find(fk, "order.events", "p1", 0), 0);
	assert_int_equal(fake_kafka_find(fk, "order.events", "p4", 0), 1);
	/* second round: p2 then p3, each once */
	p2_sent = fake_kafka_find(fk, "order.events", "p2", 0);
	p3_sent = fake_kafka_find(fk, "order.events", "p3", 0);
	assert_int_equal(p2_sent, 2);
	assert_true(p3_sent > p2_sent);
	assert_int_equal(fake_kafka_count(fk, "order.events", "p2"), 1);
	assert_int_equal(fake_kafka_count(fk, "order.events", "p3"), 1);
	assert_int_equal(fake_kafka_calls(fk, "produce"), 5); /* p2's refused call too */
	assert_int_equal(deleted("IN (2,3)"), 1);
	assert_int_equal(fake_kafka_count(fk, "order.dlq", NULL), 0);
}

static void test_relay_failed_select_is_rolled_back_and_retried(void **state)
{
	const struct row rows[] = {{"1", "order.events", "K1", "p1"}};

	(void)state;
	fake_db_fail(fake_db_nth(fake_db_on(SELECT_OUTBOX, NULL), 1), FAKE_DB_CR_SERVER_LOST);
	outbox_select(2, rows, 1);
	start();
	wait_until(one_commit);
	stop_relay();
	assert_int_equal(fake_db_rollbacks(), 1);
	assert_true(fake_db_closes() >= 1); /* the broken connection went */
	assert_int_equal(fake_kafka_count(fk, "order.events", "p1"), 1);
	assert_int_equal(deleted("IN (1)"), 1);
}

static void test_relay_failed_commit_leaves_the_rows_to_be_sent_again(void **state)
{
	const struct row rows[] = {{"1", "order.events", "K1", "p1"}};

	(void)state;
	fake_db_fail(fake_db_nth(fake_db_on("COMMIT", NULL), 1), FAKE_DB_CR_SERVER_LOST);
	outbox_select(1, rows, 1);
	outbox_select(2, rows, 1); /* still there: its deletion was rolled back */
	start();
	wait_until(one_commit);
	stop_relay();
	assert_int_equal(fake_kafka_count(fk, "order.events", "p1"), 2);
	assert_int_equal(fake_db_count(FAKE_DB_ROLLED_BACK, "DELETE FROM outbox_messages", NULL),
	                 1);
	assert_int_equal(deleted("IN (1)"), 1);
	/* counted once: when its deletion was final */
	assert_int_equal(atomic_load(&metrics.relayed), 1);
}

static void test_relay_row_with_an_unreadable_id_is_never_sent(void **state)
{
	const struct row rows[] = {{"x1", "order.events", "K1", "p1"}};

	(void)state;
	fake_db_times(fake_db_rows(fake_db_on(SELECT_OUTBOX, NULL), 6, 1,
	                           (const char *const[]){rows[0].id, "e", rows[0].topic,
	                                                 rows[0].key, "t", rows[0].payload}),
	              1);
	start();
	wait_until(two_selects);
	stop_relay();
	assert_int_equal(fake_kafka_count(fk, "order.events", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "DELETE", NULL), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_relay_sends_rows_in_id_order_then_deletes_them),
	        T(test_relay_commit_ms_keeps_one_transaction_open_across_batches),
	        T(test_relay_commit_ms_zero_commits_every_batch),
	        T(test_relay_row_refused_for_good_is_dead_lettered_and_its_key_goes_on),
	        T(test_relay_row_that_cannot_be_sent_holds_the_later_rows_of_its_key),
	        T(test_relay_failed_select_is_rolled_back_and_retried),
	        T(test_relay_failed_commit_leaves_the_rows_to_be_sent_again),
	        T(test_relay_row_with_an_unreadable_id_is_never_sent),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
