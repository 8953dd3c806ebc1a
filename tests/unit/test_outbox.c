/*
 * The transactional outbox, service side (svc/outbox.h): the rows a
 * transaction writes for its events, at once or deferred to the commit
 * (svc/defer.h). Against the fake database (fake_db.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/outbox.h"
#include "svc/outbox_pack.h"
#include "tests/unit/fake_db.h"

#define ORDER_A "01a20fd7-0000-7000-8000-00000000000a"
#define ORDER_B "01a20fd7-0000-7000-8000-00000000000b"

static MYSQL conn;
static struct svc_tx tx;

static int setup(void **state)
{
	(void)state;
	fake_db_install();
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

static int emit(const char *order_id, json_t *data)
{
	return svc_outbox_emit(&tx, TOPIC_ORDER_EVENTS, EV_ORDER_CONFIRMED, order_id, "test", NULL,
	                       data);
}

static void test_outbox_row_goes_in_at_once_in_the_callers_transaction(void **state)
{
	const char *sql;

	(void)state;
	assert_int_equal(svc_db_begin(&conn), 0);
	assert_int_equal(emit(ORDER_A, json_pack("{s:s}", "note", "it's")), 0);
	assert_int_equal(fake_db_count(FAKE_DB_OPEN, "INSERT", "outbox_messages"), 1);
	sql = fake_db_last(FAKE_DB_ANY, "INSERT", "outbox_messages");
	/* topic, key and type are columns; the payload is the escaped event */
	assert_non_null(
	        strstr(sql, "'" TOPIC_ORDER_EVENTS "', '" ORDER_A "', '" EV_ORDER_CONFIRMED "'"));
	assert_non_null(strstr(sql, "it\\'s"));
	assert_int_equal(svc_db_commit(&conn), 0);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", "outbox_messages"), 1);
}

/* Rows in a multi-row INSERT: its "(" after VALUES or after "), ". */
static size_t tuples(const char *sql)
{
	const char *p = strstr(sql, "VALUES ");
	size_t n = 0;

	for (p = p ? p + 7 : ""; *p; p++)
		n += p[0] == '(' && p[-1] == ' ' && (p[-2] == ',' || p[-2] == 'S') &&
		     (p[-2] == 'S' || p[-3] == ')');
	return n;
}

static void test_outbox_events_of_a_deferring_transaction_go_in_one_packed_row(void **state)
{
	const char *sql;

	(void)state;
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(emit(ORDER_A, json_pack("{s:s}", "note", "it's")), 0);
	assert_int_equal(emit(ORDER_B, json_object()), 0);
	assert_int_equal(svc_defer_pending(&tx), 2);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", "outbox_messages"), 1);
	sql = fake_db_last(FAKE_DB_COMMITTED, "INSERT", "outbox_messages");
	assert_int_equal(tuples(sql), 1);
	/* the first event's columns, then the pack of both, escaped */
	assert_non_null(strstr(sql, "'" TOPIC_ORDER_EVENTS "', '" ORDER_A "', '" EV_ORDER_CONFIRMED
	                            "', '"));
	assert_non_null(strstr(sql, "12:" TOPIC_ORDER_EVENTS ",36:" ORDER_A ","));
	assert_non_null(strstr(sql, "36:" ORDER_B ","));
	assert_non_null(strstr(sql, "it\\'s"));
	assert_non_null(strstr(sql, "', 2, NOW(6))"));
	assert_int_equal(fake_db_commits(), 1);
}

static void test_outbox_one_event_of_a_deferring_transaction_is_a_plain_row(void **state)
{
	const char *sql;

	(void)state;
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(emit(ORDER_A, json_object()), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	sql = fake_db_last(FAKE_DB_COMMITTED, "INSERT", "outbox_messages");
	assert_int_equal(tuples(sql), 1);
	assert_non_null(strstr(sql, "'" ORDER_A "', '" EV_ORDER_CONFIRMED "', '{"));
	assert_null(strstr(sql, ":" ORDER_A ","));
	assert_non_null(strstr(sql, "}', 1, NOW(6))"));
}

static void test_outbox_pack_dropped_with_the_transaction_writes_nothing(void **state)
{
	(void)state;
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(emit(ORDER_A, json_object()), 0);
	assert_int_equal(emit(ORDER_B, json_object()), 0);
	assert_int_equal(svc_defer_finish(&tx, SVC_ETRANSIENT, NULL), SVC_ETRANSIENT);
	assert_int_equal(svc_defer_pending(&tx), 0);
	assert_int_equal(fake_db_count(FAKE_DB_ANY, "INSERT", NULL), 0);
	/* the next transaction starts with an empty pack */
	assert_int_equal(svc_defer_start(&tx), 0);
	assert_int_equal(emit(ORDER_B, json_object()), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	assert_null(strstr(fake_db_last(FAKE_DB_COMMITTED, "INSERT", "outbox_messages"), ORDER_A));
}

static void test_outbox_full_pack_starts_a_new_row_by_messages(void **state)
{
	const char *sql;

	(void)state;
	assert_int_equal(svc_defer_start(&tx), 0);
	for (int i = 0; i < SVC_OUTBOX_PACK_MESSAGES + 1; i++)
		assert_int_equal(emit(ORDER_A, json_object()), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	/* one statement, two rows in order: a full pack, then a plain row */
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", "outbox_messages"), 1);
	sql = fake_db_last(FAKE_DB_COMMITTED, "INSERT", "outbox_messages");
	assert_int_equal(tuples(sql), 2);
	assert_non_null(strstr(sql, "', 256, NOW(6)), ('"));
	assert_non_null(strstr(sql, "}', 1, NOW(6))"));
}

static void test_outbox_full_pack_starts_a_new_row_by_bytes(void **state)
{
	size_t len = SVC_OUTBOX_PACK_BYTES / 5;
	char *big = malloc(len + 1);
	const char *sql;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', len);
	big[len] = '\0';
	assert_int_equal(svc_defer_start(&tx), 0);
	/* four fit under the cap, the fifth and sixth go in the next row */
	for (int i = 0; i < 6; i++)
		assert_int_equal(emit(ORDER_A, json_pack("{s:s}", "blob", big)), 0);
	assert_int_equal(svc_defer_finish(&tx, 0, NULL), 0);
	sql = fake_db_last(FAKE_DB_COMMITTED, "INSERT", "outbox_messages");
	assert_int_equal(tuples(sql), 2);
	assert_non_null(strstr(sql, "', 4, NOW(6)), ('"));
	assert_non_null(strstr(sql, "', 2, NOW(6))"));
	assert_true(strlen(sql) < 2 * SVC_OUTBOX_PACK_BYTES + 4096);
	free(big);
}

static struct svc_outbox_span span(const char *s)
{
	return (struct svc_outbox_span){s, strlen(s)};
}

static void test_outbox_pack_reads_back_any_bytes(void **state)
{
	static const char payload[] = "{\"a\":\"1:x,\\n2:,\"}\n:,0";
	const struct svc_outbox_msg in[2] = {
	        {span("e1"), span("t,1"), span(""), span("Type"), span(payload)},
	        {span("e2"), span("t:2"), span("12:k,"), span("T"), span("")},
	};
	struct svc_outbox_msg out[2];
	struct svc_buf b;
	const char *why = "x";
	size_t n = 9;

	(void)state;
	svc_buf_init(&b);
	for (int i = 0; i < 2; i++)
		assert_int_equal(svc_outbox_pack_add(&b, &in[i]), 0);
	assert_int_equal(b.len, svc_outbox_pack_size(&in[0]) + svc_outbox_pack_size(&in[1]));
	assert_int_equal(svc_outbox_pack_read(b.data, b.len, 2, out, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_null(why);
	for (int i = 0; i < 2; i++) {
		const struct svc_outbox_span *a = &in[i].event_id, *z = &out[i].event_id;

		for (int f = 0; f < 5; f++) {
			assert_int_equal(z[f].len, a[f].len);
			assert_memory_equal(z[f].p, a[f].p, a[f].len);
			assert_int_equal(z[f].p[z[f].len], '\0'); /* usable as a string */
		}
	}
	svc_buf_release(&b);
}

/* svc_outbox_pack_read of a copy of `pack`, expecting `expect` messages. */
static int read_pack(const char *pack, size_t expect, const char **why)
{
	struct svc_outbox_msg out[4];
	char buf[256];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", pack);
	return svc_outbox_pack_read(buf, strlen(buf), expect, out, &n, why);
}

static void test_outbox_pack_refuses_what_does_not_parse(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,2:{},", 1, &why), 0);
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,2:{},", 2, &why), SVC_EPERMANENT);
	assert_string_equal(why, "fewer messages than the row says");
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,2:{},x", 1, &why), SVC_EPERMANENT);
	assert_string_equal(why, "more bytes than the row's messages");
	assert_int_equal(read_pack("1:e,01:t,0:,1:T,2:{},", 1, &why), SVC_EPERMANENT);
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,9:{},", 1, &why), SVC_EPERMANENT);
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,2:{};", 1, &why), SVC_EPERMANENT);
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,2:{}", 1, &why), SVC_EPERMANENT);
	assert_int_equal(read_pack("1:e,1:t,0:,1:T,123456789:{},", 1, &why), SVC_EPERMANENT);
	assert_int_equal(read_pack("1:e,:t,0:,1:T,2:{},", 1, &why), SVC_EPERMANENT);
	assert_string_equal(why, "a field is not a well-formed netstring");
	assert_int_equal(read_pack("1:e,0:,0:,1:T,2:{},", 1, &why), SVC_EPERMANENT);
	assert_string_equal(why, "a message has no event id, topic or event type");
	assert_int_equal(read_pack("", 1, &why), SVC_EPERMANENT);
}

static void test_outbox_refuses_an_incomplete_event_without_a_statement(void **state)
{
	struct svc_event ev = {0};

	(void)state;
	assert_int_equal(svc_outbox_add(&tx, TOPIC_ORDER_EVENTS, ORDER_A, &ev), SVC_EPERMANENT);
	assert_int_equal(
	        svc_event_init(&ev, EV_ORDER_CONFIRMED, ORDER_A, "test", NULL, json_object()), 0);
	assert_int_equal(svc_outbox_add(&tx, "", ORDER_A, &ev), SVC_EPERMANENT);
	assert_int_equal(svc_outbox_add(&tx, TOPIC_ORDER_EVENTS, NULL, &ev), SVC_EPERMANENT);
	assert_int_equal(svc_outbox_add(NULL, TOPIC_ORDER_EVENTS, ORDER_A, &ev), SVC_EPERMANENT);
	assert_int_equal(svc_outbox_add(&tx, TOPIC_ORDER_EVENTS, ORDER_A, NULL), SVC_EPERMANENT);
	svc_event_release(&ev);
	/* an event that cannot be built is not added either */
	assert_int_not_equal(svc_outbox_emit(&tx, TOPIC_ORDER_EVENTS, NULL, ORDER_A, "test", NULL,
	                                     json_object()),
	                     0);
	assert_int_equal(fake_db_nstmts(), 0);
}

static void test_outbox_refuses_an_event_consumers_would_refuse(void **state)
{
	size_t len = SVC_EVENT_MAX_BYTES + 1;
	char *big = malloc(len + 1);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', len);
	big[len] = '\0';
	assert_int_equal(emit(ORDER_A, json_pack("{s:s}", "blob", big)), SVC_EPERMANENT);
	assert_int_equal(fake_db_nstmts(), 0);
	free(big);
}

static void test_outbox_failed_insert_is_classified(void **state)
{
	(void)state;
	fake_db_fail(fake_db_times(fake_db_on("INSERT", "outbox_messages"), 1),
	             FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(emit(ORDER_A, json_object()), SVC_ETRANSIENT);
	fake_db_fail(fake_db_times(fake_db_on("INSERT", "outbox_messages"), 1), FAKE_DB_ER_PARSE);
	assert_int_equal(emit(ORDER_A, json_object()), SVC_EPERMANENT);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "INSERT", NULL), 0);
}

/* The sidecar's end of OUTBOX_WAKE_SOCKET (bound in main, before the
 * outbox reads the variable once). */
static char wake_path[108];
static int wake_fd = -1;

static void test_outbox_wake_sends_one_datagram_to_the_sidecar(void **state)
{
	char buf[8];

	(void)state;
	assert_true(wake_fd >= 0);
	svc_outbox_wake();
	svc_outbox_wake();
	assert_int_equal(recv(wake_fd, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(recv(wake_fd, buf, sizeof(buf), MSG_DONTWAIT), 1);
	assert_int_equal(recv(wake_fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	close(wake_fd);
	wake_fd = -1;
	unlink(wake_path);
	/* the sidecar gone: the wake-up is lost, quietly */
	svc_outbox_wake();
}

static void wake_bind(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	snprintf(wake_path, sizeof(wake_path), "/tmp/test_outbox.%d.sock", (int)getpid());
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", wake_path);
	unlink(wake_path);
	wake_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (wake_fd >= 0 && bind(wake_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(wake_fd);
		wake_fd = -1;
	}
	setenv("OUTBOX_WAKE_SOCKET", wake_path, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_outbox_row_goes_in_at_once_in_the_callers_transaction),
	        T(test_outbox_events_of_a_deferring_transaction_go_in_one_packed_row),
	        T(test_outbox_one_event_of_a_deferring_transaction_is_a_plain_row),
	        T(test_outbox_pack_dropped_with_the_transaction_writes_nothing),
	        T(test_outbox_full_pack_starts_a_new_row_by_messages),
	        T(test_outbox_full_pack_starts_a_new_row_by_bytes),
	        T(test_outbox_pack_reads_back_any_bytes),
	        T(test_outbox_pack_refuses_what_does_not_parse),
	        T(test_outbox_refuses_an_incomplete_event_without_a_statement),
	        T(test_outbox_refuses_an_event_consumers_would_refuse),
	        T(test_outbox_failed_insert_is_classified),
	        T(test_outbox_wake_sends_one_datagram_to_the_sidecar),
	};
#undef T
	int failed;

	wake_bind();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (wake_fd >= 0) {
		close(wake_fd);
		unlink(wake_path);
	}
	return failed;
}
