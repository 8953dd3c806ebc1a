/*
 * Payment HTTP handlers (api.h). POST /api/payments runs the same
 * pay_job_prepare / pay_job_apply as a ProcessPayment command, with its own
 * transaction instead of the inbox's.
 */
#include "services/payment/api.h"

#include <stdio.h>
#include <string.h>

#include "services/payment/process.h"
#include "services/payment/request.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/outbox.h"
#include "svc/service.h"

/* Validates the body into `job`; on failure replies a problem and returns -1. */
static int parse_request(const json_t *body, struct pay_job *job, struct svc_http_response *res)
{
	struct pay_request r;
	struct svc_problem p;
	char title[64];

	if (pay_request_parse(body, &r, &p)) {
		/* "Invalid request" for a missing member, "Invalid <member>" for a bad value */
		snprintf(title, sizeof(title), "Invalid %s", p.status == 400 ? "request" : p.field);
		svc_http_reply_problem(res, p.status, title, p.field, "%s", p.detail);
		return -1;
	}
	job->kind = PAY_JOB_PROCESS;
	snprintf(job->order_id, sizeof(job->order_id), "%s", r.order_id);
	job->amount = r.amount;
	snprintf(job->currency, sizeof(job->currency), "%s", r.currency);
	return 0;
}

/* pay_job_apply in a transaction of its own; wakes the relay after commit. */
static int apply_in_transaction(struct svc_ctx *ctx, struct pay_job *job, char *err, size_t errlen)
{
	MYSQL *conn = svc_db_acquire(ctx->db);
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	rc = svc_db_begin(conn);
	if (rc)
		goto release;
	rc = pay_job_apply(ctx, conn, job, err, errlen);
	if (rc == 0 || rc == SVC_IGNORED) {
		int crc = svc_db_commit(conn);

		rc = crc ? crc : rc;
	}
	if (rc && rc != SVC_IGNORED)
		svc_db_rollback(conn);
	else if (rc == 0)
		svc_outbox_wake();
release:
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

/* Replies from the order's final row: 200/201 with the record, 402 declined,
 * 409 voided. */
static void reply_row(struct svc_http_response *res, const struct pay_row *row, int ok_status)
{
	switch (row->status) {
	case PAY_CAPTURED:
		svc_http_reply_json(res, ok_status, pay_row_json(row));
		break;
	case PAY_DECLINED:
		svc_http_reply_problem(res, 402, "Payment declined", NULL, "%s", row->reason);
		break;
	case PAY_REQUESTED:
		svc_http_reply_json(res, 202, pay_row_json(row));
		break;
	default:
		svc_http_reply_problem(
		        res, 409, "Payment not possible", NULL, "the order's payment is %s%s%s",
		        pay_status_name(row->status), row->reason[0] ? ": " : "", row->reason);
	}
}

static void handle_create(void *ctxp, const struct svc_http_request *req,
                          struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	struct pay_job job = {0};
	struct pay_row existing;
	json_t *body = svc_http_parse_json(req, res);
	char err[256] = "";
	int rc;

	if (!body || parse_request(body, &job, res))
		goto out;
	rc = pay_row_fetch(ctx, job.order_id, &existing);
	if (rc)
		goto unavailable;
	if (existing.status != PAY_NONE && existing.amount > 0 && existing.amount != job.amount) {
		svc_http_reply_problem(res, 409, "Payment exists", "amount",
		                       "order %s already has a payment of %lld", job.order_id,
		                       (long long)existing.amount);
		goto out;
	}
	rc = pay_job_prepare(ctx, &job, err, sizeof(err));
	if (rc == 0)
		rc = apply_in_transaction(ctx, &job, err, sizeof(err));
	if (rc == SVC_EPERMANENT) {
		svc_http_reply_problem(res, 502, "Gateway refused the payment", NULL, "%s", err);
		goto out;
	}
	if (rc != 0 && rc != SVC_IGNORED)
		goto unavailable;
	if (pay_row_fetch(ctx, job.order_id, &job.row))
		goto unavailable;
	reply_row(res, &job.row,
	          existing.status == PAY_NONE || existing.status == PAY_REQUESTED ? 201 : 200);
	goto out;
unavailable:
	svc_http_reply_problem(res, 503, "Payment temporarily unavailable", NULL,
	                       "%s; retry the request (it is idempotent)",
	                       err[0] ? err : "database unavailable");
out:
	json_decref(body);
}

static void handle_get(void *ctxp, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	const char *order_id = req->params[0];
	struct pay_row row;

	if (!svc_uuid_valid(order_id)) {
		svc_http_reply_problem(res, 400, "Invalid orderId", "orderId",
		                       "orderId must be a UUID");
		return;
	}
	if (pay_row_fetch(ctx, order_id, &row)) {
		svc_http_reply_problem(res, 503, "Database unavailable", NULL, "retry later");
		return;
	}
	if (row.status == PAY_NONE) {
		svc_http_reply_problem(res, 404, "Payment not found", NULL,
		                       "no payment for order %s", order_id);
		return;
	}
	svc_http_reply_json(res, 200, pay_row_json(&row));
}

const struct svc_http_route pay_routes[] = {
        {"POST", "/api/payments", handle_create},
        {"GET", "/api/payments/{orderId}", handle_get},
};
const size_t pay_nroutes = sizeof(pay_routes) / sizeof(pay_routes[0]);
