/*
 * Shared inside libsvc's database code (db.c, db_migrate.c); not for
 * services.
 */
#ifndef SVC_DB_INTERNAL_H
#define SVC_DB_INTERNAL_H

#include <mysql.h>

#include "svc/db.h"
#include "svc/db_ops.h"

/* The process's client table (svc_db_set_ops); never NULL. */
extern const struct svc_db_ops *svc__db_ops;

/*
 * A connection of its own (not from the pool) with the pool's settings,
 * `flags` as extra client flags and `read_timeout_s` as its read timeout.
 * Caller owns it (svc__db_ops->close). NULL when the server cannot be reached
 * (logged).
 */
MYSQL *svc__db_connect_own(const struct svc_db *db, unsigned long flags, unsigned read_timeout_s);

#endif
