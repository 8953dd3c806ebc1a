/*
 * Inventory decisions, pure (no I/O): reading an order's items, deciding a
 * reservation from the locked product rows (all items or none), the count
 * arithmetic that keeps available + reserved + sold constant and never
 * negative, and what each command does to an order's reservation.
 */
#ifndef INV_RESERVE_H
#define INV_RESERVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/validate.h"

#define INV_MAX_ITEMS      100        /* distinct products per order */
#define INV_PRODUCT_ID_MAX SVC_ID_MAX /* products.product_id VARCHAR(64) */
#define INV_MAX_QUANTITY   1000000

struct inv_item {
	char product_id[INV_PRODUCT_ID_MAX + 1];
	int64_t quantity;
	int64_t unit_price; /* minor units; the inventory's price once reserved */
};

/*
 * Reads an order's "items" ([{"productId","quantity",...}]) into `out`
 * (capacity `max`): validates each, merges repeated products (quantities
 * add up) and sorts by productId, the order in which rows are locked so
 * concurrent reservations cannot deadlock. 0, or SVC_EPERMANENT with a
 * reason naming the item.
 */
int inv_items_parse(const json_t *items, struct inv_item *out, size_t max, size_t *n, char *err,
                    size_t errlen);

/* One product row as read (FOR UPDATE) in the transaction. */
struct inv_counts {
	bool found; /* false: no such product */
	int64_t available;
	int64_t reserved;
	int64_t sold;
	int64_t price;
	int64_t version;
};

struct inv_shortage {
	size_t index; /* the first item that cannot be reserved */
	int64_t requested;
	int64_t available; /* 0 for an unknown product */
	bool unknown;
};

/*
 * Decides a reservation: `stock[i]` is the row of `items[i]`. 0 when every
 * item can be reserved, and then each unit_price is set to the inventory's
 * price; SVC_ECONFLICT with the first failing item in *sh otherwise.
 */
int inv_reserve_decide(struct inv_item *items, const struct inv_counts *stock, size_t n,
                       struct inv_shortage *sh);
/* "insufficient stock for product X" / "unknown product X". */
void inv_shortage_reason(const struct inv_item *items, const struct inv_shortage *sh, char *buf,
                         size_t len);
/* Sum of unit_price * quantity with overflow checks (svc_money_*). */
int inv_items_total(const struct inv_item *items, size_t n, int64_t *total);

/* Count moves; each bumps version. SVC_ERANGE (and no change) when a count
 * would go negative or overflow. */
int inv_counts_reserve(struct inv_counts *c, int64_t qty); /* available -> reserved */
int inv_counts_release(struct inv_counts *c, int64_t qty); /* reserved -> available */
int inv_counts_commit(struct inv_counts *c, int64_t qty);  /* reserved -> sold */

/* order_reservations.status; INV_RES_NONE when the order has no row. */
enum inv_res_status {
	INV_RES_NONE,
	INV_RES_RESERVED,
	INV_RES_SHORTAGE,
	INV_RES_RELEASED,
	INV_RES_COMMITTED,
};

const char *inv_res_status_name(enum inv_res_status s);
/* 0, or SVC_EPERMANENT for an unknown name. */
int inv_res_status_parse(const char *name, enum inv_res_status *out);

enum inv_action {
	INV_ACT_IGNORE,    /* nothing to do */
	INV_ACT_RESERVE,   /* OrderCreated: try to reserve */
	INV_ACT_GIVE_BACK, /* return reserved stock to available */
	INV_ACT_TOMBSTONE, /* no reservation yet: record RELEASED so a late one is refused */
	INV_ACT_ACK,       /* nothing to give back, but answer (InventoryReleased) */
	INV_ACT_COMMIT,    /* reserved stock becomes sold */
	INV_ACT_ERROR,     /* must not happen (release after commit): log, ignore */
};

enum inv_action inv_on_created(enum inv_res_status s);
enum inv_action inv_on_release(enum inv_res_status s);
enum inv_action inv_on_confirmed(enum inv_res_status s);
enum inv_action inv_on_cancelled(enum inv_res_status s);

#endif
