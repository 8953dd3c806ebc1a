/*
 * Inventory decisions (reserve.h). The consumer reads rows and writes what
 * these functions decide; every rule is here so it is tested without a
 * database.
 */
#include "services/inventory/reserve.h"

#include <stdio.h>
#include <string.h>

#include "svc/error.h"
#include "svc/money.h"
#include "svc/validate.h"

static int cmp_items(const void *a, const void *b)
{
	return strcmp(((const struct inv_item *)a)->product_id,
	              ((const struct inv_item *)b)->product_id);
}

int inv_items_parse(const json_t *items, struct inv_item *out, size_t max, size_t *n, char *err,
                    size_t errlen)
{
	size_t i, j, count = 0;

	*n = 0;
	if (!json_is_array(items) || json_array_size(items) == 0) {
		snprintf(err, errlen, "items must be a non-empty array");
		return SVC_EPERMANENT;
	}
	for (i = 0; i < json_array_size(items); i++) {
		json_t *it = json_array_get(items, i);
		const char *id = json_string_value(json_object_get(it, "productId"));
		json_t *q = json_object_get(it, "quantity");

		if (!svc_id_valid(id)) {
			snprintf(err, errlen, "items[%zu].productId is missing or invalid", i);
			return SVC_EPERMANENT;
		}
		if (!json_is_integer(q) || json_integer_value(q) <= 0 ||
		    json_integer_value(q) > INV_MAX_QUANTITY) {
			snprintf(err, errlen, "items[%zu].quantity must be an integer in [1, %d]",
			         i, INV_MAX_QUANTITY);
			return SVC_EPERMANENT;
		}
		for (j = 0; j < count && strcmp(out[j].product_id, id); j++)
			;
		if (j < count) { /* the same product twice: one line */
			out[j].quantity += json_integer_value(q);
			continue;
		}
		if (count == max) {
			snprintf(err, errlen, "more than %zu distinct products", max);
			return SVC_EPERMANENT;
		}
		memset(&out[count], 0, sizeof(out[count]));
		snprintf(out[count].product_id, sizeof(out[count].product_id), "%s", id);
		out[count].quantity = json_integer_value(q);
		count++;
	}
	qsort(out, count, sizeof(out[0]), cmp_items);
	*n = count;
	return 0;
}

int inv_reserve_decide(struct inv_item *items, const struct inv_counts *stock, size_t n,
                       struct inv_shortage *sh)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!stock[i].found || stock[i].available < items[i].quantity) {
			sh->index = i;
			sh->requested = items[i].quantity;
			sh->available = stock[i].found ? stock[i].available : 0;
			sh->unknown = !stock[i].found;
			return SVC_ECONFLICT;
		}
	}
	for (i = 0; i < n; i++)
		items[i].unit_price = stock[i].price;
	return 0;
}

void inv_shortage_reason(const struct inv_item *items, const struct inv_shortage *sh, char *buf,
                         size_t len)
{
	snprintf(buf, len, "%s %s",
	         sh->unknown ? "unknown product" : "insufficient stock for product",
	         items[sh->index].product_id);
}

int inv_items_total(const struct inv_item *items, size_t n, int64_t *total)
{
	int64_t sum = 0, line;
	size_t i;

	for (i = 0; i < n; i++) {
		if (svc_money_mul(items[i].unit_price, items[i].quantity, &line) ||
		    svc_money_add(sum, line, &sum))
			return SVC_ERANGE;
	}
	*total = sum;
	return 0;
}

/* Moves qty from *from to *to; SVC_ERANGE (no change) if that would go wrong. */
static int move(struct inv_counts *c, int64_t *from, int64_t *to, int64_t qty)
{
	int64_t nf, nt;

	if (qty < 0 || *from < qty || __builtin_sub_overflow(*from, qty, &nf) ||
	    __builtin_add_overflow(*to, qty, &nt))
		return SVC_ERANGE;
	*from = nf;
	*to = nt;
	c->version++;
	return 0;
}

int inv_counts_reserve(struct inv_counts *c, int64_t qty)
{
	return move(c, &c->available, &c->reserved, qty);
}

int inv_counts_release(struct inv_counts *c, int64_t qty)
{
	return move(c, &c->reserved, &c->available, qty);
}

int inv_counts_commit(struct inv_counts *c, int64_t qty)
{
	return move(c, &c->reserved, &c->sold, qty);
}

static const char *const res_names[] = {
        [INV_RES_NONE] = "NONE",           [INV_RES_RESERVED] = "RESERVED",
        [INV_RES_SHORTAGE] = "SHORTAGE",   [INV_RES_RELEASED] = "RELEASED",
        [INV_RES_COMMITTED] = "COMMITTED",
};

const char *inv_res_status_name(enum inv_res_status s)
{
	if ((unsigned)s >= sizeof(res_names) / sizeof(res_names[0]))
		return "UNKNOWN";
	return res_names[s];
}

int inv_res_status_parse(const char *name, enum inv_res_status *out)
{
	size_t i;

	for (i = INV_RES_RESERVED; name && i < sizeof(res_names) / sizeof(res_names[0]); i++) {
		if (!strcmp(name, res_names[i])) {
			*out = (enum inv_res_status)i;
			return 0;
		}
	}
	return SVC_EPERMANENT;
}

enum inv_action inv_on_created(enum inv_res_status s)
{
	/* Any row (even a RELEASED tombstone) means the order was decided. */
	return s == INV_RES_NONE ? INV_ACT_RESERVE : INV_ACT_IGNORE;
}

enum inv_action inv_on_release(enum inv_res_status s)
{
	switch (s) {
	case INV_RES_RESERVED:
		return INV_ACT_GIVE_BACK;
	case INV_RES_NONE:
		return INV_ACT_TOMBSTONE;
	case INV_RES_SHORTAGE:
	case INV_RES_RELEASED:
		return INV_ACT_ACK;
	case INV_RES_COMMITTED:
		return INV_ACT_ERROR;
	}
	return INV_ACT_ERROR;
}

enum inv_action inv_on_confirmed(enum inv_res_status s)
{
	return s == INV_RES_RESERVED ? INV_ACT_COMMIT : INV_ACT_IGNORE;
}

enum inv_action inv_on_cancelled(enum inv_res_status s)
{
	return s == INV_RES_RESERVED ? INV_ACT_GIVE_BACK : INV_ACT_IGNORE;
}
