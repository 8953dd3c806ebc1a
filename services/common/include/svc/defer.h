/*
 * Deferred INSERTs: rows that a transaction only appends (outbox messages,
 * processed event ids, saga history) are collected in its `struct svc_tx`
 * (svc/tx.h) and written as one multi-row INSERT per table just before the
 * commit, instead of one round trip each. A batch of 100 events then costs
 * a handful of statements.
 *
 *     rc = svc_defer_start(tx);             // START TRANSACTION + collect
 *     ... svc_defer_insert(tx, "INSERT INTO t (a, b) VALUES ", "(1, 'x')", 8) ...
 *     rc = svc_defer_finish(tx, rc, NULL);  // the INSERTs + COMMIT, or ROLLBACK
 *
 * (svc_defer_begin/flush/discard are the pieces, for a transaction the
 * caller runs itself.)
 *
 * When `tx` is not deferring, svc_defer_insert() runs the statement at
 * once, so code that appends rows works the same in both cases. Only rows
 * that nothing reads back inside the same transaction may be deferred: they
 * are not visible until the flush.
 */
#ifndef SVC_DEFER_H
#define SVC_DEFER_H

#include <stdbool.h>
#include <stddef.h>

#include "svc/tx.h"

/* Starts collecting in `tx`; drops anything collected. */
void svc_defer_begin(struct svc_tx *tx);
/* START TRANSACTION on tx->conn, then svc_defer_begin(): the other end of
 * svc_defer_finish(). 0 or the BEGIN's error. */
int svc_defer_start(struct svc_tx *tx);
/*
 * Appends one row: `head` is the statement up to and including VALUES (the
 * same string for every row of a table; borrowed until the flush), `tuple`
 * the parenthesized values (copied). Runs "head tuple" on tx->conn at once
 * when `tx` is not deferring.
 * 0, SVC_ENOMEM, or the statement's error (SVC_ETRANSIENT, SVC_EPERMANENT).
 * A duplicate key here and in the flush is an outcome the callers expect
 * (they read svc_db_errno ER_DUP_ENTRY): it is logged at debug only.
 */
int svc_defer_insert(struct svc_tx *tx, const char *head, const char *tuple, size_t tuple_len);
/* Runs the collected INSERTs (the outbox messages packed in `tx` first
 * become their row, svc/outbox.h; then one INSERT per table, in the order
 * tables were first used) and stops collecting. 0 or the first error (nothing more runs). */
int svc_defer_flush(struct svc_tx *tx);
/* Stops collecting and drops the rows (and the packed outbox messages). */
void svc_defer_discard(struct svc_tx *tx);
/*
 * Ends the caller's transaction on tx->conn. When `rc` is 0: the collected
 * INSERTs, then COMMIT. Otherwise, or when either fails: drops the rows and
 * rolls back. Returns `rc`, or the flush's error (SVC_ECONFLICT for a taken
 * unique key), or the commit's. *at_commit (may be NULL) tells whether the
 * COMMIT itself failed: the transaction's outcome is then unknown.
 */
int svc_defer_finish(struct svc_tx *tx, int rc, bool *at_commit);
/* Rows and packed outbox messages collected so far (tests). */
size_t svc_defer_pending(const struct svc_tx *tx);

#endif
