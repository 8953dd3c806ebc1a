/*
 * The inventory tables (services/inventory/stock.h): a batch's orders and
 * products locked and loaded a few statements at a time, and written back.
 * Against the fake database (fake_db.h): the rows are what rules answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "services/inventory/batch.h"
#include "services/inventory/stock.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "tests/unit/fake_db.h"

#define ORDER_A "01a20fd7-0000-7000-8000-00000000000a"
#define ORDER_B "01a20fd7-0000-7000-8000-00000000000b"

static MYSQL conn;
static struct inv_batch b;

static int setup(void **state)
{
	(void)state;
	fake_db_install();
	inv_batch_init(&b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	inv_batch_release(&b);
	fake_db_uninstall();
	return 0;
}

static struct fake_db_rule *orders_answer(size_t n, const char *const *cells)
{
	return fake_db_rows(fake_db_on("SELECT", "FROM order_reservations"), 3, n, cells);
}

static size_t ran(const char *prefix, const char *contains)
{
	return fake_db_count(FAKE_DB_ANY, prefix, contains);
}

static void test_stock_lock_orders_loads_rows_and_the_lines_of_reserved_ones(void **state)
{
	static const char *const rows[] = {ORDER_A, "NONE", NULL, ORDER_B, "RESERVED", "r"};
	static const char *const lines[] = {ORDER_B, "P1", "2", "150"};
	struct inv_batch_order *a, *o;

	(void)state;
	assert_int_equal(inv_batch_want_order(&b, ORDER_A, true), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, false), 0);
	orders_answer(2, rows);
	fake_db_rows(fake_db_on("SELECT", "FROM stock_reservations"), 4, 1, lines);
	assert_int_equal(inv_stock_lock_orders(&conn, &b), 0);
	/* a placeholder for the order an event may create, then one locking read */
	assert_int_equal(ran("INSERT INTO order_reservations", ORDER_A), 1);
	assert_int_equal(ran("INSERT INTO order_reservations", ORDER_B), 0);
	assert_int_equal(ran("SELECT", "FOR UPDATE"), 1);
	a = inv_batch_order(&b, ORDER_A);
	o = inv_batch_order(&b, ORDER_B);
	assert_true(a->loaded && a->has_row);
	assert_int_equal(a->status, INV_RES_NONE);
	assert_true(o->loaded && o->has_row);
	assert_int_equal(o->status, INV_RES_RESERVED);
	assert_string_equal(o->reason, "r");
	assert_int_equal(o->nlines, 1);
	assert_string_equal(o->lines[0].product_id, "P1");
	assert_int_equal(o->lines[0].quantity, 2);
	assert_int_equal(o->lines[0].unit_price, 150);
	/* lines found without a lock: not read again */
	assert_int_equal(ran("SELECT", "FROM stock_reservations"), 1);
}

static void test_stock_lock_orders_reads_nothing_back_when_every_placeholder_is_new(void **state)
{
	(void)state;
	assert_int_equal(inv_batch_want_order(&b, ORDER_A, true), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, true), 0);
	fake_db_affected(fake_db_on("INSERT INTO order_reservations", NULL), 2);
	assert_int_equal(inv_stock_lock_orders(&conn, &b), 0);
	assert_int_equal(ran("SELECT", NULL), 0);
	assert_true(inv_batch_order(&b, ORDER_B)->has_row);
	assert_int_equal(inv_batch_order(&b, ORDER_B)->status, INV_RES_NONE);
}

static void test_stock_lock_orders_reads_back_when_a_placeholder_was_there(void **state)
{
	static const char *const rows[] = {ORDER_A, "NONE", NULL, ORDER_B, "SHORTAGE", "short"};

	(void)state;
	assert_int_equal(inv_batch_want_order(&b, ORDER_A, true), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, true), 0);
	fake_db_affected(fake_db_on("INSERT INTO order_reservations", NULL), 1);
	orders_answer(2, rows);
	assert_int_equal(inv_stock_lock_orders(&conn, &b), 0);
	assert_int_equal(ran("SELECT", "FROM order_reservations"), 1);
	assert_int_equal(inv_batch_order(&b, ORDER_B)->status, INV_RES_SHORTAGE);
}

static void test_stock_reserved_order_without_lines_is_read_again_locking(void **state)
{
	static const char *const rows[] = {ORDER_B, "RESERVED", NULL};
	static const char *const lines[] = {ORDER_B, "P1", "1", "10"};

	(void)state;
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, false), 0);
	/* the plain read sees an old snapshot: no lines; the locking one does
	 * (rules are tried newest first: the orders' read is answered above it) */
	fake_db_rows(fake_db_on("SELECT", "FOR UPDATE"), 4, 1, lines);
	orders_answer(1, rows);
	assert_int_equal(inv_stock_lock_orders(&conn, &b), 0);
	assert_int_equal(ran("SELECT", "FROM stock_reservations"), 2);
	assert_int_equal(inv_batch_order(&b, ORDER_B)->nlines, 1);
}

static void test_stock_unknown_status_is_permanent(void **state)
{
	static const char *const rows[] = {ORDER_B, "MISLAID", NULL};

	(void)state;
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, false), 0);
	orders_answer(1, rows);
	assert_int_equal(inv_stock_lock_orders(&conn, &b), SVC_EPERMANENT);
}

static void test_stock_failed_placeholder_insert_stops_the_load(void **state)
{
	(void)state;
	assert_int_equal(inv_batch_want_order(&b, ORDER_A, true), 0);
	fake_db_fail(fake_db_on("INSERT INTO order_reservations", NULL), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(inv_stock_lock_orders(&conn, &b), SVC_ETRANSIENT);
	assert_int_equal(ran("SELECT", NULL), 0);
}

static void test_stock_lock_products_fills_found_ones_and_leaves_the_rest(void **state)
{
	static const char *const rows[] = {"P1", "Widget", "10", "2", "3", "499", "7"};
	struct inv_batch_product *p;

	(void)state;
	assert_int_equal(inv_batch_want_product(&b, "P2"), 0);
	assert_int_equal(inv_batch_want_product(&b, "P1"), 0);
	fake_db_rows(fake_db_on("SELECT", "FROM products"), 7, 1, rows);
	assert_int_equal(inv_stock_lock_products(&conn, &b), 0);
	assert_int_equal(ran("SELECT", "FOR UPDATE"), 1);
	p = inv_batch_product(&b, "P1");
	assert_true(p->p.c.found);
	assert_string_equal(p->p.name, "Widget");
	assert_int_equal(p->p.c.available, 10);
	assert_int_equal(p->p.c.reserved, 2);
	assert_int_equal(p->p.c.sold, 3);
	assert_int_equal(p->p.c.price, 499);
	assert_int_equal(p->p.c.version, 7);
	assert_false(inv_batch_product(&b, "P2")->p.c.found);
}

static void test_stock_read_products_asks_only_for_those_not_found(void **state)
{
	(void)state;
	assert_int_equal(inv_batch_want_product(&b, "P1"), 0);
	assert_int_equal(inv_batch_want_product(&b, "P2"), 0);
	inv_batch_product(&b, "P1")->p.c.found = true; /* from a cache */
	assert_int_equal(inv_stock_read_products(&conn, &b), 0);
	assert_int_equal(ran("SELECT", "'P2'"), 1);
	assert_int_equal(ran("SELECT", "'P1'"), 0);
	assert_int_equal(ran("SELECT", "FOR UPDATE"), 0);
}

static void test_stock_many_products_take_one_statement_per_500(void **state)
{
	char id[16];

	(void)state;
	for (int i = 0; i < 501; i++) {
		snprintf(id, sizeof(id), "P%04d", i);
		assert_int_equal(inv_batch_want_product(&b, id), 0);
	}
	assert_int_equal(inv_stock_lock_products(&conn, &b), 0);
	assert_int_equal(ran("SELECT", "FROM products"), 2);
	/* in key order: the second statement has the last key only */
	assert_non_null(strstr(fake_db_find(FAKE_DB_ANY, "SELECT", NULL, 1), "IN ('P0500')"));
}

/* A batch with one changed product, changed order A, an unused placeholder
 * B and new lines for A. */
static void changed_batch(void)
{
	const struct inv_item line = {.product_id = "P1", .quantity = 2, .unit_price = 5};
	struct inv_batch_order *a;
	struct inv_batch_product *p;

	assert_int_equal(inv_batch_want_product(&b, "P1"), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_A, true), 0);
	assert_int_equal(inv_batch_want_order(&b, ORDER_B, true), 0);
	p = inv_batch_product(&b, "P1");
	p->changed = true;
	p->p.c = (struct inv_counts){.found = true, .available = 8, .reserved = 2, .version = 4};
	a = inv_batch_order(&b, ORDER_A);
	a->has_row = inv_batch_order(&b, ORDER_B)->has_row = true;
	assert_int_equal(inv_batch_order_set(a, INV_RES_RESERVED, NULL), 0);
	assert_int_equal(inv_batch_order_load_line(a, &line), 0);
	a->new_lines = true;
}

static void test_stock_write_updates_deletes_and_defers_the_lines(void **state)
{
	struct svc_tx tx;

	(void)state;
	changed_batch();
	svc_tx_init(&tx, &conn);
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(inv_stock_write(&tx, &b), 0);
	assert_int_equal(ran("UPDATE products", "WHEN 'P1' THEN 8"), 1);
	assert_int_equal(ran("UPDATE order_reservations", "'RESERVED'"), 1);
	assert_int_equal(ran("UPDATE order_reservations", ORDER_B), 0);
	assert_int_equal(ran("DELETE FROM order_reservations", ORDER_B), 1);
	assert_int_equal(ran("DELETE FROM order_reservations", ORDER_A), 0);
	/* the lines wait for the commit */
	assert_int_equal(ran("INSERT INTO stock_reservations", NULL), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	assert_int_equal(
	        fake_db_count(FAKE_DB_COMMITTED, "INSERT INTO stock_reservations", ORDER_A), 1);
	svc_tx_release(&tx);
}

static void test_stock_write_refuses_a_changed_order_without_a_row(void **state)
{
	struct svc_tx tx;

	(void)state;
	changed_batch();
	inv_batch_order(&b, ORDER_A)->has_row = false;
	svc_tx_init(&tx, &conn);
	assert_int_equal(inv_stock_write(&tx, &b), SVC_EPERMANENT);
	assert_int_equal(fake_db_nstmts(), 0);
}

static void test_stock_write_stops_at_the_first_failure(void **state)
{
	struct svc_tx tx;

	(void)state;
	changed_batch();
	fake_db_fail(fake_db_on("UPDATE products", NULL), FAKE_DB_CR_SERVER_LOST);
	svc_tx_init(&tx, &conn);
	assert_int_equal(inv_stock_write(&tx, &b), SVC_ETRANSIENT);
	assert_int_equal(fake_db_nstmts(), 1);
}

static void test_product_get_reads_one_product(void **state)
{
	static const char *const rows[] = {"P1", "Widget", "10", "2", "3", "499", "7"};
	struct inv_product p;

	(void)state;
	fake_db_rows(fake_db_times(fake_db_on("SELECT", "'P1'"), 1), 7, 1, rows);
	assert_int_equal(inv_product_get(&conn, "P1", &p), 0);
	assert_string_equal(p.product_id, "P1");
	assert_true(p.c.found);
	assert_int_equal(p.c.price, 499);
	assert_int_equal(inv_product_get(&conn, "P1", &p), SVC_ENOTFOUND);
	assert_false(p.c.found);
	fake_db_fail(fake_db_on("SELECT", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(inv_product_get(&conn, "P1", &p), SVC_ETRANSIENT);
}

static void test_product_put_upserts_and_keeps_the_name_unless_given(void **state)
{
	(void)state;
	assert_int_equal(inv_product_put(&conn, "P1", 5, 100, NULL), 0);
	assert_int_equal(inv_product_put(&conn, "P1", 5, 100, "O'Brien"), 0);
	assert_int_equal(ran("INSERT INTO products", "ON DUPLICATE KEY UPDATE"), 2);
	assert_null(strstr(fake_db_find(FAKE_DB_ANY, "INSERT", NULL, 0), "name = "));
	assert_non_null(strstr(fake_db_find(FAKE_DB_ANY, "INSERT", NULL, 1), "name = 'O\\'Brien'"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_stock_lock_orders_loads_rows_and_the_lines_of_reserved_ones),
	        T(test_stock_lock_orders_reads_nothing_back_when_every_placeholder_is_new),
	        T(test_stock_lock_orders_reads_back_when_a_placeholder_was_there),
	        T(test_stock_reserved_order_without_lines_is_read_again_locking),
	        T(test_stock_unknown_status_is_permanent),
	        T(test_stock_failed_placeholder_insert_stops_the_load),
	        T(test_stock_lock_products_fills_found_ones_and_leaves_the_rest),
	        T(test_stock_read_products_asks_only_for_those_not_found),
	        T(test_stock_many_products_take_one_statement_per_500),
	        T(test_stock_write_updates_deletes_and_defers_the_lines),
	        T(test_stock_write_refuses_a_changed_order_without_a_row),
	        T(test_stock_write_stops_at_the_first_failure),
	        T(test_product_get_reads_one_product),
	        T(test_product_put_upserts_and_keeps_the_name_unless_given),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
