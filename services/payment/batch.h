/*
 * The payments rows of one batch transaction (svc/consumer.h, begin_batch
 * and end_batch). pay_batch_begin reads the rows of every order of the batch
 * FOR UPDATE in one statement into state it keeps in tx->batch (svc/tx.h),
 * owned by this module until pay_batch_end. pay_job_apply reads and writes
 * rows through pay_batch_load / pay_batch_store: with state in `tx` they
 * work on that copy, updated in place, so a second command for the same
 * order sees the first one's effect exactly as it would through SQL;
 * pay_batch_end then writes the changed rows back in one UPDATE. Without
 * state (events handled one by one, the HTTP API) they run SQL on tx->conn.
 */
#ifndef PAY_BATCH_H
#define PAY_BATCH_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "services/payment/store.h"
#include "svc/tx.h"

/* Loads the rows of `order_ids` (n, any order, repeats allowed) FOR UPDATE
 * and makes them the state of `tx` (dropping any before). 0, SVC_ENOMEM or
 * the statement's error (no state then). */
int pay_batch_begin(struct svc_tx *tx, const char *const *order_ids, size_t n);
/* Makes copies of rows[0..n) the state of `tx`, as if loaded (tests).
 * 0 or SVC_ENOMEM. */
int pay_batch_adopt(struct svc_tx *tx, const struct pay_row *rows, size_t n);

/* The order's row, locked: the state's copy when `tx` has one, else
 * SELECT ... FOR UPDATE. Same results as pay_row_load. */
int pay_batch_load(struct svc_tx *tx, const char *order_id, struct pay_row *row);
/*
 * Writes `row`: INSERTs it at once when `insert` (the order had no row; 0,
 * SVC_DUPLICATE or an error) and keeps the state's copy in step; else
 * updates the state's copy, written back by pay_batch_end, or (without
 * state) UPDATEs the row at once.
 */
int pay_batch_store(struct svc_tx *tx, const struct pay_row *row, bool insert);
/* Rows changed since pay_batch_begin and not yet written (tests). */
size_t pay_batch_pending(const struct svc_tx *tx);

/* With `write`, UPDATEs the changed rows in one statement; either way drops
 * the state (tx->batch is NULL after). 0 (also when `tx` has no state) or
 * the error. */
int pay_batch_end(struct svc_tx *tx, bool write);

#endif
