/*
 * The payment core, shared by the ProcessPayment/RefundPayment consumer
 * (consumer.c) and POST /api/payments (api.c). A job runs in two halves:
 *   pay_job_prepare  outside any transaction: inserts the REQUESTED row
 *                    (+PaymentRequested) in its own short transaction, or
 *                    reads the row the order already has, then calls the
 *                    gateway; idempotent.
 *   pay_job_apply    inside the caller's transaction: re-reads the row FOR
 *                    UPDATE, writes the step state.c decides, emits the event.
 */
#ifndef PAY_PROCESS_H
#define PAY_PROCESS_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

#include "services/payment/state.h"
#include "services/payment/store.h"

struct svc_ctx;

/* The service's own state (svc_ctx.user). */
struct pay_service {
	char sidecar_url[256]; /* SIDECAR_URL, default http://127.0.0.1:9082 */
};

enum pay_job_kind { PAY_JOB_PROCESS, PAY_JOB_REFUND };

struct pay_job {
	/* Input. */
	enum pay_job_kind kind;
	char order_id[37];
	int64_t amount;          /* PROCESS: the amount to charge */
	char currency[4];        /* PROCESS */
	char causation_id[40];   /* the command's event id; "" when by hand */
	char refund_reason[256]; /* REFUND: why (from the command) */
	/* Set by prepare, read by apply. */
	enum pay_outcome outcome;
	char gateway_ref[65];
	char reason[256];
	/* The row as apply left it (or as prepare last read it). */
	struct pay_row row;
};

/* Returns 0 (apply next), SVC_IGNORED (nothing to do), SVC_ETRANSIENT or
 * SVC_EPERMANENT with the cause in `err`. */
int pay_job_prepare(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen);
/* Returns 0, SVC_IGNORED, SVC_ETRANSIENT or SVC_EPERMANENT (cause in `err`). */
int pay_job_apply(struct svc_ctx *ctx, MYSQL *conn, struct pay_job *job, char *err, size_t errlen);

/* Reads the order's row with a pooled connection (no lock). */
int pay_row_fetch(struct svc_ctx *ctx, const char *order_id, struct pay_row *row);

#endif
