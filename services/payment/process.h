/*
 * The payment core, run by the consumer (consumer.c) for the saga's
 * ProcessPayment and RefundPayment commands and for the orders' outcomes
 * (OrderConfirmed, OrderCancelled). Money moves only here, for the saga: no
 * API charges or refunds. A job runs in two halves:
 *   pay_job_prepare  outside any transaction: inserts the REQUESTED row
 *                    (+PaymentRequested) in its own short transaction
 *                    (shared by the commands of a batch: pay_jobs_prepare,
 *                    pay_requested_run), or reads the row the order
 *                    already has, then calls the gateway (one call for a
 *                    batch's charges); idempotent.
 *   pay_job_apply    inside the caller's transaction: re-reads the row FOR
 *                    UPDATE (in a batch transaction, the batch's locked copy:
 *                    batch.h), writes the step state.c decides, emits the
 *                    event; records an order's outcome.
 *
 * Refunds: RefundPayment refunds (or voids) the order's one payment: not
 * when it names another payment id, nor when the order is known to be
 * confirmed (both are refused, for the DLQ). OrderCancelled refunds a
 * capture the order still holds, by the same path (the safety net behind
 * the saga's own RefundPayment). The gateway's refund key is per order and
 * a REFUNDED row is never refunded again, so two refunds of one capture,
 * from either path, move its money once.
 */
#ifndef PAY_PROCESS_H
#define PAY_PROCESS_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

#include "services/payment/state.h"
#include "services/payment/store.h"

struct svc_ctx;
struct pay_job;
struct pay_charge;
struct pay_reconciler;

/* The service's own state (svc_ctx.user). */
struct pay_service {
	char sidecar_url[256]; /* SIDECAR_URL, default http://127.0.0.1:9082 */
	/* Writes a group of REQUESTED records in one transaction
	 * (pay_requested_run): main.c sets pay_jobs_write_requested with the
	 * svc_ctx as write_arg, tests a fake with the same contract. */
	int (*write_requested)(void *arg, struct pay_job *const *jobs, size_t n);
	void *write_arg;
	struct pay_reconciler *reconciler; /* reconcile.h */
};

enum pay_job_kind {
	PAY_JOB_PROCESS,         /* ProcessPayment */
	PAY_JOB_REFUND,          /* RefundPayment */
	PAY_JOB_ORDER_CONFIRMED, /* OrderConfirmed: record it; its capture is settled */
	PAY_JOB_ORDER_CANCELLED, /* OrderCancelled: record it, refund a capture left */
};

struct pay_job {
	/* Input. */
	enum pay_job_kind kind;
	char order_id[37];
	/* PROCESS: the payment id the saga named ("" none: one is made here).
	 * REFUND: the payment to refund ("" none: the order's, whichever). */
	char payment_id[37];
	char user_id[SVC_ID_MAX + 1]; /* PROCESS: who pays ("" unknown) */
	int64_t amount;               /* PROCESS: the amount to charge */
	char currency[4];             /* PROCESS */
	char causation_id[40];        /* the event's id */
	char refund_reason[256];      /* REFUND: why (from the command) */
	/* Set by prepare, read by apply. */
	enum pay_outcome outcome;
	char gateway_ref[65];
	char reason[256];
	int requested_rc; /* the REQUESTED record's own answer (pay_requested_run) */
	/* The row as apply left it (or as prepare last read it). */
	struct pay_row row;
};

/* Returns 0 (apply next), SVC_IGNORED (nothing to do), SVC_ETRANSIENT or
 * SVC_EPERMANENT with the cause in `err`. */
int pay_job_prepare(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen);
/* The same for jobs[0..n) (of distinct orders) at once: codes[i] and
 * errs[i] (errlen bytes) are job i's. The ProcessPayment jobs among them
 * write their REQUESTED records in one transaction and are charged in one
 * call to the sidecar. pay_job_prepare is this with one job. */
void pay_jobs_prepare(struct svc_ctx *ctx, struct pay_job *const *jobs, int *codes,
                      char *const *errs, size_t errlen, size_t n);
/* Returns 0, SVC_IGNORED, SVC_ETRANSIENT or SVC_EPERMANENT (cause in `err`). */
int pay_job_apply(struct svc_ctx *ctx, struct svc_tx *tx, struct pay_job *job, char *err,
                  size_t errlen);

/*
 * Inserts the REQUESTED rows jobs[i]->row of n ProcessPayment jobs and their
 * PaymentRequested events in one transaction, and commits: 0, SVC_DUPLICATE
 * (an order has a row already: nothing kept), SVC_ECONFLICT (a payment id is
 * another order's: nothing kept) or an error. `arg` is the svc_ctx. The
 * write_requested of struct pay_service. Runs its own transaction (the
 * events deferred to its commit, svc/defer.h) on a pooled connection.
 */
int pay_jobs_write_requested(void *arg, struct pay_job *const *jobs, size_t n);

/*
 * Writes the REQUESTED records of a batch, jobs[0..n) with their REQUESTED
 * row in job->row: in one transaction with ps->write_requested; when an
 * order of a group of several has a row already or names a taken payment
 * id (SVC_DUPLICATE, SVC_ECONFLICT: nothing of the group kept), each record
 * alone so that each learns its own answer. Sets every job->requested_rc
 * (0, SVC_DUPLICATE, SVC_ECONFLICT or the write's error) and returns the
 * code that answered the whole group (0 after records written alone).
 */
int pay_requested_run(struct pay_service *ps, struct pay_job *const *jobs, size_t n);

/*
 * Charges a batch with pay_gateway_charge_many, at most
 * SVC_EGRESS_BATCH_MAX a call; every answer is in its charge.
 */
void pay_charges_run(struct pay_service *ps, struct pay_charge *const *charges, size_t n);

/* Reads the order's row with a pooled connection (no lock). */
int pay_row_fetch(struct svc_ctx *ctx, const char *order_id, struct pay_row *row);

#endif
