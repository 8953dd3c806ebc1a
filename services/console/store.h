/*
 * The console's reads of order_db (read only: the console's database user
 * has SELECT only). Each runs in one snapshot (a read-only transaction) and
 * uses the order service's indexes: the status index for the sagas in
 * flight, the primary keys and (order_id, id) for one order's journey.
 */
#ifndef CONSOLE_STORE_H
#define CONSOLE_STORE_H

#include <jansson.h>
#include <mysql.h>

#define CONSOLE_OLDEST_MAX 50

/*
 * The sagas not finished: {"inFlight":{"PENDING":n,"PAYMENT_PENDING":n,
 * "COMPENSATING":n}, "oldest":[{"orderId","userId","status","step",
 * "createdAt","updatedAt","stepDeadline","ageMs","transitions":[...]}]}
 * with the `limit` oldest (1..CONSOLE_OLDEST_MAX) and their history (as in
 * console_store_journey). 0 and a new reference in *out, or SVC_* code.
 */
int console_store_sagas(MYSQL *conn, int limit, json_t **out);

/*
 * One order's journey: {"orderId","userId","status","step","totalAmount",
 * "currency","cancelReason","paymentId","idempotencyKey","createdAt",
 * "updatedAt","stepDeadline","lines":[{"productId","quantity","unitPrice"}],
 * "transitions":[{"from","to","step","eventType","eventId","detail","at",
 * "topic","partition","offset","processedAt"}]} (the event's topic,
 * partition and offset from processed_messages when the order service
 * consumed it: null for the transitions a request or a deadline made, and
 * for events claimed before those columns existed). Times are RFC 3339 UTC
 * with milliseconds. 0 and a new reference in *out, SVC_ENOTFOUND, or
 * another SVC_* code. `order_id` must be a UUID (checked by the caller).
 */
int console_store_journey(MYSQL *conn, const char *order_id, json_t **out);

#endif
