/*
 * payment.commands consumer (consumer.h): decodes the command into a
 * pay_job, runs pay_job_prepare before the transaction and pay_job_apply
 * inside it. The job travels between the two as the scratch state.
 */
#include "services/payment/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/payment/process.h"
#include "svc/error.h"
#include "svc/events.h"
#include "svc/outbox.h"

/* Fills `job` from the command. 0 or SVC_EPERMANENT with the reason. */
static int decode(const struct svc_event *ev, struct pay_job *job, char *reason, size_t len)
{
	const char *order_id, *s;
	int64_t amount;

	if (!strcmp(ev->type, CMD_PROCESS_PAYMENT))
		job->kind = PAY_JOB_PROCESS;
	else if (!strcmp(ev->type, CMD_REFUND_PAYMENT))
		job->kind = PAY_JOB_REFUND;
	else {
		snprintf(reason, len, "unknown event type %s", ev->type);
		return SVC_EPERMANENT;
	}
	if (svc_event_str(ev, "orderId", &order_id, reason, len))
		return SVC_EPERMANENT;
	if (!svc_uuid_valid(order_id)) {
		snprintf(reason, len, "orderId is not a UUID");
		return SVC_EPERMANENT;
	}
	snprintf(job->order_id, sizeof(job->order_id), "%s", order_id);
	snprintf(job->causation_id, sizeof(job->causation_id), "%s", ev->id);
	if (job->kind == PAY_JOB_REFUND) {
		s = json_string_value(json_object_get(ev->data, "reason"));
		snprintf(job->refund_reason, sizeof(job->refund_reason), "%s", s ? s : "");
		return 0;
	}
	if (svc_event_int(ev, "amount", &amount, reason, len))
		return SVC_EPERMANENT;
	if (amount <= 0) {
		snprintf(reason, len, "amount must be positive");
		return SVC_EPERMANENT;
	}
	job->amount = amount;
	s = json_string_value(json_object_get(ev->data, "currency"));
	snprintf(job->currency, sizeof(job->currency), "%s", s && strlen(s) == 3 ? s : "USD");
	return 0;
}

static int prepare(struct svc_ctx *ctx, const struct svc_event *ev, void **scratch, char *reason,
                   size_t len)
{
	struct pay_job *job = calloc(1, sizeof(*job));
	int rc;

	*scratch = NULL;
	if (!job)
		return SVC_ETRANSIENT;
	rc = decode(ev, job, reason, len);
	if (!rc)
		rc = pay_job_prepare(ctx, job, reason, len);
	if (rc) {
		free(job);
		return rc;
	}
	*scratch = job;
	return 0;
}

static int apply(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev, void *scratch,
                 char *reason, size_t len)
{
	(void)ev;
	if (!scratch) { /* prepare always leaves a job when it returns 0 */
		snprintf(reason, len, "no prepared payment job");
		return SVC_ETRANSIENT;
	}
	return pay_job_apply(ctx, conn, scratch, reason, len);
}

static void committed(struct svc_ctx *ctx, const struct svc_event *ev, void *scratch)
{
	(void)ctx;
	(void)ev;
	(void)scratch;
	svc_outbox_wake(); /* the event just committed can be relayed at once */
}

const struct svc_consumer_ops pay_consumer_ops = {
        .prepare = prepare,
        .apply = apply,
        .committed = committed,
        .scratch_free = free,
};
