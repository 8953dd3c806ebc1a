/*
 * Versioned migrations (svc_db_migrate, services/common/src/db_migrate.c)
 * against the fake database (fake_db.h): the files of a temporary
 * directory, which of them run, in what order, how each is recorded, and
 * the migration lock.
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
#include "tests/unit/fake_db.h"

#define ER_EMPTY_QUERY 1065

static struct svc_db *db;
static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_files(void)
{
	static const char *const names[] = {"001_a.sql", "002_b.sql", "002_c.sql", "README.txt"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_db_migrate.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_file("002_b.sql", "CREATE TABLE b (x INT)");
	write_file("001_a.sql", "CREATE TABLE a (x INT)");
	write_file("README.txt", "not a migration");
	fake_db_install();
	db = fake_db_pool_open(1);
	return db ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	svc_db_free(db);
	db = NULL;
	fake_db_uninstall();
	remove_files();
	rmdir(dir);
	return 0;
}

/* GET_LOCK answers `got` ("1": taken). */
static void lock_answers(const char *got)
{
	fake_db_rows(fake_db_on("SELECT GET_LOCK", NULL), 1, 1, (const char *const[]){got});
}

/* schema_migrations says version 1 of "svc" is applied. */
static void version_1_applied(void)
{
	fake_db_rows(fake_db_on("SELECT 1 FROM schema_migrations", "version = 1"), 1, 1,
	             (const char *const[]){"1"});
}

static size_t ran(const char *prefix, const char *contains)
{
	return fake_db_count(FAKE_DB_ANY, prefix, contains);
}

static void test_migrate_applies_what_is_not_recorded_in_version_order(void **state)
{
	(void)state;
	lock_answers("1");
	assert_int_equal(svc_db_migrate(db, "svc", dir), 0);
	assert_int_equal(ran("CREATE TABLE a", NULL), 1);
	assert_int_equal(ran("CREATE TABLE b", NULL), 1);
	/* a before b, each recorded after it ran */
	assert_string_equal(fake_db_find(FAKE_DB_ANY, "CREATE TABLE", " (x INT)", 1),
	                    "CREATE TABLE b (x INT)");
	assert_int_equal(ran("INSERT INTO schema_migrations", "'svc', 1, '001_a.sql'"), 1);
	assert_int_equal(ran("INSERT INTO schema_migrations", "'svc', 2, '002_b.sql'"), 1);
	assert_int_equal(ran("DO RELEASE_LOCK", NULL), 1);
	/* a connection of its own, closed */
	assert_int_equal(fake_db_connects(), 1);
	assert_int_equal(fake_db_closes(), 1);
}

static void test_migrate_skips_what_is_recorded(void **state)
{
	(void)state;
	lock_answers("1");
	version_1_applied();
	assert_int_equal(svc_db_migrate(db, "svc", dir), 0);
	assert_int_equal(ran("CREATE TABLE a", NULL), 0);
	assert_int_equal(ran("CREATE TABLE b", NULL), 1);
	assert_int_equal(ran("INSERT INTO schema_migrations", NULL), 1);
}

static void test_migrate_waits_for_another_instance(void **state)
{
	(void)state;
	lock_answers("0");
	assert_int_equal(svc_db_migrate(db, "svc", dir), SVC_ETRANSIENT);
	assert_int_equal(ran("CREATE", NULL), 0);
	assert_int_equal(fake_db_closes(), 1); /* closing frees the lock */
}

static void test_migrate_failing_script_is_not_recorded(void **state)
{
	(void)state;
	lock_answers("1");
	version_1_applied();
	fake_db_fail(fake_db_on("CREATE TABLE b", NULL), FAKE_DB_ER_PARSE);
	assert_int_equal(svc_db_migrate(db, "svc", dir), SVC_EPERMANENT);
	assert_int_equal(ran("INSERT INTO schema_migrations", NULL), 0);
	assert_int_equal(ran("DO RELEASE_LOCK", NULL), 1);
	fake_db_fail(fake_db_on("CREATE TABLE b", NULL), FAKE_DB_CR_SERVER_LOST);
	assert_int_equal(svc_db_migrate(db, "svc", dir), SVC_ETRANSIENT);
}

static void test_migrate_script_of_comments_only_is_applied(void **state)
{
	(void)state;
	lock_answers("1");
	version_1_applied();
	write_file("002_b.sql", "-- nothing yet");
	fake_db_fail(fake_db_on("-- nothing yet", NULL), ER_EMPTY_QUERY);
	assert_int_equal(svc_db_migrate(db, "svc", dir), 0);
	assert_int_equal(ran("INSERT INTO schema_migrations", "'002_b.sql'"), 1);
}

static void test_migrate_refuses_two_files_of_one_version(void **state)
{
	(void)state;
	write_file("002_c.sql", "CREATE TABLE c (x INT)");
	assert_int_equal(svc_db_migrate(db, "svc", dir), SVC_EPERMANENT);
	assert_int_equal(fake_db_connects(), 0);
}

static void test_migrate_without_its_directory_or_server_fails(void **state)
{
	(void)state;
	assert_int_equal(svc_db_migrate(db, "svc", "/nonexistent/migrations"), SVC_EPERMANENT);
	fake_db_set_down(true);
	assert_int_equal(svc_db_migrate(db, "svc", dir), SVC_ETRANSIENT);
	assert_int_equal(fake_db_nstmts(), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_migrate_applies_what_is_not_recorded_in_version_order),
	        T(test_migrate_skips_what_is_recorded),
	        T(test_migrate_waits_for_another_instance),
	        T(test_migrate_failing_script_is_not_recorded),
	        T(test_migrate_script_of_comments_only_is_applied),
	        T(test_migrate_refuses_two_files_of_one_version),
	        T(test_migrate_without_its_directory_or_server_fails),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
