/* Unit tests of the deferred multi-row INSERTs (svc/defer.h): rows collected
 * and dropped without a database, then flushed and committed (or rolled
 * back) against the fake database (fake_db.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "tests/unit/fake_db.h"

/* A connection handle that is never used: collected rows do not touch it. */
#define FAKE_CONN ((MYSQL *)&fake_conn_storage)
static char fake_conn_storage;

static const char HEAD_A[] = "INSERT INTO a (x) VALUES ";
static const char HEAD_B[] = "INSERT INTO b (y) VALUES ";

static struct svc_tx tx;

static int setup(void **state)
{
	(void)state;
	svc_tx_init(&tx, FAKE_CONN);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	svc_tx_release(&tx);
	return 0;
}

static int add(struct svc_tx *t, const char *head, const char *tuple)
{
	return svc_defer_insert(t, head, tuple, strlen(tuple));
}

static void test_defer_collects_rows_of_several_tables(void **state)
{
	(void)state;
	svc_defer_begin(&tx);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(add(&tx, HEAD_B, "('x')"), 0);
	assert_int_equal(add(&tx, HEAD_A, "(2)"), 0);
	assert_int_equal(svc_defer_pending(&tx), 3);
	svc_defer_discard(&tx);
	assert_int_equal(svc_defer_pending(&tx), 0);
}

static void test_defer_begin_drops_what_an_earlier_transaction_left(void **state)
{
	(void)state;
	svc_defer_begin(&tx);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	svc_defer_begin(&tx);
	assert_int_equal(svc_defer_pending(&tx), 0);
	svc_defer_discard(&tx);
}

static void test_defer_heads_are_compared_by_content(void **state)
{
	char copy[sizeof(HEAD_A)];

	(void)state;
	memcpy(copy, HEAD_A, sizeof(HEAD_A));
	svc_defer_begin(&tx);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(add(&tx, copy, "(2)"), 0);
	assert_int_equal(svc_defer_pending(&tx), 2);
	svc_defer_discard(&tx);
}

static void test_defer_rows_belong_to_their_transaction(void **state)
{
	struct svc_tx other;

	(void)state;
	svc_tx_init(&other, FAKE_CONN); /* same connection, another handle */
	svc_defer_begin(&tx);
	svc_defer_begin(&other);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(svc_defer_pending(&other), 0);
	assert_int_equal(add(&other, HEAD_B, "(2)"), 0);
	assert_int_equal(add(&other, HEAD_B, "(3)"), 0);
	assert_int_equal(svc_defer_pending(&tx), 1);
	assert_int_equal(svc_defer_pending(&other), 2);
	svc_tx_release(&other);
	assert_int_equal(svc_defer_pending(&tx), 1);
	svc_defer_discard(&tx);
}

/* ---- against the fake database ------------------------------------------- */

static MYSQL conn;

static int setup_db(void **state)
{
	(void)state;
	fake_db_install();
	svc_tx_init(&tx, &conn);
	return 0;
}

static int teardown_db(void **state)
{
	(void)state;
	svc_tx_release(&tx);
	fake_db_uninstall();
	return 0;
}

static void test_defer_finish_flushes_one_insert_per_table_then_commits(void **state)
{
	(void)state;
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(add(&tx, HEAD_B, "('x')"), 0);
	assert_int_equal(add(&tx, HEAD_A, "(2)"), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT INTO a", NULL), 1);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT INTO b", NULL), 1);
	assert_non_null(strstr(fake_db_last(FAKE_DB_COMMITTED, "INSERT INTO a", NULL), "(1), (2)"));
	assert_int_equal(fake_db_commits(), 1);
	assert_int_equal(svc_defer_pending(&tx), 0);
}

static void test_defer_finish_after_a_failure_drops_the_rows_and_rolls_back(void **state)
{
	bool at_commit = true;

	(void)state;
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(svc_defer_finish(&tx, SVC_EPERMANENT, &at_commit), SVC_EPERMANENT);
	assert_false(at_commit);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 0);
	assert_int_equal(fake_db_rollbacks(), 1);
	assert_int_equal(fake_db_commits(), 0);
	assert_int_equal(svc_defer_pending(&tx), 0);
}

static void test_defer_flush_duplicate_key_is_a_conflict(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("INSERT INTO b", NULL), FAKE_DB_ER_DUP_ENTRY);
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(add(&tx, HEAD_B, "('x')"), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), SVC_ECONFLICT);
	/* table a went in before b failed: undone with the rest */
	assert_int_equal(fake_db_count(FAKE_DB_ROLLED_BACK, "INSERT INTO a", NULL), 1);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", NULL), 0);
	assert_int_equal(fake_db_commits(), 0);
}

static void test_defer_failed_commit_is_told_apart(void **state)
{
	bool at_commit = false;

	(void)state;
	fake_db_fail(fake_db_on("COMMIT", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, &at_commit), SVC_ETRANSIENT);
	assert_true(at_commit);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", NULL), 0);
	assert_int_equal(fake_db_rollbacks(), 1);
}

static void test_defer_start_that_cannot_begin_collects_nothing(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("START TRANSACTION", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(svc_defer_start(&tx), SVC_ETRANSIENT);
	assert_false(tx.deferring);
}

static void test_defer_insert_runs_at_once_when_not_deferring(void **state)
{
	(void)state;
	assert_int_equal(add(&tx, HEAD_A, "(1)"), 0);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT INTO a", "(1)"), 1);
	fake_db_fail(fake_db_on("INSERT INTO b", NULL), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(add(&tx, HEAD_B, "('x')"), SVC_ETRANSIENT);
}

static void test_defer_table_beyond_the_slots_runs_at_once(void **state)
{
	static const char *const heads[] = {
	        "INSERT INTO t1 (x) VALUES ", "INSERT INTO t2 (x) VALUES ",
	        "INSERT INTO t3 (x) VALUES ", "INSERT INTO t4 (x) VALUES ",
	        "INSERT INTO t5 (x) VALUES ",
	};

	(void)state;
	assert_int_equal(sizeof(heads) / sizeof(heads[0]), SVC_TX_DEFER_TABLES + 1);
	assert_int_equal(svc_defer_start(&tx), 0);
	for (size_t i = 0; i < SVC_TX_DEFER_TABLES + 1; i++)
		assert_int_equal(add(&tx, heads[i], "(1)"), 0);
	/* the fifth table has no slot: its row went in at once, in the transaction */
	assert_int_equal(fake_db_count(FAKE_DB_OPEN, "INSERT INTO t5", NULL), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 1);
	assert_int_equal(svc_defer_pending(&tx), SVC_TX_DEFER_TABLES);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", NULL), SVC_TX_DEFER_TABLES + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_defer_collects_rows_of_several_tables, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_defer_begin_drops_what_an_earlier_transaction_left, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_defer_heads_are_compared_by_content, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_defer_rows_belong_to_their_transaction, setup,
	                                        teardown),
#define T(f) cmocka_unit_test_setup_teardown(f, setup_db, teardown_db)
	        T(test_defer_finish_flushes_one_insert_per_table_then_commits),
	        T(test_defer_finish_after_a_failure_drops_the_rows_and_rolls_back),
	        T(test_defer_flush_duplicate_key_is_a_conflict),
	        T(test_defer_failed_commit_is_told_apart),
	        T(test_defer_start_that_cannot_begin_collects_nothing),
	        T(test_defer_insert_runs_at_once_when_not_deferring),
	        T(test_defer_table_beyond_the_slots_runs_at_once),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
