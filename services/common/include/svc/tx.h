/*
 * A database transaction as a handle: the connection it runs on, the rows
 * it defers to the commit (svc/defer.h) and the consumer batch state of the
 * service (svc/consumer.h, begin_batch/end_batch). Everything that writes
 * inside a transaction takes a `struct svc_tx *`, so what a call does
 * depends on its arguments, not on the calling thread.
 *
 * The caller embeds it (usually on the stack):
 *
 *     struct svc_tx tx;
 *
 *     svc_tx_init(&tx, conn);
 *     rc = svc_defer_start(&tx);            // or svc_db_begin(conn): no deferral
 *     ... svc_outbox_add(&tx, ...) ...
 *     rc = svc_defer_finish(&tx, rc, NULL);
 *     svc_tx_release(&tx);
 *
 * A transaction belongs to one thread at a time (no locking).
 */
#ifndef SVC_TX_H
#define SVC_TX_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "svc/buf.h"

/* Tables one transaction may defer rows for (outbox, inbox, history, ...). */
#define SVC_TX_DEFER_TABLES 4

struct svc_tx_table {
	const char *head; /* the caller's string: compared by content */
	struct svc_buf sql;
	size_t rows;
};

/* Outbox messages on their way to one row, owned by outbox.c. */
struct svc_tx_pack {
	struct svc_buf msgs;  /* the pack (svc/outbox_pack.h) */
	struct svc_buf first; /* the first message as a plain row's values */
	size_t first_cols;    /* bytes of `first` before its payload */
	size_t n;             /* messages in msgs */
};

struct svc_tx {
	MYSQL *conn;    /* borrowed: the caller acquires and releases it */
	bool deferring; /* rows collect in tables[] (svc_defer_begin) */
	struct svc_tx_table tables[SVC_TX_DEFER_TABLES];
	size_t ntables;
	/* The outbox messages a deferring transaction added since its last
	 * outbox row (svc/outbox.h): one row at the flush. */
	struct svc_tx_pack pack;
	/* The consumer's batch state from begin_batch() to end_batch(), owned
	 * by the service's batch code; NULL outside a batch. */
	void *batch;
};

/* Makes `tx` (caller-embedded) a handle for `conn`, not deferring, with no
 * batch; allocates nothing. Does not begin a transaction. */
void svc_tx_init(struct svc_tx *tx, MYSQL *conn);
/* Drops the deferred rows (see svc_defer_discard). The connection and the
 * batch slot are the caller's. */
void svc_tx_release(struct svc_tx *tx);

#endif
