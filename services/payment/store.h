/*
 * The payments table (migrations/001_payment.sql): one row per order, so an
 * order is captured at most once. Plain reads and writes; which transitions
 * are allowed is decided in state.c.
 */
#ifndef PAY_STORE_H
#define PAY_STORE_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "services/payment/state.h"

struct pay_row {
	char order_id[37];
	char payment_id[37];
	int64_t amount; /* 0 for a VOIDED tombstone */
	char currency[4];
	enum pay_status status; /* PAY_NONE when there is no row */
	char gateway_ref[65];   /* charge id, "" when none */
	char reason[256];
	int64_t refunded;
	char created_at[32]; /* ISO-8601 UTC, filled by pay_row_load */
	char updated_at[32];
};

/*
 * Reads the order's row (FOR UPDATE when `lock`, inside the caller's
 * transaction). 0 with row->status PAY_NONE when absent; SVC_ETRANSIENT or
 * SVC_EPERMANENT on database errors.
 */
int pay_row_load(MYSQL *conn, const char *order_id, bool lock, struct pay_row *row);
/* Inserts `row`. 0, SVC_DUPLICATE when the order already has a row, or an error. */
int pay_row_insert(MYSQL *conn, const struct pay_row *row);
/* Writes status, gateway_ref, reason and refunded_amount of the order's row. */
int pay_row_update(MYSQL *conn, const struct pay_row *row);

/* The API representation {"orderId","paymentId","amount",...} (new reference). */
json_t *pay_row_json(const struct pay_row *row);

#endif
