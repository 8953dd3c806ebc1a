/*
 * The order consumer's batch (services/order/batch.h, the begin_batch/
 * end_batch hooks of services/order/events.c): one SELECT locks a batch's
 * orders, the transitions work on those rows in memory, one UPDATE writes
 * them back. Against the fake database (fake_db.h, order_fake_db.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "services/order/batch.h"
#include "services/order/order.h"
#include "services/order/store.h"
#include "services/order/transition.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/service.h"
#include "tests/unit/order_fake_db.h"

#define ID_A "01a20fd7-0000-7000-8000-00000000000a"
#define ID_B "01a20fd7-0000-7000-8000-00000000000b"
#define ID_C "01a20fd7-0000-7000-8000-00000000000c"
#define ID_D "01a20fd7-0000-7000-8000-00000000000d"
#define ID_E "01a20fd7-0000-7000-8000-00000000000e"
#define ID_F "01a20fd7-0000-7000-8000-00000000000f"
#define ID_X "01a20fd7-0000-7000-8000-0000000000ff" /* no such order */
/* payments: those D, E and F asked for, and one none did */
#define PAY_D     "01a20fd7-0000-7000-8000-0000000000d1"
#define PAY_E     "01a20fd7-0000-7000-8000-0000000000e1"
#define PAY_F     "01a20fd7-0000-7000-8000-0000000000f1"
#define PAY_OTHER "01a20fd7-0000-7000-8000-0000000000f0"

static const struct fake_order orders[] = {
        {ID_A, "U1", "PENDING", NULL, 300, NULL},
        {ID_B, "U2", "PAYMENT_PENDING", NULL, 500, NULL}, /* asked before payment ids */
        {ID_C, "U3", "COMPENSATING", "payment declined: card", 700, NULL},
        {ID_D, "U4", "PAYMENT_PENDING", NULL, 500, PAY_D},
        {ID_E, "U5", "CONFIRMED", NULL, 400, PAY_E},
        {ID_F, "U6", "CANCELLED", "step PAYMENT timed out", 600, PAY_F},
};
static const struct fake_line lines[] = {
        {ID_A, 1, "P1", 1, 100},
        {ID_A, 2, "P2", 2, 100},
        {ID_B, 1, "P9", 1, 500},
};

/* Connections: no server behind them, the fake answers. */
static MYSQL fake_conn, fake_other_conn;
/* The transactions the tests run: one per connection. */
static struct svc_tx tx, other_tx;
static struct order_app app;
static const struct svc_service service = {.name = "order", .source = "order-service"};
static struct svc_ctx ctx = {.svc = &service, .user = &app};

static int setup(void **state)
{
	(void)state;
	order_config_load(&app.cfg);
	order_fake_db_reset(orders, sizeof(orders) / sizeof(orders[0]), lines, 3);
	svc_tx_init(&tx, &fake_conn);
	svc_tx_init(&other_tx, &fake_other_conn);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	order_batch_end(&tx, false);
	fake_db_uninstall();
	return 0;
}

/* An event of `type` for `order_id`, with data.reason when given. */
/* An event as its producer writes it; `extra` is more of its data fields. */
static void make_event_with(struct svc_event *ev, const char *type, const char *order_id,
                            const char *reason, const char *extra)
{
	char id[37], json[1024], err[128];

	svc_uuid7(id);
	snprintf(json, sizeof(json),
	         "{\"eventId\":\"%s\",\"type\":\"%s\",\"timestamp\":1,\"data\":{\"orderId\":"
	         "\"%s\"%s%s%s%s},\"metadata\":{\"correlationId\":\"%s\",\"version\":\"1\","
	         "\"source\":\"test\"}}",
	         id, type, order_id, reason ? ",\"reason\":\"" : "", reason ? reason : "",
	         reason ? "\"" : "", extra, order_id);
	assert_int_equal(svc_event_decode(json, strlen(json), ev, err, sizeof(err)), 0);
}

/* A PaymentCompleted captures the order's total in USD, as Payment sends it. */
static void make_event(struct svc_event *ev, const char *type, const char *order_id,
                       const char *reason)
{
	char extra[96] = "";

	for (size_t i = 0;
	     strcmp(type, EV_PAYMENT_COMPLETED) == 0 && i < sizeof(orders) / sizeof(orders[0]); i++)
		if (strcmp(orders[i].id, order_id) == 0)
			snprintf(extra, sizeof(extra), ",\"amount\":%lld,\"currency\":\"USD\"",
			         orders[i].total);
	make_event_with(ev, type, order_id, reason, extra);
}

/* Runs evs[] as the consumer does a batch: begin_batch, apply each, end_batch;
 * the apply() outcomes go to codes[]. Returns end_batch's. */
static int run_batch(struct svc_event *evs, size_t n, int *codes)
{
	const struct svc_consumer_ops *ops = &order_consumer_ops;
	const struct svc_event *p[8];
	char reason[256];

	for (size_t i = 0; i < n; i++)
		p[i] = &evs[i];
	assert_int_equal(ops->begin_batch(&ctx, &tx, p, n), 0);
	for (size_t i = 0; i < n; i++)
		codes[i] = ops->apply(&ctx, &tx, &evs[i], NULL, reason, sizeof(reason));
	return ops->end_batch(&ctx, &tx, true);
}

static void release_events(struct svc_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		svc_event_release(&evs[i]);
}

/* The outbox payload of the last `type` message, parsed (new reference). */
static json_t *outbox_payload(const char *type)
{
	for (size_t i = fake_db_nstmts(); i-- > 0;) {
		const char *s = fake_db_stmt(i), *p;
		json_t *ev;

		if (strncmp(s, "INSERT INTO outbox_messages", 27) != 0 || !strstr(s, type))
			continue;
		p = strstr(s, "'{");
		assert_non_null(p);
		/* the payload literal, escaped by the fake: drop the backslashes */
		char *json = strdup(p + 1), *w = json;
		for (const char *r = json; *r && !(r[0] == '}' && r[1] == '\''); r++)
			if (*r != '\\' || r[1] != '"')
				*w++ = *r;
		*w++ = '}';
		*w = '\0';
		ev = json_loads(json, 0, NULL);
		free(json);
		assert_non_null(ev);
		return ev;
	}
	fail_msg("no outbox message %s", type);
	return NULL;
}

static void test_order_batch_locks_its_orders_in_one_select_in_id_order(void **state)
{
	struct svc_event evs[4];
	int codes[4];

	(void)state;
	make_event(&evs[0], EV_PAYMENT_COMPLETED, ID_B, NULL);
	make_event(&evs[1], EV_INVENTORY_RESERVED, ID_A, NULL);
	make_event(&evs[2], EV_NOTIFICATION_SENT, "01A20FD7-0000-7000-8000-00000000000A", NULL);
	make_event(&evs[3], EV_NOTIFICATION_SENT, "not-a-uuid", NULL);
	const struct svc_event *p[4] = {&evs[0], &evs[1], &evs[2], &evs[3]};

	assert_int_equal(order_consumer_ops.begin_batch(&ctx, &tx, p, 4), 0);
	assert_int_equal(fake_db_nstmts(), 1);
	/* each order once, in id order, locked; lines only for the order whose
	 * event may end its saga */
	assert_non_null(strstr(fake_db_stmt(0), "FROM orders WHERE order_id IN ('" ID_A "', '" ID_B
	                                        "') ORDER BY order_id FOR UPDATE"));
	assert_non_null(strstr(fake_db_stmt(0), "l.order_id IN ('" ID_B "')"));
	assert_int_equal(order_consumer_ops.end_batch(&ctx, &tx, true), 0);
	/* nothing changed: nothing written */
	assert_int_equal(fake_db_nstmts(), 1);
	(void)codes;
	release_events(evs, 4);
}

/* A capture that is not the order's total in its currency never confirms it:
 * refused (for the DLQ) with the reason, nothing written for the order. */
static void test_order_payment_not_matching_the_total_is_refused(void **state)
{
	static const char *const extras[] = {
	        ",\"amount\":1,\"currency\":\"USD\"",   /* one cent */
	        ",\"amount\":500,\"currency\":\"EUR\"", /* another currency */
	        "",                                     /* forged: no amount at all */
	};
	const struct svc_consumer_ops *ops = &order_consumer_ops;

	(void)state;
	for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		struct svc_event ev;
		const struct svc_event *p = &ev;
		char reason[256] = "";

		make_event_with(&ev, EV_PAYMENT_COMPLETED, ID_B, NULL, extras[i]);
		assert_int_equal(ops->begin_batch(&ctx, &tx, &p, 1), 0);
		assert_int_equal(ops->apply(&ctx, &tx, &ev, NULL, reason, sizeof(reason)),
		                 SVC_EPERMANENT);
		assert_non_null(strstr(reason, ID_B));
		assert_non_null(
		        strstr(reason, i < 2 ? "does not match the total" : "without amount"));
		assert_int_equal(ops->end_batch(&ctx, &tx, true), 0);
		assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
		assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL),
		                 0);
		svc_event_release(&ev);
	}
}

/* Outside PAYMENT_PENDING the amount does not matter: any capture is refunded. */
static void test_order_payment_of_another_amount_while_compensating_is_refunded(void **state)
{
	struct svc_event ev;
	int code;

	(void)state;
	make_event_with(&ev, EV_PAYMENT_COMPLETED, ID_C, NULL,
	                ",\"amount\":1,\"currency\":\"USD\"");
	assert_int_equal(run_batch(&ev, 1, &code), 0);
	assert_int_equal(code, 0);
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL),
	                       "RefundPayment"));
	svc_event_release(&ev);
}

/* A PaymentCompleted for `payment_id` (NULL: none) of `amount` USD. */
static void make_capture(struct svc_event *ev, const char *order_id, const char *payment_id,
                         long long amount)
{
	char extra[160];

	snprintf(extra, sizeof(extra), "%s%s%s,\"amount\":%lld,\"currency\":\"USD\"",
	         payment_id ? ",\"paymentId\":\"" : "", payment_id ? payment_id : "",
	         payment_id ? "\"" : "", amount);
	make_event_with(ev, EV_PAYMENT_COMPLETED, order_id, NULL, extra);
}

/* apply() of one event outside a batch, as the consumer runs it alone. */
static int apply_alone(struct svc_event *ev, char *reason, size_t len)
{
	int rc = order_consumer_ops.apply(&ctx, &tx, ev, NULL, reason, len);

	svc_event_release(ev);
	return rc;
}

/* data.<field> of the last outbox message of `type`, as a string. */
static void outbox_field(const char *type, const char *field, char *out, size_t len)
{
	json_t *ev = outbox_payload(type);
	const char *s = json_string_value(json_object_get(json_object_get(ev, "data"), field));

	snprintf(out, len, "%s", s ? s : "(absent)");
	json_decref(ev);
}

/* Nothing at all kept: no state change, no history, no message. */
static void assert_nothing_written(void)
{
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO saga_transitions", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL), 0);
}

/* ProcessPayment names a new payment, stored with the order in the same
 * transaction. */
static void test_order_payment_request_names_a_payment_stored_with_the_order(void **state)
{
	struct svc_event ev;
	char reason[256] = "", pay[64], update[160];

	(void)state;
	make_event(&ev, EV_INVENTORY_RESERVED, ID_A, NULL);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), 0);
	outbox_field(CMD_PROCESS_PAYMENT, "paymentId", pay, sizeof(pay));
	assert_true(svc_uuid_valid(pay));
	snprintf(update, sizeof(update),
	         "UPDATE orders SET payment_id = '%s' WHERE order_id = '%s'", pay, ID_A);
	assert_string_equal(fake_db_last(FAKE_DB_ANY, "UPDATE orders SET payment_id", NULL),
	                    update);
	outbox_field(CMD_PROCESS_PAYMENT, "userId", pay, sizeof(pay));
	assert_string_equal(pay, "U1");
}

/* A capture under another id than the payment asked for never confirms: it
 * is dead-lettered with both ids; the right one then confirms. */
static void test_order_capture_of_another_payment_is_refused_with_both_ids(void **state)
{
	struct svc_event ev;
	char reason[256] = "";

	(void)state;
	make_capture(&ev, ID_D, PAY_OTHER, 500);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_string_equal(reason, "PaymentCompletedEvent refused for order " ID_D
	                            ": expected payment " PAY_D ", got " PAY_OTHER);
	make_capture(&ev, ID_D, NULL, 500);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_non_null(strstr(reason, "got none"));
	assert_nothing_written();

	make_capture(&ev, ID_D, PAY_D, 500);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), 0);
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL),
	                       EV_ORDER_CONFIRMED));
}

static void test_order_capture_with_a_malformed_payment_id_is_rejected(void **state)
{
	struct svc_event ev;
	char reason[256] = "";

	(void)state;
	make_capture(&ev, ID_F, "forged", 600);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_string_equal(reason, "data.paymentId is not a UUID");
	assert_int_equal(fake_db_nstmts(), 0);
}

/* The confirming capture again (a new event id for the same payment) is a
 * harmless repeat: recorded, nothing sent. */
static void test_order_repeat_of_the_confirming_capture_changes_nothing(void **state)
{
	struct svc_event ev;
	char reason[256] = "";

	(void)state;
	make_capture(&ev, ID_E, PAY_E, 400);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO saga_transitions", NULL),
	                       "'CONFIRMED', 'CONFIRMED', 'DONE', 'PaymentCompletedEvent'"));
}

/* Payment keeps one payment per order, so a RefundPayment would take back
 * the capture that confirmed it: another capture is dead-lettered instead. */
static void test_order_other_capture_of_a_confirmed_order_is_refused_not_refunded(void **state)
{
	struct svc_event ev;
	char reason[256] = "";

	(void)state;
	make_capture(&ev, ID_E, PAY_OTHER, 400);
	assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), SVC_EPERMANENT);
	assert_string_equal(reason,
	                    "PaymentCompletedEvent refused for order " ID_E
	                    ": confirmed by payment " PAY_E ", got " PAY_OTHER ": not refunded");
	assert_nothing_written();
}

/* A capture outside PAYMENT_PENDING and CONFIRMED is refunded. RefundPayment
 * names the order's own payment when it asked for one, whatever the event
 * claims (cancelled), else the capture reported (before payment was asked). */
static void test_order_capture_in_other_states_refunds_the_payment_it_names(void **state)
{
	static const struct {
		const char *order_id;
		long long amount;
		const char *payment_id, *reason; /* of the RefundPayment */
	} cases[] = {
	        {ID_F, 1, PAY_F, "step PAYMENT timed out"},
	        {ID_A, 300, PAY_OTHER, "payment not requested by the saga"},
	};
	char reason[256] = "", got[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct svc_event ev;

		make_capture(&ev, cases[i].order_id, PAY_OTHER, cases[i].amount);
		assert_int_equal(apply_alone(&ev, reason, sizeof(reason)), 0);
		outbox_field(CMD_REFUND_PAYMENT, "paymentId", got, sizeof(got));
		assert_string_equal(got, cases[i].payment_id);
		outbox_field(CMD_REFUND_PAYMENT, "reason", got, sizeof(got));
		assert_string_equal(got, cases[i].reason);
	}
	/* the order that had not asked for payment is still waiting */
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "UPDATE", NULL), "THEN 'PENDING'"));
}

static void test_order_payment_timeout_refunds_the_payment_it_asked_for(void **state)
{
	const struct order_input_event timeout = {.input = ORDER_IN_STEP_TIMEOUT,
	                                          .event_type = "StepTimeout"};
	char got[64];

	(void)state;
	assert_int_equal(order_transition_apply(&ctx, &tx, ID_D, &timeout), 0);
	outbox_field(CMD_REFUND_PAYMENT, "paymentId", got, sizeof(got));
	assert_string_equal(got, PAY_D);
	/* an order that asked before payment ids: refunded by order id alone */
	assert_int_equal(order_transition_apply(&ctx, &tx, ID_B, &timeout), 0);
	outbox_field(CMD_REFUND_PAYMENT, "paymentId", got, sizeof(got));
	assert_string_equal(got, "(absent)");
}

static void test_order_batch_second_event_of_an_order_sees_the_first_ones_state(void **state)
{
	const struct svc_consumer_ops *ops = &order_consumer_ops;
	struct svc_event evs[3];
	const struct svc_event *p[3] = {&evs[0], &evs[1], &evs[2]};
	char reason[256], extra[160];
	json_t *confirmed, *asked;

	(void)state;
	make_event(&evs[0], EV_INVENTORY_RESERVED, ID_A, NULL);
	make_event(&evs[1], EV_PAYMENT_COMPLETED, ID_A, NULL); /* its paymentId comes below */
	make_event(&evs[2], EV_NOTIFICATION_SENT, ID_A, NULL);
	assert_int_equal(ops->begin_batch(&ctx, &tx, p, 3), 0);
	assert_int_equal(ops->apply(&ctx, &tx, &evs[0], NULL, reason, sizeof(reason)), 0);
	/* the capture of the payment the order asked for, as Payment reports it */
	svc_event_release(&evs[1]);
	asked = outbox_payload(CMD_PROCESS_PAYMENT);
	snprintf(extra, sizeof(extra), ",\"paymentId\":\"%s\",\"amount\":300,\"currency\":\"USD\"",
	         json_string_value(json_object_get(json_object_get(asked, "data"), "paymentId")));
	json_decref(asked);
	make_event_with(&evs[1], EV_PAYMENT_COMPLETED, ID_A, NULL, extra);
	assert_int_equal(ops->apply(&ctx, &tx, &evs[1], NULL, reason, sizeof(reason)), 0);
	assert_int_equal(ops->apply(&ctx, &tx, &evs[2], NULL, reason, sizeof(reason)), 0);
	assert_int_equal(ops->end_batch(&ctx, &tx, true), 0);

	/* one SELECT (with the lines), one UPDATE: nothing per event */
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT", NULL), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 1);
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO saga_transitions", NULL),
	                       "'CONFIRMED'"));
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO saga_transitions", NULL), 3);
	assert_non_null(strstr(fake_db_stmt(1), "'" ID_A "', 'PENDING', 'PAYMENT_PENDING'"));
	assert_non_null(strstr(fake_db_stmt(3), "'" ID_A "', 'PAYMENT_PENDING', 'CONFIRMED'"));
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "UPDATE", NULL),
	                       "status = CASE order_id WHEN '" ID_A "' THEN 'CONFIRMED'"));
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "UPDATE", NULL),
	                       "step_deadline = CASE order_id WHEN '" ID_A "' THEN NULL"));
	assert_null(strstr(fake_db_last(FAKE_DB_ANY, "UPDATE", NULL), "cancel_reason"));
	/* the payment asked for is the order's, written back with the rest */
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "UPDATE", NULL),
	                       "payment_id = CASE order_id WHEN '" ID_A "'"));

	/* OrderConfirmed carries the lines read with the row, in line order */
	confirmed = outbox_payload(EV_ORDER_CONFIRMED);
	json_t *items = json_object_get(json_object_get(confirmed, "data"), "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(
	        json_string_value(json_object_get(json_array_get(items, 0), "productId")), "P1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "quantity")),
	                 2);
	json_decref(confirmed);
	release_events(evs, 3);
}

static void test_order_batch_keeps_the_first_cause_and_the_last_deadline(void **state)
{
	struct svc_event evs[2];
	int codes[2];
	const char *update;
	json_t *cancelled;

	(void)state;
	make_event(&evs[0], EV_PAYMENT_FAILED, ID_B, "card expired");
	make_event(&evs[1], EV_INVENTORY_RELEASED, ID_B, "released");
	assert_int_equal(run_batch(evs, 2, codes), 0);
	assert_int_equal(codes[0], 0);
	assert_int_equal(codes[1], 0);
	assert_non_null(strstr(fake_db_stmt(1), "'PAYMENT_PENDING', 'COMPENSATING'"));
	update = fake_db_last(FAKE_DB_ANY, "UPDATE", NULL);
	assert_non_null(strstr(update, "WHEN '" ID_B "' THEN 'CANCELLED'"));
	assert_non_null(strstr(update, "step_deadline = CASE order_id WHEN '" ID_B "' THEN NULL"));
	assert_non_null(strstr(update, "cancel_reason = CASE order_id WHEN '" ID_B
	                               "' THEN LEFT('payment declined: card expired', 255)"));
	cancelled = outbox_payload(EV_ORDER_CANCELLED);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(cancelled, "data"), "reason")),
	        "payment declined: card expired");
	json_decref(cancelled);
	release_events(evs, 2);
}

static void test_order_batch_reads_unforeseen_lines_once(void **state)
{
	const struct order_batch_key keys[] = {{ID_B, false}};
	json_t *first = NULL, *again = NULL;

	(void)state;
	assert_int_equal(order_batch_begin(&tx, keys, 1), 0);
	assert_null(strstr(fake_db_stmt(0), "JSON_ARRAYAGG"));
	assert_int_equal(order_batch_items(&tx, ID_B, &first), 0);
	assert_int_equal(order_batch_items(&tx, ID_B, &again), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT product_id", NULL), 1);
	assert_int_equal(json_array_size(again), 1);
	assert_true(json_equal(first, again));
	json_decref(first);
	json_decref(again);
	assert_int_equal(order_batch_end(&tx, true), 0);
}

static void test_order_batch_dropped_without_write_writes_nothing(void **state)
{
	const struct order_batch_key keys[] = {{ID_A, false}};
	struct order_row row;

	(void)state;
	assert_int_equal(order_batch_begin(&tx, keys, 1), 0);
	assert_int_equal(order_batch_update(&tx, ID_A, ORDER_CANCELLED, "DONE", 0, "why"), 0);
	assert_int_equal(order_batch_end(&tx, false), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
	/* the state is gone: the next transaction reads the row again */
	assert_int_equal(order_batch_lock(&tx, ID_A, &row), 0);
	assert_int_equal(row.state, ORDER_PENDING);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT order_id", NULL), 2);
}

static void test_order_batch_serves_only_its_own_transaction(void **state)
{
	const struct order_batch_key keys[] = {{ID_A, false}};
	struct order_row row;

	(void)state;
	assert_int_equal(order_batch_begin(&tx, keys, 1), 0);
	assert_int_equal(
	        order_batch_update(&tx, ID_A, ORDER_PAYMENT_PENDING, "PAYMENT", 1000, NULL), 0);
	/* another transaction goes to the database */
	assert_int_equal(order_batch_lock(&other_tx, ID_A, &row), 0);
	assert_int_equal(row.state, ORDER_PENDING);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT order_id", NULL), 2);
	/* the batch's own transaction sees its change */
	assert_int_equal(order_batch_lock(&tx, ID_A, &row), 0);
	assert_int_equal(row.state, ORDER_PAYMENT_PENDING);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT order_id", NULL), 2);
	assert_int_equal(order_batch_end(&tx, true), 0);
	assert_non_null(strstr(fake_db_last(FAKE_DB_ANY, "UPDATE", NULL),
	                       "THEN UTC_TIMESTAMP(3) + INTERVAL 1000 * 1000 MICROSECOND"));
}

static void test_order_batch_unknown_order_is_rejected_without_a_statement(void **state)
{
	struct svc_event ev;
	const struct svc_event *p = &ev;
	char reason[256] = "";
	size_t before;

	(void)state;
	make_event(&ev, EV_INVENTORY_RESERVED, ID_X, NULL);
	assert_int_equal(order_consumer_ops.begin_batch(&ctx, &tx, &p, 1), 0);
	before = fake_db_nstmts();
	assert_int_equal(order_consumer_ops.apply(&ctx, &tx, &ev, NULL, reason, sizeof(reason)),
	                 SVC_EPERMANENT);
	assert_non_null(strstr(reason, "unknown order"));
	assert_int_equal(fake_db_nstmts(), before);
	assert_int_equal(order_consumer_ops.end_batch(&ctx, &tx, false), 0);
	svc_event_release(&ev);
}

static void test_order_batch_failed_write_back_is_reported_and_state_dropped(void **state)
{
	const struct order_batch_key keys[] = {{ID_C, false}};
	struct order_row row;

	(void)state;
	assert_int_equal(order_batch_begin(&tx, keys, 1), 0);
	assert_int_equal(order_batch_lock(&tx, ID_C, &row), 0);
	assert_string_equal(row.reason, "payment declined: card");
	assert_int_equal(order_batch_update(&tx, ID_C, ORDER_CANCELLED, "DONE", 0, row.reason), 0);
	fake_db_fail(fake_db_times(fake_db_on("UPDATE orders", NULL), 1), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(order_batch_end(&tx, true), SVC_ETRANSIENT);
	assert_int_equal(order_batch_lock(&tx, ID_C, &row), 0);
	assert_int_equal(row.state, ORDER_COMPENSATING);
}

static void test_order_batch_failed_lock_opens_no_batch(void **state)
{
	const struct order_batch_key keys[] = {{ID_A, false}};
	struct order_row row;

	(void)state;
	fake_db_fail(fake_db_times(fake_db_on("SELECT order_id", NULL), 1),
	             FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(order_batch_begin(&tx, keys, 1), SVC_ETRANSIENT);
	assert_int_equal(order_batch_lock(&tx, ID_A, &row), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "SELECT order_id", NULL), 2);
	/* ending what is not open is harmless */
	assert_int_equal(order_batch_end(&tx, true), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
}

static void test_order_store_update_many_sets_each_column_only_where_changed(void **state)
{
	const struct order_change c[] = {
	        {ID_A, ORDER_PAYMENT_PENDING, "PAYMENT", 5000, NULL, NULL},
	        {ID_B, ORDER_CONFIRMED, "DONE", -1, "r'1", NULL},
	};
	const char *sql;

	(void)state;
	assert_int_equal(order_store_update_many(&fake_conn, c, 2), 0);
	sql = fake_db_last(FAKE_DB_ANY, "UPDATE", NULL);
	assert_string_equal(
	        sql,
	        "UPDATE orders SET updated_at = UTC_TIMESTAMP(3), status = CASE order_id WHEN "
	        "'" ID_A "' THEN 'PAYMENT_PENDING' WHEN '" ID_B
	        "' THEN 'CONFIRMED' ELSE status END, step = "
	        "CASE order_id WHEN '" ID_A "' THEN 'PAYMENT' WHEN '" ID_B "' THEN 'DONE' ELSE "
	        "step END, step_deadline = CASE order_id WHEN '" ID_A "' THEN UTC_TIMESTAMP(3) + "
	        "INTERVAL 5000 * 1000 MICROSECOND ELSE step_deadline END, cancel_reason = CASE "
	        "order_id WHEN '" ID_B "' THEN LEFT('r\\'1', 255) ELSE cancel_reason END WHERE "
	        "order_id IN ('" ID_A "', '" ID_B "')");
	assert_int_equal(order_store_update_many(&fake_conn, c, 0), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 1);
}

static void test_order_store_lock_finds_an_order_asked_in_another_case(void **state)
{
	struct order_row row;

	(void)state;
	assert_int_equal(order_store_lock(&fake_conn, "01A20FD7-0000-7000-8000-00000000000B", &row),
	                 0);
	assert_string_equal(row.order_id, ID_B);
	assert_int_equal(row.state, ORDER_PAYMENT_PENDING);
	assert_int_equal(row.total, 500);
	assert_int_equal(order_store_lock(&fake_conn, ID_X, &row), SVC_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(
	                test_order_batch_locks_its_orders_in_one_select_in_id_order, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_batch_second_event_of_an_order_sees_the_first_ones_state, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_payment_not_matching_the_total_is_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_payment_of_another_amount_while_compensating_is_refunded, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_payment_request_names_a_payment_stored_with_the_order, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_capture_of_another_payment_is_refused_with_both_ids, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_capture_with_a_malformed_payment_id_is_rejected, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_repeat_of_the_confirming_capture_changes_nothing, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_other_capture_of_a_confirmed_order_is_refused_not_refunded,
	                setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_capture_in_other_states_refunds_the_payment_it_names, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_payment_timeout_refunds_the_payment_it_asked_for, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_batch_keeps_the_first_cause_and_the_last_deadline, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_order_batch_reads_unforeseen_lines_once, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_batch_dropped_without_write_writes_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_order_batch_serves_only_its_own_transaction,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_batch_unknown_order_is_rejected_without_a_statement, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_batch_failed_write_back_is_reported_and_state_dropped, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_order_batch_failed_lock_opens_no_batch, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_store_update_many_sets_each_column_only_where_changed, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_order_store_lock_finds_an_order_asked_in_another_case, setup,
	                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
