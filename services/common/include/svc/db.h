/*
 * MySQL / MariaDB access: a fixed-size connection pool that reconnects by
 * itself, error classification, a string-escaping SQL builder and versioned
 * migrations. SQL must be accepted by MySQL 8.0 and MariaDB 10.11 alike.
 * The pool is thread-safe; a borrowed connection belongs to its borrower
 * until svc_db_release(). Every libmariadb call goes through the process's
 * client table (svc/db_ops.h), which a unit test may replace.
 */
#ifndef SVC_DB_H
#define SVC_DB_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "svc/buf.h"

struct svc_db_config {
	const char *host;     /* DB_HOST, default 127.0.0.1 */
	unsigned port;        /* DB_PORT, default 3306 */
	const char *socket;   /* DB_SOCKET: Unix socket path; preferred when set */
	const char *user;     /* DB_USER */
	const char *password; /* DB_PASSWORD */
	const char *database; /* DB_NAME */
	unsigned pool_size;   /* DB_POOL_SIZE, default 32 */
	unsigned timeout_s;   /* DB_TIMEOUT_S: connect/read/write timeout, default 5 */
	/* Every connection's transactions at READ COMMITTED (set at connect):
	 * for a pool that only claims work rows (the sidecar's outbox relay),
	 * which then begins with svc_db_begin(), one round trip less than
	 * svc_db_begin_claim(). Not from the environment; default false. */
	bool read_committed;
};

/* Fills `cfg` from the environment; strings point into the environment. */
void svc_db_config_from_env(struct svc_db_config *cfg);

struct svc_db;

/* Creates the pool; connections are opened lazily. NULL only on allocation
 * failure. The config strings are copied. */
struct svc_db *svc_db_open(const struct svc_db_config *cfg);
/* Closes every connection. All must have been released. Accepts NULL. */
void svc_db_free(struct svc_db *db);

/*
 * Borrows a connection (blocking while all are in use), connecting if needed.
 * NULL when the server cannot be reached: a transient condition.
 * Give it back with svc_db_release(); pass broken=true after a transient
 * error so the connection is closed and reopened next time.
 */
MYSQL *svc_db_acquire(struct svc_db *db);
void svc_db_release(struct svc_db *db, MYSQL *conn, bool broken);

/* True when the last error on `conn` may pass on retry: connection lost or
 * refused, server gone/shutting down, deadlock, lock wait timeout, read-only. */
bool svc_db_error_is_transient(MYSQL *conn);

/* Runs a statement without a result set. 0, SVC_ETRANSIENT or SVC_EPERMANENT
 * (error logged with the statement). */
int svc_db_exec(MYSQL *conn, const char *sql);
/* svc_db_exec for an INSERT whose duplicate key is an expected outcome (an
 * idempotent insert): the same codes, but a duplicate key (SVC_EPERMANENT,
 * svc_db_errno ER_DUP_ENTRY, which the caller reads) is logged at debug only. */
int svc_db_exec_dup_ok(MYSQL *conn, const char *sql);
/* Runs a query and stores its result in *out (caller frees with
 * svc_db_free_result). Same codes as svc_db_exec. */
int svc_db_query(MYSQL *conn, const char *sql, MYSQL_RES **out);
/* START TRANSACTION / COMMIT: 0, SVC_ETRANSIENT or SVC_EPERMANENT, as
 * svc_db_exec. After a failed COMMIT the transaction's outcome is unknown. */
int svc_db_begin(MYSQL *conn);
/*
 * Begins a READ COMMITTED transaction, for claiming work rows with
 * SELECT ... FOR UPDATE SKIP LOCKED (outbox relay, saga deadline scanner).
 * Under the default REPEATABLE READ such a scan also takes gap locks on the
 * range it read, which block every concurrent INSERT into that range (new
 * outbox rows, new orders) until the claimer commits.
 */
int svc_db_begin_claim(MYSQL *conn);
int svc_db_commit(MYSQL *conn);
/* Never fails from the caller's point of view; errors are logged. */
void svc_db_rollback(MYSQL *conn);

/*
 * The client calls outside the helpers above, through the process's client
 * table (svc/db_ops.h); each does what the libmariadb function of the same
 * name does. svc_db_real_query runs `len` bytes of `sql` and logs nothing:
 * 0 or non-zero, the error then in svc_db_errno/svc_db_error. A result set
 * belongs to the caller until svc_db_free_result (which accepts NULL); the
 * rows and lengths it hands out live as long as it does.
 */
int svc_db_real_query(MYSQL *conn, const char *sql, size_t len);
unsigned svc_db_errno(MYSQL *conn);
const char *svc_db_error(MYSQL *conn);
uint64_t svc_db_affected_rows(MYSQL *conn);
MYSQL_ROW svc_db_fetch_row(MYSQL_RES *res);
unsigned long *svc_db_fetch_lengths(MYSQL_RES *res);
uint64_t svc_db_num_rows(MYSQL_RES *res);
void svc_db_free_result(MYSQL_RES *res);

/* A BIGINT/INT column value of a fetched row; 0 for NULL or non-numeric
 * text (the schema prevents both). */
int64_t svc_db_col_i64(const char *s);

/* Appends `s` as a quoted, escaped SQL string literal, or NULL when s is NULL. */
int svc_sql_add_str(struct svc_buf *b, MYSQL *conn, const char *s);

/* Borrows a connection and runs SELECT 1. For readiness probes. */
bool svc_db_ping(struct svc_db *db);

/*
 * Applies the migrations in `dir` not yet applied for `component`. Files are
 * named NNN_description.sql and run in version order, each file in one go
 * (multi-statement); applied versions are recorded in schema_migrations
 * (component, version, name, applied_at). Serialized across instances with
 * GET_LOCK. 0, SVC_ETRANSIENT (server unreachable) or SVC_EPERMANENT.
 */
int svc_db_migrate(struct svc_db *db, const char *component, const char *dir);

/* How many of the pool's connections are borrowed now, and its size. */
void svc_db_pool_usage(struct svc_db *db, unsigned *in_use, unsigned *size);

struct svc_prom;
/* A collect function (svc/prom.h) for `db` (the argument, a struct svc_db *):
 * sets the gauges svc_db_pool_in_use and svc_db_pool_size. */
void svc_db_collect_metrics(struct svc_prom *r, void *db);

#endif
