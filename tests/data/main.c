/*
 * seed: fills the Inventory database with products (price and stock) and the
 * Notification database with user contacts, deterministically from a seed.
 *
 *   seed [--products N] [--users N] [--seed S] [--stock N] [--replace]
 *
 * Rows are generated in memory and streamed to the server with LOAD DATA
 * LOCAL INFILE through the C API's local-infile callbacks: no temporary
 * files. Product ids are zero-padded ("P000000042") so they arrive in primary
 * key order. Running it twice leaves no duplicates: rows whose key exists are
 * kept (IGNORE), or overwritten with --replace.
 *
 * Connection: DB_SOCKET or DB_HOST/DB_PORT; the inventory and notification
 * users (INVENTORY_DB_USER, NOTIFICATION_DB_USER, default "inventory",
 * "notification") and databases (INVENTORY_DB_NAME, NOTIFICATION_DB_NAME,
 * default <name>_db). Their passwords: INVENTORY_DB_PASSWORD and
 * NOTIFICATION_DB_PASSWORD, else the local stack's (as scripts/stack.sh
 * gives them: DB_PASSWORD_INVENTORY, DB_PASSWORD_NOTIFICATION, else the files
 * RUN_DIR/secrets/db-<name>, RUN_DIR default "run").
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc/config.h"
#include "tests/data/datagen.h"

/* Loads of one stream, when a deadlock makes it start over. */
#define SEED_ATTEMPTS 3
/* Longest database password read from a secret file. */
#define SEED_PASSWORD_MAX 256

struct stream {
	const char *label;
	const char *db_user;
	const char *db_password;
	const char *db_name;
	const char *sql; /* the LOAD DATA statement */
	struct datagen gen;
	atomic_uint_fast64_t done;
	atomic_bool finished; /* the thread has ended */
	int result;           /* 0 or -1 */
	char error[512];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* local-infile callbacks: the "file" is the generator */
static int infile_init(void **ptr, const char *filename, void *userdata)
{
	(void)filename;
	*ptr = userdata;
	return 0;
}

static int infile_read(void *ptr, char *buf, unsigned int buf_len)
{
	struct stream *s = ptr;
	size_t rows = 0;
	size_t n = datagen_fill(&s->gen, buf, buf_len, &rows);
	atomic_fetch_add(&s->done, rows);
	return (int)n;
}

static void infile_end(void *ptr)
{
	(void)ptr;
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
	(void)ptr;
	snprintf(msg, len, "seed generator failed");
	return 1;
}

/* "<prefix><NAME><suffix>": an environment variable naming service `name`
 * ("inventory"), upper-cased, in buf. */
static const char *env_name(char *buf, size_t len, const char *prefix, const char *name,
                            const char *suffix)
{
	snprintf(buf, len, "%s%s%s", prefix, name, suffix);
	for (size_t i = 0; buf[i]; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

/*
 * The password of the database user of service `name` ("inventory"):
 * <NAME>_DB_PASSWORD, else DB_PASSWORD_<NAME>, else the first line of
 * RUN_DIR/secrets/db-<name> read into buf. NULL (said on stderr) when none.
 */
static const char *db_password(const char *name, char *buf, size_t len)
{
	char var[64], path[4096];
	const char *v;
	FILE *f;

	if ((v = svc_env_str(env_name(var, sizeof(var), "", name, "_DB_PASSWORD"), NULL)) ||
	    (v = svc_env_str(env_name(var, sizeof(var), "DB_PASSWORD_", name, ""), NULL)))
		return v;
	snprintf(path, sizeof(path), "%s/secrets/db-%s", svc_env_str("RUN_DIR", "run"), name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f)) {
		fprintf(stderr,
		        "seed: no password for the %s database user: set %s or start the local "
		        "stack (it keeps it in %s)\n",
		        name, env_name(var, sizeof(var), "", name, "_DB_PASSWORD"), path);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

static MYSQL *connect_db(const char *user, const char *password, const char *db)
{
	MYSQL *conn = mysql_init(NULL);
	unsigned int timeout = 10;
	unsigned int local_infile = 1;
	const char *sock = svc_env_str("DB_SOCKET", NULL);
	const char *host = svc_env_str("DB_HOST", "127.0.0.1");
	unsigned port = (unsigned)svc_env_long("DB_PORT", 3306, 1, 65535);

	if (!conn)
		return NULL;
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(conn, MYSQL_OPT_LOCAL_INFILE, &local_infile);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(conn, sock ? NULL : host, user, password, db, port, sock, 0)) {
		fprintf(stderr, "seed: cannot connect to %s as %s: %s\n", db, user,
		        mysql_error(conn));
		mysql_close(conn);
		return NULL;
	}
	return conn;
}

static int run_sql(MYSQL *conn, const char *sql, char *err, size_t errlen)
{
	if (mysql_query(conn, sql) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", sql, mysql_error(conn));
	return -1;
}

static void *stream_main(void *arg)
{
	struct stream *s = arg;
	MYSQL *conn = connect_db(s->db_user, s->db_password, s->db_name);

	s->result = -1;
	if (!conn) {
		snprintf(s->error, sizeof(s->error), "cannot connect to %s", s->db_name);
		atomic_store(&s->finished, true);
		return NULL;
	}
	/* Bulk-load mode: no per-row unique/foreign-key checks (the generator's
	 * keys are unique by construction) and one transaction for the lot. */
	if (run_sql(conn, "SET SESSION unique_checks = 0, foreign_key_checks = 0", s->error,
	            sizeof(s->error)) ||
	    run_sql(conn, "SET SESSION autocommit = 0", s->error, sizeof(s->error)))
		goto close_conn;
	mysql_set_local_infile_handler(conn, infile_init, infile_read, infile_end, infile_error, s);
	/* Two streams filling adjacent key ranges of an empty table can
	 * deadlock on the gap between them: the loser starts over. */
	for (int attempt = 1;; attempt++) {
		struct datagen from = s->gen;

		if (run_sql(conn, s->sql, s->error, sizeof(s->error)) == 0 &&
		    run_sql(conn, "COMMIT", s->error, sizeof(s->error)) == 0)
			break;
		if (mysql_errno(conn) != ER_LOCK_DEADLOCK || attempt == SEED_ATTEMPTS)
			goto close_conn;
		run_sql(conn, "ROLLBACK", s->error, sizeof(s->error));
		s->gen = from;
		atomic_store(&s->done, 0);
	}
	s->result = 0;
close_conn:
	mysql_close(conn);
	atomic_store(&s->finished, true);
	return NULL;
}

static void progress(struct stream *streams, size_t n, double t0, bool final)
{
	uint64_t done = 0, total = 0;
	double el = now_s() - t0;
	double rate, eta;

	for (size_t i = 0; i < n; i++) {
		done += atomic_load(&streams[i].done);
		total += streams[i].gen.count;
	}
	rate = el > 0 ? (double)done / el : 0;
	eta = rate > 0 ? (double)(total - done) / rate : 0;
	fprintf(stderr,
	        "\rseed: %" PRIu64 "/%" PRIu64 " rows  %.0f rows/s  %.1fs elapsed  ETA %.0fs   %s",
	        done, total, rate, el, eta, final ? "\n" : "");
	fflush(stderr);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: seed [--products N] [--users N] [--seed S] [--stock N] "
	                "[--replace] [--streams K]\n");
}

int main(int argc, char **argv)
{
	uint64_t products = 10000000, users = 1000000, seed = 42, stock = 0, streams_n = 2;
	bool replace = false;
	struct stream streams[9];
	pthread_t threads[9];
	size_t n = 0;
	char product_sql[512], user_sql[512];
	char inventory_pw[SEED_PASSWORD_MAX], notification_pw[SEED_PASSWORD_MAX];
	const char *inventory_password = NULL, *notification_password = NULL;
	double t0;
	int rc = 0;

	memset(streams, 0, sizeof(streams));
	for (int i = 1; i < argc; i++) {
		uint64_t *target = NULL;
		if (!strcmp(argv[i], "--replace")) {
			replace = true;
			continue;
		}
		if (!strcmp(argv[i], "--products"))
			target = &products;
		else if (!strcmp(argv[i], "--users"))
			target = &users;
		else if (!strcmp(argv[i], "--seed"))
			target = &seed;
		else if (!strcmp(argv[i], "--stock"))
			target = &stock;
		else if (!strcmp(argv[i], "--streams"))
			target = &streams_n;
		if (!target || i + 1 >= argc || parse_u64(argv[++i], target)) {
			usage();
			return 2;
		}
	}
	if (streams_n < 1 || streams_n > 8 || products > 999999999 || users > 999999999) {
		usage();
		return 2;
	}
	if ((products > 0 && !(inventory_password = db_password("inventory", inventory_pw,
	                                                        sizeof(inventory_pw)))) ||
	    (users > 0 && !(notification_password = db_password("notification", notification_pw,
	                                                        sizeof(notification_pw)))))
		return 2;
	if (mysql_library_init(0, NULL, NULL)) {
		fprintf(stderr, "seed: mysql_library_init failed\n");
		return 1;
	}

	snprintf(product_sql, sizeof(product_sql),
	         "LOAD DATA LOCAL INFILE 'products.tsv' %s INTO TABLE products "
	         "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
	         "(product_id, name, price, available, reserved, sold, version) "
	         "SET updated_at = NOW(3)",
	         replace ? "REPLACE" : "IGNORE");
	snprintf(user_sql, sizeof(user_sql),
	         "LOAD DATA LOCAL INFILE 'contacts.tsv' %s INTO TABLE contacts "
	         "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
	         "(user_id, email, phone)",
	         replace ? "REPLACE" : "IGNORE");

	/* products split into contiguous id ranges, one connection each */
	for (uint64_t k = 0; k < streams_n && products > 0; k++) {
		struct stream *s = &streams[n++];
		uint64_t first = products * k / streams_n, last = products * (k + 1) / streams_n;
		s->label = "products";
		s->db_user = svc_env_str("INVENTORY_DB_USER", "inventory");
		s->db_password = inventory_password;
		s->db_name = svc_env_str("INVENTORY_DB_NAME", "inventory_db");
		s->sql = product_sql;
		datagen_init(&s->gen, DATAGEN_PRODUCTS, seed, first, last - first, stock);
	}
	if (users > 0) {
		struct stream *s = &streams[n++];
		s->label = "contacts";
		s->db_user = svc_env_str("NOTIFICATION_DB_USER", "notification");
		s->db_password = notification_password;
		s->db_name = svc_env_str("NOTIFICATION_DB_NAME", "notification_db");
		s->sql = user_sql;
		datagen_init(&s->gen, DATAGEN_USERS, seed, 0, users, 0);
	}

	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, stream_main, &streams[i])) {
			fprintf(stderr, "seed: cannot start a thread\n");
			return 1;
		}
	}
	for (;;) {
		bool all_done = true;
		for (size_t i = 0; i < n; i++)
			if (!atomic_load(&streams[i].finished))
				all_done = false;
		if (all_done)
			break;
		if (isatty(STDERR_FILENO))
			progress(streams, n, t0, false);
		usleep(250000);
	}
	for (size_t i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	progress(streams, n, t0, true);
	for (size_t i = 0; i < n; i++) {
		if (streams[i].result) {
			fprintf(stderr, "seed: %s: %s\n", streams[i].label, streams[i].error);
			rc = 1;
		}
	}
	if (!rc)
		printf("seeded %" PRIu64 " products and %" PRIu64 " users (seed %" PRIu64
		       ") in %.1f s\n",
		       products, users, seed, now_s() - t0);
	mysql_library_end();
	return rc;
}
