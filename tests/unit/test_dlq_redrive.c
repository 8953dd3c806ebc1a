/*
 * Re-drive of DLQ entries, its database side (resilience/sidecar/
 * dlq_redrive.c): which entries a listing marks as re-driven, and the
 * transaction that claims an entry in dlq_redrives around its produce.
 * Against the fake database (fake_db.h) and the sidecar's real producer over
 * the fake Kafka broker (fake_kafka.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "resilience/sidecar/dlq_entry.h"
#include "resilience/sidecar/dlq_redrive.h"
#include "resilience/sidecar/producer.h"
#include "svc/error.h"
#include "tests/unit/fake_db.h"
#include "tests/unit/fake_kafka.h"

#define DLQ              "order.dlq"
#define ER_NO_SUCH_TABLE 1146

static struct svc_db *db;
static struct sc_config cfg; /* the producer keeps pointers into it */
static struct fake_kafka *fk;
static struct sc_producer *producer;
static char key[] = "K1", payload[] = "{\"eventId\":\"e\"}", source[] = "payment.events";
static struct sc_dlq_entry entry;

static int teardown(void **state);

/* cmocka runs no teardown after a failed setup: a failing setup cleans up. */
static int setup(void **state)
{
	fake_db_install();
	memset(&cfg, 0, sizeof(cfg));
	fk = fake_kafka_new();
	if (fk) {
		fake_kafka_sidecar_config(fk, &cfg);
		producer = sc_producer_new(&cfg);
	}
	memset(&entry, 0, sizeof(entry));
	entry.partition = 1;
	entry.offset = 42;
	entry.key = key;
	entry.keylen = strlen(key);
	entry.payload = payload;
	entry.len = strlen(payload);
	entry.source_topic = source;
	entry.source_partition = 3;
	entry.source_offset = 7;
	snprintf(entry.event_id, sizeof(entry.event_id), "01a20fd7-0000-7000-8000-0000000000e1");
	db = fake_db_pool_open(2);
	if (!producer || !db) {
		teardown(state);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sc_producer_free(producer);
	producer = NULL;
	fake_kafka_free(fk);
	fk = NULL;
	svc_db_free(db);
	db = NULL;
	fake_db_uninstall();
	return 0;
}

static void test_redrive_marks_the_entries_recorded_in_the_table(void **state)
{
	static const char *const rows[] = {"0", "5", "0", "9"};
	struct sc_dlq_entry e[3] = {{.partition = 0, .offset = 9},
	                            {.partition = 1, .offset = 7},
	                            {.partition = 0, .offset = 5, .redriven = true}};

	(void)state;
	fake_db_rows(fake_db_on("SELECT", "FROM dlq_redrives"), 2, 2, rows);
	assert_int_equal(sc_dlq_redrive_marks(db, DLQ, e, 3), 0);
	assert_true(e[0].redriven);
	assert_false(e[1].redriven); /* same offset range, another partition's */
	assert_true(e[2].redriven);
	/* one statement for the listing's offset range */
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT", "BETWEEN 5 AND 9"), 1);
}

static void test_redrive_marks_nothing_without_entries_or_rows(void **state)
{
	struct sc_dlq_entry e[1] = {{.partition = 0, .offset = 1, .redriven = true}};

	(void)state;
	assert_int_equal(sc_dlq_redrive_marks(db, DLQ, e, 0), 0);
	assert_int_equal(fake_db_nstmts(), 0);
	assert_int_equal(sc_dlq_redrive_marks(db, DLQ, e, 1), 0);
	assert_false(e[0].redriven);
}

static void test_redrive_marks_fail_transiently_without_the_table_or_server(void **state)
{
	struct sc_dlq_entry e[1] = {{.partition = 0, .offset = 1}};

	(void)state;
	fake_db_fail(fake_db_times(fake_db_on("SELECT", "dlq_redrives"), 1), ER_NO_SUCH_TABLE);
	assert_int_equal(sc_dlq_redrive_marks(db, DLQ, e, 1), SVC_ETRANSIENT);
	fake_db_set_down(true);
	assert_int_equal(sc_dlq_redrive_marks(db, DLQ, e, 1), SVC_ETRANSIENT);
}

static void test_redrive_one_claims_sends_and_commits(void **state)
{
	(void)state;
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), 0);
	assert_int_equal(fake_kafka_count(fk, source, payload), 1);
	assert_int_equal(fake_kafka_produced_count(fk), 1);
	assert_memory_equal(fake_kafka_produced(fk, 0)->key, key, strlen(key));
	assert_int_equal(fake_kafka_produced(fk, 0)->keylen, strlen(key));
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT IGNORE INTO dlq_redrives",
	                               "'" DLQ "', 1, 42"),
	                 1);
	assert_int_equal(fake_db_commits(), 1);
}

static void test_redrive_one_of_an_entry_redriven_before_sends_nothing(void **state)
{
	(void)state;
	fake_db_affected(fake_db_on("INSERT IGNORE INTO dlq_redrives", NULL), 0);
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), SVC_DUPLICATE);
	assert_int_equal(fake_kafka_count(fk, source, NULL), 0);
	assert_int_equal(fake_db_commits(), 0);
	assert_int_equal(fake_db_rollbacks(), 1);
}

static void test_redrive_one_refused_by_kafka_records_nothing(void **state)
{
	(void)state;
	fake_kafka_report(fk, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), SVC_EPERMANENT);
	fake_kafka_report(fk, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), SVC_ETRANSIENT);
	/* both sent, neither acknowledged */
	assert_int_equal(fake_kafka_count(fk, source, payload), 2);
	assert_int_equal(fake_kafka_produced(fk, 0)->error,
	                 RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	assert_int_equal(fake_kafka_produced(fk, 1)->error, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
	assert_int_equal(fake_db_count(FAKE_DB_ROLLED_BACK, "INSERT IGNORE", NULL), 2);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT IGNORE", NULL), 0);
}

static void test_redrive_one_without_the_table_is_transient_and_sends_nothing(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("INSERT IGNORE INTO dlq_redrives", NULL), ER_NO_SUCH_TABLE);
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), SVC_ETRANSIENT);
	assert_int_equal(fake_kafka_count(fk, source, NULL), 0);
	assert_int_equal(fake_db_closes(), 1); /* released as broken */
	fake_db_set_down(true);
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), SVC_ETRANSIENT);
}

static void test_redrive_one_sent_but_not_recorded_still_succeeds(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("COMMIT", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(sc_dlq_redrive_one(db, producer, DLQ, &entry), 0);
	assert_int_equal(fake_kafka_count(fk, source, payload), 1);
	/* unrecorded: a later re-drive sends it again (the inbox deduplicates) */
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT IGNORE", NULL), 0);
	assert_int_equal(fake_db_closes(), 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_redrive_marks_the_entries_recorded_in_the_table),
	        T(test_redrive_marks_nothing_without_entries_or_rows),
	        T(test_redrive_marks_fail_transiently_without_the_table_or_server),
	        T(test_redrive_one_claims_sends_and_commits),
	        T(test_redrive_one_of_an_entry_redriven_before_sends_nothing),
	        T(test_redrive_one_refused_by_kafka_records_nothing),
	        T(test_redrive_one_without_the_table_is_transient_and_sends_nothing),
	        T(test_redrive_one_sent_but_not_recorded_still_succeeds),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
