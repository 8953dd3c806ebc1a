/*
 * The run that writes concurrent REQUESTED records (pay_requested_run,
 * services/payment/process.h), with a fake write in place of the
 * database's. How the groups form is the combiner's (test_combine.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "services/payment/process.h"
#include "svc/error.h"

#define JOBS      4
#define DUP_ORDER "018f0000-0000-7000-8000-0000000000dd"
#define TAKEN_PAY "018f0000-0000-7000-8000-0000000000ee" /* another order's payment id */

struct fake {
	int fail;        /* what every write returns, when not 0 */
	size_t calls;    /* writes run */
	size_t sizes[8]; /* records per write */
};

/* Fails a group with DUP_ORDER or TAKEN_PAY in it as the database would:
 * nothing kept. */
static int fake_write(void *arg, struct pay_job *const *jobs, size_t n)
{
	struct fake *f = arg;

	if (f->calls < sizeof(f->sizes) / sizeof(f->sizes[0]))
		f->sizes[f->calls] = n;
	f->calls++;
	for (size_t i = 0; i < n; i++)
		if (strcmp(jobs[i]->order_id, DUP_ORDER) == 0)
			return SVC_DUPLICATE;
		else if (strcmp(jobs[i]->row.payment_id, TAKEN_PAY) == 0)
			return SVC_ECONFLICT;
	return f->fail;
}

struct group {
	struct fake f;
	struct pay_service ps;
	struct pay_job jobs[JOBS];
	struct pay_job *items[JOBS];
};

static int setup(void **state)
{
	static struct group g;

	memset(&g, 0, sizeof(g));
	g.ps.write_requested = fake_write;
	g.ps.write_arg = &g.f;
	for (int i = 0; i < JOBS; i++) {
		snprintf(g.jobs[i].order_id, sizeof(g.jobs[i].order_id),
		         "018f0000-0000-7000-8000-0000000000%02d", i);
		g.jobs[i].requested_rc = -12345; /* must be overwritten */
		g.items[i] = &g.jobs[i];
	}
	*state = &g;
	return 0;
}

static void test_payment_requested_group_is_written_in_one_transaction(void **state)
{
	struct group *g = *state;

	assert_int_equal(pay_requested_run(&g->ps, g->items, JOBS), 0);
	assert_int_equal(g->f.calls, 1);
	assert_int_equal(g->f.sizes[0], JOBS);
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(g->jobs[i].requested_rc, 0);
}

static void test_payment_requested_duplicate_in_a_group_is_written_alone(void **state)
{
	struct group *g = *state;

	snprintf(g->jobs[2].order_id, sizeof(g->jobs[2].order_id), "%s", DUP_ORDER);
	assert_int_equal(pay_requested_run(&g->ps, g->items, JOBS), 0);
	/* the failed group, then each of its records alone */
	assert_int_equal(g->f.calls, 1 + JOBS);
	for (int i = 1; i <= JOBS; i++)
		assert_int_equal(g->f.sizes[i], 1);
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(g->jobs[i].requested_rc, i == 2 ? SVC_DUPLICATE : 0);
}

/* A command naming a payment id another order has fails alone; the others
 * of its group are written. */
static void test_payment_requested_taken_payment_id_fails_only_its_record(void **state)
{
	struct group *g = *state;

	snprintf(g->jobs[1].row.payment_id, sizeof(g->jobs[1].row.payment_id), "%s", TAKEN_PAY);
	assert_int_equal(pay_requested_run(&g->ps, g->items, JOBS), 0);
	assert_int_equal(g->f.calls, 1 + JOBS);
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(g->jobs[i].requested_rc, i == 1 ? SVC_ECONFLICT : 0);
}

static void test_payment_requested_lone_duplicate_is_not_written_again(void **state)
{
	struct group *g = *state;

	snprintf(g->jobs[0].order_id, sizeof(g->jobs[0].order_id), "%s", DUP_ORDER);
	assert_int_equal(pay_requested_run(&g->ps, g->items, 1), SVC_DUPLICATE);
	assert_int_equal(g->f.calls, 1);
	assert_int_equal(g->jobs[0].requested_rc, SVC_DUPLICATE);
}

static void test_payment_requested_failure_is_not_retried_record_by_record(void **state)
{
	struct group *g = *state;

	g->f.fail = SVC_ETRANSIENT;
	assert_int_equal(pay_requested_run(&g->ps, g->items, JOBS), SVC_ETRANSIENT);
	assert_int_equal(g->f.calls, 1); /* the commands are retried instead */
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(g->jobs[i].requested_rc, SVC_ETRANSIENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_payment_requested_group_is_written_in_one_transaction,
	                               setup),
	        cmocka_unit_test_setup(test_payment_requested_duplicate_in_a_group_is_written_alone,
	                               setup),
	        cmocka_unit_test_setup(
	                test_payment_requested_taken_payment_id_fails_only_its_record, setup),
	        cmocka_unit_test_setup(test_payment_requested_lone_duplicate_is_not_written_again,
	                               setup),
	        cmocka_unit_test_setup(
	                test_payment_requested_failure_is_not_retried_record_by_record, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
