/*
 * Batch state of the payments rows (batch.h): the rows of a batch's orders,
 * sorted by order id, with a flag per row telling whether a command changed
 * it. It lives in the transaction's tx->batch.
 */
#include "services/payment/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

struct pay_batch {
	struct pay_row *rows;
	bool *changed;
	size_t n;
};

/* Frees the state of `tx` (none: nothing to do). */
static void drop(struct svc_tx *tx)
{
	struct pay_batch *batch = tx->batch;

	if (!batch)
		return;
	free(batch->rows);
	free(batch->changed);
	free(batch);
	tx->batch = NULL;
}

/* Sorts rows[0..n) by order id and drops repeats; returns how many are left. */
static size_t sort_unique(struct pay_row *rows, size_t n)
{
	size_t i, m = 0;

	qsort(rows, n, sizeof(*rows), pay_row_cmp);
	for (i = 0; i < n; i++) {
		if (m > 0 && pay_row_cmp(&rows[m - 1], &rows[i]) == 0)
			continue;
		if (m != i)
			rows[m] = rows[i];
		m++;
	}
	return m;
}

/* Makes rows[0..n) (sorted, distinct; owned from now on) the state of tx. */
static int install(struct svc_tx *tx, struct pay_row *rows, size_t n)
{
	struct pay_batch *batch;

	drop(tx);
	batch = malloc(sizeof(*batch));
	if (batch)
		batch->changed = calloc(n ? n : 1, sizeof(*batch->changed));
	if (!batch || !batch->changed) {
		free(batch);
		free(rows);
		return SVC_ENOMEM;
	}
	batch->rows = rows;
	batch->n = n;
	tx->batch = batch;
	return 0;
}

int pay_batch_begin(struct svc_tx *tx, const char *const *order_ids, size_t n)
{
	struct pay_row *rows = calloc(n ? n : 1, sizeof(*rows));
	int rc;

	drop(tx);
	if (!rows)
		return SVC_ENOMEM;
	for (size_t i = 0; i < n; i++)
		snprintf(rows[i].order_id, sizeof(rows[i].order_id), "%s", order_ids[i]);
	n = sort_unique(rows, n);
	rc = pay_rows_lock(tx->conn, rows, n);
	if (rc != 0) {
		free(rows);
		return rc;
	}
	return install(tx, rows, n);
}

int pay_batch_adopt(struct svc_tx *tx, const struct pay_row *rows, size_t n)
{
	struct pay_row *copy = calloc(n ? n : 1, sizeof(*copy));

	drop(tx);
	if (!copy)
		return SVC_ENOMEM;
	if (n > 0)
		memcpy(copy, rows, n * sizeof(*rows));
	return install(tx, copy, sort_unique(copy, n));
}

/* The state's row of the order, or NULL when `tx` has no state or no row
 * for it. */
static struct pay_row *find(struct svc_tx *tx, const char *order_id)
{
	struct pay_batch *batch = tx->batch;
	struct pay_row key = {0};

	if (!batch)
		return NULL;
	snprintf(key.order_id, sizeof(key.order_id), "%s", order_id);
	return bsearch(&key, batch->rows, batch->n, sizeof(key), pay_row_cmp);
}

int pay_batch_load(struct svc_tx *tx, const char *order_id, struct pay_row *row)
{
	const struct pay_row *kept = find(tx, order_id);

	if (!kept)
		return pay_row_load(tx->conn, order_id, true, row);
	*row = *kept;
	return 0;
}

int pay_batch_store(struct svc_tx *tx, const struct pay_row *row, bool insert)
{
	struct pay_batch *batch = tx->batch;
	struct pay_row *kept = find(tx, row->order_id);
	int rc = 0;

	if (insert)
		rc = pay_row_insert(tx->conn, row); /* rare (a tombstone): not worth deferring */
	else if (!kept)
		rc = pay_row_update(tx->conn, row);
	else
		batch->changed[kept - batch->rows] = true;
	if (rc == 0 && kept)
		*kept = *row;
	return rc;
}

size_t pay_batch_pending(const struct svc_tx *tx)
{
	const struct pay_batch *batch = tx->batch;
	size_t n = 0;

	for (size_t i = 0; batch && i < batch->n; i++)
		n += batch->changed[i];
	return n;
}

int pay_batch_end(struct svc_tx *tx, bool write)
{
	struct pay_batch *batch = tx->batch;
	const struct pay_row **changed = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (!batch)
		return 0;
	if (!write)
		goto release;
	changed = calloc(batch->n ? batch->n : 1, sizeof(*changed));
	if (!changed) {
		rc = SVC_ENOMEM;
		goto release;
	}
	for (i = 0; i < batch->n; i++)
		if (batch->changed[i])
			changed[n++] = &batch->rows[i];
	rc = pay_rows_update(tx->conn, changed, n);
release:
	free(changed);
	drop(tx);
	return rc;
}
