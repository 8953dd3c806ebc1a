/*
 * The payment consumer's decoding (services/payment/consumer.c): which
 * events it wants, the commands' paymentId and userId, the orders'
 * outcomes. The REQUESTED record is written by a fake (as in
 * test_payment_requested.c); the gateway call after it finds no sidecar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "services/payment/consumer.h"
#include "services/payment/process.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/service.h"

#define ORDER   "018f0000-0000-7000-8000-0000000000a1"
#define PAYMENT "018f0000-0000-7000-8000-0000000000b1"

static struct pay_service ps;
static const struct svc_service service = {.name = "payment", .source = "payment-service"};
static struct svc_ctx ctx = {.svc = &service, .user = &ps};
static struct pay_row written; /* the last REQUESTED record written */

static int writes, written_rows; /* fake_write's calls and the records they carried */

static int fake_write(void *arg, struct pay_job *const *jobs, size_t n)
{
	(void)arg;
	written = jobs[n - 1]->row;
	writes++;
	written_rows += (int)n;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&written, 0, sizeof(written));
	writes = written_rows = 0;
	snprintf(ps.sidecar_url, sizeof(ps.sidecar_url), "http://127.0.0.1:1"); /* nobody */
	setenv("no_proxy", "*", 1); /* refused at once, whatever proxy the machine has */
	ps.write_requested = fake_write;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return 0;
}

/* Decodes the event `type` for `order` with data `data` (JSON members
 * after orderId) into *ev. */
static void event_for(const char *order, const char *type, const char *data, struct svc_event *ev)
{
	char json[1024], err[128];

	snprintf(json, sizeof(json),
	         "{\"eventId\":\"018f0000-0000-7000-8000-0000000000e1\",\"type\":\"%s\","
	         "\"timestamp\":1,\"data\":{\"orderId\":\"%s\"%s},\"metadata\":"
	         "{\"correlationId\":\"%s\",\"version\":\"1\",\"source\":\"test\"}}",
	         type, order, data, order);
	assert_int_equal(svc_event_decode(json, strlen(json), ev, err, sizeof(err)), 0);
}

/* prepare() of the event `type` with data `data` (JSON members after
 * orderId); the job it leaves, if any, in *job (freed by the caller). */
static int prepare(const char *type, const char *data, struct pay_job **job, char *reason)
{
	struct svc_event ev;
	void *scratch = NULL;
	int rc;

	event_for(ORDER, type, data, &ev);
	reason[0] = '\0';
	rc = pay_consumer_ops.prepare(&ctx, &ev, &scratch, reason, 256);
	svc_event_release(&ev);
	*job = scratch;
	return rc;
}

static void test_payment_consumer_wants_outcomes_not_new_orders(void **state)
{
	(void)state;
	assert_false(pay_consumer_ops.accepts(EV_ORDER_CREATED));
	assert_true(pay_consumer_ops.accepts(EV_ORDER_CONFIRMED));
	assert_true(pay_consumer_ops.accepts(EV_ORDER_CANCELLED));
	assert_true(pay_consumer_ops.accepts(CMD_PROCESS_PAYMENT));
	assert_true(pay_consumer_ops.accepts(CMD_REFUND_PAYMENT));
}

/* The payment is made under the id the saga named, for the user it named. */
static void test_payment_consumer_charges_under_the_sagas_payment_id(void **state)
{
	struct pay_job *job = NULL;
	char reason[256];

	(void)state;
	assert_int_equal(prepare(CMD_PROCESS_PAYMENT,
	                         ",\"paymentId\":\"" PAYMENT "\",\"userId\":\"u-1\",\"amount\":500,"
	                         "\"currency\":\"EUR\"",
	                         &job, reason),
	                 SVC_ETRANSIENT); /* the gateway is not there */
	assert_null(job);
	assert_string_equal(written.order_id, ORDER);
	assert_string_equal(written.payment_id, PAYMENT);
	assert_string_equal(written.user_id, "u-1");
	assert_int_equal(written.amount, 500);
	assert_string_equal(written.currency, "EUR");
	assert_int_equal(written.status, PAY_REQUESTED);
}

/* A command sent before the saga named payments: an id of its own. */
static void test_payment_consumer_makes_an_id_for_a_command_without_one(void **state)
{
	struct pay_job *job = NULL;
	char reason[256];

	(void)state;
	assert_int_equal(prepare(CMD_PROCESS_PAYMENT, ",\"userId\":\"bad user\",\"amount\":500",
	                         &job, reason),
	                 SVC_ETRANSIENT);
	assert_true(svc_uuid_valid(written.payment_id));
	assert_string_not_equal(written.payment_id, PAYMENT);
	assert_string_equal(written.user_id, ""); /* not an id: an admin's row */
	assert_string_equal(written.currency, "USD");
}

static void test_payment_consumer_rejects_a_payment_id_that_is_not_a_uuid(void **state)
{
	static const char *const types[] = {CMD_PROCESS_PAYMENT, CMD_REFUND_PAYMENT};
	struct pay_job *job = NULL;
	char reason[256];

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(
		        prepare(types[i], ",\"paymentId\":\"forged\",\"amount\":500", &job, reason),
		        SVC_EPERMANENT);
		assert_string_equal(reason, "paymentId is not a UUID");
		assert_int_equal(prepare(types[i], ",\"paymentId\":7,\"amount\":500", &job, reason),
		                 SVC_EPERMANENT);
	}
	assert_string_equal(written.order_id, ""); /* nothing written */
}

static void test_payment_consumer_takes_an_order_outcome_to_apply(void **state)
{
	struct pay_job *job = NULL;
	char reason[256];

	(void)state;
	assert_int_equal(prepare(EV_ORDER_CONFIRMED, ",\"userId\":\"u-1\"", &job, reason), 0);
	assert_non_null(job);
	assert_int_equal(job->kind, PAY_JOB_ORDER_CONFIRMED);
	assert_string_equal(job->order_id, ORDER);
	pay_consumer_ops.scratch_free(job);
	assert_int_equal(prepare("OrderShippedEvent", "", &job, reason), SVC_EPERMANENT);
	assert_string_equal(reason, "unknown event type OrderShippedEvent");
}

/* A batch prepared together: the ProcessPayments' REQUESTED records in one
 * write (their charges then find no sidecar), refunds left to prepare() on
 * the pool, an outcome taken as it is, a bad command refused alone. */
static void test_payment_consumer_prepares_a_batch_together(void **state)
{
	static const char *const orders[] = {
	        "018f0000-0000-7000-8000-0000000000a1", "018f0000-0000-7000-8000-0000000000a2",
	        "018f0000-0000-7000-8000-0000000000a3", "018f0000-0000-7000-8000-0000000000a4",
	        "018f0000-0000-7000-8000-0000000000a5"};
	static const char *const types[] = {CMD_PROCESS_PAYMENT, CMD_REFUND_PAYMENT,
	                                    CMD_PROCESS_PAYMENT, EV_ORDER_CONFIRMED,
	                                    CMD_PROCESS_PAYMENT};
	static const char *const data[] = {",\"amount\":500", "", ",\"amount\":700", "",
	                                   ",\"amount\":-1"};
	struct svc_event evs[5];
	const struct svc_event *ev_at[5];
	void *scratch[5];
	int codes[5];
	char reasons[5][256], *reason_at[5];

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		event_for(orders[i], types[i], data[i], &evs[i]);
		ev_at[i] = &evs[i];
		reasons[i][0] = '\0';
		reason_at[i] = reasons[i];
	}
	pay_consumer_ops.prepare_batch(&ctx, ev_at, scratch, codes, reason_at, 256, 5);
	assert_int_equal(writes, 1);
	assert_int_equal(written_rows, 2);
	assert_int_equal(codes[0], SVC_ETRANSIENT); /* the gateway is not there */
	assert_non_null(strstr(reasons[0], "gateway charge"));
	assert_int_equal(codes[2], SVC_ETRANSIENT);
	assert_int_equal(codes[1], SVC_PREPARE_EACH);
	assert_int_equal(codes[3], 0);
	assert_non_null(scratch[3]);
	assert_int_equal(((struct pay_job *)scratch[3])->kind, PAY_JOB_ORDER_CONFIRMED);
	assert_int_equal(codes[4], SVC_EPERMANENT);
	assert_string_equal(reasons[4], "amount must be positive");
	for (size_t i = 0; i < 5; i++) {
		if (codes[i] == 0)
			pay_consumer_ops.scratch_free(scratch[i]);
		else
			assert_null(scratch[i]);
		svc_event_release(&evs[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_payment_consumer_wants_outcomes_not_new_orders),
	        cmocka_unit_test_setup_teardown(
	                test_payment_consumer_charges_under_the_sagas_payment_id, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_consumer_makes_an_id_for_a_command_without_one, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_consumer_rejects_a_payment_id_that_is_not_a_uuid, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_consumer_takes_an_order_outcome_to_apply, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_payment_consumer_prepares_a_batch_together,
	                                        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
