/*
 * The MariaDB client under libsvc, as a table of function pointers (the way
 * Redis keeps ae.c over ae_epoll.c): every libmariadb call of the services,
 * the sidecar and libsvc goes through it, by way of the svc_db_* wrappers
 * (svc/db.h). The default table, svc_db_mariadb_ops, calls libmariadb; a
 * unit test installs its own (tests/unit/fake_db.h) to run the database
 * code without a server.
 *
 * Each member has the signature and the contract of the libmariadb function
 * it is named after (mysql_<member>; errnum is mysql_errno). A table
 * implements every member.
 */
#ifndef SVC_DB_OPS_H
#define SVC_DB_OPS_H

#include <mysql.h>

struct svc_db_ops {
	/* connections (the pool, svc/db.h) */
	int (*library_init)(void);
	MYSQL *(*init)(MYSQL *conn);
	int (*options)(MYSQL *conn, enum mysql_option option, const void *arg);
	MYSQL *(*real_connect)(MYSQL *conn, const char *host, const char *user, const char *passwd,
	                       const char *db, unsigned int port, const char *unix_socket,
	                       unsigned long flags);
	my_bool (*autocommit)(MYSQL *conn, my_bool on);
	int (*ping)(MYSQL *conn);
	void (*close)(MYSQL *conn);
	/* statements */
	int (*real_query)(MYSQL *conn, const char *sql, unsigned long len);
	int (*next_result)(MYSQL *conn);
	unsigned int (*field_count)(MYSQL *conn);
	my_ulonglong (*affected_rows)(MYSQL *conn);
	unsigned int (*errnum)(MYSQL *conn);
	const char *(*error)(MYSQL *conn);
	unsigned long (*real_escape_string)(MYSQL *conn, char *to, const char *from,
	                                    unsigned long len);
	/* result sets */
	MYSQL_RES *(*store_result)(MYSQL *conn);
	MYSQL_ROW (*fetch_row)(MYSQL_RES *res);
	unsigned long *(*fetch_lengths)(MYSQL_RES *res);
	my_ulonglong (*num_rows)(MYSQL_RES *res);
	void (*free_result)(MYSQL_RES *res);
};

/* libmariadb's functions. */
extern const struct svc_db_ops svc_db_mariadb_ops;

/*
 * Makes `ops` the process's database client (NULL: svc_db_mariadb_ops).
 * Borrowed: it must outlive every database call. Call it before any thread
 * starts and before svc_db_open(), and not while a connection is open: the
 * table is read without a lock, and a connection belongs to the table that
 * opened it.
 */
void svc_db_set_ops(const struct svc_db_ops *ops);

#endif
