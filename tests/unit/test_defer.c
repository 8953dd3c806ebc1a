/* Unit tests of the deferred multi-row INSERTs (svc/defer.h). No database:
 * the rows are only collected and dropped, never flushed to a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "svc/defer.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
