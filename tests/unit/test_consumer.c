/*
 * The inbox (svc/consumer.h; services/common/src/consumer.c and
 * consumer_batch.c): a delivery decoded and answered message by message,
 * its events claimed in processed_messages in the transaction of their
 * effect, a batch in one transaction that falls back to one transaction per
 * event when it fails. Against the fake database (fake_db.h) and a test
 * consumer whose apply() writes one outbox row per event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/consumer.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/events.h"
#include "svc/outbox.h"
#include "svc/service.h"
#include "tests/unit/fake_db.h"

#define ID1     "01a20fd7-0000-7000-8000-0000000000e1"
#define ID2     "01a20fd7-0000-7000-8000-0000000000e2"
#define ID3     "01a20fd7-0000-7000-8000-0000000000e3"
#define ORDER_A "01a20fd7-0000-7000-8000-00000000000a"
#define ORDER_B "01a20fd7-0000-7000-8000-00000000000b"
#define ORDER_C "01a20fd7-0000-7000-8000-00000000000c"

/* What the test consumer is told to answer, and what it saw. */
static struct {
	const char *apply_fail_id; /* apply() of this event returns apply_fail_code */
	int apply_fail_code;
	const char *prepare_fail_id; /* prepare() of this event returns prepare_fail_code */
	int prepare_fail_code;
	int applies, prepares, committed;
	int batch_calls, batch_events;           /* committed_batch() */
	const char *each_id;                     /* prepare_batch() leaves this one to prepare() */
	int prep_batch_calls, prep_batch_events; /* prepare_batch() */
	char prepared[8][40];                    /* ids prepare() ran for */
} tc;

static bool accepts(const char *type)
{
	return strcmp(type, EV_ORDER_CREATED) != 0;
}

static int prepare(struct svc_ctx *ctx, const struct svc_event *ev, void **scratch, char *reason,
                   size_t reasonlen)
{
	(void)ctx, (void)scratch;
	if (tc.prepares < 8)
		snprintf(tc.prepared[tc.prepares], sizeof(tc.prepared[0]), "%s", ev->id);
	tc.prepares++;
	if (tc.prepare_fail_id && !strcmp(ev->id, tc.prepare_fail_id)) {
		snprintf(reason, reasonlen, "prepare failed");
		return tc.prepare_fail_code;
	}
	return 0;
}

static int apply(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev, void *scratch,
                 char *reason, size_t reasonlen)
{
	(void)ctx, (void)scratch;
	tc.applies++;
	if (tc.apply_fail_id && !strcmp(ev->id, tc.apply_fail_id)) {
		snprintf(reason, reasonlen, "apply failed");
		return tc.apply_fail_code;
	}
	/* the outbox row carries the event id as its causation id */
	return svc_outbox_emit(tx, "test.events", EV_ORDER_CONFIRMED, ev->correlation_id, "test",
	                       ev->id, json_object());
}

static void committed(struct svc_ctx *ctx, const struct svc_event *ev, void *scratch)
{
	(void)ctx, (void)ev, (void)scratch;
	tc.committed++;
}

static void committed_batch(struct svc_ctx *ctx, const struct svc_event *const *evs,
                            void *const *scratch, size_t n)
{
	(void)ctx, (void)evs, (void)scratch;
	tc.batch_calls++;
	tc.batch_events += (int)n;
}

/* Prepares every event but tc.each_id (left to prepare()); the one named
 * by tc.prepare_fail_id fails with tc.prepare_fail_code. */
static void prepare_batch(struct svc_ctx *ctx, const struct svc_event *const *evs, void **scratch,
                          int *codes, char *const *reasons, size_t len, size_t n)
{
	(void)ctx;
	tc.prep_batch_calls++;
	tc.prep_batch_events += (int)n;
	for (size_t i = 0; i < n; i++) {
		scratch[i] = NULL;
		codes[i] = 0;
		if (tc.each_id && !strcmp(evs[i]->id, tc.each_id)) {
			codes[i] = SVC_PREPARE_EACH;
		} else if (tc.prepare_fail_id && !strcmp(evs[i]->id, tc.prepare_fail_id)) {
			snprintf(reasons[i], len, "prepare_batch failed");
			codes[i] = tc.prepare_fail_code;
		}
	}
}

static const struct svc_consumer_ops batch_prepare_ops = {
        .accepts = accepts,
        .prepare = prepare,
        .prepare_batch = prepare_batch,
        .apply = apply,
        .committed = committed,
};

static const struct svc_consumer_ops batch_hook_ops = {
        .accepts = accepts,
        .apply = apply,
        .committed = committed,
        .committed_batch = committed_batch,
};

static const struct svc_consumer_ops local_ops = {
        .accepts = accepts,
        .apply = apply,
        .committed = committed,
};

static const struct svc_consumer_ops outside_ops = {
        .accepts = accepts,
        .prepare = prepare,
        .apply = apply,
        .committed = committed,
};

static struct svc_service service = {.name = "test", .source = "test", .consumer = &local_ops};
static struct svc_consumer_stats stats;
static struct svc_ctx ctx = {.svc = &service, .events = &stats};

static int setup(void **state)
{
	(void)state;
	memset(&tc, 0, sizeof(tc));
	memset(&stats, 0, sizeof(stats));
	fake_db_install();
	service.consumer = &local_ops;
	ctx.consumer_tx_max = 0;
	ctx.inbox_keep_ms = 0;
	ctx.db = fake_db_pool_open(2);
	return ctx.db ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	svc_db_free(ctx.db);
	ctx.db = NULL;
	fake_db_uninstall();
	return 0;
}

/* A delivered message: the event `id` of `type` for `order` (its
 * correlation id), stamped `timestamp_ms`, as the sidecar posts it. New
 * reference. */
static json_t *message_at(const char *id, const char *type, const char *order, int64_t offset,
                          int64_t timestamp_ms)
{
	char value[512];

	snprintf(value, sizeof(value),
	         "{\"eventId\":\"%s\",\"type\":\"%s\",\"timestamp\":%lld,\"data\":{\"orderId\":"
	         "\"%s\"},\"metadata\":{\"correlationId\":\"%s\",\"version\":\"1\",\"source\":"
	         "\"test\"}}",
	         id, type, (long long)timestamp_ms, order, order);
	return json_pack("{s:s, s:i, s:I, s:s, s:s}", "topic", "order.events", "partition", 0,
	                 "offset", (json_int_t)offset, "key", order, "value", value);
}

/* The same, stamped at 1 ms after the epoch (the inbox keeps every claim in
 * these tests unless one says otherwise: ctx.inbox_keep_ms 0). */
static json_t *message(const char *id, const char *type, const char *order, int64_t offset)
{
	return message_at(id, type, order, offset, 1);
}

/* Posts `msgs` (stolen) as one delivery; the answer's statuses go to got[]
 * (up to n). Returns the HTTP status. */
static int deliver(json_t *msgs, const char **got, size_t n)
{
	json_t *body = json_pack("{s:o}", "messages", msgs), *out;
	char *text = json_dumps(body, JSON_COMPACT);
	int status = 0;

	assert_non_null(text);
	out = svc_consumer_handle_batch(&ctx, text, strlen(text), &status);
	for (size_t i = 0; out && i < n; i++) {
		json_t *r = json_array_get(json_object_get(out, "results"), i);
		static char keep[8][16];

		snprintf(keep[i], sizeof(keep[i]), "%s",
		         r ? json_string_value(json_object_get(r, "status")) : "(none)");
		got[i] = keep[i];
	}
	if (out)
		assert_int_equal(json_array_size(json_object_get(out, "results")), n);
	json_decref(out);
	json_decref(body);
	free(text);
	return status;
}

static json_t *three_events(void)
{
	return json_pack("[o, o, o]", message(ID1, EV_PAYMENT_COMPLETED, ORDER_A, 1),
	                 message(ID2, EV_PAYMENT_COMPLETED, ORDER_B, 2),
	                 message(ID3, EV_PAYMENT_COMPLETED, ORDER_C, 3));
}

static size_t committed_outbox(const char *event_id)
{
	return fake_db_count(FAKE_DB_COMMITTED, "INSERT INTO outbox_messages", event_id);
}

static size_t committed_claims(const char *event_id)
{
	return fake_db_count(FAKE_DB_COMMITTED, "INSERT INTO processed_messages", event_id);
}

static void assert_statuses(const char **got, const char *a, const char *b, const char *c)
{
	assert_string_equal(got[0], a);
	assert_string_equal(got[1], b);
	assert_string_equal(got[2], c);
}

static void test_consumer_batch_applies_every_event_in_one_transaction(void **state)
{
	const char *got[3];

	(void)state;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "ok", "ok");
	assert_int_equal(fake_db_begins(), 1);
	assert_int_equal(fake_db_commits(), 1);
	assert_int_equal(fake_db_rollbacks(), 0);
	/* the claims and the outbox rows: one multi-row INSERT each, committed */
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO processed_messages", NULL), 1);
	assert_int_equal(committed_claims(ID1) + committed_claims(ID2) + committed_claims(ID3), 3);
	assert_int_equal(committed_outbox(ID1) + committed_outbox(ID2) + committed_outbox(ID3), 3);
	assert_int_equal(tc.applies, 3);
	assert_int_equal(tc.committed, 3);
	assert_int_equal(atomic_load(&stats.ok), 3);
}

/* committed_batch() runs once for a batch's applied events, instead of
 * committed() for each. */
static void test_consumer_committed_batch_runs_once_per_transaction(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &batch_hook_ops;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "ok", "ok");
	assert_int_equal(tc.batch_calls, 1);
	assert_int_equal(tc.batch_events, 3);
	assert_int_equal(tc.committed, 0);
}

/* A batch given up: the events handled one by one get committed(). */
static void test_consumer_committed_batch_not_for_events_one_by_one(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &batch_hook_ops;
	fake_db_fail(fake_db_on("INSERT INTO processed_messages", ID2), FAKE_DB_ER_DUP_ENTRY);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "duplicate", "ok");
	assert_int_equal(tc.batch_calls, 0);
	assert_int_equal(tc.committed, 2);
}

/* Three events, the second stamped an hour and a second ago, with the inbox
 * remembering an hour: its claim may have been deleted already. */
static json_t *one_too_old(void)
{
	int64_t now = svc_now_ms();

	ctx.inbox_keep_ms = 3600 * 1000;
	return json_pack("[o, o, o]", message_at(ID1, EV_PAYMENT_COMPLETED, ORDER_A, 1, now),
	                 message_at(ID2, EV_PAYMENT_COMPLETED, ORDER_B, 2, now - 3601 * 1000),
	                 message_at(ID3, EV_PAYMENT_COMPLETED, ORDER_C, 3, now - 3599 * 1000));
}

/* An event older than the inbox remembers is rejected (the sidecar
 * dead-letters it with the reason), neither claimed nor applied; the others
 * of the batch go on together. */
static void test_consumer_event_older_than_the_inbox_is_rejected(void **state)
{
	const char *got[3];

	(void)state;
	assert_int_equal(deliver(one_too_old(), got, 3), 200);
	assert_statuses(got, "ok", "rejected", "ok");
	assert_int_equal(fake_db_commits(), 1);
	assert_int_equal(committed_claims(ID1) + committed_claims(ID3), 2);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, NULL, ID2), 0);
	assert_int_equal(tc.applies, 2);
	assert_int_equal(atomic_load(&stats.rejected), 1);
}

/* The same when the batch is given up and the events go one by one (ID3
 * was processed already), and with an outside prepare(), which must not run
 * for it either. */
static void test_consumer_event_older_than_the_inbox_is_rejected_one_by_one(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &outside_ops;
	fake_db_fail(fake_db_on("INSERT INTO processed_messages", ID3), FAKE_DB_ER_DUP_ENTRY);
	assert_int_equal(deliver(one_too_old(), got, 3), 200);
	assert_statuses(got, "ok", "rejected", "duplicate");
	assert_int_equal(committed_claims(ID1), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, NULL, ID2), 0);
	for (int i = 0; i < tc.prepares && i < 8; i++)
		assert_string_not_equal(tc.prepared[i], ID2);
}

/* prepare_batch() prepares a batch once, on the delivering thread; what it
 * leaves goes to prepare(); then one transaction applies them all. */
static void test_consumer_prepare_batch_prepares_once_and_leaves_the_rest(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &batch_prepare_ops;
	tc.each_id = ID2;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "ok", "ok");
	assert_int_equal(tc.prep_batch_calls, 1);
	assert_int_equal(tc.prep_batch_events, 3);
	assert_int_equal(tc.prepares, 1);
	assert_string_equal(tc.prepared[0], ID2);
	assert_int_equal(tc.applies, 3);
	assert_int_equal(fake_db_commits(), 1);
}

/* A transient failure in prepare_batch(): that event and those after it are
 * retried; one before it that prepare_batch() left still gets prepare()
 * before it is applied. */
static void test_consumer_prepare_batch_transient_failure_retries_from_there(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &batch_prepare_ops;
	tc.each_id = ID1;
	tc.prepare_fail_id = ID2;
	tc.prepare_fail_code = SVC_ETRANSIENT;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "retry", "retry");
	assert_int_equal(tc.prepares, 1);
	assert_string_equal(tc.prepared[0], ID1);
	assert_int_equal(committed_claims(ID1), 1);
	assert_int_equal(committed_claims(ID2) + committed_claims(ID3), 0);
	assert_int_equal(tc.applies, 1);
}

static void test_consumer_claim_collision_gives_up_the_batch_and_goes_one_by_one(void **state)
{
	const char *got[3];

	(void)state;
	/* ID2 was processed already: its claim collides, in the batch and alone */
	fake_db_fail(fake_db_on("INSERT INTO processed_messages", ID2), FAKE_DB_ER_DUP_ENTRY);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "duplicate", "ok");
	/* the batch, then one transaction per event */
	assert_int_equal(fake_db_begins(), 4);
	assert_int_equal(fake_db_commits(), 2);
	assert_int_equal(fake_db_rollbacks(), 2); /* the batch, and ID2 alone */
	assert_int_equal(committed_outbox(ID1), 1);
	assert_int_equal(committed_outbox(ID2), 0);
	assert_int_equal(committed_outbox(ID3), 1);
	assert_int_equal(committed_claims(ID1), 1);
	assert_int_equal(committed_claims(ID3), 1);
	/* a duplicate is claimed before its apply(): never applied alone */
	assert_int_equal(tc.applies, 3 + 2);
	assert_int_equal(tc.committed, 2);
	assert_int_equal(atomic_load(&stats.duplicate), 1);
}

static void test_consumer_transient_error_answers_retry_for_the_rest(void **state)
{
	const char *got[3];

	(void)state;
	fake_db_fail(fake_db_on("INSERT INTO processed_messages", ID2), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "retry", "retry");
	/* ID3 is not tried alone: it waits behind ID2 */
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT INTO processed_messages", ID3), 1);
	assert_int_equal(committed_outbox(ID1), 1);
	assert_int_equal(committed_outbox(ID2) + committed_outbox(ID3), 0);
	assert_int_equal(atomic_load(&stats.retry), 2);
}

static void test_consumer_failed_commit_goes_one_by_one(void **state)
{
	const char *got[3];

	(void)state;
	fake_db_fail(fake_db_times(fake_db_on("COMMIT", NULL), 1), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "ok", "ok");
	assert_int_equal(fake_db_rollbacks(), 1);
	assert_int_equal(fake_db_commits(), 3);
	assert_int_equal(committed_outbox(ID1) + committed_outbox(ID2) + committed_outbox(ID3), 3);
	assert_int_equal(tc.committed, 3);
}

static void test_consumer_commit_that_keeps_failing_answers_retry(void **state)
{
	const char *got[3];

	(void)state;
	fake_db_fail(fake_db_on("COMMIT", NULL), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "retry", "retry", "retry");
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", NULL), 0);
	assert_int_equal(tc.committed, 0);
}

static void test_consumer_rejected_event_leaves_nothing_and_the_others_commit(void **state)
{
	const char *got[3];

	(void)state;
	tc.apply_fail_id = ID2;
	tc.apply_fail_code = SVC_EPERMANENT;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "rejected", "ok");
	assert_int_equal(committed_outbox(ID1), 1);
	assert_int_equal(committed_outbox(ID3), 1);
	assert_int_equal(committed_claims(ID2), 0);
	assert_int_equal(atomic_load(&stats.rejected), 1);
}

static void test_consumer_undecodable_messages_are_rejected_without_a_statement(void **state)
{
	json_t *no_topic = message(ID1, EV_PAYMENT_COMPLETED, ORDER_A, 1);
	json_t *no_value = message(ID2, EV_PAYMENT_COMPLETED, ORDER_B, 2);
	json_t *bad_event = message("not-a-uuid", EV_PAYMENT_COMPLETED, ORDER_C, 3);
	const char *got[3];

	(void)state;
	json_object_del(no_topic, "topic");
	json_object_set_new(no_value, "value", json_integer(7));
	assert_int_equal(deliver(json_pack("[o, o, o]", no_topic, no_value, bad_event), got, 3),
	                 200);
	assert_statuses(got, "rejected", "rejected", "rejected");
	assert_int_equal(fake_db_nstmts(), 0);
	assert_int_equal(tc.applies, 0);
}

static void test_consumer_malformed_delivery_is_a_bad_request(void **state)
{
	const char body[] = "{\"messages\": 3}";
	int status = 0;

	(void)state;
	assert_null(svc_consumer_handle_batch(&ctx, body, strlen(body), &status));
	assert_int_equal(status, 400);
	assert_null(svc_consumer_handle_batch(&ctx, "{", 1, &status));
	assert_int_equal(status, 400);
}

static void test_consumer_unaccepted_type_is_ignored_without_a_statement(void **state)
{
	const char *got[1];

	(void)state;
	assert_int_equal(
	        deliver(json_pack("[o]", message(ID1, EV_ORDER_CREATED, ORDER_A, 1)), got, 1), 200);
	assert_string_equal(got[0], "ignored");
	assert_int_equal(fake_db_nstmts(), 0);
}

static void test_consumer_repeated_id_in_one_delivery_is_applied_once(void **state)
{
	const char *got[3];

	(void)state;
	assert_int_equal(
	        deliver(json_pack("[o, o, o]", message(ID1, EV_PAYMENT_COMPLETED, ORDER_A, 1),
	                          message(ID1, EV_PAYMENT_COMPLETED, ORDER_A, 2),
	                          message(ID3, EV_PAYMENT_COMPLETED, ORDER_C, 3)),
	                got, 3),
	        200);
	assert_statuses(got, "ok", "duplicate", "ok");
	assert_int_equal(tc.applies, 2);
	assert_int_equal(fake_db_commits(), 1);
}

static void test_consumer_tx_max_splits_the_delivery(void **state)
{
	const char *got[3];

	(void)state;
	ctx.consumer_tx_max = 2;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "ok", "ok");
	assert_int_equal(fake_db_begins(), 2);
	assert_int_equal(fake_db_commits(), 2);
}

static void test_consumer_database_down_answers_retry(void **state)
{
	const char *got[3];

	(void)state;
	fake_db_set_down(true);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "retry", "retry", "retry");
	assert_int_equal(tc.applies, 0);
}

static void test_consumer_outside_prepare_skips_what_was_processed(void **state)
{
	static const char *const processed[] = {ID2};
	const char *got[3];

	(void)state;
	service.consumer = &outside_ops;
	fake_db_rows(fake_db_on("SELECT event_id FROM processed_messages", NULL), 1, 1, processed);
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "duplicate", "ok");
	/* a redelivery does not reach outside again */
	assert_int_equal(tc.prepares, 2);
	assert_string_equal(tc.prepared[0], ID1);
	assert_string_equal(tc.prepared[1], ID3);
	assert_int_equal(tc.applies, 2);
	assert_int_equal(committed_claims(ID2), 0);
}

static void test_consumer_outside_prepare_transient_failure_retries_from_there(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &outside_ops;
	tc.prepare_fail_id = ID2;
	tc.prepare_fail_code = SVC_ETRANSIENT;
	assert_int_equal(deliver(three_events(), got, 3), 200);
	assert_statuses(got, "ok", "retry", "retry");
	assert_int_equal(committed_outbox(ID1), 1);
	assert_int_equal(committed_outbox(ID2) + committed_outbox(ID3), 0);
	assert_int_equal(tc.applies, 1);
}

static void test_consumer_outside_prepare_keeps_one_event_per_order_together(void **state)
{
	const char *got[3];

	(void)state;
	service.consumer = &outside_ops;
	assert_int_equal(
	        deliver(json_pack("[o, o, o]", message(ID1, EV_PAYMENT_COMPLETED, ORDER_A, 1),
	                          message(ID2, EV_PAYMENT_COMPLETED, ORDER_A, 2),
	                          message(ID3, EV_PAYMENT_COMPLETED, ORDER_C, 3)),
	                got, 3),
	        200);
	assert_statuses(got, "ok", "ok", "ok");
	/* ID2 is of ORDER_A too: prepared after ID1 committed, in the next one */
	assert_int_equal(fake_db_commits(), 2);
	assert_int_equal(tc.prepares, 3);
}

static void test_inbox_claim_tells_new_duplicate_and_failures_apart(void **state)
{
	const struct svc_inbox_from from = {.topic = "order.events", .partition = 1, .offset = 7};
	struct svc_event ev = {0};
	MYSQL *conn;

	(void)state;
	snprintf(ev.id, sizeof(ev.id), "%s", ID1);
	snprintf(ev.type, sizeof(ev.type), "%s", EV_PAYMENT_COMPLETED);
	conn = svc_db_acquire(ctx.db);
	assert_non_null(conn);
	assert_int_equal(svc_inbox_claim(conn, &ev, &from), 0);
	/* each rule counts the matches from when it was added */
	fake_db_fail(fake_db_nth(fake_db_on("INSERT", "processed_messages"), 1),
	             FAKE_DB_ER_DUP_ENTRY);
	fake_db_fail(fake_db_nth(fake_db_on("INSERT", "processed_messages"), 2),
	             FAKE_DB_CR_SERVER_LOST);
	fake_db_fail(fake_db_nth(fake_db_on("INSERT", "processed_messages"), 3), FAKE_DB_ER_PARSE);
	assert_int_equal(svc_inbox_claim(conn, &ev, &from), SVC_DUPLICATE);
	assert_int_equal(svc_inbox_claim(conn, &ev, &from), SVC_ETRANSIENT);
	assert_int_equal(svc_inbox_claim(conn, &ev, &from), SVC_EPERMANENT);
	/* where it came from is recorded with the claim */
	assert_non_null(strstr(fake_db_find(FAKE_DB_ANY, "INSERT", "processed_messages", 0),
	                       "'order.events',1,7"));
	svc_db_release(ctx.db, conn, true);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_consumer_batch_applies_every_event_in_one_transaction),
	        T(test_consumer_committed_batch_runs_once_per_transaction),
	        T(test_consumer_committed_batch_not_for_events_one_by_one),
	        T(test_consumer_event_older_than_the_inbox_is_rejected),
	        T(test_consumer_prepare_batch_prepares_once_and_leaves_the_rest),
	        T(test_consumer_prepare_batch_transient_failure_retries_from_there),
	        T(test_consumer_event_older_than_the_inbox_is_rejected_one_by_one),
	        T(test_consumer_claim_collision_gives_up_the_batch_and_goes_one_by_one),
	        T(test_consumer_transient_error_answers_retry_for_the_rest),
	        T(test_consumer_failed_commit_goes_one_by_one),
	        T(test_consumer_commit_that_keeps_failing_answers_retry),
	        T(test_consumer_rejected_event_leaves_nothing_and_the_others_commit),
	        T(test_consumer_undecodable_messages_are_rejected_without_a_statement),
	        T(test_consumer_malformed_delivery_is_a_bad_request),
	        T(test_consumer_unaccepted_type_is_ignored_without_a_statement),
	        T(test_consumer_repeated_id_in_one_delivery_is_applied_once),
	        T(test_consumer_tx_max_splits_the_delivery),
	        T(test_consumer_database_down_answers_retry),
	        T(test_consumer_outside_prepare_skips_what_was_processed),
	        T(test_consumer_outside_prepare_transient_failure_retries_from_there),
	        T(test_consumer_outside_prepare_keeps_one_event_per_order_together),
	        T(test_inbox_claim_tells_new_duplicate_and_failures_apart),
	};
#undef T

	setenv("PREPARE_WORKERS", "0", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
