/*
 * Batch state of the payments rows (services/payment/batch.h) as
 * pay_job_apply uses it. The transaction's connection is a MYSQL handle that
 * never connected: any statement run on it fails, so a test that passes ran
 * none (the outbox rows are deferred, svc/defer.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "services/payment/batch.h"
#include "services/payment/process.h"
#include "svc/buf.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/service.h"

#define ORDER_A "018f0000-0000-7000-8000-00000000000a"
#define ORDER_B "018f0000-0000-7000-8000-00000000000b"
#define ORDER_C "018f0000-0000-7000-8000-00000000000c"

static const struct svc_service service = {.name = "payment", .source = "payment-service"};
static struct svc_ctx ctx = {.svc = &service};

static struct pay_row requested(const char *order_id)
{
	struct pay_row r = {.amount = 1000, .status = PAY_REQUESTED};

	snprintf(r.order_id, sizeof(r.order_id), "%s", order_id);
	snprintf(r.payment_id, sizeof(r.payment_id), "018f0000-0000-7000-8000-0000000000ff");
	snprintf(r.currency, sizeof(r.currency), "USD");
	return r;
}

static struct pay_job job(enum pay_job_kind kind, const char *order_id, enum pay_outcome outcome)
{
	struct pay_job j = {.kind = kind, .amount = 1000, .outcome = outcome};

	snprintf(j.order_id, sizeof(j.order_id), "%s", order_id);
	snprintf(j.currency, sizeof(j.currency), "USD");
	snprintf(j.causation_id, sizeof(j.causation_id), "018f0000-0000-7000-8000-0000000000e1");
	snprintf(j.gateway_ref, sizeof(j.gateway_ref), "ch_1");
	snprintf(j.reason, sizeof(j.reason), "order cancelled");
	return j;
}

static int apply(struct svc_tx *tx, struct pay_job j)
{
	char err[256] = "";

	return pay_job_apply(&ctx, tx, &j, err, sizeof(err));
}

static int setup(void **state)
{
	MYSQL *conn = mysql_init(NULL);
	struct svc_tx *tx = malloc(sizeof(*tx));

	if (!conn || !tx) {
		if (conn)
			mysql_close(conn);
		free(tx);
		return -1;
	}
	svc_tx_init(tx, conn);
	svc_defer_begin(tx);
	*state = tx;
	return 0;
}

static int teardown(void **state)
{
	struct svc_tx *tx = *state;

	pay_batch_end(tx, false);
	svc_defer_discard(tx);
	mysql_close(tx->conn);
	free(tx);
	return 0;
}

static void test_payment_batch_second_command_sees_the_first_ones_effect(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A), got;

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_A, PAY_OUT_CAPTURED)), 0);
	/* the refund finds the capture the first command made, not the loaded row */
	assert_int_equal(apply(tx, job(PAY_JOB_REFUND, ORDER_A, PAY_OUT_REFUNDED)), 0);
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
	assert_int_equal(got.status, PAY_REFUNDED);
	assert_int_equal(got.refunded, 1000);
	assert_string_equal(got.gateway_ref, "ch_1");
	assert_int_equal(pay_batch_pending(tx), 1); /* one row to write back */
	assert_int_equal(svc_defer_pending(tx), 2); /* PaymentCompleted, PaymentRefunded */
}

static void test_payment_batch_capture_after_a_void_in_the_same_batch_is_retried(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A), got;

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_REFUND, ORDER_A, PAY_OUT_VOID)), 0);
	/* prepare charged before the void: the batch is given up, prepare refunds */
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_A, PAY_OUT_CAPTURED)),
	                 SVC_ETRANSIENT);
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
	assert_int_equal(got.status, PAY_VOIDED);
}

static void test_payment_batch_repeated_command_has_no_second_effect(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A);

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_A, PAY_OUT_CAPTURED)), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_A, PAY_OUT_CAPTURED)), SVC_IGNORED);
	assert_int_equal(svc_defer_pending(tx), 1); /* one PaymentCompleted */
}

static void test_payment_batch_keeps_each_order_apart(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row rows[] = {requested(ORDER_B), requested(ORDER_A), requested(ORDER_B)};
	struct pay_row got;

	/* unsorted, with a repeat */
	assert_int_equal(pay_batch_adopt(tx, rows, 3), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_B, PAY_OUT_DECLINED)), 0);
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
	assert_int_equal(got.status, PAY_REQUESTED);
	assert_int_equal(pay_batch_load(tx, ORDER_B, &got), 0);
	assert_int_equal(got.status, PAY_DECLINED);
	assert_string_equal(got.reason, "order cancelled");
	assert_int_equal(pay_batch_pending(tx), 1);
	/* the column ignores case, and so does the batch */
	assert_int_equal(pay_batch_load(tx, "018f0000-0000-7000-8000-00000000000A", &got), 0);
	assert_int_equal(got.status, PAY_REQUESTED);
	/* an order the batch did not load goes to SQL (which fails here) */
	assert_int_not_equal(pay_batch_load(tx, ORDER_C, &got), 0);
}

static void test_payment_batch_answers_only_for_its_transaction(void **state)
{
	struct svc_tx *tx = *state, other;
	struct pay_row a = requested(ORDER_A), got;

	svc_tx_init(&other, tx->conn); /* the same connection does not make it ours */
	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_not_equal(pay_batch_load(&other, ORDER_A, &got), 0); /* SQL, fails */
	assert_int_equal(pay_batch_end(&other, true), 0);               /* not its state */
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
}

static void test_payment_batch_end_without_write_drops_the_changes(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A), got;

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_A, PAY_OUT_CAPTURED)), 0);
	assert_int_equal(pay_batch_end(tx, false), 0);
	assert_int_equal(pay_batch_pending(tx), 0);
	assert_int_not_equal(pay_batch_load(tx, ORDER_A, &got), 0); /* state gone: SQL */
}

static void test_payment_batch_writes_changed_rows_in_one_update(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A), b = requested(ORDER_B);
	const struct pay_row *rows[] = {&a, &b};
	struct svc_buf sql;

	a.status = PAY_CAPTURED;
	a.unconfirmed = true;
	snprintf(a.gateway_ref, sizeof(a.gateway_ref), "ch_'1");
	b.status = PAY_REFUNDED;
	b.refunded = 1000;
	snprintf(b.reason, sizeof(b.reason), "late");
	svc_buf_init(&sql);
	assert_int_equal(pay_rows_update_sql(&sql, tx->conn, rows, 2), 0);
	assert_string_equal(
	        svc_buf_str(&sql),
	        "UPDATE payments SET status = CASE order_id WHEN '" ORDER_A
	        "' THEN 'CAPTURED' WHEN '" ORDER_B "' THEN 'REFUNDED' END, "
	        "gateway_ref = CASE order_id WHEN '" ORDER_A "' THEN 'ch_\\'1' WHEN '" ORDER_B
	        "' THEN NULL END, reason = CASE order_id WHEN '" ORDER_A
	        "' THEN NULL WHEN '" ORDER_B "' THEN 'late' END, "
	        "refunded_amount = CASE order_id WHEN '" ORDER_A "' THEN 0 WHEN '" ORDER_B
	        "' THEN 1000 END, unconfirmed_since = CASE order_id WHEN '" ORDER_A
	        "' THEN IFNULL(unconfirmed_since, UTC_TIMESTAMP(3)) WHEN '" ORDER_B
	        "' THEN NULL END, updated_at = UTC_TIMESTAMP(3) "
	        "WHERE order_id IN ('" ORDER_A "', '" ORDER_B "')");
	svc_buf_release(&sql);
}

static void test_payment_batch_with_nothing_changed_writes_nothing(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A);

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(pay_batch_end(tx, true), 0); /* no statement: none could run */
}

/* A capture is watched by the reconciliation until its order confirms. */
static void test_payment_batch_capture_is_unconfirmed_until_its_order_confirms(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A), got;

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_PROCESS, ORDER_A, PAY_OUT_CAPTURED)), 0);
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
	assert_true(got.unconfirmed);
	assert_int_equal(apply(tx, job(PAY_JOB_ORDER_CONFIRMED, ORDER_A, PAY_OUT_CAPTURED)), 0);
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
	assert_false(got.unconfirmed);
	assert_int_equal(got.status, PAY_CAPTURED);
	assert_int_equal(pay_batch_pending(tx), 1);
	assert_int_equal(svc_defer_pending(tx), 2); /* PaymentCompleted, the outcome */
}

/* The safety net: a cancelled order's capture is refunded, once. */
static void test_payment_batch_cancelled_order_gets_its_capture_back(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A), got;

	a.status = PAY_CAPTURED;
	a.unconfirmed = true;
	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_ORDER_CANCELLED, ORDER_A, PAY_OUT_REFUNDED)), 0);
	assert_int_equal(pay_batch_load(tx, ORDER_A, &got), 0);
	assert_int_equal(got.status, PAY_REFUNDED);
	assert_int_equal(got.refunded, 1000);
	assert_false(got.unconfirmed);
	assert_int_equal(svc_defer_pending(tx), 2); /* the outcome, PaymentRefunded */
	/* the saga's RefundPayment after it: nothing more moves */
	assert_int_equal(apply(tx, job(PAY_JOB_REFUND, ORDER_A, PAY_OUT_REFUNDED)), SVC_IGNORED);
	assert_int_equal(svc_defer_pending(tx), 2);
}

static void test_payment_batch_cancelled_order_without_money_is_only_recorded(void **state)
{
	struct svc_tx *tx = *state;
	struct pay_row a = requested(ORDER_A);

	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_ORDER_CANCELLED, ORDER_A, PAY_OUT_NO_MONEY)), 0);
	assert_int_equal(pay_batch_pending(tx), 0);
	assert_int_equal(svc_defer_pending(tx), 1); /* the outcome */
	/* captured since prepare looked: prepared again, to refund it */
	a.status = PAY_CAPTURED;
	assert_int_equal(pay_batch_adopt(tx, &a, 1), 0);
	assert_int_equal(apply(tx, job(PAY_JOB_ORDER_CANCELLED, ORDER_A, PAY_OUT_NO_MONEY)),
	                 SVC_ETRANSIENT);
}

static void test_payment_reconciliation_reads_only_unconfirmed_captures(void **state)
{
	static const char where[] =
	        " FROM payments p LEFT JOIN order_outcomes o ON o.order_id = p.order_id "
	        "WHERE p.unconfirmed_since IS NOT NULL AND p.status = 'CAPTURED' "
	        "AND p.refunded_amount < p.amount AND (o.status = 'CANCELLED' OR "
	        "(o.order_id IS NULL AND p.unconfirmed_since < UTC_TIMESTAMP(3) - INTERVAL 600 "
	        "SECOND))";
	struct svc_buf sql;
	char want[1024];

	(void)state;
	svc_buf_init(&sql);
	assert_int_equal(pay_reconcile_sql(&sql, 600, 0), 0);
	snprintf(want, sizeof(want), "SELECT COUNT(o.order_id), COUNT(*) - COUNT(o.order_id)%s",
	         where);
	assert_string_equal(svc_buf_str(&sql), want);
	svc_buf_release(&sql);

	svc_buf_init(&sql);
	assert_int_equal(pay_reconcile_sql(&sql, 600, 100), 0);
	snprintf(want, sizeof(want),
	         "SELECT p.order_id, o.order_id IS NOT NULL, p.payment_id, p.amount, p.currency, "
	         "DATE_FORMAT(p.unconfirmed_since, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ')%s "
	         "ORDER BY p.unconfirmed_since LIMIT 100",
	         where);
	assert_string_equal(svc_buf_str(&sql), want);
	svc_buf_release(&sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_second_command_sees_the_first_ones_effect, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_capture_after_a_void_in_the_same_batch_is_retried, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_repeated_command_has_no_second_effect, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_payment_batch_keeps_each_order_apart, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_payment_batch_answers_only_for_its_transaction,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_end_without_write_drops_the_changes, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_writes_changed_rows_in_one_update, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_with_nothing_changed_writes_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_capture_is_unconfirmed_until_its_order_confirms, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_cancelled_order_gets_its_capture_back, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_batch_cancelled_order_without_money_is_only_recorded, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_payment_reconciliation_reads_only_unconfirmed_captures, setup,
	                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
