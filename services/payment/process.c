/*
 * Payment core (process.h). The gateway is called only from prepare, never
 * while a transaction holds row locks; the transaction then re-reads the
 * row and lets pay_apply_step decide, so a RefundPayment that voided the
 * payment meanwhile is never overwritten by a capture.
 */
#include "services/payment/process.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "services/payment/batch.h"
#include "services/payment/gateway.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/egress.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/service.h"

#define VOIDED_REASON "payment voided"

int pay_row_fetch(struct svc_ctx *ctx, const char *order_id, struct pay_row *row)
{
	MYSQL *conn = svc_db_acquire(ctx->db);
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	rc = pay_row_load(conn, order_id, false, row);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* Adds the event `type` about `row` to the outbox. */
static int emit(struct svc_ctx *ctx, struct svc_tx *tx, const char *type, const struct pay_job *job,
                const struct pay_row *row, const char *reason)
{
	int64_t amount = row->amount > 0 ? row->amount : job->amount;
	json_t *data = json_pack("{s:s, s:s, s:I}", "orderId", row->order_id, "paymentId",
	                         row->payment_id, "amount", (json_int_t)amount);

	if (!data)
		return SVC_ENOMEM;
	if (!strcmp(type, EV_PAYMENT_REQUESTED) || !strcmp(type, EV_PAYMENT_COMPLETED))
		json_object_set_new(data, "currency", json_string(row->currency));
	if (!strcmp(type, EV_PAYMENT_COMPLETED))
		json_object_set_new(data, "gatewayRef", json_string(row->gateway_ref));
	if (!strcmp(type, EV_PAYMENT_FAILED) || !strcmp(type, EV_PAYMENT_REFUNDED))
		json_object_set_new(data, "reason", json_string(reason));
	return svc_outbox_emit(tx, TOPIC_PAYMENT_EVENTS, type, row->order_id, ctx->svc->source,
	                       job->causation_id[0] ? job->causation_id : NULL, data);
}

int pay_jobs_write_requested(void *arg, struct pay_job *const *jobs, size_t n)
{
	struct svc_ctx *ctx = arg;
	const struct pay_row **rows = calloc(n ? n : 1, sizeof(*rows));
	struct svc_tx tx;
	MYSQL *conn = NULL;
	size_t i;
	int rc = SVC_ENOMEM;

	if (!rows)
		return rc;
	for (i = 0; i < n; i++)
		rows[i] = &jobs[i]->row;
	conn = svc_db_acquire(ctx->db);
	svc_tx_init(&tx, conn);
	rc = conn ? svc_defer_start(&tx) : SVC_ETRANSIENT; /* the n events as one INSERT */
	if (rc)
		goto release;
	rc = pay_rows_insert(conn, rows, n);
	for (i = 0; i < n && !rc; i++)
		rc = emit(ctx, &tx, EV_PAYMENT_REQUESTED, jobs[i], rows[i], NULL);
	rc = svc_defer_finish(&tx, rc, NULL);
	svc_tx_release(&tx);
	if (!rc)
		svc_outbox_wake();
release:
	if (conn)
		svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	free(rows);
	return rc;
}

int pay_requested_run(struct pay_service *ps, struct pay_job *const *jobs, size_t n)
{
	int rc = ps->write_requested(ps->write_arg, jobs, n);
	size_t i;

	if ((rc == SVC_DUPLICATE || rc == SVC_ECONFLICT) && n > 1) { /* nothing of the group kept */
		for (i = 0; i < n; i++)
			jobs[i]->requested_rc = ps->write_requested(ps->write_arg, &jobs[i], 1);
		return 0;
	}
	for (i = 0; i < n; i++)
		jobs[i]->requested_rc = rc;
	return rc;
}

void pay_charges_run(struct pay_service *ps, struct pay_charge *const *charges, size_t n)
{
	for (size_t at = 0; at < n; at += SVC_EGRESS_BATCH_MAX)
		pay_gateway_charge_many(ps->sidecar_url, charges + at,
		                        n - at < SVC_EGRESS_BATCH_MAX ? n - at
		                                                      : SVC_EGRESS_BATCH_MAX);
}

/* A new row's payment id: the one the saga named, else a new one (commands
 * sent before the saga named its payments). */
static void set_payment_id(const struct pay_job *job, struct pay_row *row)
{
	if (job->payment_id[0])
		snprintf(row->payment_id, sizeof(row->payment_id), "%s", job->payment_id);
	else
		svc_uuid7(row->payment_id);
}

/* Fills job->row with the REQUESTED row a first ProcessPayment inserts. */
static void requested_row(struct pay_job *job)
{
	struct pay_row *row = &job->row;

	memset(row, 0, sizeof(*row));
	snprintf(row->order_id, sizeof(row->order_id), "%s", job->order_id);
	set_payment_id(job, row);
	row->amount = job->amount;
	snprintf(row->currency, sizeof(row->currency), "%s", job->currency);
	snprintf(row->user_id, sizeof(row->user_id), "%s", job->user_id);
	row->status = PAY_REQUESTED;
}

/*
 * Records the REQUESTED rows of jobs[0..n) and their PaymentRequested in one
 * short transaction of their own (pay_requested_run: each job learns its
 * own answer in requested_rc), committed before the gateway is called, so
 * each request is on record even if the charge's answer never arrives.
 *
 * This commit cannot be folded into the final one: it is what tells a
 * RefundPayment that arrives during or after the charge (a step deadline)
 * that a charge may have reached the gateway. Without it the refund would
 * leave a tombstone, and a ProcessPayment redelivered after a crash would
 * then fail the payment without replaying, so a capture would never be
 * refunded. Holding one transaction open across the gateway call instead
 * has the same hole after a crash (the insert rolls back) and holds a row
 * lock and a pooled connection for up to the gateway's timeout.
 */
static void create_requested(struct svc_ctx *ctx, struct pay_job *const *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		requested_row(jobs[i]);
	(void)pay_requested_run(ctx->user, jobs, n); /* each job has its answer */
}

/*
 * Decides what ProcessPayment does once its REQUESTED record was tried
 * (create_requested). The usual case is a first delivery with no row yet,
 * so it inserts first and reads the row only when one exists (one round
 * trip fewer than reading first).
 */
static int plan_process(struct svc_ctx *ctx, struct pay_job *job, enum pay_plan *plan)
{
	int rc = job->requested_rc, attempt;

	for (attempt = 0; rc == SVC_DUPLICATE && attempt < 3; attempt++) {
		rc = pay_row_fetch(ctx, job->order_id, &job->row);
		if (rc)
			return rc;
		if (job->row.amount > 0) { /* charge what was requested first */
			job->amount = job->row.amount;
			snprintf(job->currency, sizeof(job->currency), "%s", job->row.currency);
		}
		*plan = pay_process_plan(job->row.status, job->row.amount);
		if (*plan != PAY_PLAN_CREATE)
			return 0;
		create_requested(ctx, &job, 1); /* cannot happen: rows are never deleted */
		rc = job->requested_rc;
	}
	if (rc == SVC_DUPLICATE)
		return SVC_ETRANSIENT;
	*plan = PAY_PLAN_CHARGE;
	return rc;
}

/* Maps a failed gateway answer to a result code with the cause in err. */
static int gateway_failure(const struct pay_gw_answer *gw, const char *what, char *err,
                           size_t errlen)
{
	snprintf(err, errlen, "gateway %s: %s", what, gw->reason);
	return gw->result == PAY_GW_PERMANENT ? SVC_EPERMANENT : SVC_ETRANSIENT;
}

/* Refunds the capture just made for a payment that was voided meanwhile. */
static int refund_voided(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen)
{
	struct pay_service *ps = ctx->user;
	struct pay_gw_answer gw;

	pay_gateway_refund(ps->sidecar_url, job->order_id, job->gateway_ref, job->amount, &gw);
	if (gw.result != PAY_GW_OK)
		return gateway_failure(&gw, "refund", err, errlen);
	job->outcome = PAY_OUT_VOID_REFUNDED;
	snprintf(job->reason, sizeof(job->reason), "%s after capture; refunded", VOIDED_REASON);
	svc_warn("order %s: charge %s captured after the payment was voided; refunded",
	         job->order_id, job->gateway_ref);
	return 0;
}

/* A ProcessPayment in flight: its job, its plan, its charge. */
struct process {
	struct pay_job *job;
	int *code;
	char *err;
	enum pay_plan plan;
	bool charge_due; /* the plan charges: *code is set once charged */
	struct pay_charge charge;
};

/* Its plan, once the REQUESTED record was tried: *p->code, or charge_due. */
static void process_plan(struct svc_ctx *ctx, struct process *p, size_t errlen)
{
	struct pay_job *job = p->job;
	int rc;

	p->plan = PAY_PLAN_DONE;
	rc = plan_process(ctx, job, &p->plan);
	if (rc == SVC_ECONFLICT) {
		snprintf(p->err, errlen, "payment id %s is another order's", job->payment_id);
		*p->code = SVC_EPERMANENT;
	} else if (rc) {
		*p->code = rc;
	} else if (p->plan == PAY_PLAN_DONE) {
		*p->code = SVC_IGNORED;
	} else if (p->plan == PAY_PLAN_FAIL_VOIDED) {
		job->outcome = PAY_OUT_VOID_FAILED;
		snprintf(job->reason, sizeof(job->reason), "%s", VOIDED_REASON);
		*p->code = 0;
	} else {
		/* no answer until pay_charges_run gives one */
		p->charge = (struct pay_charge){.order_id = job->order_id,
		                                .amount = job->amount,
		                                .currency = job->currency,
		                                .out = {.result = PAY_GW_TRANSIENT}};
		snprintf(p->charge.out.reason, sizeof(p->charge.out.reason), "not sent");
		p->charge_due = true;
	}
}

/* Its outcome from the gateway's answer to its charge. */
static void process_charged(struct svc_ctx *ctx, struct process *p, size_t errlen)
{
	const struct pay_gw_answer *gw = &p->charge.out;
	struct pay_job *job = p->job;

	if (gw->result == PAY_GW_DECLINED) {
		job->outcome = PAY_OUT_DECLINED;
		snprintf(job->reason, sizeof(job->reason), "payment declined: %s", gw->reason);
		*p->code = 0;
	} else if (gw->result != PAY_GW_OK) {
		*p->code = gateway_failure(gw, "charge", p->err, errlen);
	} else {
		snprintf(job->gateway_ref, sizeof(job->gateway_ref), "%s", gw->ref);
		job->outcome = PAY_OUT_CAPTURED;
		*p->code = p->plan == PAY_PLAN_CHARGE_VOID ? refund_voided(ctx, job, p->err, errlen)
		                                           : 0;
	}
}

/*
 * Prepares the ProcessPayment jobs of procs[0..n) together: their REQUESTED
 * records in one transaction, their charges in one call to the sidecar
 * (pay_charges_run).
 *
 * A RefundPayment may void the payment while the gateway is charged. That is
 * not re-read here: pay_job_apply reads the row FOR UPDATE, pay_apply_step
 * answers SVC_ETRANSIENT for a capture on a VOIDED row, and the redelivered
 * command then finds VOIDED and replays the charge (PAY_PLAN_CHARGE_VOID)
 * and refunds it. That costs a retry in a rare race, not a read per command.
 */
static void prepare_process(struct svc_ctx *ctx, struct process *procs, size_t n, size_t errlen)
{
	struct pay_job **jobs = calloc(n ? n : 1, sizeof(*jobs));
	struct pay_charge **charges = calloc(n ? n : 1, sizeof(*charges));
	size_t i, m = 0;

	if (!jobs || !charges) {
		for (i = 0; i < n; i++) {
			snprintf(procs[i].err, errlen, "out of memory");
			*procs[i].code = SVC_ETRANSIENT;
		}
		goto release;
	}
	for (i = 0; i < n; i++)
		jobs[i] = procs[i].job;
	create_requested(ctx, jobs, n);
	for (i = 0; i < n; i++) {
		process_plan(ctx, &procs[i], errlen);
		if (procs[i].charge_due)
			charges[m++] = &procs[i].charge;
	}
	pay_charges_run(ctx->user, charges, m);
	for (i = 0; i < n; i++)
		if (procs[i].charge_due)
			process_charged(ctx, &procs[i], errlen);
release:
	free(jobs);
	free(charges);
}

/*
 * Whether a RefundPayment or an OrderCancelled may touch the order's
 * payment: 0, or SVC_EPERMANENT (cause in err) when it names another payment
 * than the order's, or when the order is known to be confirmed. The saga
 * refunds only orders it cancels or payments it did not ask for, and an
 * order ends once (its outcomes come in order, on one partition): a refund
 * of a confirmed order's one payment would take back the capture that
 * confirmed it.
 */
static int refund_allowed(struct svc_ctx *ctx, const struct pay_job *job, char *err, size_t errlen)
{
	enum pay_order_outcome outcome = PAY_ORDER_UNKNOWN;
	MYSQL *conn;
	int rc;

	if (job->payment_id[0] && job->row.status != PAY_NONE &&
	    strcasecmp(job->payment_id, job->row.payment_id) != 0) {
		snprintf(err, errlen,
		         "RefundPayment for payment %s; the order's payment is %s: "
		         "not refunded",
		         job->payment_id, job->row.payment_id);
		return SVC_EPERMANENT;
	}
	conn = svc_db_acquire(ctx->db);
	if (!conn)
		return SVC_ETRANSIENT;
	rc = pay_outcome_load(conn, job->order_id, &outcome);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	if (rc == 0 && outcome == PAY_ORDER_CONFIRMED) {
		snprintf(err, errlen, "order %s is confirmed: its payment is not refunded (%s)",
		         job->order_id,
		         job->kind == PAY_JOB_REFUND ? "RefundPayment" : "OrderCancelled");
		rc = SVC_EPERMANENT;
	}
	return rc;
}

/* The plan of a RefundPayment (which may void) or an OrderCancelled (which
 * refunds a capture left, and only that). */
static enum pay_refund_plan refund_plan(const struct pay_job *job)
{
	const struct pay_row *row = &job->row;

	if (job->kind == PAY_JOB_ORDER_CANCELLED)
		return pay_cancel_plan(row->status, row->amount, row->refunded);
	return pay_refund_plan(row->status);
}

static int prepare_refund(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen)
{
	struct pay_service *ps = ctx->user;
	struct pay_gw_answer gw;
	enum pay_refund_plan plan = PAY_REFUND_NOTHING;
	int rc = pay_row_fetch(ctx, job->order_id, &job->row);

	if (rc == 0)
		plan = refund_plan(job);
	/* (checked only where something would be touched: most cancelled
	 * orders have no payment) */
	if (rc == 0 && plan != PAY_REFUND_NOTHING)
		rc = refund_allowed(ctx, job, err, errlen);
	if (rc)
		return rc;
	snprintf(job->reason, sizeof(job->reason), "%s",
	         job->refund_reason[0] ? job->refund_reason : "refund requested");
	switch (plan) {
	case PAY_REFUND_NOTHING:
		/* an outcome is recorded all the same (apply) */
		if (job->kind != PAY_JOB_ORDER_CANCELLED)
			return SVC_IGNORED;
		job->outcome = PAY_OUT_NO_MONEY;
		return 0;
	case PAY_REFUND_VOID:
		job->outcome = PAY_OUT_VOID;
		return 0;
	case PAY_REFUND_CALL:
		break;
	}
	pay_gateway_refund(ps->sidecar_url, job->order_id, job->row.gateway_ref,
	                   job->row.amount - job->row.refunded, &gw);
	if (gw.result != PAY_GW_OK)
		return gateway_failure(&gw, "refund", err, errlen);
	job->outcome = PAY_OUT_REFUNDED;
	return 0;
}

/* pay_job_prepare of a job that is not a ProcessPayment. */
static int prepare_other(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen)
{
	switch (job->kind) {
	case PAY_JOB_PROCESS: /* prepare_process */
	case PAY_JOB_ORDER_CONFIRMED:
		return 0; /* nothing outside: apply records it */
	case PAY_JOB_ORDER_CANCELLED:
		snprintf(job->refund_reason, sizeof(job->refund_reason), "order cancelled");
		/* fall through */
	case PAY_JOB_REFUND:
		break;
	}
	return prepare_refund(ctx, job, err, errlen);
}

void pay_jobs_prepare(struct svc_ctx *ctx, struct pay_job *const *jobs, int *codes,
                      char *const *errs, size_t errlen, size_t n)
{
	struct process *procs = calloc(n ? n : 1, sizeof(*procs));
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (jobs[i]->kind != PAY_JOB_PROCESS) {
			codes[i] = prepare_other(ctx, jobs[i], errs[i], errlen);
		} else if (!procs) {
			snprintf(errs[i], errlen, "out of memory");
			codes[i] = SVC_ETRANSIENT;
		} else {
			procs[k++] =
			        (struct process){.job = jobs[i], .code = &codes[i], .err = errs[i]};
		}
	}
	if (k > 0)
		prepare_process(ctx, procs, k, errlen);
	free(procs);
}

int pay_job_prepare(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen)
{
	int code = SVC_ETRANSIENT;

	pay_jobs_prepare(ctx, &job, &code, &err, errlen, 1);
	return code;
}

/* Fills the fields of `row` that the outcome changes (status is set by the caller). */
static void write_outcome(const struct pay_job *job, struct pay_row *row)
{
	switch (job->outcome) {
	case PAY_OUT_CAPTURED:
		snprintf(row->gateway_ref, sizeof(row->gateway_ref), "%s", job->gateway_ref);
		row->unconfirmed = true; /* until its order confirms */
		break;
	case PAY_OUT_DECLINED:
		if (row->status == PAY_DECLINED)
			snprintf(row->reason, sizeof(row->reason), "%s", job->reason);
		break;
	case PAY_OUT_VOID_REFUNDED:
		snprintf(row->gateway_ref, sizeof(row->gateway_ref), "%s", job->gateway_ref);
		/* fall through */
	case PAY_OUT_REFUNDED:
		row->refunded = row->amount;
		row->unconfirmed = false;
		snprintf(row->reason, sizeof(row->reason), "%s", job->reason);
		break;
	case PAY_OUT_VOID:
		snprintf(row->reason, sizeof(row->reason), "%s", job->reason);
		break;
	case PAY_OUT_VOID_FAILED:
	case PAY_OUT_NO_MONEY:
		break;
	}
}

/* Writes the step state.c decides for what prepare found out. */
static int apply_step(struct svc_ctx *ctx, struct svc_tx *tx, struct pay_job *job, char *err,
                      size_t errlen)
{
	struct pay_row *row = &job->row;
	struct pay_step st;
	int rc = pay_batch_load(tx, job->order_id, row);

	if (rc)
		return rc;
	st = pay_apply_step(job->outcome, row->status);
	if (st.rc) {
		if (st.rc == SVC_ETRANSIENT)
			snprintf(err, errlen, "payment of %s became %s meanwhile", job->order_id,
			         pay_status_name(row->status));
		return st.rc;
	}
	if (row->status == PAY_NONE) { /* a tombstone: nothing was ever requested */
		set_payment_id(job, row);
		row->amount = 0;
		snprintf(row->currency, sizeof(row->currency), "%s",
		         job->currency[0] ? job->currency : "USD");
		row->status = st.next;
		write_outcome(job, row);
		rc = pay_batch_store(tx, row, true);
		if (rc == SVC_DUPLICATE) /* a ProcessPayment inserted first: decide again */
			rc = SVC_ETRANSIENT;
		else if (rc == SVC_ECONFLICT) /* the payment id named is another order's */
			rc = SVC_EPERMANENT;
	} else {
		row->status = st.next;
		write_outcome(job, row);
		rc = pay_batch_store(tx, row, false);
	}
	if (!rc && st.event)
		rc = emit(ctx, tx, st.event, job, row,
		          row->status == PAY_VOIDED ? VOIDED_REASON : job->reason);
	if (rc)
		snprintf(err, errlen, "cannot record the payment of %s: %s", job->order_id,
		         svc_strerror(rc));
	else /* the happy path is routine (debug); the rest says what happened (info) */
		svc_log(row->status == PAY_REQUESTED || row->status == PAY_CAPTURED ? SVC_LOG_DEBUG
		                                                                    : SVC_LOG_INFO,
		        "order %s: payment %s (%s)", job->order_id, pay_status_name(row->status),
		        st.event ? st.event : "no event");
	return rc;
}

/* OrderConfirmed: recorded, and the order's capture is settled: no longer
 * one the reconciliation looks at. */
static int apply_confirmed(struct svc_tx *tx, struct pay_job *job)
{
	struct pay_row *row = &job->row;
	int rc = pay_outcome_record(tx, job->order_id, PAY_ORDER_CONFIRMED);

	if (rc == 0)
		rc = pay_batch_load(tx, job->order_id, row);
	if (rc == 0 && row->status != PAY_CAPTURED)
		svc_warn("order %s confirmed, but its payment is %s", job->order_id,
		         pay_status_name(row->status));
	if (rc == 0 && row->unconfirmed) {
		row->unconfirmed = false;
		rc = pay_batch_store(tx, row, false);
	}
	return rc;
}

int pay_job_apply(struct svc_ctx *ctx, struct svc_tx *tx, struct pay_job *job, char *err,
                  size_t errlen)
{
	int rc;

	switch (job->kind) {
	case PAY_JOB_ORDER_CONFIRMED:
		rc = apply_confirmed(tx, job);
		break;
	case PAY_JOB_ORDER_CANCELLED:
		/* recorded whether or not there was money to give back */
		rc = pay_outcome_record(tx, job->order_id, PAY_ORDER_CANCELLED);
		if (rc == 0)
			rc = apply_step(ctx, tx, job, err, errlen);
		return rc == SVC_IGNORED ? 0 : rc;
	default:
		return apply_step(ctx, tx, job, err, errlen);
	}
	if (rc)
		snprintf(err, errlen, "cannot record the outcome of order %s: %s", job->order_id,
		         svc_strerror(rc));
	return rc;
}
