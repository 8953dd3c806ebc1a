/* A batch's rows in memory (services/inventory/batch.c): several events of
 * one batch on the same order or product see each other's effects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/inventory/batch.h"
#include "svc/error.h"

#define ORDER_A "0190a000-0000-7000-8000-00000000000a"
#define ORDER_B "0190a000-0000-7000-8000-00000000000b"

/* Loads product `id` as stock.c would: found, with these counts. */
static struct inv_batch_product *load_product(struct inv_batch *b, const char *id,
                                              int64_t available, int64_t price, int64_t version)
{
	struct inv_batch_product *row;

	assert_int_equal(inv_batch_want_product(b, id), 0);
	row = inv_batch_product(b, id);
	assert_non_null(row);
	row->p.c.found = true;
	row->p.c.available = available;
	row->p.c.price = price;
	row->p.c.version = version;
	return row;
}

/* Loads order `id` with status `s` (NONE: a placeholder). */
static struct inv_batch_order *load_order(struct inv_batch *b, const char *id,
                                          enum inv_res_status s)
{
	struct inv_batch_order *o;

	assert_int_equal(inv_batch_want_order(b, id, s == INV_RES_NONE), 0);
	o = inv_batch_order(b, id);
	assert_non_null(o);
	o->loaded = true;
	o->has_row = true;
	o->status = s;
	return o;
}

static struct inv_item item(const char *product_id, int64_t quantity);

/* Loads ORDER_A as RESERVED with one line of `quantity` units of p-1, and
 * p-1 with 6 available and `reserved` reserved (version 3). */
static struct inv_batch_product *reserved_line(struct inv_batch *b, struct inv_batch_order **o,
                                               int64_t quantity, int64_t reserved)
{
	struct inv_item line = item("p-1", quantity);
	struct inv_batch_product *p1;

	*o = load_order(b, ORDER_A, INV_RES_RESERVED);
	assert_int_equal(inv_batch_order_load_line(*o, &line), 0);
	p1 = load_product(b, "p-1", 6, 10, 3);
	p1->p.c.reserved = reserved;
	return p1;
}

static struct inv_item item(const char *product_id, int64_t quantity)
{
	struct inv_item it;

	memset(&it, 0, sizeof(it));
	snprintf(it.product_id, sizeof(it.product_id), "%s", product_id);
	it.quantity = quantity;
	return it;
}

static void test_inventory_batch_keys_are_kept_sorted_and_unique(void **state)
{
	struct inv_batch b;

	(void)state;
	inv_batch_init(&b);
	assert_int_equal(inv_batch_want_product(&b, "p-3"), 0);
	assert_int_equal(inv_batch_want_product(&b, "p-1"), 0);
	assert_int_equal(inv_batch_want_product(&b, "p-3"), 0);
	assert_int_equal(inv_batch_want_product(&b, "p-2"), 0);
	assert_int_equal(b.nproducts, 3);
	assert_string_equal(b.products[0].p.product_id, "p-1");
	assert_string_equal(b.products[1].p.product_id, "p-2");
	assert_string_equal(b.products[2].p.product_id, "p-3");
	assert_false(b.products[0].p.c.found);
	assert_null(inv_batch_product(&b, "p-4"));
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, false), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_A, false), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, true), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, false), 0);
	assert_int_equal(b.norders, 2);
	assert_string_equal(b.orders[0].order_id, ORDER_A);
	assert_false(b.orders[0].loaded);
	assert_false(b.orders[0].may_create);
	assert_true(b.orders[1].may_create); /* once any of its events may create it */
	inv_batch_release(&b);
}

static void test_inventory_batch_rejects_keys_too_long_for_their_column(void **state)
{
	char id[INV_PRODUCT_ID_MAX + 2];
	struct inv_batch b;

	(void)state;
	inv_batch_init(&b);
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(inv_batch_want_product(&b, id), SVC_EPERMANENT);
	assert_int_equal(inv_batch_want_order(&b, ORDER_A "0", true), SVC_EPERMANENT);
	assert_int_equal(b.nproducts + b.norders, 0);
	inv_batch_release(&b);
}

static void test_inventory_batch_many_keys_grow_the_arrays(void **state)
{
	struct inv_batch b;
	char id[16];
	int i;

	(void)state;
	inv_batch_init(&b);
	for (i = 199; i >= 0; i--) {
		snprintf(id, sizeof(id), "p-%03d", i);
		assert_int_equal(inv_batch_want_product(&b, id), 0);
	}
	assert_int_equal(b.nproducts, 200);
	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "p-%03d", i);
		assert_ptr_equal(inv_batch_product(&b, id), &b.products[i]);
	}
	inv_batch_release(&b);
}

static void test_inventory_batch_second_reservation_sees_the_first(void **state)
{
	struct inv_item first[] = {item("hot", 3)}, second[] = {item("hot", 3)};
	struct inv_batch_order *a, *o;
	struct inv_batch_product *hot;
	struct inv_shortage sh;
	struct inv_batch b;
	int tag_a, tag_b;

	(void)state;
	inv_batch_init(&b);
	load_order(&b, ORDER_A, INV_RES_NONE);
	load_order(&b, ORDER_B, INV_RES_NONE);
	hot = load_product(&b, "hot", 5, 700, 10);
	a = inv_batch_order(&b, ORDER_A);
	assert_int_equal(inv_batch_reserve(&b, a, first, 1, &sh, &tag_a), 0);
	assert_int_equal(first[0].unit_price, 700);
	assert_int_equal(a->status, INV_RES_RESERVED);
	assert_true(a->changed);
	assert_true(a->new_lines);
	assert_int_equal(a->nlines, 1);
	/* only 2 left for the second order of the same batch */
	o = inv_batch_order(&b, ORDER_B);
	assert_int_equal(inv_batch_reserve(&b, o, second, 1, &sh, &tag_b), SVC_ECONFLICT);
	assert_int_equal(sh.requested, 3);
	assert_int_equal(sh.available, 2);
	assert_int_equal(o->status, INV_RES_SHORTAGE);
	assert_string_equal(o->reason, "insufficient stock for product hot");
	assert_false(o->new_lines);
	assert_int_equal(hot->p.c.available, 2);
	assert_int_equal(hot->p.c.reserved, 3);
	assert_int_equal(hot->p.c.version, 11);
	assert_ptr_equal(hot->last_tag, &tag_a);
	inv_batch_release(&b);
}

static void test_inventory_batch_versions_bump_once_per_move(void **state)
{
	struct inv_item ia[] = {item("hot", 1)}, ib[] = {item("cold", 4), item("hot", 2)};
	struct inv_batch_product *hot, *cold;
	struct inv_batch_order *o;
	struct inv_shortage sh;
	struct inv_batch b;
	char err[128];
	int tag_a, tag_b, tag_c;

	(void)state;
	inv_batch_init(&b);
	load_order(&b, ORDER_A, INV_RES_NONE);
	load_order(&b, ORDER_B, INV_RES_NONE);
	cold = load_product(&b, "cold", 10, 100, 1);
	hot = load_product(&b, "hot", 10, 200, 7);
	o = inv_batch_order(&b, ORDER_A);
	assert_int_equal(inv_batch_reserve(&b, o, ia, 1, &sh, &tag_a), 0);
	o = inv_batch_order(&b, ORDER_B);
	assert_int_equal(inv_batch_reserve(&b, o, ib, 2, &sh, &tag_b), 0);
	o = inv_batch_order(&b, ORDER_A);
	assert_int_equal(
	        inv_batch_settle(&b, o, true, INV_RES_COMMITTED, NULL, &tag_c, err, sizeof(err)),
	        0);
	/* hot: reserved 1, reserved 2, sold 1: three moves through SQL, three bumps */
	assert_int_equal(hot->p.c.version, 10);
	assert_int_equal(hot->p.c.available, 7);
	assert_int_equal(hot->p.c.reserved, 2);
	assert_int_equal(hot->p.c.sold, 1);
	assert_ptr_equal(hot->last_tag, &tag_c);
	assert_int_equal(cold->p.c.version, 2);
	assert_int_equal(cold->p.c.available + cold->p.c.reserved + cold->p.c.sold, 10);
	assert_ptr_equal(cold->last_tag, &tag_b);
	assert_int_equal(o->status, INV_RES_COMMITTED);
	inv_batch_release(&b);
}

static void test_inventory_batch_order_reserved_and_released_in_one_batch(void **state)
{
	struct inv_item items[] = {item("p-1", 2), item("p-2", 1)};
	struct inv_batch_product *p1, *p2;
	struct inv_batch_order *o;
	struct inv_shortage sh;
	struct inv_batch b;
	char err[128];
	int tag;

	(void)state;
	inv_batch_init(&b);
	o = load_order(&b, ORDER_A, INV_RES_NONE);
	p1 = load_product(&b, "p-1", 2, 10, 1);
	p2 = load_product(&b, "p-2", 1, 20, 1);
	assert_int_equal(inv_batch_reserve(&b, o, items, 2, &sh, &tag), 0);
	assert_int_equal(p1->p.c.available, 0);
	assert_int_equal(inv_batch_settle(&b, o, false, INV_RES_RELEASED, "order cancelled", &tag,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(o->status, INV_RES_RELEASED);
	assert_string_equal(o->reason, "order cancelled");
	assert_true(o->new_lines); /* the lines are still written: they were reserved */
	assert_int_equal(p1->p.c.available, 2);
	assert_int_equal(p1->p.c.reserved, 0);
	assert_int_equal(p1->p.c.version, 3);
	assert_int_equal(p2->p.c.available, 1);
	assert_true(p2->changed);
	inv_batch_release(&b);
}

static void test_inventory_batch_settles_loaded_lines(void **state)
{
	struct inv_batch_product *p1;
	struct inv_batch_order *o;
	struct inv_batch b;
	char err[128];
	int tag;

	(void)state;
	inv_batch_init(&b);
	p1 = reserved_line(&b, &o, 4, 4);
	assert_int_equal(
	        inv_batch_settle(&b, o, true, INV_RES_COMMITTED, NULL, &tag, err, sizeof(err)), 0);
	assert_int_equal(p1->p.c.reserved, 0);
	assert_int_equal(p1->p.c.sold, 4);
	assert_int_equal(p1->p.c.available, 6);
	assert_int_equal(p1->p.c.version, 4);
	assert_false(o->new_lines);
	assert_null(o->reason); /* a commit keeps the reason there was (none) */
	inv_batch_release(&b);
}

static void test_inventory_batch_settle_never_goes_negative(void **state)
{
	struct inv_batch_product *p1;
	struct inv_batch_order *o;
	struct inv_batch b;
	char err[128] = "";
	int tag;

	(void)state;
	inv_batch_init(&b);
	p1 = reserved_line(&b, &o, 4, 3);
	assert_int_equal(
	        inv_batch_settle(&b, o, false, INV_RES_RELEASED, "x", &tag, err, sizeof(err)),
	        SVC_EPERMANENT);
	assert_string_equal(err, "product p-1 cannot release 4 units");
	assert_int_equal(p1->p.c.reserved, 3);
	assert_false(p1->changed);
	inv_batch_release(&b);
}

static void test_inventory_batch_unknown_product_is_a_shortage(void **state)
{
	struct inv_item items[] = {item("gone", 1)};
	struct inv_batch_order *o;
	struct inv_shortage sh;
	struct inv_batch b;

	(void)state;
	inv_batch_init(&b);
	o = load_order(&b, ORDER_A, INV_RES_NONE);
	assert_int_equal(inv_batch_want_product(&b, "gone"), 0); /* wanted, not in the table */
	assert_int_equal(inv_batch_reserve(&b, o, items, 1, &sh, NULL), SVC_ECONFLICT);
	assert_true(sh.unknown);
	assert_string_equal(o->reason, "unknown product gone");
	assert_false(b.products[0].changed);
	inv_batch_release(&b);
}

static void test_inventory_batch_cannot_decide_on_a_product_not_loaded(void **state)
{
	struct inv_item items[] = {item("p-1", 1), item("p-9", 1)};
	struct inv_item line = item("p-9", 1);
	struct inv_batch_product *p1;
	struct inv_batch_order *o;
	struct inv_shortage sh;
	struct inv_batch b;
	char err[128];

	(void)state;
	inv_batch_init(&b);
	o = load_order(&b, ORDER_A, INV_RES_NONE);
	p1 = load_product(&b, "p-1", 5, 10, 1);
	assert_int_equal(inv_batch_reserve(&b, o, items, 2, &sh, NULL), SVC_ETRANSIENT);
	assert_int_equal(p1->p.c.available, 5);
	assert_int_equal(o->status, INV_RES_NONE);
	o = load_order(&b, ORDER_B, INV_RES_RESERVED);
	assert_int_equal(inv_batch_order_load_line(o, &line), 0);
	assert_int_equal(
	        inv_batch_settle(&b, o, true, INV_RES_COMMITTED, NULL, NULL, err, sizeof(err)),
	        SVC_ETRANSIENT);
	inv_batch_release(&b);
}

static void test_inventory_batch_status_change_keeps_reason_unless_given(void **state)
{
	struct inv_batch_order *o;
	struct inv_batch b;

	(void)state;
	inv_batch_init(&b);
	o = load_order(&b, ORDER_A, INV_RES_NONE);
	assert_false(o->changed);
	assert_int_equal(inv_batch_order_set(o, INV_RES_RELEASED, "payment failed"), 0);
	assert_int_equal(inv_batch_order_set(o, INV_RES_RELEASED, NULL), 0);
	assert_string_equal(o->reason, "payment failed");
	assert_true(o->changed);
	inv_batch_release(&b);
	assert_int_equal(b.norders, 0);
	assert_null(b.orders);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_inventory_batch_keys_are_kept_sorted_and_unique),
	        cmocka_unit_test(test_inventory_batch_rejects_keys_too_long_for_their_column),
	        cmocka_unit_test(test_inventory_batch_many_keys_grow_the_arrays),
	        cmocka_unit_test(test_inventory_batch_second_reservation_sees_the_first),
	        cmocka_unit_test(test_inventory_batch_versions_bump_once_per_move),
	        cmocka_unit_test(test_inventory_batch_order_reserved_and_released_in_one_batch),
	        cmocka_unit_test(test_inventory_batch_settles_loaded_lines),
	        cmocka_unit_test(test_inventory_batch_settle_never_goes_negative),
	        cmocka_unit_test(test_inventory_batch_unknown_product_is_a_shortage),
	        cmocka_unit_test(test_inventory_batch_cannot_decide_on_a_product_not_loaded),
	        cmocka_unit_test(test_inventory_batch_status_change_keeps_reason_unless_given),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
