/*
 * The order service's tables for the fake database (order_fake.h): the SELECTs
 * of services/order/store.c that the tests need are answered from the small
 * tables below; every other statement is the fake's to answer (rules the
 * test adds, or success). order_fake_db_reset() installs the fake.
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
#include "tests/unit/fake_db.h"

#define FAKE_MAX_ROWS 64

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

static struct {
	const struct fake_order *orders;
	size_t norders;
	const struct fake_line *lines;
	size_t nlines;
} order_fake;

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

	for (size_t i = order_fake.nlines; i-- > 0;) {
		const struct fake_line *l = &order_fake.lines[i];

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
static unsigned fake_lock_rows(void *arg, const char *sql, struct fake_db_result *out)
{
	char ids[FAKE_MAX_ROWS][37], with_lines[FAKE_MAX_ROWS][37];
	size_t n = fake_literals(sql, "FROM orders WHERE order_id IN (", ids, FAKE_MAX_ROWS);
	size_t nl = fake_literals(sql, "l.order_id IN (", with_lines, FAKE_MAX_ROWS);
	const struct fake_order *found[FAKE_MAX_ROWS] = {NULL};
	size_t k = 0;

	(void)arg;
	fake_db_result_cols(out, 10);
	for (size_t i = 0; i < order_fake.norders && k < FAKE_MAX_ROWS; i++)
		if (fake_listed(order_fake.orders[i].id, ids, n))
			found[k++] = &order_fake.orders[i];
	qsort(found, k, sizeof(found[0]), fake_cmp_orders);
	for (size_t i = 0; i < k; i++) {
		const struct fake_order *o = found[i];
		char total[32], *lines = NULL;

		snprintf(total, sizeof(total), "%lld", o->total);
		if (fake_listed(o->id, with_lines, nl))
			lines = fake_lines_json(o->id);
		/* age and time in state: microseconds */
		const char *row[10] = {o->id,     o->user,       o->status, total,  "USD",
		                       o->reason, o->payment_id, "1000",    "1000", lines};
		fake_db_result_add(out, row);
		free(lines);
	}
	return 0;
}

/* The answer to order_store_items()' SELECT. */
static unsigned fake_item_rows(void *arg, const char *sql, struct fake_db_result *out)
{
	char id[1][37];

	(void)arg;
	fake_db_result_cols(out, 3);
	if (fake_literals(sql, "WHERE order_id = ", id, 1) == 0)
		return 0;
	for (size_t i = 0; i < order_fake.nlines; i++) {
		const struct fake_line *l = &order_fake.lines[i];
		char q[16], u[32];

		if (strcasecmp(l->order_id, id[0]) != 0)
			continue;
		snprintf(q, sizeof(q), "%d", l->quantity);
		snprintf(u, sizeof(u), "%lld", l->price);
		const char *row[3] = {l->product, q, u};
		fake_db_result_add(out, row);
	}
	return 0;
}

/* Installs the fake database (fake_db.h, emptied) answering from these
 * tables (borrowed). */
static void order_fake_db_reset(const struct fake_order *orders, size_t norders,
                                const struct fake_line *lines, size_t nlines)
{
	fake_db_install();
	order_fake.orders = orders;
	order_fake.norders = norders;
	order_fake.lines = lines;
	order_fake.nlines = nlines;
	fake_db_answer(fake_db_on("SELECT order_id, user_id, status", NULL), fake_lock_rows, NULL);
	fake_db_answer(fake_db_on("SELECT product_id, quantity, unit_price", NULL), fake_item_rows,
	               NULL);
}

#endif
