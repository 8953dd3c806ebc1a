/* Inventory decisions (services/inventory/reserve.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/inventory/reserve.h"
#include "svc/error.h"

static size_t parse(const char *json, struct inv_item *items, int *rc)
{
	json_t *v = json_loads(json, 0, NULL);
	char err[128];
	size_t n = 0;

	*rc = inv_items_parse(v, items, INV_MAX_ITEMS, &n, err, sizeof(err));
	json_decref(v);
	return n;
}

static void test_inventory_items_are_merged_and_sorted_for_locking(void **state)
{
	struct inv_item items[INV_MAX_ITEMS];
	int rc;
	size_t n = parse(
	        "[{\"productId\":\"p-2\",\"quantity\":1},{\"productId\":\"p-1\",\"quantity\":2},"
	        "{\"productId\":\"p-2\",\"quantity\":3}]",
	        items, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].product_id, "p-1");
	assert_int_equal(items[0].quantity, 2);
	assert_string_equal(items[1].product_id, "p-2");
	assert_int_equal(items[1].quantity, 4);
}

static void test_inventory_invalid_items_are_rejected(void **state)
{
	struct inv_item items[INV_MAX_ITEMS];
	int rc;

	(void)state;
	parse("[]", items, &rc);
	assert_int_equal(rc, SVC_EPERMANENT);
	parse("[{\"productId\":\"p-1\",\"quantity\":0}]", items, &rc);
	assert_int_equal(rc, SVC_EPERMANENT);
	parse("[{\"productId\":\"p 1\",\"quantity\":1}]", items, &rc);
	assert_int_equal(rc, SVC_EPERMANENT);
	parse("[{\"quantity\":1}]", items, &rc);
	assert_int_equal(rc, SVC_EPERMANENT);
	parse("{\"productId\":\"p-1\"}", items, &rc);
	assert_int_equal(rc, SVC_EPERMANENT);
}

static void test_inventory_reserves_all_items_at_inventory_prices(void **state)
{
	struct inv_item items[2] = {{"a", 2, 1}, {"b", 1, 1}};
	struct inv_counts stock[2] = {{true, 5, 0, 0, 1250, 1}, {true, 1, 0, 0, 999, 1}};
	struct inv_shortage sh;
	int64_t total;

	(void)state;
	assert_int_equal(inv_reserve_decide(items, stock, 2, &sh), 0);
	assert_int_equal(items[0].unit_price, 1250);
	assert_int_equal(items[1].unit_price, 999);
	assert_int_equal(inv_items_total(items, 2, &total), 0);
	assert_int_equal(total, 3499);
}

static void test_inventory_shortage_names_first_failing_product(void **state)
{
	struct inv_item items[2] = {{"a", 2, 0}, {"b", 3, 0}};
	struct inv_counts stock[2] = {{true, 5, 0, 0, 10, 1}, {true, 2, 0, 0, 10, 1}};
	struct inv_shortage sh;
	char reason[128];

	(void)state;
	assert_int_equal(inv_reserve_decide(items, stock, 2, &sh), SVC_ECONFLICT);
	assert_int_equal(sh.index, 1);
	assert_int_equal(sh.requested, 3);
	assert_int_equal(sh.available, 2);
	inv_shortage_reason(items, &sh, reason, sizeof(reason));
	assert_string_equal(reason, "insufficient stock for product b");
	assert_int_equal(items[0].unit_price, 0); /* nothing reserved: all or none */
	stock[0].found = false;
	assert_int_equal(inv_reserve_decide(items, stock, 2, &sh), SVC_ECONFLICT);
	inv_shortage_reason(items, &sh, reason, sizeof(reason));
	assert_string_equal(reason, "unknown product a");
	assert_int_equal(sh.available, 0);
}

static void test_inventory_counts_keep_total_and_never_go_negative(void **state)
{
	struct inv_counts c = {true, 10, 0, 0, 100, 1};

	(void)state;
	assert_int_equal(inv_counts_reserve(&c, 4), 0);
	assert_int_equal(inv_counts_commit(&c, 3), 0);
	assert_int_equal(inv_counts_release(&c, 1), 0);
	assert_int_equal(c.available, 7);
	assert_int_equal(c.reserved, 0);
	assert_int_equal(c.sold, 3);
	assert_int_equal(c.available + c.reserved + c.sold, 10);
	assert_int_equal(c.version, 4);
	assert_int_equal(inv_counts_release(&c, 1), SVC_ERANGE);
	assert_int_equal(inv_counts_reserve(&c, 8), SVC_ERANGE);
	assert_int_equal(c.available, 7); /* unchanged on failure */
	assert_int_equal(c.version, 4);
}

static void test_inventory_release_after_any_state_answers_the_saga(void **state)
{
	(void)state;
	assert_int_equal(inv_on_release(INV_RES_RESERVED), INV_ACT_GIVE_BACK);
	assert_int_equal(inv_on_release(INV_RES_NONE), INV_ACT_TOMBSTONE);
	assert_int_equal(inv_on_release(INV_RES_SHORTAGE), INV_ACT_ACK);
	assert_int_equal(inv_on_release(INV_RES_RELEASED), INV_ACT_ACK);
	assert_int_equal(inv_on_release(INV_RES_COMMITTED), INV_ACT_ERROR);
}

static void test_inventory_tombstone_refuses_late_reservation(void **state)
{
	(void)state;
	assert_int_equal(inv_on_created(INV_RES_NONE), INV_ACT_RESERVE);
	assert_int_equal(inv_on_created(INV_RES_RELEASED), INV_ACT_IGNORE);
	assert_int_equal(inv_on_created(INV_RES_RESERVED), INV_ACT_IGNORE);
	assert_int_equal(inv_on_confirmed(INV_RES_RESERVED), INV_ACT_COMMIT);
	assert_int_equal(inv_on_confirmed(INV_RES_RELEASED), INV_ACT_IGNORE);
	assert_int_equal(inv_on_cancelled(INV_RES_RESERVED), INV_ACT_GIVE_BACK);
	assert_int_equal(inv_on_cancelled(INV_RES_SHORTAGE), INV_ACT_IGNORE);
}

static void test_inventory_product_ids_are_checked(void **state)
{
	char long_id[80];

	(void)state;
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_true(svc_id_valid("sku-1.A_b:2"));
	assert_false(svc_id_valid(""));
	assert_false(svc_id_valid("a/b"));
	assert_false(svc_id_valid(long_id));
	long_id[INV_PRODUCT_ID_MAX] = '\0';
	assert_true(svc_id_valid(long_id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_inventory_items_are_merged_and_sorted_for_locking),
	        cmocka_unit_test(test_inventory_invalid_items_are_rejected),
	        cmocka_unit_test(test_inventory_reserves_all_items_at_inventory_prices),
	        cmocka_unit_test(test_inventory_shortage_names_first_failing_product),
	        cmocka_unit_test(test_inventory_counts_keep_total_and_never_go_negative),
	        cmocka_unit_test(test_inventory_release_after_any_state_answers_the_saga),
	        cmocka_unit_test(test_inventory_tombstone_refuses_late_reservation),
	        cmocka_unit_test(test_inventory_product_ids_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
