/*
 * The payment consumer (consumer.h): decodes the command or order event into
 * a pay_job, runs pay_job_prepare (a batch's together: pay_jobs_prepare)
 * before the transaction and pay_job_apply inside it. The job travels between the two as the
 * scratch state. A batch transaction reads all its orders' rows in one statement and writes the
 * changed ones back in one (batch.h).
 */
#include "services/payment/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/payment/batch.h"
#include "services/payment/process.h"
#include "svc/error.h"
#include "svc/events.h"

static const struct {
	const char *type;
	enum pay_job_kind kind;
} kinds[] = {
        {CMD_PROCESS_PAYMENT, PAY_JOB_PROCESS},
        {CMD_REFUND_PAYMENT, PAY_JOB_REFUND},
        {EV_ORDER_CONFIRMED, PAY_JOB_ORDER_CONFIRMED},
        {EV_ORDER_CANCELLED, PAY_JOB_ORDER_CANCELLED},
};

/* order.events brings OrderCreated too: of no use here, and the most frequent. */
static bool accepts(const char *type)
{
	return strcmp(type, EV_ORDER_CREATED) != 0;
}

/* Copies the optional paymentId of the command into job->payment_id. 0 or
 * SVC_EPERMANENT when it is there but not a UUID. */
static int decode_payment_id(const struct svc_event *ev, struct pay_job *job, char *reason,
                             size_t len)
{
	const json_t *v = json_object_get(ev->data, "paymentId");
	const char *s = json_string_value(v);

	if (!v || json_is_null(v))
		return 0;
	if (!s || !svc_uuid_valid(s)) {
		snprintf(reason, len, "paymentId is not a UUID");
		return SVC_EPERMANENT;
	}
	snprintf(job->payment_id, sizeof(job->payment_id), "%s", s);
	return 0;
}

/* Fills `job` from the command or event. 0 or SVC_EPERMANENT with the reason. */
static int decode(const struct svc_event *ev, struct pay_job *job, char *reason, size_t len)
{
	const char *order_id, *s;
	int64_t amount;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && strcmp(ev->type, kinds[i].type); i++)
		;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		snprintf(reason, len, "unknown event type %s", ev->type);
		return SVC_EPERMANENT;
	}
	job->kind = kinds[i].kind;
	if (svc_event_str(ev, "orderId", &order_id, reason, len))
		return SVC_EPERMANENT;
	if (!svc_uuid_valid(order_id)) {
		snprintf(reason, len, "orderId is not a UUID");
		return SVC_EPERMANENT;
	}
	snprintf(job->order_id, sizeof(job->order_id), "%s", order_id);
	snprintf(job->causation_id, sizeof(job->causation_id), "%s", ev->id);
	if (job->kind == PAY_JOB_ORDER_CONFIRMED || job->kind == PAY_JOB_ORDER_CANCELLED)
		return 0;
	if (decode_payment_id(ev, job, reason, len))
		return SVC_EPERMANENT;
	if (job->kind == PAY_JOB_REFUND) {
		s = json_string_value(json_object_get(ev->data, "reason"));
		snprintf(job->refund_reason, sizeof(job->refund_reason), "%s", s ? s : "");
		return 0;
	}
	/* who pays: the rows of an unknown payer are the admins' to read */
	s = json_string_value(json_object_get(ev->data, "userId"));
	if (s && svc_id_valid(s))
		snprintf(job->user_id, sizeof(job->user_id), "%s", s);
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

/*
 * A batch's commands prepared together (pay_jobs_prepare): the REQUESTED
 * records of its ProcessPayments in one transaction, their charges in one
 * call. Refunds (RefundPayment, OrderCancelled) each call the gateway on
 * their own, so they go to prepare() on the pool, in parallel.
 */
static void prepare_batch(struct svc_ctx *ctx, const struct svc_event *const *evs, void **scratch,
                          int *codes, char *const *reasons, size_t len, size_t n)
{
	struct pay_job **jobs = calloc(n ? n : 1, sizeof(*jobs));
	char **errs = calloc(n ? n : 1, sizeof(*errs));
	int *rcs = calloc(n ? n : 1, sizeof(*rcs));
	size_t *at = calloc(n ? n : 1, sizeof(*at));
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct pay_job *job = jobs && errs && rcs && at ? calloc(1, sizeof(*job)) : NULL;

		scratch[i] = NULL;
		if (!job) {
			snprintf(reasons[i], len, "out of memory");
			codes[i] = SVC_ETRANSIENT;
		} else if ((codes[i] = decode(evs[i], job, reasons[i], len)) != 0) {
			free(job);
		} else if (job->kind == PAY_JOB_REFUND || job->kind == PAY_JOB_ORDER_CANCELLED) {
			codes[i] = SVC_PREPARE_EACH;
			free(job);
		} else {
			at[k] = i;
			errs[k] = reasons[i];
			jobs[k++] = job;
		}
	}
	if (k > 0)
		pay_jobs_prepare(ctx, jobs, rcs, errs, len, k);
	for (i = 0; i < k; i++) {
		codes[at[i]] = rcs[i];
		if (rcs[i] == 0)
			scratch[at[i]] = jobs[i];
		else
			free(jobs[i]);
	}
	free(jobs);
	free(errs);
	free(rcs);
	free(at);
}

static int apply(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev, void *scratch,
                 char *reason, size_t len)
{
	(void)ev;
	if (!scratch) { /* prepare always leaves a job when it returns 0 */
		snprintf(reason, len, "no prepared payment job");
		return SVC_ETRANSIENT;
	}
	return pay_job_apply(ctx, tx, scratch, reason, len);
}

/* The orders of the batch's commands, loaded and locked in one statement. */
static int begin_batch(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *const *evs,
                       size_t n)
{
	const char **ids = calloc(n ? n : 1, sizeof(*ids));
	size_t i, m = 0;
	int rc;

	(void)ctx;
	if (!ids)
		return SVC_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *id = json_string_value(json_object_get(evs[i]->data, "orderId"));

		if (id && svc_uuid_valid(id)) /* others never get to apply() */
			ids[m++] = id;
	}
	rc = pay_batch_begin(tx, ids, m);
	free(ids);
	return rc;
}

static int end_batch(struct svc_ctx *ctx, struct svc_tx *tx, bool write)
{
	(void)ctx;
	return pay_batch_end(tx, write);
}

/* No committed(): the consumer wakes the outbox relay after each delivery. */
const struct svc_consumer_ops pay_consumer_ops = {
        .accepts = accepts,
        .prepare = prepare,
        .prepare_batch = prepare_batch,
        .apply = apply,
        .scratch_free = free,
        .begin_batch = begin_batch,
        .end_batch = end_batch,
};
