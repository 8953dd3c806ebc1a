/*
 * The rows a batch of inventory events works on, held in memory (pure: no
 * I/O). The consumer names the orders its events touch, stock.c locks and
 * loads their order_reservations rows and lines, the consumer names the
 * products those need, stock.c locks and loads them; then every event of the
 * batch reads and changes this state instead of the database, so a row
 * touched by several events sees the earlier ones' effects exactly as it
 * would through SQL (counts moved, version bumped once per move), and
 * stock.c writes back what changed in a few statements.
 *
 * Orders and products are kept sorted by key (byte-wise, as the binary
 * collation of the tables sorts them): the order in which rows are locked.
 * A pointer to an entry stays valid until the next inv_batch_want_*().
 */
#ifndef INV_BATCH_H
#define INV_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "services/inventory/reserve.h"
#include "services/inventory/stock.h"

#define INV_ORDER_ID_MAX 36 /* order_reservations.order_id CHAR(36) */

struct inv_batch_order {
	char order_id[INV_ORDER_ID_MAX + 1];
	bool may_create;            /* an event may create its row: a placeholder is inserted */
	bool loaded;                /* read, its row locked (status NONE: it had none) */
	bool has_row;               /* a row to update: read, or the placeholder */
	enum inv_res_status status; /* INV_RES_NONE: no reservation (yet) */
	char *reason;               /* owned; NULL is SQL NULL */
	struct inv_item *lines;     /* owned, sorted by productId */
	size_t nlines;
	bool changed;   /* status or reason to write back */
	bool new_lines; /* lines[] to insert (reserved in this batch) */
};

struct inv_batch_product {
	struct inv_product p; /* p.c.found: the product exists */
	bool changed;         /* counts to write back */
	void *last_tag;       /* the tag of the last move (inv_batch_reserve/settle) */
};

struct inv_batch {
	struct inv_batch_order *orders;
	size_t norders, orders_cap;
	struct inv_batch_product *products;
	size_t nproducts, products_cap;
};

void inv_batch_init(struct inv_batch *b);
/* Frees the entries; init again to reuse. */
void inv_batch_release(struct inv_batch *b);

/* Adds the key (once; kept sorted), not loaded yet; for an order,
 * `may_create` when one of its events may create its reservation row
 * (OrderCreated, ReleaseInventory). 0, SVC_ENOMEM, or SVC_EPERMANENT for a
 * key too long for its column. */
int inv_batch_want_order(struct inv_batch *b, const char *order_id, bool may_create);
int inv_batch_want_product(struct inv_batch *b, const char *product_id);

/* The entry of a wanted key, NULL for a key never wanted. */
struct inv_batch_order *inv_batch_order(struct inv_batch *b, const char *order_id);
struct inv_batch_product *inv_batch_product(struct inv_batch *b, const char *product_id);

/* Loading (stock.c): appends one of the order's lines as read, in productId
 * order. 0 or SVC_ENOMEM. */
int inv_batch_order_load_line(struct inv_batch_order *o, const struct inv_item *line);

/* Sets the order's status and, unless `reason` is NULL, its reason (copied);
 * marks it changed. 0 or SVC_ENOMEM (nothing changed). */
int inv_batch_order_set(struct inv_batch_order *o, enum inv_res_status s, const char *reason);

/*
 * Reserves items[0..n) (distinct products, as inv_items_parse() leaves them) for the
 * order: all or none, at the inventory's prices (written to each
 * unit_price). 0: counts moved, the order RESERVED with these lines (to
 * insert). SVC_ECONFLICT: no count moved, the order SHORTAGE with the
 * reason, the failing item in *sh. SVC_ETRANSIENT when an item's product
 * was not loaded (not wanted before loading): the batch cannot decide it.
 * Moved products are changed, tagged `tag`. Any other failure may leave the
 * batch half changed: give it up.
 */
int inv_batch_reserve(struct inv_batch *b, struct inv_batch_order *o, struct inv_item *items,
                      size_t n, struct inv_shortage *sh, void *tag);

/*
 * Moves the order's reserved units back to available (or, with `commit`, to
 * sold) and sets its status to `next` (reason `why` unless NULL). 0,
 * SVC_ETRANSIENT when a line's product was not loaded, SVC_EPERMANENT when
 * a product is unknown or holds fewer reserved units than the line (the
 * invariant is broken: nothing negative is ever written; err names it),
 * SVC_ENOMEM. On failure the batch may be half changed: give it up.
 */
int inv_batch_settle(struct inv_batch *b, struct inv_batch_order *o, bool commit,
                     enum inv_res_status next, const char *why, void *tag, char *err,
                     size_t errlen);

#endif
