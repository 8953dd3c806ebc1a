/*
 * A consumer batch's orders in memory (see batch.h).
 */
#include "services/order/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/error.h"

/* The change of one order to write back: its row's state and reason (and
 * payment id), and these. */
struct batch_change {
	bool changed;
	char step[33];
	long deadline_ms;    /* as order_store_update(): < 0 unchanged */
	bool reason_set;     /* the row's reason was set */
	bool payment_id_set; /* the row's payment id was set */
};

/* The batch open in a transaction (its tx->batch). */
struct order_batch {
	struct order_locked *orders;  /* sorted by order_id, case-insensitively; distinct */
	struct batch_change *changes; /* changes[i] is orders[i]'s */
	size_t n;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order_locked *x = a, *y = b;

	return strcasecmp(x->row.order_id, y->row.order_id);
}

/* Frees the batch open in `tx` (none: nothing to do). */
static void batch_drop(struct svc_tx *tx)
{
	struct order_batch *batch = tx->batch;

	if (!batch)
		return;
	for (size_t i = 0; i < batch->n; i++)
		json_decref(batch->orders[i].items);
	free(batch->orders);
	free(batch->changes);
	free(batch);
	tx->batch = NULL;
}

/* The index of the batch's order `order_id` when a batch is open in `tx`
 * and holds it (*batchp set); -1 otherwise. */
static long batch_find(struct svc_tx *tx, const char *order_id, struct order_batch **batchp)
{
	struct order_batch *batch = tx->batch;
	struct order_locked key = {0};
	const struct order_locked *o;

	*batchp = batch;
	if (!batch || strlen(order_id) >= sizeof(key.row.order_id))
		return -1;
	snprintf(key.row.order_id, sizeof(key.row.order_id), "%s", order_id);
	o = bsearch(&key, batch->orders, batch->n, sizeof(key), cmp_order);
	return o ? o - batch->orders : -1;
}

/* Copies keys[] into batch->orders, sorted and merged; keys too long to be
 * an order id are left out (to SQL). */
static int collect(struct order_batch *batch, const struct order_batch_key *keys, size_t n)
{
	size_t i, m = 0;

	batch->orders = calloc(n ? n : 1, sizeof(*batch->orders));
	batch->changes = calloc(n ? n : 1, sizeof(*batch->changes));
	if (!batch->orders || !batch->changes)
		return SVC_ENOMEM;
	for (i = 0; i < n; i++) {
		struct order_locked *o = &batch->orders[m];

		if (strlen(keys[i].order_id) >= sizeof(o->row.order_id))
			continue;
		snprintf(o->row.order_id, sizeof(o->row.order_id), "%s", keys[i].order_id);
		o->with_items = keys[i].wants_items;
		m++;
	}
	qsort(batch->orders, m, sizeof(*batch->orders), cmp_order);
	for (i = 0; i < m; i++) {
		struct order_locked *last = batch->n ? &batch->orders[batch->n - 1] : NULL;

		if (last && cmp_order(last, &batch->orders[i]) == 0)
			last->with_items = last->with_items || batch->orders[i].with_items;
		else
			batch->orders[batch->n++] = batch->orders[i];
	}
	for (i = 0; i < batch->n; i++)
		batch->changes[i].deadline_ms = -1;
	return 0;
}

int order_batch_begin(struct svc_tx *tx, const struct order_batch_key *keys, size_t n)
{
	struct order_batch *batch;
	int rc;

	batch_drop(tx);
	batch = calloc(1, sizeof(*batch));
	if (!batch)
		return SVC_ENOMEM;
	tx->batch = batch;
	rc = collect(batch, keys, n);
	if (rc == 0)
		rc = order_store_lock_many(tx->conn, batch->orders, batch->n);
	if (rc != 0)
		batch_drop(tx);
	return rc;
}

int order_batch_end(struct svc_tx *tx, bool write)
{
	struct order_batch *batch = tx->batch;
	struct order_change *c = NULL;
	size_t n = 0;
	int rc = 0;

	if (!batch)
		return 0;
	if (write) {
		c = calloc(batch->n ? batch->n : 1, sizeof(*c));
		rc = c ? 0 : SVC_ENOMEM;
	}
	for (size_t i = 0; c && i < batch->n; i++) {
		const struct order_row *row = &batch->orders[i].row;
		const struct batch_change *ch = &batch->changes[i];

		if (!ch->changed)
			continue;
		c[n++] = (struct order_change){
		        .order_id = row->order_id,
		        .state = row->state,
		        .step = ch->step,
		        .deadline_ms = ch->deadline_ms,
		        .reason = ch->reason_set ? row->reason : NULL,
		        .payment_id = ch->payment_id_set ? row->payment_id : NULL,
		};
	}
	if (rc == 0 && n > 0)
		rc = order_store_update_many(tx->conn, c, n);
	free(c);
	batch_drop(tx);
	return rc;
}

int order_batch_lock(struct svc_tx *tx, const char *order_id, struct order_row *row)
{
	struct order_batch *batch;
	long i = batch_find(tx, order_id, &batch);

	if (i < 0)
		return order_store_lock(tx->conn, order_id, row);
	if (batch->orders[i].code == 0)
		*row = batch->orders[i].row;
	return batch->orders[i].code;
}

int order_batch_update(struct svc_tx *tx, const char *order_id, enum order_state state,
                       const char *step, long deadline_ms, const char *reason)
{
	struct order_batch *batch;
	long i = batch_find(tx, order_id, &batch);
	struct order_row *row;
	struct batch_change *ch;

	if (i < 0 || batch->orders[i].code != 0)
		return order_store_update(tx->conn, order_id, state, step, deadline_ms, reason);
	row = &batch->orders[i].row;
	ch = &batch->changes[i];
	row->state = state;
	snprintf(ch->step, sizeof(ch->step), "%s", step ? step : "");
	if (deadline_ms >= 0)
		ch->deadline_ms = deadline_ms;
	if (reason && reason[0]) {
		snprintf(row->reason, sizeof(row->reason), "%s", reason);
		ch->reason_set = true;
	}
	ch->changed = true;
	return 0;
}

int order_batch_set_payment_id(struct svc_tx *tx, const char *order_id, const char *payment_id)
{
	struct order_batch *batch;
	long i = batch_find(tx, order_id, &batch);
	struct order_row *row;
	struct batch_change *ch;

	if (i < 0 || batch->orders[i].code != 0)
		return order_store_set_payment_id(tx->conn, order_id, payment_id);
	row = &batch->orders[i].row;
	ch = &batch->changes[i];
	snprintf(row->payment_id, sizeof(row->payment_id), "%s", payment_id);
	ch->payment_id_set = true;
	if (!ch->changed) { /* the write-back sets the state too: the same one */
		snprintf(ch->step, sizeof(ch->step), "%s", order_state_step(row->state));
		ch->changed = true;
	}
	return 0;
}

int order_batch_items(struct svc_tx *tx, const char *order_id, json_t **out)
{
	struct order_batch *batch;
	long i = batch_find(tx, order_id, &batch);
	struct order_locked *o;
	int rc = 0;

	if (i < 0 || batch->orders[i].code != 0)
		return order_store_items(tx->conn, order_id, out);
	/* Not read with the row (not foreseen, or unreadable): read now, once. */
	o = &batch->orders[i];
	if (!o->items)
		rc = order_store_items(tx->conn, o->row.order_id, &o->items);
	if (rc == 0)
		*out = json_incref(o->items);
	return rc;
}
