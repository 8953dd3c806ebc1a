/*
 * POST /api/orders body validation (see request.h).
 */
#include "services/order/request.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/error.h"

/* Copies the id member `name` of `obj` into dst (SVC_ID_MAX + 1 bytes). */
static int parse_id(const json_t *obj, const char *name, const char *field, char *dst,
                    struct svc_problem *err)
{
	const json_t *v = json_object_get(obj, name);
	const char *s;

	if (!v)
		return svc_problem_set(err, 400, field, "%s is required", field);
	if (!json_is_string(v))
		return svc_problem_set(err, 400, field, "%s must be a string", field);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || !svc_id_valid(s))
		return svc_problem_set(
		        err, 422, field,
		        "%s must be 1 to %d characters of letters, digits and . _ : @ -", field,
		        SVC_ID_MAX);
	snprintf(dst, SVC_ID_MAX + 1, "%s", s);
	return 0;
}

static int parse_quantity(const json_t *obj, const char *field, int *out, struct svc_problem *err)
{
	const json_t *v = json_object_get(obj, "quantity");
	json_int_t q;

	if (!v)
		return svc_problem_set(err, 400, field, "%s is required", field);
	if (!json_is_integer(v))
		return svc_problem_set(err, 400, field, "%s must be an integer", field);
	q = json_integer_value(v);
	if (q < 1 || q > ORDER_MAX_QUANTITY)
		return svc_problem_set(err, 422, field, "%s must be between 1 and %d", field,
		                       ORDER_MAX_QUANTITY);
	*out = (int)q;
	return 0;
}

/* Adds one line, merging it into an earlier line for the same product. */
static int add_line(struct order_request *out, const char *product_id, int quantity,
                    const char *qty_field, struct svc_problem *err)
{
	for (size_t i = 0; i < out->nitems; i++) {
		if (strcmp(out->items[i].product_id, product_id) != 0)
			continue;
		if (out->items[i].quantity + quantity > ORDER_MAX_QUANTITY)
			return svc_problem_set(err, 422, qty_field,
			                       "total quantity of product %s must be at most %d",
			                       product_id, ORDER_MAX_QUANTITY);
		out->items[i].quantity += quantity;
		return 0;
	}
	snprintf(out->items[out->nitems].product_id, SVC_ID_MAX + 1, "%s", product_id);
	out->items[out->nitems].quantity = quantity;
	out->nitems++;
	return 0;
}

static int parse_items(const json_t *items, struct order_request *out, struct svc_problem *err)
{
	size_t n = json_array_size(items);

	if (!json_is_array(items))
		return svc_problem_set(err, 400, "items", "items must be an array");
	if (n < 1 || n > ORDER_MAX_ITEMS)
		return svc_problem_set(err, 422, "items", "items must hold 1 to %d lines",
		                       ORDER_MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		const json_t *it = json_array_get(items, i);
		char pfield[32], qfield[32], pid[SVC_ID_MAX + 1];
		int q = 0, rc;

		snprintf(pfield, sizeof(pfield), "items[%zu].productId", i);
		snprintf(qfield, sizeof(qfield), "items[%zu].quantity", i);
		if (!json_is_object(it)) {
			char f[32];
			snprintf(f, sizeof(f), "items[%zu]", i);
			return svc_problem_set(err, 400, f, "%s must be an object", f);
		}
		rc = parse_id(it, "productId", pfield, pid, err);
		if (rc == 0)
			rc = parse_quantity(it, qfield, &q, err);
		if (rc == 0)
			rc = add_line(out, pid, q, qfield, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int order_request_parse(const json_t *body, struct order_request *out, struct svc_problem *err)
{
	const json_t *items;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(body))
		return svc_problem_set(err, 400, "", "the body must be a JSON object");
	rc = parse_id(body, "userId", "userId", out->user_id, err);
	if (rc != 0)
		return rc;

	items = json_object_get(body, "items");
	if (items) {
		if (json_object_get(body, "productId") || json_object_get(body, "quantity"))
			return svc_problem_set(
			        err, 400, "items",
			        "give either items or productId and quantity, not both");
		return parse_items(items, out, err);
	}

	/* The single-product form. */
	rc = parse_id(body, "productId", "productId", out->items[0].product_id, err);
	if (rc == 0)
		rc = parse_quantity(body, "quantity", &out->items[0].quantity, err);
	if (rc == 0) {
		out->nitems = 1;
		out->single_form = 1;
	}
	return rc;
}

static int cmp_item(const void *a, const void *b)
{
	const struct order_item *x = a, *y = b;

	return strcmp(x->product_id, y->product_id);
}

char *order_request_canonical(const struct order_request *req)
{
	struct order_item sorted[ORDER_MAX_ITEMS];
	struct svc_buf b;
	size_t n = req->nitems <= ORDER_MAX_ITEMS ? req->nitems : ORDER_MAX_ITEMS;

	memcpy(sorted, req->items, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_item);
	svc_buf_init(&b);
	/* Ids cannot hold a space or newline, so this is unambiguous. */
	svc_buf_addf(&b, "v1 %s\n", req->user_id);
	for (size_t i = 0; i < n; i++)
		svc_buf_addf(&b, "%s %d\n", sorted[i].product_id, sorted[i].quantity);
	return svc_buf_take(&b);
}
