/*
 * Inventory tables (migrations/001_inventory.sql): products,
 * order_reservations, stock_reservations. Reads and writes inside the
 * caller's transaction: the rows of a batch of events (batch.h) are loaded
 * and written back a few statements at a time; the decisions are in
 * reserve.c and batch.c.
 */
#ifndef INV_STOCK_H
#define INV_STOCK_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

#include "services/inventory/reserve.h"
#include "svc/tx.h"

struct inv_product {
	char product_id[INV_PRODUCT_ID_MAX + 1];
	char name[256];
	struct inv_counts c;
};

struct inv_batch;

/*
 * Locks and loads the order_reservations rows of the batch's orders, in
 * order_id order. An order one of whose events may create its row gets a
 * placeholder row first (status NONE), so that it is locked as a record:
 * a locking read of a missing key locks the gap instead, and with
 * time-ordered order ids every batch would lock the same gap at the end of
 * the table, then deadlock inserting into it. (The other orders have a row
 * in every normal flow.) When every order got a new placeholder, nothing is
 * read back. Then loads the lines of the RESERVED orders (their latest
 * committed lines: see stock.c). 0, SVC_ETRANSIENT, SVC_EPERMANENT (an
 * unknown status) or SVC_ENOMEM.
 */
int inv_stock_lock_orders(MYSQL *conn, struct inv_batch *b);
/* Locks and loads the batch's products, in product_id order (concurrent
 * batches then cannot deadlock), in one statement (one per 500 products);
 * a product not in the table is left not found. Same codes. */
int inv_stock_lock_products(MYSQL *conn, struct inv_batch *b);
/* Reads, without locking, the batch's products not found yet (those a
 * cache did not have), in one statement per 500: found ones are filled,
 * the others (not in the table) stay not found. Same codes. */
int inv_stock_read_products(MYSQL *conn, struct inv_batch *b);
/*
 * Writes back what the batch changed: the counts and versions of changed
 * products (one UPDATE), the status and reason of changed orders (one
 * UPDATE), deletes the placeholders no event used, and adds the new lines
 * through svc_defer_insert() (at the flush when `tx` defers). The
 * statements run on tx->conn.
 * 0, SVC_ETRANSIENT, SVC_EPERMANENT (also: an order changed without a row)
 * or SVC_ENOMEM.
 */
int inv_stock_write(struct svc_tx *tx, const struct inv_batch *b);

/* Reads one product (no lock). 0, SVC_ENOTFOUND, SVC_ETRANSIENT or SVC_EPERMANENT. */
int inv_product_get(MYSQL *conn, const char *product_id, struct inv_product *p);
/* Creates the product or sets its available count, price and (when name is
 * not NULL) name; reserved and sold are kept, version bumped. */
int inv_product_put(MYSQL *conn, const char *product_id, int64_t available, int64_t price,
                    const char *name);

#endif
