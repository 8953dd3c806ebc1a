/* Unit tests of the deferred multi-row INSERTs (svc/defer.h). No database:
 * the rows are only collected and dropped, never flushed to a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "svc/defer.h"

/* A connection handle that is never used: collected rows do not touch it. */
#define FAKE_CONN ((MYSQL *)&fake_conn_storage)
static char fake_conn_storage;

static const char HEAD_A[] = "INSERT INTO a (x) VALUES ";
static const char HEAD_B[] = "INSERT INTO b (y) VALUES ";

static int add(const char *head, const char *tuple)
{
	return svc_defer_insert(FAKE_CONN, head, tuple, strlen(tuple));
}

static void test_defer_collects_rows_of_several_tables(void **state)
{
	(void)state;
	svc_defer_begin(FAKE_CONN);
	assert_int_equal(add(HEAD_A, "(1)"), 0);
	assert_int_equal(add(HEAD_B, "('x')"), 0);
	assert_int_equal(add(HEAD_A, "(2)"), 0);
	assert_int_equal(svc_defer_pending(), 3);
	svc_defer_discard();
	assert_int_equal(svc_defer_pending(), 0);
}

static void test_defer_begin_drops_what_an_earlier_transaction_left(void **state)
{
	(void)state;
	svc_defer_begin(FAKE_CONN);
	assert_int_equal(add(HEAD_A, "(1)"), 0);
	svc_defer_begin(FAKE_CONN);
	assert_int_equal(svc_defer_pending(), 0);
	svc_defer_discard();
}

static void test_defer_heads_are_compared_by_content(void **state)
{
	char copy[sizeof(HEAD_A)];

	(void)state;
	memcpy(copy, HEAD_A, sizeof(HEAD_A));
	svc_defer_begin(FAKE_CONN);
	assert_int_equal(add(HEAD_A, "(1)"), 0);
	assert_int_equal(add(copy, "(2)"), 0);
	assert_int_equal(svc_defer_pending(), 2);
	svc_defer_discard();
}

static void *other_thread(void *arg)
{
	size_t *seen = arg;

	*seen = svc_defer_pending();
	return NULL;
}

static void test_defer_rows_belong_to_the_collecting_thread(void **state)
{
	pthread_t t;
	size_t seen = 99;

	(void)state;
	svc_defer_begin(FAKE_CONN);
	assert_int_equal(add(HEAD_A, "(1)"), 0);
	assert_int_equal(pthread_create(&t, NULL, other_thread, &seen), 0);
	pthread_join(t, NULL);
	assert_int_equal(seen, 0);
	assert_int_equal(svc_defer_pending(), 1);
	svc_defer_discard();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defer_collects_rows_of_several_tables),
	        cmocka_unit_test(test_defer_begin_drops_what_an_earlier_transaction_left),
	        cmocka_unit_test(test_defer_heads_are_compared_by_content),
	        cmocka_unit_test(test_defer_rows_belong_to_the_collecting_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
