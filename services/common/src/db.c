/*
 * MySQL / MariaDB access (svc/db.h): a fixed pool of lazily opened
 * connections, error classification and statement helpers (migrations:
 * db_migrate.c).
 *
 * The pool never reconnects behind the caller's back (MYSQL_OPT_RECONNECT
 * would silently lose session state such as an open transaction): a failed
 * statement is reported, classified, and the caller releases the connection
 * as broken so the next acquire opens a fresh one.
 */
#include "svc/clock.h"
#include "svc/db.h"

#include <errno.h>
#include <errmsg.h>
#include <limits.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

/* Longest statement prefix written to the log with an error. */
#define DB_LOG_SQL_MAX 400

/* A connection idle longer than this is pinged before it is handed out: after
 * a server restart or a KILL, the first query on it would fail otherwise. */
#define DB_IDLE_CHECK_MS 1000

struct db_slot {
	MYSQL *conn; /* NULL until first use or after release as broken */
	bool busy;
	uint64_t released_ms; /* monotonic time of the last release */
};

struct svc_db {
	char *host, *socket, *user, *password, *database;
	unsigned port, timeout_s, size;
	bool read_committed;
	pthread_mutex_t lock;
	pthread_cond_t freed; /* signalled when a slot is released */
	struct db_slot *slots;
};

void svc_db_config_from_env(struct svc_db_config *cfg)
{
	cfg->host = svc_env_str("DB_HOST", "127.0.0.1");
	cfg->port = (unsigned)svc_env_long("DB_PORT", 3306, 1, 65535);
	cfg->socket = svc_env_str("DB_SOCKET", NULL);
	cfg->user = svc_env_str("DB_USER", NULL);
	cfg->password = svc_env_str("DB_PASSWORD", NULL);
	cfg->database = svc_env_str("DB_NAME", NULL);
	cfg->pool_size = (unsigned)svc_env_long("DB_POOL_SIZE", 32, 1, 1024);
	cfg->timeout_s = (unsigned)svc_env_long("DB_TIMEOUT_S", 5, 1, 3600);
	cfg->read_committed = false; /* set by the caller that wants it */
}

/* mysql_library_init is not thread-safe: run it once before any mysql_init. */
static pthread_once_t db_library_once = PTHREAD_ONCE_INIT;

static void db_library_init(void)
{
	if (svc__db_ops->library_init())
		svc_error("db: mysql_library_init failed");
}

/* strdup that keeps NULL; *ok becomes false on allocation failure. */
static char *dup_opt(const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

struct svc_db *svc_db_open(const struct svc_db_config *cfg)
{
	struct svc_db *db;
	bool ok = true;

	pthread_once(&db_library_once, db_library_init);
	db = calloc(1, sizeof(*db));
	if (!db)
		return NULL;
	db->host = dup_opt(cfg->host ? cfg->host : "127.0.0.1", &ok);
	db->socket = dup_opt(cfg->socket, &ok);
	db->user = dup_opt(cfg->user, &ok);
	db->password = dup_opt(cfg->password, &ok);
	db->database = dup_opt(cfg->database, &ok);
	db->port = cfg->port ? cfg->port : 3306;
	db->timeout_s = cfg->timeout_s ? cfg->timeout_s : 5;
	db->size = cfg->pool_size ? cfg->pool_size : 8;
	db->read_committed = cfg->read_committed;
	db->slots = calloc(db->size, sizeof(*db->slots));
	if (!ok || !db->slots)
		goto free_db;
	if (pthread_mutex_init(&db->lock, NULL))
		goto free_db;
	if (pthread_cond_init(&db->freed, NULL)) {
		pthread_mutex_destroy(&db->lock);
		goto free_db;
	}
	return db;

free_db:
	free(db->slots);
	free(db->host);
	free(db->socket);
	free(db->user);
	free(db->password);
	free(db->database);
	free(db);
	return NULL;
}

void svc_db_free(struct svc_db *db)
{
	if (!db)
		return;
	for (unsigned i = 0; i < db->size; i++) {
		if (db->slots[i].busy)
			svc_warn("db: pool freed with a connection still borrowed");
		if (db->slots[i].conn)
			svc__db_ops->close(db->slots[i].conn);
	}
	pthread_cond_destroy(&db->freed);
	pthread_mutex_destroy(&db->lock);
	free(db->slots);
	free(db->host);
	free(db->socket);
	free(db->user);
	free(db->password);
	free(db->database);
	free(db);
}

/*
 * Opens one connection with the pool's settings, utf8mb4 and autocommit on.
 * `flags` are extra client flags (CLIENT_MULTI_STATEMENTS for migrations).
 * NULL when the server cannot be reached (logged).
 */
static MYSQL *db_connect(const struct svc_db *db, unsigned long flags, unsigned read_timeout_s)
{
	MYSQL *m = svc__db_ops->init(NULL);
	unsigned connect_timeout = db->timeout_s, write_timeout = db->timeout_s;
	unsigned read_timeout = read_timeout_s;
	my_bool reconnect = 0;
	const char *host = db->socket ? "localhost" : db->host;

	if (!m) {
		svc_error("db: mysql_init failed (out of memory)");
		return NULL;
	}
	svc__db_ops->options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	svc__db_ops->options(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	svc__db_ops->options(m, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
	svc__db_ops->options(m, MYSQL_OPT_RECONNECT, &reconnect);
	svc__db_ops->options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (db->read_committed)
		svc__db_ops->options(m, MYSQL_INIT_COMMAND,
		                     "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (!svc__db_ops->real_connect(m, host, db->user, db->password, db->database, db->port,
	                               db->socket, flags)) {
		svc_warn("db: cannot connect to %s: %s (%u)", db->socket ? db->socket : db->host,
		         svc__db_ops->error(m), svc__db_ops->errnum(m));
		goto close_conn;
	}
	if (svc__db_ops->autocommit(m, 1)) {
		svc_warn("db: cannot set autocommit: %s (%u)", svc__db_ops->error(m),
		         svc__db_ops->errnum(m));
		goto close_conn;
	}
	return m;

close_conn:
	svc__db_ops->close(m);
	return NULL;
}

MYSQL *svc__db_connect_own(const struct svc_db *db, unsigned long flags, unsigned read_timeout_s)
{
	pthread_once(&db_library_once, db_library_init);
	return db_connect(db, flags, read_timeout_s);
}

MYSQL *svc_db_acquire(struct svc_db *db)
{
	struct db_slot *slot = NULL;

	pthread_mutex_lock(&db->lock);
	while (!slot) {
		/* Prefer a slot that is already connected. */
		for (unsigned i = 0; i < db->size; i++) {
			if (db->slots[i].busy)
				continue;
			if (!slot || (!slot->conn && db->slots[i].conn))
				slot = &db->slots[i];
			if (slot->conn)
				break;
		}
		if (!slot)
			pthread_cond_wait(&db->freed, &db->lock);
	}
	/* the loop above ends only with a slot */
	/* cppcheck-suppress nullPointerRedundantCheck */
	slot->busy = true;
	pthread_mutex_unlock(&db->lock);

	/* Check and connect outside the lock: it may take up to the connect
	 * timeout. The slot is ours while busy, so nobody else touches it. */
	/* cppcheck-suppress nullPointerRedundantCheck */
	if (slot->conn && svc_mono_ms() - slot->released_ms > DB_IDLE_CHECK_MS &&
	    svc__db_ops->ping(slot->conn) != 0) {
		svc_info("db: pooled connection went away (%s); reconnecting",
		         svc__db_ops->error(slot->conn));
		svc__db_ops->close(slot->conn);
		slot->conn = NULL;
	}
	if (!slot->conn)
		slot->conn = db_connect(db, 0, db->timeout_s);
	if (slot->conn)
		return slot->conn;

	pthread_mutex_lock(&db->lock);
	slot->busy = false;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->lock);
	return NULL;
}

void svc_db_release(struct svc_db *db, MYSQL *conn, bool broken)
{
	struct db_slot *slot = NULL;

	if (!conn)
		return;
	/* A transaction left open would leak into the next borrower. */
	if (!broken && (conn->server_status & SERVER_STATUS_IN_TRANS)) {
		svc_warn("db: connection released inside a transaction; rolling back");
		broken = svc__db_ops->real_query(conn, "ROLLBACK", 8) != 0;
	}
	pthread_mutex_lock(&db->lock);
	for (unsigned i = 0; i < db->size; i++) {
		if (db->slots[i].conn == conn && db->slots[i].busy) {
			slot = &db->slots[i];
			break;
		}
	}
	if (slot) {
		if (broken)
			slot->conn = NULL;
		slot->busy = false;
		slot->released_ms = svc_mono_ms();
		pthread_cond_signal(&db->freed);
	}
	pthread_mutex_unlock(&db->lock);
	if (!slot)
		svc_error("db: release of a connection not borrowed from this pool");
	else if (broken)
		svc__db_ops->close(conn); /* outside the lock: it may wait on the socket */
}

bool svc_db_error_is_transient(MYSQL *conn)
{
	if (!conn)
		return true; /* no connection at all: the server is unreachable */
	switch (svc__db_ops->errnum(conn)) {
	case CR_CONNECTION_ERROR:  /* 2002: socket connect failed */
	case CR_CONN_HOST_ERROR:   /* 2003: TCP connect failed */
	case CR_SERVER_GONE_ERROR: /* 2006: closed between statements */
	case CR_SERVER_LOST:       /* 2013: lost during a statement */
	case 2055:                 /* CR_SERVER_LOST_EXTENDED */
	case ER_CON_COUNT_ERROR:   /* 1040: too many connections */
	case ER_SERVER_SHUTDOWN:   /* 1053 */
	case 1152:                 /* ER_ABORTING_CONNECTION */
	case 1158:                 /* ER_NET_READ_ERROR */
	case 1159:                 /* ER_NET_READ_INTERRUPTED */
	case 1160:                 /* ER_NET_ERROR_ON_WRITE */
	case 1161:                 /* ER_NET_WRITE_INTERRUPTED */
	case ER_LOCK_WAIT_TIMEOUT: /* 1205 */
	case ER_LOCK_DEADLOCK:     /* 1213 */
	case 1290:                 /* ER_OPTION_PREVENTS_STATEMENT: --read-only */
	case 1317:                 /* ER_QUERY_INTERRUPTED: KILL QUERY */
	case 1836:                 /* ER_READ_ONLY_MODE */
	case 1927:                 /* ER_CONNECTION_KILLED (MariaDB) */
	case 1969:                 /* ER_STATEMENT_TIMEOUT (MariaDB max_statement_time) */
	case 3024:                 /* ER_QUERY_TIMEOUT (MySQL max_execution_time) */
	case 4031:                 /* ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24+) */
		return true;
	default:
		return false;
	}
}

/* Logs the error on `conn` with the statement and returns its class; a
 * duplicate key the caller expects (`dup_ok`) is logged at debug, briefly. */
static int db_fail_as(MYSQL *conn, const char *sql, bool dup_ok)
{
	bool transient = svc_db_error_is_transient(conn);
	size_t len = strlen(sql);

	if (dup_ok && svc__db_ops->errnum(conn) == ER_DUP_ENTRY) {
		svc_debug("db: %s (an expected outcome)", svc__db_ops->error(conn));
		return SVC_EPERMANENT;
	}
	svc_error("db: %s (%u, %s) in: %.*s%s", svc__db_ops->error(conn), svc__db_ops->errnum(conn),
	          transient ? "transient" : "permanent",
	          (int)(len > DB_LOG_SQL_MAX ? DB_LOG_SQL_MAX : len), sql,
	          len > DB_LOG_SQL_MAX ? "..." : "");
	return transient ? SVC_ETRANSIENT : SVC_EPERMANENT;
}

static int db_fail(MYSQL *conn, const char *sql)
{
	return db_fail_as(conn, sql, false);
}

static int exec_as(MYSQL *conn, const char *sql, bool dup_ok)
{
	MYSQL_RES *res;

	if (svc__db_ops->real_query(conn, sql, strlen(sql)))
		return db_fail_as(conn, sql, dup_ok);
	/* A statement that unexpectedly returns rows must still be drained. */
	if (svc__db_ops->field_count(conn) > 0) {
		res = svc__db_ops->store_result(conn);
		if (!res)
			return db_fail(conn, sql);
		svc__db_ops->free_result(res);
	}
	return 0;
}

int svc_db_exec(MYSQL *conn, const char *sql)
{
	return exec_as(conn, sql, false);
}

int svc_db_exec_dup_ok(MYSQL *conn, const char *sql)
{
	return exec_as(conn, sql, true);
}

int svc_db_query(MYSQL *conn, const char *sql, MYSQL_RES **out)
{
	*out = NULL;
	if (svc__db_ops->real_query(conn, sql, strlen(sql)))
		return db_fail(conn, sql);
	*out = svc__db_ops->store_result(conn);
	if (*out)
		return 0;
	if (svc__db_ops->errnum(conn))
		return db_fail(conn, sql);
	svc_error("db: statement returned no result set: %.*s", DB_LOG_SQL_MAX, sql);
	return SVC_EPERMANENT;
}

int svc_db_begin(MYSQL *conn)
{
	return svc_db_exec(conn, "START TRANSACTION");
}

int svc_db_begin_claim(MYSQL *conn)
{
	int rc = svc_db_exec(conn, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED");

	return rc ? rc : svc_db_exec(conn, "START TRANSACTION");
}

int svc_db_commit(MYSQL *conn)
{
	return svc_db_exec(conn, "COMMIT");
}

void svc_db_rollback(MYSQL *conn)
{
	if (conn)
		svc_db_exec(conn, "ROLLBACK");
}

int64_t svc_db_col_i64(const char *s)
{
	char *end = NULL;
	long long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return (errno != 0 || end == s) ? 0 : (int64_t)v;
}

/* The library's escaping, which knows every character set and the
 * NO_BACKSLASH_ESCAPES mode: `s` quoted and escaped into `b`. */
static int add_str_escaped_by_library(struct svc_buf *b, MYSQL *conn, const char *s)
{
	size_t len;
	char *esc;
	unsigned long n;
	int rc;

	/* Every failure below marks the buffer failed, so a statement missing
	 * a literal can never be run by a caller that checks only at the end. */
	len = strlen(s);
	if (len > (SIZE_MAX - 1) / 2 || len > ULONG_MAX / 2 - 1) {
		rc = SVC_ERANGE;
		goto fail;
	}
	esc = malloc(2 * len + 1);
	if (!esc) {
		rc = SVC_ENOMEM;
		goto fail;
	}
	n = svc__db_ops->real_escape_string(conn, esc, s, (unsigned long)len);
	if (n == (unsigned long)-1) { /* cannot happen with utf8mb4; be safe */
		rc = SVC_EPERMANENT;
		goto free_esc;
	}
	svc_buf_add(b, "'", 1);
	svc_buf_add(b, esc, n);
	rc = svc_buf_add(b, "'", 1);

free_esc:
	free(esc);
	if (!rc)
		return 0;
fail:
	b->failed = 1;
	return rc;
}

/* What follows the backslash for a byte the literal must escape. */
static char sql_escape_char(char c)
{
	switch (c) {
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\032':
		return 'Z';
	default: /* the backslash and the quotes stand for themselves */
		return c;
	}
}

/*
 * Every connection is utf8mb4 (db_connect), where no byte of a multi-byte
 * character is below 0x80: escaping byte by byte the seven bytes the
 * library escapes (NUL cannot occur in `s`) gives what
 * mysql_real_escape_string gives for valid UTF-8, and is as safe for
 * invalid UTF-8 (a stray lead byte cannot swallow the backslash that
 * follows it, as in GBK). It is a copy of the runs between those bytes, not
 * two indirect calls per byte and a buffer of twice the length, which cost
 * 7-12 % of each service's CPU. A session in NO_BACKSLASH_ESCAPES mode
 * (the server's sql_mode, told in every OK packet's status) reads a
 * backslash as itself: there the library's escaping applies.
 */
int svc_sql_add_str(struct svc_buf *b, MYSQL *conn, const char *s)
{
	static const char special[] = "\n\r\\'\"\032";

	if (!s)
		return svc_buf_adds(b, "NULL");
	/* the public field mysql_real_escape_string reads too */
	if (conn && (conn->server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES))
		return add_str_escaped_by_library(b, conn, s);
	svc_buf_add(b, "'", 1);
	while (*s) {
		size_t run = strcspn(s, special);

		svc_buf_add(b, s, run);
		s += run;
		if (*s) {
			const char esc[2] = {'\\', sql_escape_char(*s)};

			svc_buf_add(b, esc, 2);
			s++;
		}
	}
	return svc_buf_add(b, "'", 1);
}

bool svc_db_ping(struct svc_db *db)
{
	MYSQL *conn = svc_db_acquire(db);
	MYSQL_RES *res = NULL;
	int rc;

	if (!conn)
		return false;
	rc = svc_db_query(conn, "SELECT 1", &res);
	svc_db_free_result(res);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	return rc == 0;
}

void svc_db_pool_usage(struct svc_db *db, unsigned *in_use, unsigned *size)
{
	unsigned n = 0;

	pthread_mutex_lock(&db->lock);
	for (unsigned i = 0; i < db->size; i++)
		n += db->slots[i].busy;
	pthread_mutex_unlock(&db->lock);
	*in_use = n;
	*size = db->size;
}
