/*
 * Inventory tables (migrations/001_inventory.sql): products,
 * order_reservations, stock_reservations. Plain reads and writes inside the
 * caller's transaction; the decisions are in reserve.c.
 */
#ifndef INV_STOCK_H
#define INV_STOCK_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

#include "services/inventory/reserve.h"

struct inv_product {
	char product_id[INV_PRODUCT_ID_MAX + 1];
	char name[256];
	struct inv_counts c;
};

/*
 * Locks the rows of items[0..n) FOR UPDATE (items sorted by productId, so
 * locks are taken in that order) and fills out[i] for items[i]; out[i].found
 * is false for an unknown product. 0, SVC_ETRANSIENT or SVC_EPERMANENT.
 */
int inv_stock_lock(MYSQL *conn, const struct inv_item *items, size_t n, struct inv_counts *out);
/* Writes the counts and version of one locked product. */
int inv_stock_write(MYSQL *conn, const char *product_id, const struct inv_counts *c);

/* The order's reservation status, locked FOR UPDATE (INV_RES_NONE if absent). */
int inv_reservation_lock(MYSQL *conn, const char *order_id, enum inv_res_status *out);
/* Inserts the order's row; a concurrent insert of the same order (duplicate
 * key) is SVC_ETRANSIENT, so the event is retried and sees that row. */
int inv_reservation_insert(MYSQL *conn, const char *order_id, enum inv_res_status s,
                           const char *reason);
int inv_reservation_set(MYSQL *conn, const char *order_id, enum inv_res_status s,
                        const char *reason);
/* Inserts the stock_reservations lines of the order. */
int inv_reservation_add_lines(MYSQL *conn, const char *order_id, const struct inv_item *items,
                              size_t n);
/* Reads the order's lines sorted by productId (capacity max), locking them:
 * the latest committed lines, not the transaction's snapshot. */
int inv_reservation_lines(MYSQL *conn, const char *order_id, struct inv_item *out, size_t max,
                          size_t *n);

/* Reads one product (no lock). 0, SVC_ENOTFOUND, SVC_ETRANSIENT or SVC_EPERMANENT. */
int inv_product_get(MYSQL *conn, const char *product_id, struct inv_product *p);
/* Creates the product or sets its available count, price and (when name is
 * not NULL) name; reserved and sold are kept, version bumped. */
int inv_product_put(MYSQL *conn, const char *product_id, int64_t available, int64_t price,
                    const char *name);

#endif
