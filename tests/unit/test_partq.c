/* Unit tests of resilience/sidecar/partq.h: the per-partition queues of inbound delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "resilience/sidecar/partq.h"

static int freed;

static void count_free(void *arg, void *item)
{
	(void)arg;
	(void)item;
	freed++;
}

/* Items are small integers cast to pointers: nothing to allocate. */
#define ITEM(n) ((void *)(uintptr_t)(n))

static int setup(void **state)
{
	struct sc_partq_set *s = calloc(1, sizeof(*s));

	freed = 0;
	if (!s)
		return -1;
	sc_partq_set_init(s, count_free, NULL);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	sc_partq_set_release(*state);
	free(*state);
	return 0;
}

static void test_partq_keeps_each_partition_in_order(void **state)
{
	struct sc_partq_set *s = *state;
	void *out[8];

	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(1)), 0);
	assert_int_equal(sc_partq_push(s, "t", 1, ITEM(10)), 0);
	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(2)), 0);
	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(3)), 0);
	assert_int_equal(s->queued, 4);

	struct sc_partq *q = sc_partq_next(s);
	assert_non_null(q);
	assert_int_equal(q->partition, 0);
	assert_int_equal(sc_partq_peek(q, out, 8), 3);
	assert_ptr_equal(out[0], ITEM(1));
	assert_ptr_equal(out[1], ITEM(2));
	assert_ptr_equal(out[2], ITEM(3));
	assert_int_equal(sc_partq_peek(q, out, 2), 2);
}

static void test_partq_never_hands_a_busy_partition_to_a_second_worker(void **state)
{
	struct sc_partq_set *s = *state;

	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(1)), 0);
	struct sc_partq *q = sc_partq_next(s);
	assert_non_null(q);
	assert_true(q->busy);
	/* more messages arrive for the held partition: still nobody else gets it */
	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(2)), 0);
	assert_null(sc_partq_next(s));
	/* the holder finishes the first: the partition is ready again for the rest */
	sc_partq_done(s, q, 1);
	assert_false(q->busy);
	assert_int_equal(freed, 1);
	assert_ptr_equal(sc_partq_next(s), q);
	void *out[2];
	assert_int_equal(sc_partq_peek(q, out, 2), 1);
	assert_ptr_equal(out[0], ITEM(2));
}

static void test_partq_unfinished_messages_stay_queued_first(void **state)
{
	struct sc_partq_set *s = *state;
	void *out[4];

	for (int i = 1; i <= 4; i++)
		assert_int_equal(sc_partq_push(s, "t", 3, ITEM(i)), 0);
	struct sc_partq *q = sc_partq_next(s);
	sc_partq_peek(q, out, 4);
	sc_partq_done(s, q, 2); /* the worker finished only two */
	assert_int_equal(freed, 2);
	assert_int_equal(s->queued, 2);
	q = sc_partq_next(s);
	assert_int_equal(sc_partq_peek(q, out, 4), 2);
	assert_ptr_equal(out[0], ITEM(3));
	assert_ptr_equal(out[1], ITEM(4));
}

static void test_partq_ready_partitions_take_turns(void **state)
{
	struct sc_partq_set *s = *state;

	assert_int_equal(sc_partq_push(s, "a", 0, ITEM(1)), 0);
	assert_int_equal(sc_partq_push(s, "a", 1, ITEM(2)), 0);
	assert_int_equal(sc_partq_push(s, "b", 0, ITEM(3)), 0);
	struct sc_partq *first = sc_partq_next(s);
	assert_string_equal(first->topic, "a");
	assert_int_equal(first->partition, 0);
	assert_int_equal(sc_partq_push(s, "a", 0, ITEM(4)), 0);
	sc_partq_done(s, first, 1); /* still has a message: to the back of the line */
	struct sc_partq *second = sc_partq_next(s);
	assert_int_equal(second->partition, 1);
	struct sc_partq *third = sc_partq_next(s);
	assert_string_equal(third->topic, "b");
	assert_ptr_equal(sc_partq_next(s), first);
	assert_null(sc_partq_next(s));
}

static void test_partq_empty_partition_is_not_ready(void **state)
{
	struct sc_partq_set *s = *state;

	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(1)), 0);
	struct sc_partq *q = sc_partq_next(s);
	sc_partq_done(s, q, 1);
	assert_null(sc_partq_next(s));
	assert_int_equal(s->queued, 0);
}

static void test_partq_revoked_partition_is_handed_out_no_more_and_dropped(void **state)
{
	struct sc_partq_set *s = *state;

	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(1)), 0);
	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(2)), 0);
	assert_int_equal(sc_partq_push(s, "t", 1, ITEM(3)), 0);
	struct sc_partq *held = sc_partq_next(s); /* partition 0, held by a worker */
	struct sc_partq *waiting = sc_partq_find(s, "t", 1);
	sc_partq_revoke(s, held);
	sc_partq_revoke(s, waiting);
	assert_null(sc_partq_next(s));
	assert_true(sc_partq_revoked_busy(s));
	/* the held one cannot be dropped while its worker is on it */
	sc_partq_drop_revoked(s);
	assert_int_equal(s->nparts, 1);
	assert_int_equal(freed, 1);
	sc_partq_done(s, held, 1);
	assert_false(sc_partq_revoked_busy(s));
	assert_null(sc_partq_next(s)); /* revoked: not ready again despite a message */
	sc_partq_drop_revoked(s);
	assert_int_equal(s->nparts, 0);
	assert_int_equal(freed, 3);
	assert_int_equal(s->queued, 0);
	/* reassigned later: a fresh queue */
	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(5)), 0);
	struct sc_partq *again = sc_partq_next(s);
	assert_non_null(again);
	assert_false(again->revoked);
}

static void test_partq_grows_past_its_first_allocation(void **state)
{
	struct sc_partq_set *s = *state;
	void *out[1000];

	for (int i = 0; i < 1000; i++)
		assert_int_equal(sc_partq_push(s, "t", 0, ITEM(i + 1)), 0);
	struct sc_partq *q = sc_partq_next(s);
	sc_partq_done(s, q, 10);
	/* pushes after a partial pop reuse the freed front */
	for (int i = 1000; i < 1010; i++)
		assert_int_equal(sc_partq_push(s, "t", 0, ITEM(i + 1)), 0);
	q = sc_partq_next(s);
	assert_int_equal(sc_partq_peek(q, out, 1000), 1000);
	for (int i = 0; i < 1000; i++)
		assert_ptr_equal(out[i], ITEM(i + 11));
}

static void test_partq_release_frees_every_queued_item(void **state)
{
	struct sc_partq_set *s = *state;

	assert_int_equal(sc_partq_push(s, "t", 0, ITEM(1)), 0);
	assert_int_equal(sc_partq_push(s, "u", 2, ITEM(2)), 0);
	sc_partq_set_release(s);
	assert_int_equal(freed, 2);
	sc_partq_set_init(s, count_free, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_partq_keeps_each_partition_in_order, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_partq_never_hands_a_busy_partition_to_a_second_worker, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_partq_unfinished_messages_stay_queued_first,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_partq_ready_partitions_take_turns, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_partq_empty_partition_is_not_ready, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_partq_revoked_partition_is_handed_out_no_more_and_dropped, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_partq_grows_past_its_first_allocation, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_partq_release_frees_every_queued_item, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
