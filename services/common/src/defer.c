/* Deferred multi-row INSERTs for the calling thread's transaction (svc/defer.h). */
#include "svc/defer.h"

#include <mysqld_error.h>
#include <stdbool.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"

/* Tables one transaction may defer rows for (outbox, inbox, history, ...). */
#define DEFER_TABLES 4
/* A statement this big is sent at once, far below max_allowed_packet. */
#define DEFER_FLUSH_BYTES (4u << 20)

struct defer_table {
	const char *head; /* the caller's string: compared by content */
	struct svc_buf sql;
	size_t rows;
};

struct defer_state {
	MYSQL *conn; /* NULL when not deferring */
	struct defer_table tables[DEFER_TABLES];
	size_t ntables;
};

static _Thread_local struct defer_state defer;

static void table_reset(struct defer_table *t)
{
	svc_buf_release(&t->sql);
	svc_buf_init(&t->sql);
	t->rows = 0;
}

void svc_defer_discard(void)
{
	for (size_t i = 0; i < defer.ntables; i++) {
		table_reset(&defer.tables[i]);
		defer.tables[i].head = NULL;
	}
	defer.ntables = 0;
	defer.conn = NULL;
}

void svc_defer_begin(MYSQL *conn)
{
	svc_defer_discard();
	defer.conn = conn;
}

size_t svc_defer_pending(void)
{
	size_t n = 0;

	for (size_t i = 0; i < defer.ntables; i++)
		n += defer.tables[i].rows;
	return n;
}

/* Runs one table's statement (when it has rows) and empties it. */
static int table_flush(MYSQL *conn, struct defer_table *t)
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

static struct defer_table *table_for(const char *head)
{
	struct defer_table *t;

	for (size_t i = 0; i < defer.ntables; i++)
		if (strcmp(defer.tables[i].head, head) == 0)
			return &defer.tables[i];
	if (defer.ntables == DEFER_TABLES)
		return NULL;
	t = &defer.tables[defer.ntables++];
	t->head = head;
	svc_buf_init(&t->sql);
	t->rows = 0;
	return t;
}

int svc_defer_insert(MYSQL *conn, const char *head, const char *tuple, size_t tuple_len)
{
	struct defer_table *t;

	if (!conn || conn != defer.conn)
		return exec_now(conn, head, tuple, tuple_len);
	t = table_for(head);
	if (!t) /* more tables than slots: this one is not deferred */
		return exec_now(conn, head, tuple, tuple_len);
	svc_buf_adds(&t->sql, t->rows ? ", " : head);
	if (svc_buf_add(&t->sql, tuple, tuple_len) != 0)
		return SVC_ENOMEM;
	t->rows++;
	return t->sql.len >= DEFER_FLUSH_BYTES ? table_flush(conn, t) : 0;
}

int svc_defer_flush(MYSQL *conn)
{
	int rc = 0;

	if (conn == defer.conn)
		for (size_t i = 0; i < defer.ntables && rc == 0; i++)
			rc = table_flush(conn, &defer.tables[i]);
	svc_defer_discard();
	return rc;
}

int svc_defer_start(MYSQL *conn)
{
	int rc = svc_db_begin(conn);

	if (rc == 0)
		svc_defer_begin(conn);
	return rc;
}

int svc_defer_finish(MYSQL *conn, int rc, bool *at_commit)
{
	bool commit_failed = false;

	if (rc == 0) {
		rc = svc_defer_flush(conn);
		if (rc != 0 && mysql_errno(conn) == ER_DUP_ENTRY)
			rc = SVC_ECONFLICT;
	}
	if (rc == 0) {
		rc = svc_db_commit(conn);
		commit_failed = rc != 0;
	}
	if (rc != 0) {
		svc_defer_discard();
		svc_db_rollback(conn);
	}
	if (at_commit)
		*at_commit = commit_failed;
	return rc;
}
