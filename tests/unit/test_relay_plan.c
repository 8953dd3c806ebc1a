/* Unit tests of resilience/sidecar/relay_plan.h: what the outbox relay does
 * with each row of a batch (per-key order, dead-lettering). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/relay_plan.h"

#define OK       RD_KAFKA_RESP_ERR_NO_ERROR
#define TOO_BIG  RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
#define NO_TOPIC RD_KAFKA_RESP_ERR__INVALID_ARG
#define TIMEOUT  RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
#define DOWN     RD_KAFKA_RESP_ERR__TRANSPORT

#define DEL  SC_RELAY_DELETE
#define DLQ  SC_RELAY_DEAD_LETTER
#define KEEP SC_RELAY_KEEP

#define MAX_ROWS 6

/* One row: its key ("" = none), whether it was sent, its outcome. */
struct row_case {
	const char *key;
	bool sent;
	rd_kafka_resp_err_t err;
	enum sc_relay_action want;
};

struct plan_case {
	const char *name;
	size_t n;
	struct row_case rows[MAX_ROWS];
};

static const struct plan_case plan_cases[] = {
        {"every row acknowledged goes",
         3,
         {{"o1", true, OK, DEL}, {"o2", true, OK, DEL}, {"o1", true, OK, DEL}}},
        {"a row refused for good is dead-lettered, the rest of its key goes",
         3,
         {{"o1", true, TOO_BIG, DLQ}, {"o1", true, OK, DEL}, {"o2", true, OK, DEL}}},
        {"a row without a topic is dead-lettered",
         2,
         {{"o1", false, NO_TOPIC, DLQ}, {"o2", true, OK, DEL}}},
        {"a transient failure stays and holds later failures of its key",
         3,
         {{"o1", true, TIMEOUT, KEEP}, {"o1", true, TOO_BIG, KEEP}, {"o2", true, TOO_BIG, DLQ}}},
        {"a row held behind its key stays",
         3,
         {{"o1", false, DOWN, KEEP}, {"o1", false, OK, KEEP}, {"o2", true, OK, DEL}}},
        {"rows held behind a dead letter stay for the next round",
         3,
         {{"o1", false, TOO_BIG, DLQ}, {"o1", false, OK, KEEP}, {"o1", false, OK, KEEP}}},
        {"an acknowledged row behind a kept one goes (it is in Kafka)",
         2,
         {{"o1", true, TIMEOUT, KEEP}, {"o1", true, OK, DEL}}},
        {"two refused rows of one key are both dead-lettered, in order",
         2,
         {{"o1", true, TOO_BIG, DLQ}, {"o1", true, TOO_BIG, DLQ}}},
        {"keyless rows keep no order between them",
         2,
         {{"", true, TIMEOUT, KEEP}, {"", true, TOO_BIG, DLQ}}},
        {"other keys are not held back",
         4,
         {{"o1", true, TIMEOUT, KEEP},
          {"o2", true, OK, DEL},
          {"o3", true, TOO_BIG, DLQ},
          {"o1", false, OK, KEEP}}},
        {"an empty batch", 0, {{NULL, false, OK, DEL}}},
};

static void fill(const struct plan_case *c, struct sc_relay_row *rows)
{
	for (size_t i = 0; i < c->n; i++) {
		rows[i].key = c->rows[i].key[0] ? c->rows[i].key : NULL;
		rows[i].keylen = strlen(c->rows[i].key);
		rows[i].sent = c->rows[i].sent;
		rows[i].err = c->rows[i].err;
	}
}

static void test_relay_plan_keeps_key_order_and_dead_letters_permanent_refusals(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(plan_cases) / sizeof(plan_cases[0]); k++) {
		const struct plan_case *c = &plan_cases[k];
		struct sc_relay_row rows[MAX_ROWS] = {0};
		enum sc_relay_action out[MAX_ROWS];

		fill(c, rows);
		memset(out, 0xff, sizeof(out));
		sc_relay_plan(rows, c->n, out);
		for (size_t i = 0; i < c->n; i++) {
			if (out[i] != c->rows[i].want)
				print_error("case '%s', row %zu: got %d, want %d\n", c->name, i,
				            (int)out[i], (int)c->rows[i].want);
			assert_int_equal(out[i], c->rows[i].want);
		}
	}
}

static void test_relay_holds_rows_behind_an_unsent_row_of_their_key(void **state)
{
	(void)state;
	struct sc_relay_row rows[] = {
	        {"o1", 2, true, OK},    /* sent */
	        {"o2", 2, false, DOWN}, /* could not be sent */
	        {"o1", 2, false, OK},   /* being decided: o1's earlier row was sent */
	        {"o2", 2, false, OK},   /* being decided: o2's earlier row was not */
	        {NULL, 0, false, OK},   /* keyless: never held */
	};

	assert_false(sc_relay_held(rows, 0));
	assert_false(sc_relay_held(rows, 1));
	assert_false(sc_relay_held(rows, 2));
	assert_true(sc_relay_held(rows, 3));
	assert_false(sc_relay_held(rows, 4));
}

static void test_relay_classifies_kafka_refusals(void **state)
{
	static const struct {
		rd_kafka_resp_err_t err;
		bool permanent;
	} cases[] = {
	        {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, true},
	        {RD_KAFKA_RESP_ERR_INVALID_RECORD, true},
	        {RD_KAFKA_RESP_ERR_INVALID_MSG, true},
	        {RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, true},
	        {RD_KAFKA_RESP_ERR__INVALID_ARG, true},
	        {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, false},
	        {RD_KAFKA_RESP_ERR__TRANSPORT, false},
	        {RD_KAFKA_RESP_ERR__QUEUE_FULL, false},
	        {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, false},
	        {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, false},
	        {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sc_relay_err_permanent(cases[i].err), cases[i].permanent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(
	                test_relay_plan_keeps_key_order_and_dead_letters_permanent_refusals),
	        cmocka_unit_test(test_relay_holds_rows_behind_an_unsent_row_of_their_key),
	        cmocka_unit_test(test_relay_classifies_kafka_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
