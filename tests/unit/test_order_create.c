/*
 * Group commit of new orders (services/order/create.h): requests that come
 * while a transaction runs share the next one. Against the fake
 * database (fake_db.h, order_fake_db.h) whose START TRANSACTION can be held, so that the
 * requests queue up behind it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "services/order/create.h"
#include "services/order/order.h"
#include "svc/clock.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/ratelimit.h"
#include "tests/unit/order_fake_db.h"

#define NREQ 5

static const struct svc_service service = {.name = "order", .source = "order-service"};
static struct svc_ctx ctx = {.svc = &service};
static struct order_request reqs[NREQ];
static int64_t prices[NREQ][1];
static struct order_new orders[NREQ];
static int results[NREQ];

/* The gate: START TRANSACTION waits while it is closed; `on_second_start`
 * runs when the second transaction begins. A create that fails before its
 * transaction (an allocation failing under make torture) wakes the waiters. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
	int starts;
	int finished; /* creates returned, with or without a transaction */
	void (*on_second_start)(void);
} gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void gate_query(const char *sql)
{
	if (strcmp(sql, "START TRANSACTION") != 0)
		return;
	pthread_mutex_lock(&gate.mu);
	if (++gate.starts == 2 && gate.on_second_start)
		gate.on_second_start();
	pthread_cond_broadcast(&gate.cv);
	while (!gate.open)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
}

static void gate_wait_starts(int n)
{
	pthread_mutex_lock(&gate.mu);
	while (gate.starts < n && gate.finished == 0)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
}

static void gate_set_open(bool open)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = open;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
}

static int setup(void **state)
{
	(void)state;
	ctx.user = NULL; /* (a test that set it may have ended at a failed assertion) */
	order_fake_db_reset(NULL, 0, NULL, 0);
	fake_db_hook(gate_query);
	gate.open = true;
	gate.starts = 0;
	gate.finished = 0;
	gate.on_second_start = NULL;
	ctx.db = fake_db_pool_open(4);
	assert_non_null(ctx.db);
	for (int i = 0; i < NREQ; i++) {
		memset(&reqs[i], 0, sizeof(reqs[i]));
		snprintf(reqs[i].user_id, sizeof(reqs[i].user_id), "U%d", i);
		snprintf(reqs[i].items[0].product_id, sizeof(reqs[i].items[0].product_id), "P%d",
		         i);
		reqs[i].items[0].quantity = 1;
		reqs[i].nitems = 1;
		prices[i][0] = 100 + i;
		orders[i] = (struct order_new){
		        .req = &reqs[i],
		        .unit_prices = prices[i],
		        .total = 100 + i,
		        .currency = "USD",
		        .deadline_ms = 1000,
		};
		svc_uuid7(orders[i].order_id);
		results[i] = -100;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	svc_db_free(ctx.db);
	ctx.db = NULL;
	fake_db_uninstall();
	return 0;
}

static void *create_thread(void *arg)
{
	int i = (int)(intptr_t)arg;

	results[i] = order_create(&ctx, &orders[i]);
	pthread_mutex_lock(&gate.mu);
	gate.finished++;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	return NULL;
}

/* Order 0 starts a transaction and is held at its START while orders
 * 1..NREQ-1 queue up behind it; then all are let through. */
static void create_while_one_is_held(void)
{
	pthread_t t[NREQ];
	size_t queued;

	gate_set_open(false);
	assert_int_equal(pthread_create(&t[0], NULL, create_thread, (void *)(intptr_t)0), 0);
	gate_wait_starts(1);
	for (int i = 1; i < NREQ; i++)
		assert_int_equal(pthread_create(&t[i], NULL, create_thread, (void *)(intptr_t)i),
		                 0);
	/* until they have all queued behind it (bounded: 5 s) */
	for (uint64_t deadline = svc_mono_ms() + 5000;
	     order_create_waiting() < NREQ - 1 && svc_mono_ms() < deadline;)
		svc_sleep_ms(1);
	queued = order_create_waiting();
	gate_set_open(true);
	for (int i = 0; i < NREQ; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(queued, NREQ - 1);
}

/* Rows in a multi-row INSERT: its "(" after VALUES. */
static size_t tuples(const char *sql)
{
	const char *p = strstr(sql, "VALUES ");
	size_t n = 0;

	for (p = p ? p + 7 : ""; *p; p++)
		n += p[0] == '(' && (p[-1] == ' ' && (p[-2] == ',' || p[-2] == 'S'));
	return n;
}

static void test_order_create_alone_writes_six_statements(void **state)
{
	static const char *const want[] = {
	        "START TRANSACTION",
	        "INSERT INTO orders ",
	        "INSERT INTO order_lines",
	        "INSERT INTO saga_transitions",
	        "INSERT INTO outbox_messages", /* the outbox row is made at the flush */
	        "COMMIT",
	};

	(void)state;
	assert_int_equal(order_create(&ctx, &orders[0]), 0);
	assert_int_equal(fake_db_nstmts(), 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(strncmp(fake_db_stmt(i), want[i], strlen(want[i])), 0);
	assert_non_null(strstr(fake_db_stmt(1), orders[0].order_id));
	assert_non_null(strstr(fake_db_stmt(4), "OrderCreatedEvent"));
	/* one event: a plain row */
	assert_non_null(strstr(fake_db_stmt(4), ", 1, NOW(6))"));
}

static void test_order_create_requests_that_wait_share_one_transaction(void **state)
{
	(void)state;
	create_while_one_is_held();
	for (int i = 0; i < NREQ; i++)
		assert_int_equal(results[i], 0);
	/* order 0 alone, then the four others together */
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "START TRANSACTION", NULL), 2);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "COMMIT", NULL), 2);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO orders ", NULL), 2);
	assert_int_equal(tuples(fake_db_last(FAKE_DB_ANY, "INSERT INTO orders ", NULL)), NREQ - 1);
	assert_int_equal(tuples(fake_db_last(FAKE_DB_ANY, "INSERT INTO order_lines", NULL)),
	                 NREQ - 1);
	/* the four OrderCreated events in one packed row */
	assert_int_equal(tuples(fake_db_last(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL)), 1);
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL),
	                       ", 4, NOW(6))"));
	assert_int_equal(tuples(fake_db_last(FAKE_DB_ANY, "INSERT INTO saga_transitions", NULL)),
	                 NREQ - 1);
	assert_int_equal(fake_db_nstmts(), 12);
	for (int i = 1; i < NREQ; i++) {
		assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO orders ", NULL),
		                       orders[i].order_id));
		assert_non_null(
		        strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL),
		               orders[i].order_id));
	}
}

static void fail_next_order_insert_once(void)
{
	/* a taken idempotency key */
	fake_db_fail(fake_db_times(fake_db_on("INSERT INTO orders ", NULL), 1),
	             FAKE_DB_ER_DUP_ENTRY);
}

static void test_order_create_failed_shared_transaction_is_written_one_by_one(void **state)
{
	(void)state;
	gate.on_second_start = fail_next_order_insert_once;
	create_while_one_is_held();
	for (int i = 0; i < NREQ; i++)
		assert_int_equal(results[i], 0);
	/* order 0; the group, rolled back; then one transaction each */
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "ROLLBACK", NULL), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "START TRANSACTION", NULL), 2 + NREQ - 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "COMMIT", NULL), 1 + NREQ - 1);
	assert_int_equal(tuples(fake_db_last(FAKE_DB_ANY, "INSERT INTO orders ", NULL)), 1);
}

static void test_order_create_taken_key_is_a_conflict(void **state)
{
	(void)state;
	fail_next_order_insert_once();
	assert_int_equal(order_create(&ctx, &orders[0]), SVC_ECONFLICT);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "ROLLBACK", NULL), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "COMMIT", NULL), 0);
	/* nothing after the failed INSERT but the rollback */
	assert_int_equal(fake_db_nstmts(), 3);
}

static void fail_next_commit_once(void)
{
	fake_db_fail(fake_db_times(fake_db_on("COMMIT", NULL), 1), FAKE_DB_ER_LOCK_DEADLOCK);
}

static void test_order_create_failed_commit_is_not_written_again(void **state)
{
	(void)state;
	gate.on_second_start = fail_next_commit_once;
	create_while_one_is_held();
	assert_int_equal(results[0], 0);
	/* the commit may have happened: those orders fail, not written twice */
	for (int i = 1; i < NREQ; i++)
		assert_int_equal(results[i], SVC_ETRANSIENT);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "START TRANSACTION", NULL), 2);
}

static void fail_next_outbox_insert_once(void)
{
	fake_db_fail(fake_db_times(fake_db_on("INSERT INTO outbox_messages", NULL), 1),
	             FAKE_DB_ER_LOCK_DEADLOCK);
}

static void test_order_create_transient_failure_fails_the_group_without_retries(void **state)
{
	(void)state;
	gate.on_second_start = fail_next_outbox_insert_once;
	create_while_one_is_held();
	assert_int_equal(results[0], 0);
	/* a deadlock or a lost server would fail each alone too: not retried
	 * one after the other */
	for (int i = 1; i < NREQ; i++)
		assert_int_equal(results[i], SVC_ETRANSIENT);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "START TRANSACTION", NULL), 2);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "ROLLBACK", NULL), 1);
}

/* The linger's rate (svc_rate): what the last whole window counted, per second. */
static void test_rate_is_the_last_whole_window(void **state)
{
	struct svc_rate r = {0};

	(void)state;
	/* nothing is known before the first window ends */
	for (int i = 0; i < 50; i++)
		assert_int_equal(svc_rate_add(&r, 10000 + (uint64_t)i * 10, 1), 0);
	/* 50 creates in the window [10000, 10500) and this one ends it at
	 * 11000: 50 in a second */
	assert_int_equal(svc_rate_add(&r, 11000, 1), 50);
	/* 400 in the next second (one every 2 ms, the one at 11000 included) */
	for (int i = 1; i < 400; i++)
		assert_int_equal(svc_rate_add(&r, 11000 + (uint64_t)i * 2, 1), 50);
	assert_int_equal(svc_rate_add(&r, 12000, 1), 400);
	/* then a quiet minute: the one create of it rates the window 0/s */
	assert_int_equal(svc_rate_add(&r, 72000, 1), 0);
}

/* The wait for company is what ORDER_CREATE_LINGER_GROUP creates take to
 * come at the rate, at most ORDER_CREATE_LINGER_MS. */
static void test_linger_is_a_group_s_time_at_the_rate(void **state)
{
	(void)state;
	/* at most the maximum: 8 creates take 40 ms at 200/s */
	assert_int_equal(order_linger_for_rate(25, 8, 200), 25);
	assert_int_equal(order_linger_for_rate(25, 8, 320), 25);
	assert_int_equal(order_linger_for_rate(25, 8, 800), 10);
	assert_int_equal(order_linger_for_rate(25, 8, 2000), 4);
	/* rounded up: 8 at 3000/s take 2.67 ms; never 0 while on */
	assert_int_equal(order_linger_for_rate(25, 8, 3000), 3);
	assert_int_equal(order_linger_for_rate(25, 8, 1000000), 1);
	/* no rate yet (or a quiet spell): the maximum */
	assert_int_equal(order_linger_for_rate(25, 8, 0), 25);
	/* either setting at 0 turns the wait off */
	assert_int_equal(order_linger_for_rate(0, 8, 200), 0);
	assert_int_equal(order_linger_for_rate(25, 0, 200), 0);
	assert_int_equal(order_linger_for_rate(25, 0, 0), 0);
}

/* A lone create waits for company, and not when the group is 0. */
static void test_order_create_lingers_unless_off(void **state)
{
	/* static: ctx.user outlives the test when an assertion ends it early */
	static struct order_app app;
	uint64_t t0;

	(void)state;
	app.cfg.create_linger_ms = 300;
	app.cfg.create_linger_group = 1000000;
	ctx.user = &app;
	t0 = svc_mono_ms();
	assert_int_equal(order_create(&ctx, &orders[0]), 0);
	assert_true(svc_mono_ms() - t0 >= 300);
	/* with a group of 0 there is no wait */
	app.cfg.create_linger_group = 0;
	t0 = svc_mono_ms();
	assert_int_equal(order_create(&ctx, &orders[1]), 0);
	assert_true(svc_mono_ms() - t0 < 300);
	ctx.user = NULL;
	assert_int_equal(fake_db_commits(), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rate_is_the_last_whole_window),
	        cmocka_unit_test(test_linger_is_a_group_s_time_at_the_rate),
	        cmocka_unit_test_setup_teardown(test_order_create_lingers_unless_off, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_order_create_alone_writes_six_statements,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_create_requests_that_wait_share_one_transaction, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_create_failed_shared_transaction_is_written_one_by_one, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_order_create_taken_key_is_a_conflict, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_create_failed_commit_is_not_written_again, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_create_transient_failure_fails_the_group_without_retries, setup,
	                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
