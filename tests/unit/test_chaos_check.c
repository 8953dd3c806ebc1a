/* Unit tests of chaos/check.h: the invariants of a chaos scenario on synthetic data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/check.h"

#define NO 4 /* orders */
#define NP 2 /* products: 0 confirms, 1 is declined */

struct fixture {
	struct chaos_order o[NO];
	struct chaos_product p[NP];
	struct chaos_dlq_entry d[2];
	struct chaos_check_input in;
	struct chaos_verdict v;
};

static void set_order(struct chaos_order *o, int i, enum chaos_order_status st, unsigned product)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "0193-order-%d", i);
	o->product = product;
	o->expect_decline = product == 1;
	o->quantity = 1;
	o->created_ms = 1000 * i;
	o->done_ms = o->created_ms + 800;
	o->status = st;
	o->total = product == 1 ? 200001 : 1999;
	o->notified = true;
	if (st == CHAOS_ORDER_CONFIRMED) {
		o->pay_found = true;
		snprintf(o->pay_status, sizeof(o->pay_status), "CAPTURED");
		o->pay_amount = o->total;
	} else if (product == 1) {
		o->pay_found = true;
		snprintf(o->pay_status, sizeof(o->pay_status), "DECLINED");
		o->pay_amount = o->total;
	}
}

/* A consistent run: three orders of product 0 (two confirmed, one
 * cancelled by the fault before payment) and one declined. */
static struct fixture *consistent(void)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	set_order(&f.o[0], 0, CHAOS_ORDER_CONFIRMED, 0);
	set_order(&f.o[1], 1, CHAOS_ORDER_CONFIRMED, 0);
	set_order(&f.o[2], 2, CHAOS_ORDER_CANCELLED, 0);
	set_order(&f.o[3], 3, CHAOS_ORDER_CANCELLED, 1);
	snprintf(f.p[0].id, sizeof(f.p[0].id), "p0");
	f.p[0].initial = 100;
	f.p[0].found = true;
	f.p[0].available = 98;
	f.p[0].sold = 2;
	snprintf(f.p[1].id, sizeof(f.p[1].id), "p1");
	f.p[1].initial = 100;
	f.p[1].found = true;
	f.p[1].available = 100;
	f.in = (struct chaos_check_input){.orders = f.o,
	                                  .norders = NO,
	                                  .products = f.p,
	                                  .nproducts = NP,
	                                  .dlq = f.d,
	                                  .ndlq = 0,
	                                  .terminal_bound_ms = 60000,
	                                  .sold_exact = true,
	                                  .dlq_allow = NULL};
	return &f;
}

static long violations(struct fixture *f, enum chaos_inv i)
{
	chaos_check(&f->in, &f->v);
	return f->v.inv[i].violations;
}

static void test_chaos_check_a_consistent_run_holds(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	chaos_check(&f->in, &f->v);
	for (int i = 0; i < CHAOS_INV_COUNT; i++)
		if (f->v.inv[i].violations)
			fail_msg("%s: %s", chaos_inv_name((enum chaos_inv)i),
			         f->v.inv[i].examples[0]);
	assert_true(chaos_verdict_ok(&f->v));
	assert_int_equal(f->v.captured_net, 2 * 1999);
	assert_int_equal(f->v.confirmed_totals, 2 * 1999);
}

static void test_chaos_check_counts_lost_open_and_late_orders(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	f->o[0].status = CHAOS_ORDER_MISSING;
	f->o[1].status = CHAOS_ORDER_OPEN;
	f->o[2].done_ms = f->o[2].created_ms + 60001;
	assert_int_equal(violations(f, CHAOS_INV_TERMINAL), 3);
	assert_int_equal(f->v.lost, 1);
	assert_int_equal(f->v.not_terminal, 1);
	assert_int_equal(f->v.late, 1);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_TERMINAL].examples[0], "not found"));
	assert_non_null(strstr(f->v.inv[CHAOS_INV_TERMINAL].examples[2], "terminal after 60.0 s"));
	assert_false(chaos_verdict_ok(&f->v));
}

static void test_chaos_check_tells_unreadable_from_lost(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	f->o[0].status = CHAOS_ORDER_MISSING;
	f->o[0].unread = true;
	f->o[1].money_unread = true;
	f->p[1].found = false;
	f->p[1].unread = true;
	f->in.sold_exact = false; /* order 0's outcome is unknown */
	assert_int_equal(violations(f, CHAOS_INV_TERMINAL), 1);
	assert_int_equal(f->v.lost, 0);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_TERMINAL].examples[0], "could not be read"));
	assert_non_null(strstr(f->v.inv[CHAOS_INV_STOCK].examples[0], "could not be read"));
	assert_non_null(strstr(f->v.inv[CHAOS_INV_MONEY].examples[0], "0193-order-1 could not"));
}

static void test_chaos_check_a_declined_order_must_not_confirm(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	set_order(&f->o[3], 3, CHAOS_ORDER_CONFIRMED, 1);
	f->p[1].available = 99;
	f->p[1].sold = 1;
	assert_int_equal(violations(f, CHAOS_INV_OUTCOME), 1);
}

static void test_chaos_check_stock_must_be_conserved_and_released(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	f->p[0].available = 97; /* one unit gone */
	assert_int_equal(violations(f, CHAOS_INV_STOCK), 1);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_STOCK].examples[0], "not 100"));
	f->p[0].available = 97;
	f->p[0].reserved = 1; /* conserved, but a reservation left open */
	assert_int_equal(violations(f, CHAOS_INV_STOCK), 1);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_STOCK].examples[0], "still reserved"));
	f->p[0].available = 99;
	f->p[0].reserved = -1;
	assert_int_equal(violations(f, CHAOS_INV_STOCK), 1);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_STOCK].examples[0], "negative"));
	f->p[0].found = false;
	assert_int_equal(violations(f, CHAOS_INV_STOCK), 1);
}

static void test_chaos_check_sold_must_match_confirmed_only_when_outcomes_are_known(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	f->p[0].available = 97; /* three sold for two confirmed: an order we never heard of */
	f->p[0].sold = 3;
	assert_int_equal(violations(f, CHAOS_INV_STOCK), 1);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_STOCK].examples[0], "CONFIRMED orders took 2"));
	f->in.sold_exact = false; /* a request without an answer may have made it */
	assert_int_equal(violations(f, CHAOS_INV_STOCK), 0);
}

static void test_chaos_check_money_follows_the_orders(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	/* a cancelled order keeping a capture: both the order and the sums are wrong */
	f->o[2].pay_found = true;
	snprintf(f->o[2].pay_status, sizeof(f->o[2].pay_status), "CAPTURED");
	f->o[2].pay_amount = 1999;
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 2);
	/* refunded in full: fine */
	snprintf(f->o[2].pay_status, sizeof(f->o[2].pay_status), "REFUNDED");
	f->o[2].pay_refunded = 1999;
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 0);
	/* refunded in part */
	f->o[2].pay_refunded = 1000;
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 2);
	/* still REQUESTED */
	snprintf(f->o[2].pay_status, sizeof(f->o[2].pay_status), "REQUESTED");
	f->o[2].pay_refunded = 0;
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 1);
	/* voided */
	snprintf(f->o[2].pay_status, sizeof(f->o[2].pay_status), "VOIDED");
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 0);
	/* a confirmed order without its capture, or with another amount */
	f->o[0].pay_found = false;
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 2);
	f->o[0].pay_found = true;
	f->o[0].pay_amount = 1998;
	assert_int_equal(violations(f, CHAOS_INV_MONEY), 2);
}

static void test_chaos_check_every_terminal_order_is_notified(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	f->o[1].notified = false;
	f->o[2].notified = false;
	assert_int_equal(violations(f, CHAOS_INV_NOTIFIED), 2);
	f->o[1].status = CHAOS_ORDER_OPEN; /* that one is a terminal violation instead */
	assert_int_equal(violations(f, CHAOS_INV_NOTIFIED), 1);
}

static void test_chaos_check_dead_letters_need_an_explanation(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	snprintf(f->d[0].service, sizeof(f->d[0].service), "order");
	snprintf(f->d[0].reason, sizeof(f->d[0].reason), "payment amount mismatch: 1 != 2");
	snprintf(f->d[1].service, sizeof(f->d[1].service), "payment");
	snprintf(f->d[1].reason, sizeof(f->d[1].reason), "cannot read the DLQ: transient");
	f->in.ndlq = 2;
	assert_int_equal(violations(f, CHAOS_INV_DLQ), 2);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_DLQ].examples[0], "order.dlq"));
	f->in.dlq_allow = "unknown type|amount mismatch";
	assert_int_equal(violations(f, CHAOS_INV_DLQ), 1);
	assert_true(chaos_reason_allowed("x amount mismatch y", "amount mismatch"));
	assert_false(chaos_reason_allowed("anything", ""));
	assert_false(chaos_reason_allowed("anything", "||"));
}

static void test_chaos_check_keeps_three_examples_and_counts_all(void **state)
{
	struct fixture *f = consistent();

	(void)state;
	for (int i = 0; i < NO; i++)
		f->o[i].notified = false;
	assert_int_equal(violations(f, CHAOS_INV_NOTIFIED), 4);
	assert_non_null(strstr(f->v.inv[CHAOS_INV_NOTIFIED].examples[2], "0193-order-2"));
	assert_string_equal(chaos_inv_name(CHAOS_INV_DLQ), "dlq");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_check_a_consistent_run_holds),
	        cmocka_unit_test(test_chaos_check_counts_lost_open_and_late_orders),
	        cmocka_unit_test(test_chaos_check_tells_unreadable_from_lost),
	        cmocka_unit_test(test_chaos_check_a_declined_order_must_not_confirm),
	        cmocka_unit_test(test_chaos_check_stock_must_be_conserved_and_released),
	        cmocka_unit_test(
	                test_chaos_check_sold_must_match_confirmed_only_when_outcomes_are_known),
	        cmocka_unit_test(test_chaos_check_money_follows_the_orders),
	        cmocka_unit_test(test_chaos_check_every_terminal_order_is_notified),
	        cmocka_unit_test(test_chaos_check_dead_letters_need_an_explanation),
	        cmocka_unit_test(test_chaos_check_keeps_three_examples_and_counts_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
