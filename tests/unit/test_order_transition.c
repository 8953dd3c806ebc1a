/*
 * One saga input applied to one order (services/order/transition.h): lock
 * the row, decide, store the state and a history row, write the commands
 * and events to the outbox, all in the caller's transaction; outside a
 * consumer batch. Against the fake database (fake_db.h, order_fake_db.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "services/order/order.h"
#include "services/order/transition.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/events.h"
#include "svc/service.h"
#include "tests/unit/order_fake_db.h"

#define ID_A  "01a20fd7-0000-7000-8000-00000000000a"
#define ID_C  "01a20fd7-0000-7000-8000-00000000000c"
#define ID_D  "01a20fd7-0000-7000-8000-00000000000d"
#define ID_E  "01a20fd7-0000-7000-8000-00000000000e"
#define ID_X  "01a20fd7-0000-7000-8000-0000000000ff" /* no such order */
#define PAY_D "01a20fd7-0000-7000-8000-0000000000d1"
#define EV_ID "01a20fd7-0000-7000-8000-0000000000e9"

static const struct fake_order orders[] = {
        {ID_A, "U1", "PENDING", NULL, 300, NULL},
        {ID_C, "U3", "COMPENSATING", "payment declined: card", 700, NULL},
        {ID_D, "U4", "PAYMENT_PENDING", NULL, 500, PAY_D},
        {ID_E, "U5", "CONFIRMED", NULL, 400, NULL},
};

static MYSQL conn;
static struct svc_tx tx;
static struct order_app app;
static const struct svc_service service = {.name = "order", .source = "order-service"};
static struct svc_ctx ctx = {.svc = &service, .user = &app};

static int setup(void **state)
{
	(void)state;
	order_config_load(&app.cfg);
	order_fake_db_reset(orders, sizeof(orders) / sizeof(orders[0]), NULL, 0);
	svc_tx_init(&tx, &conn);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	svc_tx_release(&tx);
	fake_db_uninstall();
	return 0;
}

static int apply(const char *order_id, enum order_input input, const char *type)
{
	const struct order_input_event in = {
	        .input = input, .event_type = type, .event_id = EV_ID, .amount = -1};

	return order_transition_apply(&ctx, &tx, order_id, &in);
}

static size_t outbox(const char *type)
{
	return fake_db_count(FAKE_DB_ANY, "INSERT INTO outbox_messages", type);
}

static size_t writes(void)
{
	return fake_db_count(FAKE_DB_ANY, "UPDATE", NULL) +
	       fake_db_count(FAKE_DB_ANY, "INSERT", NULL);
}

static void test_transition_moves_the_order_and_sends_its_command(void **state)
{
	(void)state;
	assert_int_equal(apply(ID_A, ORDER_IN_INVENTORY_RESERVED, EV_INVENTORY_RESERVED), 0);
	/* the row was locked before anything was decided */
	assert_non_null(strstr(fake_db_find(FAKE_DB_ANY, NULL, NULL, 0), "FOR UPDATE"));
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE orders", "'PAYMENT_PENDING'"), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO saga_transitions",
	                               "'PENDING', 'PAYMENT_PENDING'"),
	                 1);
	assert_int_equal(outbox(CMD_PROCESS_PAYMENT), 1);
	/* the command names its cause */
	assert_non_null(
	        strstr(fake_db_last(FAKE_DB_ANY, "INSERT INTO outbox_messages", NULL), EV_ID));
}

static void test_transition_unknown_order_writes_nothing(void **state)
{
	(void)state;
	assert_int_equal(apply(ID_X, ORDER_IN_INVENTORY_RESERVED, EV_INVENTORY_RESERVED),
	                 SVC_ENOTFOUND);
	assert_int_equal(writes(), 0);
}

static void test_transition_unexpected_input_is_recorded_and_ignored(void **state)
{
	(void)state;
	assert_int_equal(apply(ID_E, ORDER_IN_INVENTORY_SHORTAGE, EV_INVENTORY_SHORTAGE),
	                 SVC_IGNORED);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
	assert_int_equal(outbox(NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO saga_transitions", "unexpected"),
	                 1);
}

static void test_transition_report_keeps_the_state_and_writes_history(void **state)
{
	(void)state;
	assert_int_equal(apply(ID_E, ORDER_IN_NOTIFICATION_SENT, EV_NOTIFICATION_SENT), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE", NULL), 0);
	assert_int_equal(outbox(NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO saga_transitions", NULL), 1);
}

static void test_transition_capture_of_another_amount_is_refused_whole(void **state)
{
	char why[128] = "";
	const struct order_input_event in = {
	        .input = ORDER_IN_PAYMENT_COMPLETED,
	        .event_type = EV_PAYMENT_COMPLETED,
	        .event_id = EV_ID,
	        .payment_id = PAY_D,
	        .amount = 499,
	        .currency = "USD",
	        .conflict = why,
	        .conflict_len = sizeof(why),
	};

	(void)state;
	assert_int_equal(order_transition_apply(&ctx, &tx, ID_D, &in), SVC_ECONFLICT);
	assert_true(why[0] != '\0');
	assert_int_equal(writes(), 0);
}

static void test_transition_capture_of_the_order_confirms_it(void **state)
{
	const struct order_input_event in = {
	        .input = ORDER_IN_PAYMENT_COMPLETED,
	        .event_type = EV_PAYMENT_COMPLETED,
	        .event_id = EV_ID,
	        .payment_id = PAY_D,
	        .amount = 500,
	        .currency = "USD",
	};

	(void)state;
	assert_int_equal(order_transition_apply(&ctx, &tx, ID_D, &in), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE orders", "'CONFIRMED'"), 1);
	assert_int_equal(outbox(EV_ORDER_CONFIRMED), 1);
}

static void test_transition_step_timeout_compensates_both_steps(void **state)
{
	const struct order_input_event in = {.input = ORDER_IN_STEP_TIMEOUT,
	                                     .event_type = "StepTimeout"};

	(void)state;
	assert_int_equal(order_transition_apply(&ctx, &tx, ID_D, &in), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "UPDATE orders", "'COMPENSATING'"), 1);
	assert_int_equal(outbox(CMD_REFUND_PAYMENT), 1);
	assert_int_equal(outbox(CMD_RELEASE_INVENTORY), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO saga_transitions",
	                               "step PAYMENT timed out"),
	                 1);
}

static void test_transition_failed_update_stops_before_history_and_outbox(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("UPDATE orders", NULL), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(apply(ID_A, ORDER_IN_INVENTORY_RESERVED, EV_INVENTORY_RESERVED),
	                 SVC_ETRANSIENT);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 0);
}

static void test_transition_failed_outbox_row_fails_the_input(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("INSERT INTO outbox_messages", NULL), FAKE_DB_ER_PARSE);
	assert_int_equal(apply(ID_C, ORDER_IN_INVENTORY_RELEASED, EV_INVENTORY_RELEASED),
	                 SVC_EPERMANENT);
}

static void test_transition_failed_lock_is_passed_on(void **state)
{
	(void)state;
	fake_db_fail(fake_db_on("SELECT order_id", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(apply(ID_A, ORDER_IN_INVENTORY_RESERVED, EV_INVENTORY_RESERVED),
	                 SVC_ETRANSIENT);
	assert_int_equal(writes(), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_transition_moves_the_order_and_sends_its_command),
	        T(test_transition_unknown_order_writes_nothing),
	        T(test_transition_unexpected_input_is_recorded_and_ignored),
	        T(test_transition_report_keeps_the_state_and_writes_history),
	        T(test_transition_capture_of_another_amount_is_refused_whole),
	        T(test_transition_capture_of_the_order_confirms_it),
	        T(test_transition_step_timeout_compensates_both_steps),
	        T(test_transition_failed_update_stops_before_history_and_outbox),
	        T(test_transition_failed_outbox_row_fails_the_input),
	        T(test_transition_failed_lock_is_passed_on),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
