/*
 * MySQL / MariaDB access (svc/db.h): a fixed pool of lazily opened
 * connections, error classification, statement helpers and migrations.
 *
 * The pool never reconnects behind the caller's back (MYSQL_OPT_RECONNECT
 * would silently lose session state such as an open transaction): a failed
 * statement is reported, classified, and the caller releases the connection
 * as broken so the next acquire opens a fresh one.
 */
#include "svc/clock.h"
#include "svc/db.h"

#include <dirent.h>
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

#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

/* Longest statement prefix written to the log with an error. */
#define DB_LOG_SQL_MAX 400
/* A migration may run DDL on big tables: its connection reads for longer. */
#define DB_MIGRATE_READ_TIMEOUT_S 600
/* How long one migrate call waits for another instance's migration lock. */
#define DB_MIGRATE_LOCK_WAIT_S 30
/* Refuse migration files bigger than this (they are hand-written SQL). */
#define DB_MIGRATE_MAX_FILE (16L * 1024 * 1024)

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
	if (mysql_library_init(0, NULL, NULL))
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
			mysql_close(db->slots[i].conn);
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
	MYSQL *m = mysql_init(NULL);
	unsigned connect_timeout = db->timeout_s, write_timeout = db->timeout_s;
	unsigned read_timeout = read_timeout_s;
	my_bool reconnect = 0;
	const char *host = db->socket ? "localhost" : db->host;

	if (!m) {
		svc_error("db: mysql_init failed (out of memory)");
		return NULL;
	}
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
	mysql_options(m, MYSQL_OPT_RECONNECT, &reconnect);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (db->read_committed)
		mysql_options(m, MYSQL_INIT_COMMAND,
		              "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (!mysql_real_connect(m, host, db->user, db->password, db->database, db->port, db->socket,
	                        flags)) {
		svc_warn("db: cannot connect to %s: %s (%u)", db->socket ? db->socket : db->host,
		         mysql_error(m), mysql_errno(m));
		goto close_conn;
	}
	if (mysql_autocommit(m, 1)) {
		svc_warn("db: cannot set autocommit: %s (%u)", mysql_error(m), mysql_errno(m));
		goto close_conn;
	}
	return m;

close_conn:
	mysql_close(m);
	return NULL;
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
	    mysql_ping(slot->conn) != 0) {
		svc_info("db: pooled connection went away (%s); reconnecting",
		         mysql_error(slot->conn));
		mysql_close(slot->conn);
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
		broken = mysql_query(conn, "ROLLBACK") != 0;
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
		mysql_close(conn); /* outside the lock: it may wait on the socket */
}

bool svc_db_error_is_transient(MYSQL *conn)
{
	if (!conn)
		return true; /* no connection at all: the server is unreachable */
	switch (mysql_errno(conn)) {
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

/* Logs the error on `conn` with the statement and returns its class. */
static int db_fail(MYSQL *conn, const char *sql)
{
	bool transient = svc_db_error_is_transient(conn);
	size_t len = strlen(sql);

	svc_error("db: %s (%u, %s) in: %.*s%s", mysql_error(conn), mysql_errno(conn),
	          transient ? "transient" : "permanent",
	          (int)(len > DB_LOG_SQL_MAX ? DB_LOG_SQL_MAX : len), sql,
	          len > DB_LOG_SQL_MAX ? "..." : "");
	return transient ? SVC_ETRANSIENT : SVC_EPERMANENT;
}

int svc_db_exec(MYSQL *conn, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_real_query(conn, sql, strlen(sql)))
		return db_fail(conn, sql);
	/* A statement that unexpectedly returns rows must still be drained. */
	if (mysql_field_count(conn) > 0) {
		res = mysql_store_result(conn);
		if (!res)
			return db_fail(conn, sql);
		mysql_free_result(res);
	}
	return 0;
}

int svc_db_query(MYSQL *conn, const char *sql, MYSQL_RES **out)
{
	*out = NULL;
	if (mysql_real_query(conn, sql, strlen(sql)))
		return db_fail(conn, sql);
	*out = mysql_store_result(conn);
	if (*out)
		return 0;
	if (mysql_errno(conn))
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

int svc_sql_add_str(struct svc_buf *b, MYSQL *conn, const char *s)
{
	size_t len;
	char *esc;
	unsigned long n;
	int rc;

	if (!s)
		return svc_buf_adds(b, "NULL");
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
	n = mysql_real_escape_string(conn, esc, s, (unsigned long)len);
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

bool svc_db_ping(struct svc_db *db)
{
	MYSQL *conn = svc_db_acquire(db);
	MYSQL_RES *res = NULL;
	int rc;

	if (!conn)
		return false;
	rc = svc_db_query(conn, "SELECT 1", &res);
	mysql_free_result(res);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	return rc == 0;
}

/* ------------------------------------------------------------------ */
/* migrations                                                          */

struct migration {
	long version;
	char *name; /* file name, owned */
};

static int migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

static void migrations_free(struct migration *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].name);
	free(m);
}

/* Version of a file named NNN_description.sql, or -1 for any other name. */
static long migration_version(const char *name)
{
	size_t len = strlen(name);
	char *end;
	long v;

	if (name[0] < '0' || name[0] > '9' || len < 5 || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno || *end != '_' || v < 0 || v > INT_MAX)
		return -1;
	return v;
}

/* Lists the migration files of `dir` in version order into *out (caller
 * frees with migrations_free). SVC_EPERMANENT when the directory cannot be
 * read or two files share a version. */
static int migrations_list(const char *dir, struct migration **out, size_t *count)
{
	DIR *d = NULL;
	struct dirent *de;
	struct migration *list = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc = SVC_EPERMANENT;

	d = opendir(dir);
	if (!d) {
		svc_error("db: migrations directory %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		long v = migration_version(de->d_name);

		if (v < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				rc = SVC_ENOMEM;
				goto close_dir;
			}
			list = grown;
		}
		list[n].name = strdup(de->d_name);
		if (!list[n].name) {
			rc = SVC_ENOMEM;
			goto close_dir;
		}
		list[n++].version = v;
	}
	if (n > 0) /* an empty directory leaves list NULL, which qsort must not get */
		qsort(list, n, sizeof(*list), migration_cmp);
	for (size_t i = 1; i < n; i++) {
		if (list[i].version == list[i - 1].version) {
			svc_error("db: migrations %s and %s in %s share a version",
			          list[i - 1].name, list[i].name, dir);
			goto close_dir;
		}
	}
	*out = list;
	*count = n;
	list = NULL; /* handed out: nothing left to free below */
	n = 0;
	rc = 0;

close_dir:
	closedir(d);
	migrations_free(list, n);
out:
	return rc;
}

/* Reads the whole file `dir`/`name` into a NUL-terminated buffer. */
static int read_file(const char *dir, const char *name, struct svc_buf *out)
{
	char path[PATH_MAX], chunk[8192];
	FILE *f = NULL;
	size_t n;
	int rc = SVC_EPERMANENT;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		goto out;
	f = fopen(path, "rb");
	if (!f) {
		svc_error("db: cannot open migration %s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > (size_t)DB_MIGRATE_MAX_FILE) {
			svc_error("db: migration %s is larger than %ld bytes", path,
			          DB_MIGRATE_MAX_FILE);
			goto close_file;
		}
		if (svc_buf_add(out, chunk, n)) {
			rc = SVC_ENOMEM;
			goto close_file;
		}
	}
	if (ferror(f)) {
		svc_error("db: cannot read migration %s", path);
		goto close_file;
	}
	rc = 0;

close_file:
	fclose(f);
out:
	return rc;
}

/*
 * Runs a multi-statement script, draining every result; stops at the first
 * failing statement. An empty statement (a file, or its tail, of comments
 * only) is not an error.
 */
static int run_script(MYSQL *conn, const char *name, const char *sql, size_t len)
{
	MYSQL_RES *res;
	int status;
	unsigned stmt = 1;

	status = mysql_real_query(conn, sql, (unsigned long)len) ? 1 : 0;
	for (;;) {
		if (status > 0) {
			if (mysql_errno(conn) == ER_EMPTY_QUERY)
				return 0;
			svc_error("db: migration %s failed at statement %u: %s (%u)", name, stmt,
			          mysql_error(conn), mysql_errno(conn));
			return svc_db_error_is_transient(conn) ? SVC_ETRANSIENT : SVC_EPERMANENT;
		}
		res = mysql_store_result(conn);
		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(conn) > 0) {
			status = 1; /* a result set that could not be read */
			continue;
		}
		status = mysql_next_result(conn);
		if (status < 0)
			return 0;
		stmt++;
	}
}

/* 1 when `version` of `component` is recorded, 0 when not, or an error. */
static int migration_applied(MYSQL *conn, const char *component, long version)
{
	struct svc_buf sql;
	MYSQL_RES *res = NULL;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT 1 FROM schema_migrations WHERE component = ");
	svc_sql_add_str(&sql, conn, component);
	rc = svc_buf_addf(&sql, " AND version = %ld", version);
	if (rc)
		goto release_sql;
	rc = svc_db_query(conn, svc_buf_str(&sql), &res);
	if (rc)
		goto release_sql;
	rc = mysql_num_rows(res) > 0 ? 1 : 0;
	mysql_free_result(res);

release_sql:
	svc_buf_release(&sql);
	return rc;
}

/* Applies one file if not yet applied, and records it. */
static int migration_apply(MYSQL *conn, const char *component, const char *dir,
                           const struct migration *m)
{
	struct svc_buf script, sql;
	int rc;

	svc_buf_init(&script);
	svc_buf_init(&sql);
	rc = migration_applied(conn, component, m->version);
	if (rc < 0)
		goto release;
	if (rc == 1) {
		rc = 0;
		goto release;
	}
	rc = read_file(dir, m->name, &script);
	if (rc)
		goto release;
	svc_info("db: applying migration %s/%s", component, m->name);
	rc = run_script(conn, m->name, svc_buf_str(&script), script.len);
	if (rc)
		goto release;
	svc_buf_adds(&sql, "INSERT INTO schema_migrations (component, version, name, applied_at) "
	                   "VALUES (");
	svc_sql_add_str(&sql, conn, component);
	svc_buf_addf(&sql, ", %ld, ", m->version);
	svc_sql_add_str(&sql, conn, m->name);
	rc = svc_buf_adds(&sql, ", NOW(6))");
	if (!rc)
		rc = svc_db_exec(conn, svc_buf_str(&sql));

release:
	svc_buf_release(&sql);
	svc_buf_release(&script);
	return rc;
}

/* Takes the per-database migration lock: 0, or SVC_ETRANSIENT when another
 * instance holds it past our wait. */
static int migrate_lock(MYSQL *conn)
{
	char sql[160];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	snprintf(sql, sizeof(sql),
	         "SELECT GET_LOCK(CONCAT('svc_migrate.', IFNULL(DATABASE(), '')), %d)",
	         DB_MIGRATE_LOCK_WAIT_S);
	rc = svc_db_query(conn, sql, &res);
	if (rc)
		return rc;
	row = mysql_fetch_row(res);
	if (!row || !row[0] || strcmp(row[0], "1") != 0) {
		svc_warn("db: migration lock is held by another instance");
		rc = SVC_ETRANSIENT;
	}
	mysql_free_result(res);
	return rc;
}

int svc_db_migrate(struct svc_db *db, const char *component, const char *dir)
{
	static const char create_table[] =
	        "CREATE TABLE IF NOT EXISTS schema_migrations ("
	        " component VARCHAR(64) NOT NULL,"
	        " version INT UNSIGNED NOT NULL,"
	        " name VARCHAR(255) NOT NULL,"
	        " applied_at DATETIME(6) NOT NULL,"
	        " PRIMARY KEY (component, version)"
	        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
	struct migration *list = NULL;
	size_t count = 0;
	MYSQL *conn = NULL;
	int rc;

	rc = migrations_list(dir, &list, &count);
	if (rc)
		goto out;
	/* A connection of its own: multi-statement mode and a long read
	 * timeout must not leak into the pool. Closing it frees the lock even
	 * if RELEASE_LOCK is never reached. */
	pthread_once(&db_library_once, db_library_init);
	conn = db_connect(db, CLIENT_MULTI_STATEMENTS, DB_MIGRATE_READ_TIMEOUT_S);
	if (!conn) {
		rc = SVC_ETRANSIENT;
		goto free_list;
	}
	rc = migrate_lock(conn);
	if (rc)
		goto close_conn;
	rc = svc_db_exec(conn, create_table);
	for (size_t i = 0; !rc && i < count; i++)
		rc = migration_apply(conn, component, dir, &list[i]);
	if (svc_db_exec(conn, "DO RELEASE_LOCK(CONCAT('svc_migrate.', IFNULL(DATABASE(), '')))") &&
	    !rc)
		rc = SVC_ETRANSIENT;

close_conn:
	mysql_close(conn);
free_list:
	migrations_free(list, count);
out:
	if (rc == SVC_ENOMEM)
		rc = SVC_ETRANSIENT; /* the header promises transient or permanent */
	return rc;
}
