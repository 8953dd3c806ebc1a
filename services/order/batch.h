/*
 * The orders of one consumer batch transaction, held in memory (see
 * begin_batch/end_batch in svc/consumer.h): order_batch_begin() reads and
 * locks every order the batch's events name in one SELECT, the events'
 * transitions then read and change those rows in memory, and
 * order_batch_end() writes the changed ones back in one UPDATE. An order
 * two events of the batch touch is changed in place, so the second sees the
 * first one's new state, reason and deadline exactly as it would through
 * SQL.
 *
 * The batch lives in the transaction's tx->batch (svc/tx.h), owned by this
 * module from order_batch_begin() to order_batch_end().
 *
 * order_batch_lock/update/set_payment_id/items have the contracts of
 * order_store_lock/update/set_payment_id/items (store.h): they are served
 * from the batch when one is open in `tx` and holds the order, else by SQL
 * on tx->conn, so the same transition code serves batches, single events
 * and the deadline scanner.
 */
#ifndef ORDER_BATCH_H
#define ORDER_BATCH_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "services/order/store.h"
#include "svc/tx.h"

/* An order a batch's events name, and whether they may need its lines
 * (then read with its row; an order whose lines were not foreseen has them
 * read on the first need). */
struct order_batch_key {
	const char *order_id; /* borrowed for order_batch_begin() only */
	bool wants_items;
};

/*
 * Opens the batch in `tx` (dropping one left open) and reads and locks the
 * orders keys[0..n) name (the same one several times, too) in one
 * statement; n may be 0. Needs an open transaction. 0, SVC_ENOMEM or the
 * statement's failure (nothing is open then).
 */
int order_batch_begin(struct svc_tx *tx, const struct order_batch_key *keys, size_t n);

/*
 * Closes the batch open in `tx`: with `write`, first writes the changed
 * orders back in one UPDATE (0 or its failure). Without `write`, or when no
 * batch is open in `tx`, only drops the state (0). tx->batch is NULL after.
 */
int order_batch_end(struct svc_tx *tx, bool write);

int order_batch_lock(struct svc_tx *tx, const char *order_id, struct order_row *row);
int order_batch_update(struct svc_tx *tx, const char *order_id, enum order_state state,
                       const char *step, long deadline_ms, const char *reason);
int order_batch_set_payment_id(struct svc_tx *tx, const char *order_id, const char *payment_id);
int order_batch_items(struct svc_tx *tx, const char *order_id, json_t **out);

#endif
