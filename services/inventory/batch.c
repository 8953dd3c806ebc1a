/*
 * A batch's rows in memory (batch.h). The entries are sorted arrays: a batch
 * holds at most a few hundred of each, found by binary search; the count
 * moves and the decisions are reserve.c's, applied to these rows.
 */
#include "services/inventory/batch.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

/* search() and want() find an entry's key at its start. */
_Static_assert(offsetof(struct inv_batch_order, order_id) == 0, "order key first");
_Static_assert(offsetof(struct inv_batch_product, p.product_id) == 0, "product key first");

void inv_batch_init(struct inv_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void inv_batch_release(struct inv_batch *b)
{
	size_t i;

	for (i = 0; i < b->norders; i++) {
		free(b->orders[i].reason);
		free(b->orders[i].lines);
	}
	free(b->orders);
	free(b->products);
	inv_batch_init(b);
}

/*
 * Binary search of `key` in the sorted array `base` of `n` entries of
 * `size` bytes whose key string is at offset 0 (order_id, p.product_id).
 * Returns the index of the entry, or of where it would go with *found false.
 */
static size_t search(const void *base, size_t n, size_t size, const char *key, bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp((const char *)base + mid * size, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Inserts a zeroed entry with key `key` (at offset 0, room for `keymax`
 * bytes) into the sorted array *base unless it is there. 0, SVC_ENOMEM or
 * SVC_EPERMANENT (key too long).
 */
static int want(void **base, size_t *n, size_t *cap, size_t size, size_t keymax, const char *key)
{
	size_t at, len = strlen(key);
	bool found;
	char *p;

	if (len > keymax)
		return SVC_EPERMANENT;
	at = search(*base, *n, size, key, &found);
	if (found)
		return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *grown = realloc(*base, ncap * size);

		if (!grown)
			return SVC_ENOMEM;
		*base = grown;
		*cap = ncap;
	}
	p = (char *)*base + at * size;
	memmove(p + size, p, (*n - at) * size);
	memset(p, 0, size);
	memcpy(p, key, len + 1);
	(*n)++;
	return 0;
}

int inv_batch_want_order(struct inv_batch *b, const char *order_id, bool may_create)
{
	int rc = want((void **)&b->orders, &b->norders, &b->orders_cap, sizeof(b->orders[0]),
	              INV_ORDER_ID_MAX, order_id);

	if (rc == 0 && may_create)
		inv_batch_order(b, order_id)->may_create = true;
	return rc;
}

int inv_batch_want_product(struct inv_batch *b, const char *product_id)
{
	return want((void **)&b->products, &b->nproducts, &b->products_cap, sizeof(b->products[0]),
	            INV_PRODUCT_ID_MAX, product_id);
}

struct inv_batch_order *inv_batch_order(struct inv_batch *b, const char *order_id)
{
	bool found;
	size_t at = search(b->orders, b->norders, sizeof(b->orders[0]), order_id, &found);

	return found ? &b->orders[at] : NULL;
}

struct inv_batch_product *inv_batch_product(struct inv_batch *b, const char *product_id)
{
	bool found;
	size_t at = search(b->products, b->nproducts, sizeof(b->products[0]), product_id, &found);

	return found ? &b->products[at] : NULL;
}

int inv_batch_order_load_line(struct inv_batch_order *o, const struct inv_item *line)
{
	struct inv_item *grown;

	/* Lines come one by one while loading: grow by one (few per order). */
	grown = realloc(o->lines, (o->nlines + 1) * sizeof(*o->lines));
	if (!grown)
		return SVC_ENOMEM;
	o->lines = grown;
	o->lines[o->nlines++] = *line;
	return 0;
}

int inv_batch_order_set(struct inv_batch_order *o, enum inv_res_status s, const char *reason)
{
	if (reason) {
		char *copy = strdup(reason);

		if (!copy)
			return SVC_ENOMEM;
		free(o->reason);
		o->reason = copy;
	}
	o->status = s;
	o->changed = true;
	return 0;
}

/* Looks up the loaded product of every item into rows[i] (NULL-free on 0);
 * SVC_ETRANSIENT when one was not loaded. */
static int rows_of(struct inv_batch *b, const struct inv_item *items, size_t n,
                   struct inv_batch_product **rows)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rows[i] = inv_batch_product(b, items[i].product_id);
		if (!rows[i])
			return SVC_ETRANSIENT;
	}
	return 0;
}

int inv_batch_reserve(struct inv_batch *b, struct inv_batch_order *o, struct inv_item *items,
                      size_t n, struct inv_shortage *sh, void *tag)
{
	struct inv_batch_product *rows[INV_MAX_ITEMS];
	struct inv_counts stock[INV_MAX_ITEMS] = {{0}};
	struct inv_item *lines = NULL;
	char reason[160];
	size_t i;
	int rc;

	if (n > INV_MAX_ITEMS)
		return SVC_EPERMANENT;
	rc = rows_of(b, items, n, rows);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		stock[i] = rows[i]->p.c;
	if (inv_reserve_decide(items, stock, n, sh)) {
		inv_shortage_reason(items, sh, reason, sizeof(reason));
		rc = inv_batch_order_set(o, INV_RES_SHORTAGE, reason);
		return rc ? rc : SVC_ECONFLICT;
	}
	lines = n ? malloc(n * sizeof(*lines)) : NULL;
	if (n && !lines)
		return SVC_ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		rc = inv_counts_reserve(&rows[i]->p.c, items[i].quantity);
		rows[i]->changed = true;
		rows[i]->last_tag = tag;
	}
	if (rc == 0)
		rc = inv_batch_order_set(o, INV_RES_RESERVED, NULL);
	if (rc) {
		free(lines);
		return rc;
	}
	if (n > 0) /* lines is NULL then: memcpy's arguments must not be */
		memcpy(lines, items, n * sizeof(*lines));
	free(o->lines);
	o->lines = lines;
	o->nlines = n;
	o->new_lines = true;
	return 0;
}

int inv_batch_settle(struct inv_batch *b, struct inv_batch_order *o, bool commit,
                     enum inv_res_status next, const char *why, void *tag, char *err, size_t errlen)
{
	struct inv_batch_product *row;
	size_t i;
	int rc;

	for (i = 0; i < o->nlines; i++) {
		const struct inv_item *line = &o->lines[i];

		row = inv_batch_product(b, line->product_id);
		if (!row)
			return SVC_ETRANSIENT;
		if (!row->p.c.found)
			rc = SVC_EPERMANENT;
		else if (commit)
			rc = inv_counts_commit(&row->p.c, line->quantity);
		else
			rc = inv_counts_release(&row->p.c, line->quantity);
		if (rc) { /* the invariant is broken: never write a negative count */
			snprintf(err, errlen, "product %s cannot %s %lld units", line->product_id,
			         commit ? "sell" : "release", (long long)line->quantity);
			return SVC_EPERMANENT;
		}
		row->changed = true;
		row->last_tag = tag;
	}
	return inv_batch_order_set(o, next, why);
}
