/*
 * The order service's saga_in_flight gauge (services/order/metrics.h): read
 * from the database at a scrape, at most every refresh_ms; between two reads
 * a scrape shows the last counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/order/metrics.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/db.h"
#include "svc/prom.h"
#include "svc/service.h"
#include "tests/unit/fake_db.h"

#define IN_FLIGHT_SQL "SELECT status, COUNT(*) FROM orders"

static struct svc_ctx ctx;
static struct order_metrics metrics;

static int setup(void **state)
{
	(void)state;
	fake_db_install();
	memset(&ctx, 0, sizeof(ctx));
	ctx.db = fake_db_pool_open(2);
	ctx.prom = ctx.db ? svc_prom_new() : NULL;
	if (!ctx.prom) { /* out of memory (the torture): nothing left behind */
		svc_db_free(ctx.db);
		fake_db_uninstall();
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	svc_prom_free(ctx.prom);
	svc_db_free(ctx.db);
	fake_db_uninstall();
	return 0;
}

/* The waiting orders the database holds: `pending` PENDING, `paying`
 * PAYMENT_PENDING. */
static void database_holds(const char *pending, const char *paying)
{
	const char *rows[] = {"PENDING", pending, "PAYMENT_PENDING", paying};

	fake_db_reset();
	fake_db_rows(fake_db_on(IN_FLIGHT_SQL, NULL), 2, 2, rows);
}

/* A scrape's text. */
static char *scrape(void)
{
	struct svc_buf b;

	svc_buf_init(&b);
	assert_int_equal(svc_prom_render(ctx.prom, &b), 0);
	return b.data;
}

static void assert_scrape_shows(const char *pending, const char *paying)
{
	char want_pending[64], want_paying[64];
	char *text = scrape();

	snprintf(want_pending, sizeof(want_pending), "saga_in_flight{state=\"PENDING\"} %s\n",
	         pending);
	snprintf(want_paying, sizeof(want_paying), "saga_in_flight{state=\"PAYMENT_PENDING\"} %s\n",
	         paying);
	if (!strstr(text, want_pending) || !strstr(text, want_paying))
		fail_msg("want %s and %s in:\n%s", want_pending, want_paying, text);
	free(text);
}

static void test_in_flight_is_read_at_most_every_refresh(void **state)
{
	(void)state;
	order_metrics_init(&metrics, &ctx, 60000);
	database_holds("3", "7");
	assert_scrape_shows("3", "7");
	assert_int_equal(fake_db_count(FAKE_DB_ANY, IN_FLIGHT_SQL, NULL), 1);
	/* the database moves on; a scrape within the minute shows the last read */
	database_holds("5", "1");
	assert_scrape_shows("3", "7");
	assert_scrape_shows("3", "7");
	assert_int_equal(fake_db_count(FAKE_DB_ANY, IN_FLIGHT_SQL, NULL), 0);
	/* once the last read is older than the refresh, the next scrape reads */
	metrics.read_at = svc_mono_ms() - 60000;
	assert_scrape_shows("5", "1");
	assert_int_equal(fake_db_count(FAKE_DB_ANY, IN_FLIGHT_SQL, NULL), 1);
}

static void test_in_flight_without_refresh_is_read_at_every_scrape(void **state)
{
	(void)state;
	order_metrics_init(&metrics, &ctx, 0);
	database_holds("2", "4");
	assert_scrape_shows("2", "4");
	database_holds("6", "8");
	assert_scrape_shows("6", "8");
	assert_scrape_shows("6", "8");
	assert_int_equal(fake_db_count(FAKE_DB_ANY, IN_FLIGHT_SQL, NULL), 2);
}

static void test_in_flight_keeps_last_counts_when_database_fails(void **state)
{
	(void)state;
	order_metrics_init(&metrics, &ctx, 0);
	database_holds("9", "1");
	assert_scrape_shows("9", "1");
	fake_db_reset();
	fake_db_fail(fake_db_on(IN_FLIGHT_SQL, NULL), FAKE_DB_CR_SERVER_LOST);
	assert_scrape_shows("9", "1");
	assert_int_equal(fake_db_count(FAKE_DB_FAILED, IN_FLIGHT_SQL, NULL), 1);
}

static void test_in_flight_shows_no_counts_before_a_read(void **state)
{
	char *text;

	(void)state;
	order_metrics_init(&metrics, &ctx, 60000);
	fake_db_reset();
	fake_db_fail(fake_db_on(IN_FLIGHT_SQL, NULL), FAKE_DB_CR_SERVER_LOST);
	text = scrape();
	if (strstr(text, "saga_in_flight{"))
		fail_msg("counts before any read:\n%s", text);
	free(text);
	database_holds("4", "2"); /* the next scrape reads again */
	assert_scrape_shows("4", "2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_in_flight_is_read_at_most_every_refresh, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_in_flight_without_refresh_is_read_at_every_scrape, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_in_flight_keeps_last_counts_when_database_fails, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_in_flight_shows_no_counts_before_a_read, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
