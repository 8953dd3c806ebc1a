/*
 * How long the inbox remembers (svc/inbox_retention.h): the cutoff of the
 * primary-key range, the age check, and one pruning statement against the
 * fake database (fake_db.h). tests/e2e/test_inbox_retention.py runs the job
 * against MariaDB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc/db.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/inbox_retention.h"
#include "svc/prom.h"
#include "svc/service.h"
#include "tests/unit/fake_db.h"

#define HOUR_MS (3600 * 1000LL)

static void test_cutoff_is_the_uuid7_time_prefix(void **state)
{
	char cutoff[14];

	(void)state;
	svc_inbox_cutoff_id(0x0123456789abLL, cutoff);
	assert_string_equal(cutoff, "01234567-89ab");
	svc_inbox_cutoff_id(-5, cutoff);
	assert_string_equal(cutoff, "00000000-0000");
}

/* A UUIDv7 minted now sorts below the cutoff of a later millisecond and
 * above that of an earlier one: the key range holds exactly the older ids. */
static void test_cutoff_orders_uuid7_ids_by_time(void **state)
{
	char id[37], cutoff[14];
	int64_t before = svc_now_ms(), after;

	(void)state;
	svc_uuid7(id);
	after = svc_now_ms();
	svc_inbox_cutoff_id(after + 1, cutoff);
	assert_true(strcmp(id, cutoff) < 0);
	svc_inbox_cutoff_id(before - 1, cutoff);
	assert_true(strcmp(id, cutoff) > 0);
	svc_inbox_cutoff_id(before - 1000LL * 86400 * 8, cutoff);
	assert_true(strcmp(id, cutoff) > 0);
}

static void test_too_old_is_older_than_the_retention(void **state)
{
	struct svc_event ev = {.timestamp_ms = 1000 * HOUR_MS};

	(void)state;
	assert_false(svc_inbox_too_old(0, 2000 * HOUR_MS, &ev)); /* 0: for ever */
	assert_false(svc_inbox_too_old(HOUR_MS, 1001 * HOUR_MS, &ev));
	assert_true(svc_inbox_too_old(HOUR_MS, 1001 * HOUR_MS + 1, &ev));
	ev.timestamp_ms = 0; /* no age an event could have is too young to check */
	assert_true(svc_inbox_too_old(HOUR_MS, HOUR_MS + 1, &ev));
}

/* The statement: the oldest end of the key, what the database's clock also
 * says is older than the retention and the margin, a bounded batch. */
static void test_prune_statement(void **state)
{
	struct svc_buf b;
	char cutoff[14], want[64];
	int64_t now = 1764892800000LL; /* 2025-12-05 00:00 UTC */

	(void)state;
	svc_buf_init(&b);
	svc_inbox_prune_sql(&b, now, 192 * HOUR_MS, 500);
	assert_false(b.failed);
	svc_inbox_cutoff_id(now - 193 * HOUR_MS, cutoff);
	snprintf(want, sizeof(want), "event_id < '%s'", cutoff);
	assert_non_null(strstr(b.data, "DELETE FROM processed_messages"));
	assert_non_null(strstr(b.data, want));
	assert_non_null(strstr(b.data, "processed_at < NOW(6) - INTERVAL 694800 SECOND"));
	assert_non_null(strstr(b.data, "ORDER BY event_id LIMIT 500"));
	svc_buf_release(&b);
}

static int setup(void **state)
{
	fake_db_install();
	*state = fake_db_pool_open(1);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	svc_db_free(*state);
	fake_db_uninstall();
	return 0;
}

/* One statement in its own READ COMMITTED transaction, committed; its
 * count is what the server deleted. */
static void test_prune_once_counts_what_it_deleted(void **state)
{
	fake_db_affected(fake_db_on("DELETE FROM processed_messages", NULL), 1000);
	assert_int_equal(svc_inbox_prune_once(*state, svc_now_ms(), HOUR_MS, 1000), 1000);
	assert_int_equal(fake_db_begins(), 1);
	assert_int_equal(fake_db_commits(), 1);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "DELETE FROM processed_messages", NULL),
	                 1);
	assert_true(fake_db_count(FAKE_DB_ANY, NULL, "READ COMMITTED") >= 1);
}

/* A deadlock or lock wait is transient: nothing kept, tried again later. */
static void test_prune_once_failure_keeps_nothing(void **state)
{
	fake_db_fail(fake_db_on("DELETE FROM processed_messages", NULL), FAKE_DB_ER_LOCK_DEADLOCK);
	assert_int_equal(svc_inbox_prune_once(*state, svc_now_ms(), HOUR_MS, 1000), SVC_ETRANSIENT);
	assert_int_equal(fake_db_commits(), 0);
	assert_int_equal(fake_db_count(FAKE_DB_COMMITTED, "DELETE", NULL), 0);
	fake_db_reset();
	fake_db_fail(fake_db_on("DELETE FROM processed_messages", NULL), FAKE_DB_ER_PARSE);
	assert_int_equal(svc_inbox_prune_once(*state, svc_now_ms(), HOUR_MS, 1000), SVC_EPERMANENT);
	fake_db_reset();
	fake_db_fail(fake_db_on("COMMIT", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(svc_inbox_prune_once(*state, svc_now_ms(), HOUR_MS, 1000), SVC_ETRANSIENT);
}

/* The job: a full batch is followed by the next statement at once, a short
 * one waits for the period; what was deleted is counted in /metrics. */
static void test_pruner_goes_on_while_batches_are_full(void **state)
{
	struct svc_prom *prom = svc_prom_new();
	struct svc_ctx ctx = {.db = *state, .prom = prom};
	struct svc_inbox_pruner *p;
	struct svc_buf text;
	struct fake_db_rule *full, *short_one;
	int64_t until = svc_now_ms() + 5000;

	assert_non_null(prom);
	short_one = fake_db_affected(fake_db_on("DELETE FROM processed_messages", NULL), 1);
	full = fake_db_times(
	        fake_db_affected(fake_db_on("DELETE FROM processed_messages", NULL), 2), 2);
	p = svc_inbox_pruner_start(&ctx, HOUR_MS, 60000, 2);
	assert_non_null(p);
	while (fake_db_applied(short_one) < 1 && svc_now_ms() < until)
		usleep(1000);
	svc_inbox_pruner_stop(p);
	/* two full batches back to back, then one short: and then the 60 s wait */
	assert_int_equal(fake_db_applied(full), 2);
	assert_int_equal(fake_db_applied(short_one), 1);
	svc_buf_init(&text);
	assert_int_equal(svc_prom_render(prom, &text), 0);
	assert_non_null(text.data);
	assert_non_null(strstr(text.data, "svc_inbox_pruned_rows_total 5"));
	svc_buf_release(&text);
	svc_prom_free(prom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cutoff_is_the_uuid7_time_prefix),
	        cmocka_unit_test(test_cutoff_orders_uuid7_ids_by_time),
	        cmocka_unit_test(test_too_old_is_older_than_the_retention),
	        cmocka_unit_test(test_prune_statement),
	        cmocka_unit_test_setup_teardown(test_prune_once_counts_what_it_deleted, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_prune_once_failure_keeps_nothing, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_pruner_goes_on_while_batches_are_full, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
