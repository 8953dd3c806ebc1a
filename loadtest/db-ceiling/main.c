/*
 * db-ceiling: raw MariaDB single-row write transactions per second, the
 * machine's database ceiling for docs/benchmarks.md.
 *
 *   db-ceiling [--clients 64] [--duration 10] [--socket PATH]
 *
 * Each client thread holds one connection (as root over the Unix socket,
 * DB_SOCKET by default) and runs autocommit single-row INSERTs into
 * bench_ceiling.writes for --duration seconds. Prints one JSON object:
 * transactions/s and the commit latency summary.
 */
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadtest/loadgen/stats.h"

#define MAX_CLIENTS 1024
#define MAX_SAMPLES 2000000

struct shared {
	const char *socket;
	int64_t deadline_us;
	atomic_long done, failed;
	atomic_long nsamples;
	double *samples; /* commit latency, ms */
};

struct client {
	struct shared *sh;
	long id;
};

static MYSQL *connect_root(const char *socket, const char *db)
{
	MYSQL *c = mysql_init(NULL);
	if (c && !mysql_real_connect(c, NULL, "root", NULL, db, 0, socket, 0)) {
		fprintf(stderr, "db-ceiling: %s\n", mysql_error(c));
		mysql_close(c);
		c = NULL;
	}
	return c;
}

static void *client_main(void *arg)
{
	struct client *cl = arg;
	struct shared *sh = cl->sh;
	MYSQL *c = connect_root(sh->socket, "bench_ceiling");
	char sql[160];

	if (!c) {
		atomic_fetch_add(&sh->failed, 1);
		return NULL;
	}
	for (long i = 0; lt_now_us() < sh->deadline_us; i++) {
		int64_t t = lt_now_us();
		snprintf(sql, sizeof(sql),
		         "INSERT INTO writes (client, seq, payload) VALUES (%ld, %ld, "
		         "'0123456789abcdef0123456789abcdef')",
		         cl->id, i);
		if (mysql_query(c, sql)) {
			atomic_fetch_add(&sh->failed, 1);
			continue;
		}
		long k = atomic_fetch_add(&sh->nsamples, 1);
		if (k < MAX_SAMPLES)
			sh->samples[k] = (double)(lt_now_us() - t) / 1000.0;
		atomic_fetch_add(&sh->done, 1);
	}
	mysql_close(c);
	return NULL;
}

static int prepare(const char *socket)
{
	MYSQL *c = connect_root(socket, NULL);
	int rc = -1;

	if (!c)
		return -1;
	if (mysql_query(c, "CREATE DATABASE IF NOT EXISTS bench_ceiling") ||
	    mysql_query(c, "DROP TABLE IF EXISTS bench_ceiling.writes") ||
	    mysql_query(c, "CREATE TABLE bench_ceiling.writes (id BIGINT NOT NULL AUTO_INCREMENT "
	                   "PRIMARY KEY, client INT NOT NULL, seq BIGINT NOT NULL, payload "
	                   "VARCHAR(64) NOT NULL, created_at DATETIME(3) NOT NULL DEFAULT "
	                   "CURRENT_TIMESTAMP(3)) ENGINE=InnoDB")) {
		fprintf(stderr, "db-ceiling: %s\n", mysql_error(c));
		goto close_conn;
	}
	rc = 0;
close_conn:
	mysql_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	long clients = 64, duration = 10;
	struct shared sh = {.socket = getenv("DB_SOCKET")};
	struct client cl[MAX_CLIENTS];
	pthread_t th[MAX_CLIENTS];
	struct lt_summary s;
	long n, started = 0;
	int64_t t0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--clients") &&
		    !lt_parse_long(argv[i + 1], 1, MAX_CLIENTS, &clients))
			continue;
		if (!strcmp(argv[i], "--duration") &&
		    !lt_parse_long(argv[i + 1], 1, 3600, &duration))
			continue;
		if (!strcmp(argv[i], "--socket")) {
			sh.socket = argv[i + 1];
			continue;
		}
		fprintf(stderr, "usage: db-ceiling [--clients N] [--duration S] [--socket PATH]\n");
		return 2;
	}
	sh.samples = malloc(MAX_SAMPLES * sizeof(double));
	if (!sh.samples || mysql_library_init(0, NULL, NULL) || prepare(sh.socket)) {
		free(sh.samples);
		return 1;
	}
	t0 = lt_now_us();
	sh.deadline_us = t0 + duration * 1000000;
	for (long i = 0; i < clients; i++) {
		cl[i] = (struct client){.sh = &sh, .id = i};
		if (pthread_create(&th[i], NULL, client_main, &cl[i]) == 0)
			started++;
	}
	for (long i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	n = atomic_load(&sh.nsamples);
	lt_summarize(sh.samples, (size_t)(n < MAX_SAMPLES ? n : MAX_SAMPLES), &s);
	printf("{\"clients\":%ld,\"duration_s\":%.2f,\"transactions\":%ld,\"failed\":%ld,"
	       "\"tx_per_s\":%.0f,\"commit_ms\":{\"avg\":%.3f,\"p50\":%.3f,\"p99\":%.3f,"
	       "\"max\":%.3f}}\n",
	       clients, (double)(lt_now_us() - t0) / 1e6, atomic_load(&sh.done),
	       atomic_load(&sh.failed), (double)atomic_load(&sh.done) / (double)duration, s.avg,
	       s.p50, s.p99, s.max);
	free(sh.samples);
	mysql_library_end();
	return 0;
}
