/*
 * A fake MariaDB client for the order service's unit tests: the test binary
 * defines the client functions the code calls (mysql_real_query, ...), so
 * they win over libmariadb's. Every statement is recorded; the SELECTs of
 * services/order/store.c that the tests need are answered from the small
 * tables below; every other statement succeeds with no result, unless its
 * beginning is fake_db.fail_prefix (then it fails). A pool (svc_db_open)
 * "connects" without a server.
 *
 * Include it in exactly one test file of a binary.
 */
#ifndef ORDER_FAKE_DB_H
#define ORDER_FAKE_DB_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/buf.h"

#define FAKE_MAX_STMTS 256
#define FAKE_MAX_ROWS  64
#define FAKE_COLS      10

struct fake_order {
	const char *id, *user, *status, *reason; /* reason NULL: none */
	long long total;
	const char *payment_id; /* NULL: none asked for */
};

struct fake_line {
	const char *order_id;
	int line_no;
	const char *product;
	int quantity;
	long long price;
};

struct fake_res {
	char *cells[FAKE_MAX_ROWS][FAKE_COLS];
	size_t nrows, next;
};

static struct {
	const struct fake_order *orders;
	size_t norders;
	const struct fake_line *lines;
	size_t nlines;
	char *stmts[FAKE_MAX_STMTS];
	size_t nstmts;
	struct fake_res *pending;          /* the last SELECT's answer */
	const char *fail_prefix;           /* statements that fail... */
	unsigned fail_errno;               /* ...with this error (0: a deadlock)... */
	unsigned fail_times;               /* ...this many times (0: every time) */
	void (*on_query)(const char *sql); /* called first with every statement */
	unsigned err;
} fake_db;

static void fake_res_free(struct fake_res *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows; i++)
		for (size_t j = 0; j < FAKE_COLS; j++)
			free(r->cells[i][j]);
	free(r);
}

static void fake_db_reset(const struct fake_order *orders, size_t norders,
                          const struct fake_line *lines, size_t nlines)
{
	for (size_t i = 0; i < fake_db.nstmts; i++)
		free(fake_db.stmts[i]);
	fake_res_free(fake_db.pending);
	memset(&fake_db, 0, sizeof(fake_db));
	fake_db.orders = orders;
	fake_db.norders = norders;
	fake_db.lines = lines;
	fake_db.nlines = nlines;
}

/* Statements recorded that begin with `prefix`. */
static size_t fake_db_count(const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < fake_db.nstmts; i++)
		n += strncmp(fake_db.stmts[i], prefix, strlen(prefix)) == 0;
	return n;
}

/* The last statement recorded that begins with `prefix`, or "". */
static const char *fake_db_last(const char *prefix)
{
	for (size_t i = fake_db.nstmts; i-- > 0;)
		if (strncmp(fake_db.stmts[i], prefix, strlen(prefix)) == 0)
			return fake_db.stmts[i];
	return "";
}

/* The quoted literals of the list that follows `marker` in `sql`, up to its
 * closing parenthesis: up to `max` copies into out[] (37 bytes each). */
static size_t fake_literals(const char *sql, const char *marker, char (*out)[37], size_t max)
{
	const char *p = strstr(sql, marker);
	size_t n = 0;

	if (!p)
		return 0;
	for (p += strlen(marker); *p && *p != ')' && n < max;) {
		size_t len = 0;

		if (*p++ != '\'')
			continue;
		for (; *p && *p != '\''; p++)
			if (len < 36)
				out[n][len++] = *p;
		out[n++][len] = '\0';
		p += *p == '\'';
	}
	return n;
}

static bool fake_listed(const char *id, char (*ids)[37], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(ids[i], id) == 0)
			return true;
	return false;
}

/* An order's lines as JSON_ARRAYAGG gives them: last line first, to show
 * that the reader does not rely on the order. */
static char *fake_lines_json(const char *order_id)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = fake_db.nlines; i-- > 0;) {
		const struct fake_line *l = &fake_db.lines[i];

		if (strcasecmp(l->order_id, order_id) == 0)
			json_array_append_new(a, json_pack("{s:i, s:s, s:i, s:I}", "n", l->line_no,
			                                   "p", l->product, "q", l->quantity, "u",
			                                   (json_int_t)l->price));
	}
	s = json_array_size(a) ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

static int fake_cmp_orders(const void *a, const void *b)
{
	const struct fake_order *const *x = a, *const *y = b;

	return strcasecmp((*x)->id, (*y)->id);
}

/* The answer to order_store_lock_many()'s SELECT. */
static struct fake_res *fake_lock_rows(const char *sql)
{
	char ids[FAKE_MAX_ROWS][37], with_lines[FAKE_MAX_ROWS][37];
	size_t n = fake_literals(sql, "FROM orders WHERE order_id IN (", ids, FAKE_MAX_ROWS);
	size_t nl = fake_literals(sql, "l.order_id IN (", with_lines, FAKE_MAX_ROWS);
	const struct fake_order *found[FAKE_MAX_ROWS] = {NULL};
	struct fake_res *r = calloc(1, sizeof(*r));
	size_t k = 0;

	for (size_t i = 0; i < fake_db.norders && k < FAKE_MAX_ROWS; i++)
		if (fake_listed(fake_db.orders[i].id, ids, n))
			found[k++] = &fake_db.orders[i];
	qsort(found, k, sizeof(found[0]), fake_cmp_orders);
	for (size_t i = 0; i < k; i++) {
		const struct fake_order *o = found[i];
		char total[32];

		snprintf(total, sizeof(total), "%lld", o->total);
		r->cells[i][0] = strdup(o->id);
		r->cells[i][1] = strdup(o->user);
		r->cells[i][2] = strdup(o->status);
		r->cells[i][3] = strdup(total);
		r->cells[i][4] = strdup("USD");
		r->cells[i][5] = o->reason ? strdup(o->reason) : NULL;
		r->cells[i][6] = o->payment_id ? strdup(o->payment_id) : NULL;
		r->cells[i][7] = strdup("1000"); /* age, in state: microseconds */
		r->cells[i][8] = strdup("1000");
		r->cells[i][9] = fake_listed(o->id, with_lines, nl) ? fake_lines_json(o->id) : NULL;
	}
	r->nrows = k;
	return r;
}

/* The answer to order_store_items()' SELECT. */
static struct fake_res *fake_item_rows(const char *sql)
{
	char id[1][37];
	struct fake_res *r = calloc(1, sizeof(*r));

	if (fake_literals(sql, "WHERE order_id = ", id, 1) == 0)
		return r;
	for (size_t i = 0; i < fake_db.nlines && r->nrows < FAKE_MAX_ROWS; i++) {
		const struct fake_line *l = &fake_db.lines[i];
		char q[16], u[32];

		if (strcasecmp(l->order_id, id[0]) != 0)
			continue;
		snprintf(q, sizeof(q), "%d", l->quantity);
		snprintf(u, sizeof(u), "%lld", l->price);
		r->cells[r->nrows][0] = strdup(l->product);
		r->cells[r->nrows][1] = strdup(q);
		r->cells[r->nrows][2] = strdup(u);
		r->nrows++;
	}
	return r;
}

int STDCALL mysql_real_query(MYSQL *mysql, const char *q, unsigned long length)
{
	char *sql = strndup(q, length);

	(void)mysql;
	if (fake_db.on_query)
		fake_db.on_query(sql);
	fake_res_free(fake_db.pending);
	fake_db.pending = NULL;
	fake_db.err = 0;
	if (fake_db.fail_prefix &&
	    strncmp(sql, fake_db.fail_prefix, strlen(fake_db.fail_prefix)) == 0) {
		fake_db.err = fake_db.fail_errno ? fake_db.fail_errno : 1213; /* deadlock */
		if (fake_db.fail_times > 0 && --fake_db.fail_times == 0)
			fake_db.fail_prefix = NULL;
	} else if (strncmp(sql, "SELECT order_id, user_id, status", 32) == 0)
		fake_db.pending = fake_lock_rows(sql);
	else if (strncmp(sql, "SELECT product_id, quantity, unit_price", 39) == 0)
		fake_db.pending = fake_item_rows(sql);
	else if (strncmp(sql, "SELECT", 6) == 0)
		fake_db.pending = calloc(1, sizeof(struct fake_res));
	if (fake_db.nstmts < FAKE_MAX_STMTS)
		fake_db.stmts[fake_db.nstmts++] = sql;
	else
		free(sql);
	return fake_db.err ? 1 : 0;
}

unsigned int STDCALL mysql_field_count(MYSQL *mysql)
{
	(void)mysql;
	return fake_db.pending ? FAKE_COLS : 0;
}

MYSQL_RES *STDCALL mysql_store_result(MYSQL *mysql)
{
	struct fake_res *r = fake_db.pending;

	(void)mysql;
	fake_db.pending = NULL;
	return (MYSQL_RES *)r;
}

MYSQL_ROW STDCALL mysql_fetch_row(MYSQL_RES *result)
{
	struct fake_res *r = (struct fake_res *)result;

	return r->next < r->nrows ? r->cells[r->next++] : NULL;
}

my_ulonglong STDCALL mysql_num_rows(MYSQL_RES *res)
{
	return ((struct fake_res *)res)->nrows;
}

void STDCALL mysql_free_result(MYSQL_RES *result)
{
	fake_res_free((struct fake_res *)result);
}

unsigned int STDCALL mysql_errno(MYSQL *mysql)
{
	(void)mysql;
	return fake_db.err;
}

const char *STDCALL mysql_error(MYSQL *mysql)
{
	(void)mysql;
	return fake_db.err ? "fake failure" : "";
}

/* A connection pool (svc_db_open) connects without a server. */
MYSQL *STDCALL mysql_real_connect(MYSQL *mysql, const char *host, const char *user,
                                  const char *passwd, const char *db, unsigned int port,
                                  const char *unix_socket, unsigned long clientflag)
{
	(void)host, (void)user, (void)passwd, (void)db, (void)port, (void)unix_socket;
	(void)clientflag;
	return mysql;
}

my_bool STDCALL mysql_autocommit(MYSQL *mysql, my_bool auto_mode)
{
	(void)mysql, (void)auto_mode;
	return 0;
}

int STDCALL mysql_ping(MYSQL *mysql)
{
	(void)mysql;
	return 0;
}

unsigned long STDCALL mysql_real_escape_string(MYSQL *mysql, char *to, const char *from,
                                               unsigned long length)
{
	unsigned long n = 0;

	(void)mysql;
	for (unsigned long i = 0; i < length; i++) {
		if (from[i] == '\'' || from[i] == '\\')
			to[n++] = '\\';
		to[n++] = from[i];
	}
	to[n] = '\0';
	return n;
}

#endif
