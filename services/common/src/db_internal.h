/*
 * Shared inside libsvc's database code (db.c, db_migrate.c); not for
 * services.
 */
#ifndef SVC_DB_INTERNAL_H
#define SVC_DB_INTERNAL_H

#include <mysql.h>

#include "svc/db.h"

/*
 * A connection of its own (not from the pool) with the pool's settings,
 * `flags` as extra client flags and `read_timeout_s` as its read timeout.
 * Caller owns it (mysql_close). NULL when the server cannot be reached
 * (logged).
 */
MYSQL *svc__db_connect_own(const struct svc_db *db, unsigned long flags, unsigned read_timeout_s);

#endif
