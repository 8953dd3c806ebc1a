/*
 * The database client table (svc/db_ops.h) and the svc_db_* wrappers over
 * it (svc/db.h): the only place libmariadb's functions are named.
 */
#include "svc/db_ops.h"

#include "db_internal.h"
#include "svc/db.h"

static int mariadb_library_init(void)
{
	return mysql_library_init(0, NULL, NULL);
}

const struct svc_db_ops svc_db_mariadb_ops = {
        .library_init = mariadb_library_init,
        .init = mysql_init,
        .options = mysql_options,
        .real_connect = mysql_real_connect,
        .autocommit = mysql_autocommit,
        .ping = mysql_ping,
        .close = mysql_close,
        .real_query = mysql_real_query,
        .next_result = mysql_next_result,
        .field_count = mysql_field_count,
        .affected_rows = mysql_affected_rows,
        .errnum = mysql_errno,
        .error = mysql_error,
        .real_escape_string = mysql_real_escape_string,
        .store_result = mysql_store_result,
        .fetch_row = mysql_fetch_row,
        .fetch_lengths = mysql_fetch_lengths,
        .num_rows = mysql_num_rows,
        .free_result = mysql_free_result,
};

const struct svc_db_ops *svc__db_ops = &svc_db_mariadb_ops;

void svc_db_set_ops(const struct svc_db_ops *ops)
{
	svc__db_ops = ops ? ops : &svc_db_mariadb_ops;
}

int svc_db_real_query(MYSQL *conn, const char *sql, size_t len)
{
	return svc__db_ops->real_query(conn, sql, (unsigned long)len);
}

unsigned svc_db_errno(MYSQL *conn)
{
	return svc__db_ops->errnum(conn);
}

const char *svc_db_error(MYSQL *conn)
{
	return svc__db_ops->error(conn);
}

uint64_t svc_db_affected_rows(MYSQL *conn)
{
	return (uint64_t)svc__db_ops->affected_rows(conn);
}

MYSQL_ROW svc_db_fetch_row(MYSQL_RES *res)
{
	return svc__db_ops->fetch_row(res);
}

unsigned long *svc_db_fetch_lengths(MYSQL_RES *res)
{
	return svc__db_ops->fetch_lengths(res);
}

uint64_t svc_db_num_rows(MYSQL_RES *res)
{
	return (uint64_t)svc__db_ops->num_rows(res);
}

void svc_db_free_result(MYSQL_RES *res)
{
	if (res)
		svc__db_ops->free_result(res);
}
