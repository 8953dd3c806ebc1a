/*
 * The connection pool and statement helpers (svc/db.h) over the client
 * table (svc/db_ops.h), against the fake database (fake_db.h): what the pool
 * does with a connection given back inside a transaction or broken, error
 * classification, results drained or missing, escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "svc/buf.h"
#include "svc/db.h"
#include "svc/error.h"
#include "tests/unit/fake_db.h"

static struct svc_db *db;

static int setup(void **state)
{
	(void)state;
	fake_db_install();
	db = fake_db_pool_open(2);
	return db ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	svc_db_free(db);
	db = NULL;
	fake_db_uninstall();
	return 0;
}

static void test_db_pool_connects_lazily_and_reuses_a_connection(void **state)
{
	MYSQL *a, *b;
	unsigned in_use, size;

	(void)state;
	assert_int_equal(fake_db_connects(), 0);
	a = svc_db_acquire(db);
	assert_non_null(a);
	svc_db_pool_usage(db, &in_use, &size);
	assert_int_equal(in_use, 1);
	assert_int_equal(size, 2);
	svc_db_release(db, a, false);
	b = svc_db_acquire(db);
	assert_ptr_equal(a, b);
	assert_int_equal(fake_db_connects(), 1);
	svc_db_release(db, b, false);
	svc_db_pool_usage(db, &in_use, &size);
	assert_int_equal(in_use, 0);
}

static void test_db_release_inside_a_transaction_rolls_it_back(void **state)
{
	MYSQL *conn = svc_db_acquire(db);

	(void)state;
	assert_non_null(conn);
	assert_int_equal(svc_db_begin(conn), 0);
	assert_int_equal(svc_db_exec(conn, "INSERT INTO t VALUES (1)"), 0);
	svc_db_release(db, conn, false);
	assert_int_equal(fake_db_rollbacks(), 1);
	assert_int_equal(fake_db_count(FAKE_DB_ROLLED_BACK, "INSERT", "t"), 1);
	/* the connection stays in the pool */
	assert_int_equal(fake_db_closes(), 0);
}

static void test_db_broken_connection_is_closed_and_replaced(void **state)
{
	MYSQL *conn = svc_db_acquire(db);

	(void)state;
	assert_non_null(conn);
	svc_db_release(db, conn, true);
	assert_int_equal(fake_db_closes(), 1);
	conn = svc_db_acquire(db);
	assert_non_null(conn);
	assert_int_equal(fake_db_connects(), 2);
	svc_db_release(db, conn, false);
}

static void test_db_unreachable_server_gives_no_connection(void **state)
{
	(void)state;
	fake_db_set_down(true);
	assert_null(svc_db_acquire(db));
	assert_false(svc_db_ping(db));
	fake_db_set_down(false);
	assert_true(svc_db_ping(db));
	assert_true(svc_db_error_is_transient(NULL));
}

static void test_db_errors_are_classified_at_the_source(void **state)
{
	MYSQL *conn = svc_db_acquire(db);

	(void)state;
	assert_non_null(conn);
	fake_db_fail(fake_db_on("UPDATE", "deadlocked"), FAKE_DB_ER_LOCK_DEADLOCK);
	fake_db_fail(fake_db_on("UPDATE", "lost"), FAKE_DB_CR_SERVER_LOST);
	fake_db_fail(fake_db_on("UPDATE", "bad"), FAKE_DB_ER_PARSE);
	fake_db_fail_msg(fake_db_on("INSERT", "dup"), FAKE_DB_ER_DUP_ENTRY, "Duplicate entry 'x'");
	assert_int_equal(svc_db_exec(conn, "UPDATE deadlocked"), SVC_ETRANSIENT);
	assert_int_equal(svc_db_exec(conn, "UPDATE lost"), SVC_ETRANSIENT);
	assert_int_equal(svc_db_exec(conn, "UPDATE bad"), SVC_EPERMANENT);
	assert_int_equal(svc_db_exec_dup_ok(conn, "INSERT dup"), SVC_EPERMANENT);
	/* the caller tells the expected duplicate apart */
	assert_int_equal(svc_db_errno(conn), FAKE_DB_ER_DUP_ENTRY);
	assert_string_equal(svc_db_error(conn), "Duplicate entry 'x'");
	svc_db_release(db, conn, true);
}

static void test_db_statement_results_are_drained_or_required(void **state)
{
	static const char *const cells[] = {"1", "2"};
	MYSQL_RES *res = NULL;
	MYSQL *conn = svc_db_acquire(db);

	(void)state;
	assert_non_null(conn);
	fake_db_rows(fake_db_on("SELECT", "t"), 1, 2, cells);
	/* an exec of a statement with rows drains them (no leak, no error) */
	assert_int_equal(svc_db_exec(conn, "SELECT x FROM t"), 0);
	assert_int_equal(svc_db_query(conn, "SELECT x FROM t", &res), 0);
	assert_int_equal(svc_db_num_rows(res), 2);
	assert_string_equal(svc_db_fetch_row(res)[0], "1");
	assert_int_equal(svc_db_fetch_lengths(res)[0], 1);
	assert_string_equal(svc_db_fetch_row(res)[0], "2");
	assert_null(svc_db_fetch_row(res));
	svc_db_free_result(res);
	svc_db_free_result(NULL);
	/* a query whose statement gives no result set is a caller's mistake */
	assert_int_equal(svc_db_query(conn, "DELETE FROM t", &res), SVC_EPERMANENT);
	assert_null(res);
	assert_int_equal(svc_db_affected_rows(conn), 1);
	svc_db_release(db, conn, false);
}

static void test_db_begin_claim_reads_committed(void **state)
{
	MYSQL *conn = svc_db_acquire(db);

	(void)state;
	assert_non_null(conn);
	assert_int_equal(svc_db_begin_claim(conn), 0);
	assert_string_equal(fake_db_stmt(0), "SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
	assert_int_equal(fake_db_begins(), 1);
	assert_int_equal(svc_db_commit(conn), 0);
	fake_db_fail(fake_db_on("SET TRANSACTION", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(svc_db_begin_claim(conn), SVC_ETRANSIENT);
	assert_int_equal(fake_db_begins(), 1); /* not begun */
	svc_db_release(db, conn, true);
}

static void test_db_literals_are_quoted_and_escaped(void **state)
{
	MYSQL *conn = svc_db_acquire(db);
	struct svc_buf b;

	(void)state;
	assert_non_null(conn);
	svc_buf_init(&b);
	assert_int_equal(svc_sql_add_str(&b, conn, "it's"), 0);
	svc_buf_adds(&b, ",");
	assert_int_equal(svc_sql_add_str(&b, conn, NULL), 0);
	assert_string_equal(svc_buf_str(&b), "'it\\'s',NULL");
	svc_buf_release(&b);
	assert_int_equal(svc_db_col_i64("42"), 42);
	assert_int_equal(svc_db_col_i64(NULL), 0);
	assert_int_equal(svc_db_col_i64("x"), 0);
	svc_db_release(db, conn, false);
}

/* `s` through svc_sql_add_str() on `conn`, without the quotes: the
 * escaped text (static: valid until the next call). */
static const char *escaped(MYSQL *conn, const char *s)
{
	static char out[1024];
	struct svc_buf b;

	svc_buf_init(&b);
	assert_int_equal(svc_sql_add_str(&b, conn, s), 0);
	assert_true(b.len >= 2 && b.len - 2 < sizeof(out));
	assert_int_equal(b.data[0], '\'');
	assert_int_equal(b.data[b.len - 1], '\'');
	memcpy(out, b.data + 1, b.len - 2);
	out[b.len - 2] = '\0';
	svc_buf_release(&b);
	return out;
}

/* The byte-wise escaping gives what libmariadb's mysql_real_escape_string
 * gives on a utf8mb4 connection, for every ASCII byte and for multi-byte
 * characters next to the bytes it escapes. */
static void test_db_escaping_matches_the_library_for_utf8(void **state)
{
	static const char *const samples[] = {
	        "it's",
	        "a\"b",
	        "back\\slash",
	        "line\nfeed\r",
	        "ctrl-z \032 end",
	        "caf\xc3\xa9 '\xc3\xa9'",
	        "\xe2\x82\xac\\\xe2\x82\xac",
	        "\xf0\x9f\x98\x80\"\xf0\x9f\x98\x80",
	        "{\"eventId\":\"x\",\"reason\":\"don't\\n\"}",
	        "",
	};
	MYSQL *lib = mysql_init(NULL);
	char in[4], want[16];
	unsigned long n;

	(void)state;
	assert_non_null(lib);
	lib->charset = mariadb_get_charset_by_name("utf8mb4");
	assert_non_null(lib->charset);
	for (int c = 1; c < 128; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		n = mysql_real_escape_string(lib, want, in, 1);
		want[n] = '\0';
		assert_string_equal(escaped(NULL, in), want);
	}
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char lw[256];

		n = mysql_real_escape_string(lib, lw, samples[i],
		                             (unsigned long)strlen(samples[i]));
		lw[n] = '\0';
		assert_string_equal(escaped(NULL, samples[i]), lw);
	}
	mysql_close(lib);
}

/* Invalid UTF-8 cannot hide a quote or a backslash: a stray lead byte is
 * kept as it is and what follows it is still escaped. In a session whose
 * sql_mode has NO_BACKSLASH_ESCAPES the client library escapes instead. */
static void test_db_escaping_is_safe_for_invalid_utf8_and_other_modes(void **state)
{
	MYSQL *conn = svc_db_acquire(db);

	(void)state;
	assert_non_null(conn);
	assert_string_equal(escaped(conn, "\xc3'"), "\xc3\\'");
	assert_string_equal(escaped(conn, "\xf0\\'"), "\xf0\\\\\\'");
	assert_string_equal(escaped(conn, "\xbf\""), "\xbf\\\"");
	/* the fake client escapes only ' and \: the double quote shows who did */
	conn->server_status |= SERVER_STATUS_NO_BACKSLASH_ESCAPES;
	assert_string_equal(escaped(conn, "a\"b'c"), "a\"b\\'c");
	conn->server_status &= ~(unsigned)SERVER_STATUS_NO_BACKSLASH_ESCAPES;
	assert_string_equal(escaped(conn, "a\"b'c"), "a\\\"b\\'c");
	svc_db_release(db, conn, false);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_db_pool_connects_lazily_and_reuses_a_connection),
	        T(test_db_release_inside_a_transaction_rolls_it_back),
	        T(test_db_broken_connection_is_closed_and_replaced),
	        T(test_db_unreachable_server_gives_no_connection),
	        T(test_db_errors_are_classified_at_the_source),
	        T(test_db_statement_results_are_drained_or_required),
	        T(test_db_begin_claim_reads_committed),
	        T(test_db_literals_are_quoted_and_escaped),
	        cmocka_unit_test(test_db_escaping_matches_the_library_for_utf8),
	        T(test_db_escaping_is_safe_for_invalid_utf8_and_other_modes),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
