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
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "resilience/sidecar/producer.h"
#include "resilience/sidecar/relay.h"
#include "svc/clock.h"
#include "svc/outbox_pack.h"
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

/* The outbox rows (id, topic, key, payload, messages: NULL for "1", a
 * plain row) the relay's nth SELECT finds. */
struct row {
	const char *id, *topic, *key, *payload, *messages;
};

static void outbox_select(unsigned nth, const struct row *rows, size_t n)
{
	const char *cells[8 * 7];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		const char *c[7] = {rows[i].id,
		                    "01a20fd7-0000-7000-8000-0000000000e1",
		                    rows[i].topic,
		                    rows[i].key,
		                    "OrderCreatedEvent",
		                    rows[i].payload,
		                    rows[i].messages ? rows[i].messages : "1"};

		memcpy(&cells[i * 7], c, sizeof(c));
	}
	fake_db_rows(fake_db_nth(fake_db_on(SELECT_OUTBOX, "FROM outbox_messages"), nth), 7, n,
	             cells);
}

/* A packed row's payload: n messages of `topic`, keys[i] and payloads[i],
 * event ids "e-<payload>", in a buffer the test releases. */
static const char *pack(struct svc_buf *b, const char *topic, const char *const *keys,
                        const char *const *payloads, size_t n)
{
	svc_buf_init(b);
	for (size_t i = 0; i < n; i++) {
		char id[64];
		const struct svc_outbox_msg m = {
		        .event_id = {id, (size_t)snprintf(id, sizeof(id), "e-%s", payloads[i])},
		        .topic = {topic, strlen(topic)},
		        .key = {keys[i], strlen(keys[i])},
		        .type = {"OrderCreatedEvent", 17},
		        .payload = {payloads[i], strlen(payloads[i])},
		};
		assert_int_equal(svc_outbox_pack_add(b, &m), 0);
	}
	return svc_buf_str(b);
}

/* Header `name` of the ith produced message, as a string. */
static const char *header(size_t i, const char *name)
{
	static char buf[128];

	return fake_kafka_header(fake_kafka_produced(fk, i), name, buf, sizeof(buf));
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
	const struct row rows[] = {{"1", "order.events", "K1", "p1", NULL},
	                           {"2", "payment.commands", "K2", "p2", NULL},
	                           {"3", "order.events", "K1", "p3", NULL}};

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
	const struct row first[] = {{"1", "order.events", "K1", "p1", NULL},
	                            {"2", "order.events", "K2", "p2", NULL}};
	const struct row second[] = {{"3", "order.events", "K3", "p3", NULL}};

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
	const struct row first[] = {{"1", "order.events", "K1", "p1", NULL},
	                            {"2", "order.events", "K2", "p2", NULL}};
	const struct row second[] = {{"3", "order.events", "K3", "p3", NULL}};

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
	const struct row rows[] = {{"1", "order.events", "K1", "p1", NULL},
	                           {"2", "order.events", "K1", "big", NULL},
	                           {"3", "order.events", "K1", "p3", NULL}};

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
	const struct row rows[] = {{"1", "order.events", "K1", "p1", NULL},
	                           {"2", "order.events", "K1", "p2", NULL},
	                           {"3", "order.events", "K1", "p3", NULL},
	                           {"4", "order.events", "K2", "p4", NULL}};
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
	const struct row rows[] = {{"1", "order.events", "K1", "p1", NULL}};

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
	const struct row rows[] = {{"1", "order.events", "K1", "p1", NULL}};

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
	const struct row rows[] = {{"x1", "order.events", "K1", "p1", NULL}};

	(void)state;
	fake_db_times(fake_db_rows(fake_db_on(SELECT_OUTBOX, NULL), 7, 1,
	                           (const char *const[]){rows[0].id, "e", rows[0].topic,
	                                                 rows[0].key, "t", rows[0].payload, "1"}),
	              1);
	start();
	wait_until(two_selects);
	stop_relay();
	assert_int_equal(fake_kafka_count(fk, "order.events", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "DELETE", NULL), 0);
}

static void test_relay_packed_row_sends_its_messages_in_order_then_deletes_it(void **state)
{
	struct svc_buf b;
	const char *keys[] = {"K1", "K2", "K1"}, *payloads[] = {"p2", "p3", "p4"};
	const struct row rows[] = {
	        {"1", "order.events", "K1", "p1", NULL},
	        {"2", "order.events", "K1", pack(&b, "order.events", keys, payloads, 3), "3"},
	        {"3", "order.events", "K2", "p5", NULL}};

	(void)state;
	outbox_select(1, rows, 3);
	svc_buf_release(&b);
	start();
	wait_until(one_commit);
	stop_relay();
	for (int i = 0; i < 5; i++) {
		char p[8];

		snprintf(p, sizeof(p), "p%d", i + 1);
		assert_int_equal(fake_kafka_find(fk, "order.events", p, 0), i);
		assert_int_equal(fake_kafka_count(fk, "order.events", p), 1);
	}
	/* each message of the pack with its own key and event id */
	assert_memory_equal(fake_kafka_produced(fk, 2)->key, "K2", 2);
	assert_string_equal(header(2, "event-id"), "e-p3");
	assert_string_equal(header(3, "event-type"), "OrderCreatedEvent");
	assert_int_equal(deleted("IN (1,2,3)"), 1);
	assert_int_equal(atomic_load(&metrics.relayed), 5);
}

static void test_relay_partly_acknowledged_row_stays_and_all_of_it_goes_again(void **state)
{
	struct svc_buf b;
	const char *keys[] = {"K1", "K2"}, *payloads[] = {"m1", "m2"};
	const struct row rows[] = {
	        {"1", "order.events", "K1", pack(&b, "order.events", keys, payloads, 2), "2"}};

	(void)state;
	/* m2's produce fails at once, for a passing cause */
	fake_kafka_fail_after(fk, "produce", 1, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	outbox_select(1, rows, 1);
	outbox_select(2, rows, 1); /* still there after the backoff */
	svc_buf_release(&b);
	start();
	wait_until(two_commits);
	stop_relay();
	/* m1 acknowledged but its row kept: sent again with m2 */
	assert_int_equal(fake_kafka_count(fk, "order.events", "m1"), 2);
	assert_int_equal(fake_kafka_count(fk, "order.events", "m2"), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "DELETE FROM outbox_messages", NULL), 1);
	assert_int_equal(deleted("IN (1)"), 1);
	assert_int_equal(atomic_load(&metrics.relay_failures), 1);
	assert_int_equal(atomic_load(&metrics.relayed), 2);
}

static void
test_relay_message_that_cannot_be_sent_holds_its_key_within_and_across_rows(void **state)
{
	struct svc_buf b;
	const char *keys[] = {"K1", "K1", "K2"}, *payloads[] = {"a", "b", "c"};
	const struct row rows[] = {
	        {"1", "order.events", "K1", pack(&b, "order.events", keys, payloads, 3), "3"},
	        {"2", "order.events", "K1", "d", NULL}};
	long a;

	(void)state;
	/* a's produce (the first) fails at once, for a passing cause */
	fake_kafka_fail(fk, "produce", RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1);
	outbox_select(1, rows, 2);
	outbox_select(2, rows, 2);
	svc_buf_release(&b);
	start();
	wait_until(two_commits);
	stop_relay();
	/* round one: b (same row) and d (next row) held behind a, c went */
	assert_int_equal(fake_kafka_find(fk, "order.events", "c", 0), 0);
	/* round two: a, b, c again, d, in order; b and d once */
	a = fake_kafka_find(fk, "order.events", "a", 0);
	assert_int_equal(a, 1);
	assert_int_equal(fake_kafka_find(fk, "order.events", "b", 0), 2);
	assert_int_equal(fake_kafka_find(fk, "order.events", "c", 1), 3);
	assert_int_equal(fake_kafka_find(fk, "order.events", "d", 0), 4);
	assert_int_equal(fake_kafka_count(fk, "order.events", "b"), 1);
	assert_int_equal(fake_kafka_count(fk, "order.events", "d"), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "DELETE FROM outbox_messages", NULL), 1);
	assert_int_equal(deleted("IN (1,2)"), 1);
}

static void test_relay_message_of_a_pack_refused_for_good_is_dead_lettered_alone(void **state)
{
	struct svc_buf b;
	const char *keys[] = {"K1", "K1", "K1"}, *payloads[] = {"p1", "big", "p3"};
	const struct row rows[] = {
	        {"1", "order.events", "K1", pack(&b, "order.events", keys, payloads, 3), "3"}};
	long dlq;

	(void)state;
	fake_kafka_report(fk, RD_KAFKA_RESP_ERR_NO_ERROR);
	fake_kafka_report(fk, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	outbox_select(1, rows, 1);
	svc_buf_release(&b);
	start();
	wait_until(one_commit);
	stop_relay();
	assert_int_equal(fake_kafka_count(fk, "order.events", NULL), 3);
	dlq = fake_kafka_find(fk, "order.dlq", "big", 0);
	assert_true(dlq >= 0);
	assert_int_equal(fake_kafka_count(fk, "order.dlq", NULL), 1);
	assert_string_equal(header((size_t)dlq, "event-id"), "e-big");
	assert_non_null(strstr(header((size_t)dlq, "dlq-reason"), "outbox row 1 message 2/3"));
	assert_int_equal(deleted("IN (1)"), 1);
	assert_int_equal(atomic_load(&metrics.relay_dead_lettered), 1);
	assert_int_equal(atomic_load(&metrics.relayed), 2);
}

static void test_relay_packed_row_that_does_not_parse_is_dead_lettered_whole(void **state)
{
	const struct row rows[] = {{"1", "order.events", "K1", "3:abc,9:short,", "2"},
	                           {"2", "order.events", "K2", "p2", NULL},
	                           {"3", "order.events", "K3", "p3", "0"}};

	(void)state;
	outbox_select(1, rows, 3);
	start();
	wait_until(one_commit);
	stop_relay();
	/* rows 1 and 3 to the DLQ as they are, with the reason; row 2 goes on */
	assert_int_equal(fake_kafka_count(fk, "order.dlq", "3:abc,9:short,"), 1);
	assert_int_equal(fake_kafka_count(fk, "order.dlq", "p3"), 1);
	assert_non_null(
	        strstr(header((size_t)fake_kafka_find(fk, "order.dlq", "p3", 0), "dlq-reason"),
	               "outbox row 3 cannot be read"));
	assert_non_null(strstr(
	        header((size_t)fake_kafka_find(fk, "order.dlq", "3:abc,9:short,", 0), "dlq-reason"),
	        "not a well-formed netstring"));
	assert_int_equal(fake_kafka_count(fk, "order.events", NULL), 1);
	assert_int_equal(fake_kafka_count(fk, "order.events", "p2"), 1);
	assert_int_equal(deleted("IN (1,2,3)"), 1);
	assert_int_equal(atomic_load(&metrics.relay_dead_lettered), 2);
}

/* Sends one wake-up datagram to the relay's socket. */
static void wake(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_true(sendto(fd, "w", 1, 0, (struct sockaddr *)&addr, sizeof(addr)) == 1);
	close(fd);
}

/* How long after a wake-up the relay makes its next round (its second
 * SELECT), with RELAY_LINGER_MS = linger_ms. */
static uint64_t round_after_wake(long linger_ms)
{
	char path[64];
	uint64_t woken;

	snprintf(path, sizeof(path), "/tmp/test_relay_wake.%d", (int)getpid());
	cfg.wake_socket = path;
	cfg.relay_linger_ms = linger_ms;
	cfg.relay_linger_below = 1000; /* quiet: nothing was relayed yet */
	outbox_select(1, (const struct row[]){{"1", "order.events", "k1", "{}", NULL}}, 1);
	start();
	wait_until(one_commit); /* the first round: one row, so the relay is quiet */
	woken = svc_mono_ms();
	wake(path);
	wait_until(two_selects);
	woken = svc_mono_ms() - woken;
	stop_relay();
	return woken;
}

static void test_relay_linger_makes_a_quiet_relay_wait_after_a_wake(void **state)
{
	(void)state;
	assert_true(round_after_wake(300) >= 250);
}

static void test_relay_without_linger_goes_at_once(void **state)
{
	(void)state;
	assert_true(round_after_wake(0) < 150);
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
	        T(test_relay_packed_row_sends_its_messages_in_order_then_deletes_it),
	        T(test_relay_partly_acknowledged_row_stays_and_all_of_it_goes_again),
	        T(test_relay_message_that_cannot_be_sent_holds_its_key_within_and_across_rows),
	        T(test_relay_message_of_a_pack_refused_for_good_is_dead_lettered_alone),
	        T(test_relay_packed_row_that_does_not_parse_is_dead_lettered_whole),
	        T(test_relay_linger_makes_a_quiet_relay_wait_after_a_wake),
	        T(test_relay_without_linger_goes_at_once),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
