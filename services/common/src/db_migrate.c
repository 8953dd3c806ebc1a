/*
 * Schema migrations (svc_db_migrate in svc/db.h): the numbered SQL files of
 * a directory, applied in order on a connection of their own under a named
 * lock, each recorded in schema_migrations.
 */
#include "svc/db.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "svc/buf.h"
#include "svc/error.h"
#include "svc/log.h"

/* A migration may run DDL on big tables: its connection reads for longer. */
#define DB_MIGRATE_READ_TIMEOUT_S 600
/* How long one migrate call waits for another instance's migration lock. */
#define DB_MIGRATE_LOCK_WAIT_S 30
/* Refuse migration files bigger than this (they are hand-written SQL). */
#define DB_MIGRATE_MAX_FILE (16L * 1024 * 1024)

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

	status = svc__db_ops->real_query(conn, sql, (unsigned long)len) ? 1 : 0;
	for (;;) {
		if (status > 0) {
			if (svc__db_ops->errnum(conn) == ER_EMPTY_QUERY)
				return 0;
			svc_error("db: migration %s failed at statement %u: %s (%u)", name, stmt,
			          svc__db_ops->error(conn), svc__db_ops->errnum(conn));
			return svc_db_error_is_transient(conn) ? SVC_ETRANSIENT : SVC_EPERMANENT;
		}
		res = svc__db_ops->store_result(conn);
		if (res)
			svc__db_ops->free_result(res);
		else if (svc__db_ops->field_count(conn) > 0) {
			status = 1; /* a result set that could not be read */
			continue;
		}
		status = svc__db_ops->next_result(conn);
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
	rc = svc__db_ops->num_rows(res) > 0 ? 1 : 0;
	svc__db_ops->free_result(res);

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
	row = svc__db_ops->fetch_row(res);
	if (!row || !row[0] || strcmp(row[0], "1") != 0) {
		svc_warn("db: migration lock is held by another instance");
		rc = SVC_ETRANSIENT;
	}
	svc__db_ops->free_result(res);
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
	conn = svc__db_connect_own(db, CLIENT_MULTI_STATEMENTS, DB_MIGRATE_READ_TIMEOUT_S);
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
	svc__db_ops->close(conn);
free_list:
	migrations_free(list, count);
out:
	if (rc == SVC_ENOMEM)
		rc = SVC_ETRANSIENT; /* the header promises transient or permanent */
	return rc;
}
