/* Deferred multi-row INSERTs of one transaction (svc/defer.h, svc/tx.h). */
#include "svc/defer.h"

#include <mysqld_error.h>
#include <stdbool.h>
#include <string.h>

#include "outbox_internal.h"
#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"

/* A statement this big is sent at once, far below max_allowed_packet. */
#define DEFER_FLUSH_BYTES (4u << 20)

void svc_tx_init(struct svc_tx *tx, MYSQL *conn)
{
	memset(tx, 0, sizeof(*tx));
	tx->conn = conn;
}

void svc_tx_release(struct svc_tx *tx)
{
	svc_defer_discard(tx);
}

static void table_reset(struct svc_tx_table *t)
{
	svc_buf_release(&t->sql);
	svc_buf_init(&t->sql);
	t->rows = 0;
}

void svc_defer_discard(struct svc_tx *tx)
{
	for (size_t i = 0; i < tx->ntables; i++) {
		table_reset(&tx->tables[i]);
		tx->tables[i].head = NULL;
	}
	tx->ntables = 0;
	svc__outbox_discard(tx);
	tx->deferring = false;
}

void svc_defer_begin(struct svc_tx *tx)
{
	svc_defer_discard(tx);
	tx->deferring = true;
}

size_t svc_defer_pending(const struct svc_tx *tx)
{
	size_t n = tx->pack.n;

	for (size_t i = 0; i < tx->ntables; i++)
		n += tx->tables[i].rows;
	return n;
}

/* Runs one table's statement (when it has rows) and empties it. */
static int table_flush(MYSQL *conn, struct svc_tx_table *t)
{
	int rc = 0;

	if (t->rows > 0)
		rc = t->sql.failed ? SVC_ENOMEM : svc_db_exec_dup_ok(conn, svc_buf_str(&t->sql));
	table_reset(t);
	return rc;
}

static int exec_now(MYSQL *conn, const char *head, const char *tuple, size_t tuple_len)
{
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, head);
	svc_buf_add(&sql, tuple, tuple_len);
	rc = sql.failed ? SVC_ENOMEM : svc_db_exec_dup_ok(conn, svc_buf_str(&sql));
	svc_buf_release(&sql);
	return rc;
}

static struct svc_tx_table *table_for(struct svc_tx *tx, const char *head)
{
	struct svc_tx_table *t;

	for (size_t i = 0; i < tx->ntables; i++)
		if (strcmp(tx->tables[i].head, head) == 0)
			return &tx->tables[i];
	if (tx->ntables == SVC_TX_DEFER_TABLES)
		return NULL;
	t = &tx->tables[tx->ntables++];
	t->head = head;
	svc_buf_init(&t->sql);
	t->rows = 0;
	return t;
}

int svc_defer_insert(struct svc_tx *tx, const char *head, const char *tuple, size_t tuple_len)
{
	struct svc_tx_table *t;

	if (!tx->deferring)
		return exec_now(tx->conn, head, tuple, tuple_len);
	t = table_for(tx, head);
	if (!t) /* more tables than slots: this one is not deferred */
		return exec_now(tx->conn, head, tuple, tuple_len);
	svc_buf_adds(&t->sql, t->rows ? ", " : head);
	if (svc_buf_add(&t->sql, tuple, tuple_len) != 0)
		return SVC_ENOMEM;
	t->rows++;
	return t->sql.len >= DEFER_FLUSH_BYTES ? table_flush(tx->conn, t) : 0;
}

int svc_defer_flush(struct svc_tx *tx)
{
	int rc = 0;

	if (tx->deferring)
		rc = svc__outbox_flush(tx);
	if (tx->deferring)
		for (size_t i = 0; i < tx->ntables && rc == 0; i++)
			rc = table_flush(tx->conn, &tx->tables[i]);
	svc_defer_discard(tx);
	return rc;
}

int svc_defer_start(struct svc_tx *tx)
{
	int rc = svc_db_begin(tx->conn);

	if (rc == 0)
		svc_defer_begin(tx);
	return rc;
}

int svc_defer_finish(struct svc_tx *tx, int rc, bool *at_commit)
{
	MYSQL *conn = tx->conn;
	bool commit_failed = false;

	if (rc == 0) {
		rc = svc_defer_flush(tx);
		if (rc != 0 && svc_db_errno(conn) == ER_DUP_ENTRY)
			rc = SVC_ECONFLICT;
	}
	if (rc == 0) {
		rc = svc_db_commit(conn);
		commit_failed = rc != 0;
	}
	if (rc != 0) {
		svc_defer_discard(tx);
		svc_db_rollback(conn);
	}
	if (at_commit)
		*at_commit = commit_failed;
	return rc;
}
