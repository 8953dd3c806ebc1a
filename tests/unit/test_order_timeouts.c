/*
 * The step-deadline scanner (services/order/timeouts.c): one transaction
 * claims the due orders and times each out under a savepoint of its own.
 * Against the fake database (fake_db.h, order_fake_db.h): the due orders are
 * what a rule answers to the scan's SELECT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "services/order/order.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/events.h"
#include "svc/service.h"
#include "tests/unit/order_fake_db.h"

#define ID_A "01a20fd7-0000-7000-8000-00000000000a"
#define ID_D "01a20fd7-0000-7000-8000-00000000000d"
#define ID_X "01a20fd7-0000-7000-8000-0000000000ff" /* no such order */

static const struct fake_order orders[] = {
        {ID_A, "U1", "PENDING", NULL, 300, NULL},
        {ID_D, "U4", "PAYMENT_PENDING", NULL, 500, NULL},
};

static struct order_app app;
static const struct svc_service service = {.name = "order", .source = "order-service"};
static struct svc_ctx ctx = {.svc = &service, .user = &app};

static int setup(void **state)
{
	(void)state;
	order_config_load(&app.cfg);
	order_fake_db_reset(orders, sizeof(orders) / sizeof(orders[0]), NULL, 0);
	ctx.db = fake_db_pool_open(2);
	return ctx.db ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	svc_db_free(ctx.db);
	ctx.db = NULL;
	fake_db_uninstall();
	return 0;
}

/* The scan's SELECT answers these order ids. */
static void due(const char *const *ids, size_t n)
{
	fake_db_rows(fake_db_on("SELECT order_id FROM orders", "FOR UPDATE SKIP LOCKED"), 1, n,
	             ids);
}

static size_t committed(const char *prefix, const char *contains)
{
	return fake_db_count(FAKE_DB_COMMITTED, prefix, contains);
}

static void test_timeouts_scan_times_out_every_due_order_in_one_transaction(void **state)
{
	static const char *const ids[] = {ID_A, ID_D};

	(void)state;
	due(ids, 2);
	assert_int_equal(order_timeouts_scan(&ctx), 2);
	assert_int_equal(fake_db_begins(), 1);
	assert_int_equal(fake_db_commits(), 1);
	/* claimed at READ COMMITTED: no gap locks on new orders */
	assert_int_equal(
	        fake_db_count(FAKE_DB_ANY, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", NULL),
	        1);
	assert_int_equal(committed("UPDATE orders", ID_A), 1);
	assert_int_equal(committed("UPDATE orders", ID_D), 1);
	assert_int_equal(committed("INSERT INTO outbox_messages", CMD_RELEASE_INVENTORY), 2);
	assert_int_equal(committed("INSERT INTO outbox_messages", CMD_REFUND_PAYMENT), 1);
}

static void test_timeouts_scan_with_nothing_due_writes_nothing(void **state)
{
	(void)state;
	assert_int_equal(order_timeouts_scan(&ctx), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 0);
	assert_int_equal(fake_db_commits(), 1);
}

static void test_timeouts_order_that_fails_for_good_does_not_hold_back_the_others(void **state)
{
	static const char *const ids[] = {ID_D, ID_X, ID_A};

	(void)state;
	due(ids, 3);
	/* ID_D's history row is refused: its UPDATE is undone to its savepoint */
	fake_db_fail(fake_db_on("INSERT INTO saga_transitions", ID_D), FAKE_DB_ER_PARSE);
	assert_int_equal(order_timeouts_scan(&ctx), 3);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "ROLLBACK TO SAVEPOINT", NULL), 2);
	assert_int_equal(committed("UPDATE orders", ID_D), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ROLLED_BACK, "UPDATE orders", ID_D), 1);
	assert_int_equal(committed("UPDATE orders", ID_A), 1);
	assert_int_equal(committed("INSERT INTO saga_transitions", ID_A), 1);
	assert_int_equal(fake_db_commits(), 1);
}

static void test_timeouts_transient_failure_rolls_the_scan_back(void **state)
{
	static const char *const ids[] = {ID_A, ID_D};

	(void)state;
	due(ids, 2);
	fake_db_fail(fake_db_on("UPDATE orders", ID_D), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(order_timeouts_scan(&ctx), SVC_ETRANSIENT);
	assert_int_equal(fake_db_commits(), 0);
	assert_int_equal(committed("UPDATE", NULL) + committed("INSERT", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ROLLED_BACK, "UPDATE orders", ID_A), 1);
}

static void test_timeouts_failed_commit_reports_the_failure(void **state)
{
	static const char *const ids[] = {ID_A};

	(void)state;
	due(ids, 1);
	fake_db_fail(fake_db_on("COMMIT", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(order_timeouts_scan(&ctx), SVC_ETRANSIENT);
	assert_int_equal(committed("UPDATE", NULL), 0);
}

static void test_timeouts_scan_without_a_database_is_transient(void **state)
{
	(void)state;
	fake_db_set_down(true);
	assert_int_equal(order_timeouts_scan(&ctx), SVC_ETRANSIENT);
	assert_int_equal(fake_db_nstmts(), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_timeouts_scan_times_out_every_due_order_in_one_transaction),
	        T(test_timeouts_scan_with_nothing_due_writes_nothing),
	        T(test_timeouts_order_that_fails_for_good_does_not_hold_back_the_others),
	        T(test_timeouts_transient_failure_rolls_the_scan_back),
	        T(test_timeouts_failed_commit_reports_the_failure),
	        T(test_timeouts_scan_without_a_database_is_transient),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
