/*
 * POST /api/orders bodies (order_request_parse) and the canonical text the
 * Idempotency-Key check compares. An accepted request must hold only what
 * request.h promises: valid ids, 1..50 distinct lines, quantities 1..1000.
 */
#include "tests/fuzz/fuzz.h"

#include "services/order/request.h"

static void check_request(const struct order_request *r)
{
	char *canon;

	FUZZ_CHECK(svc_id_valid(r->user_id));
	FUZZ_CHECK(r->nitems >= 1 && r->nitems <= ORDER_MAX_ITEMS);
	for (size_t i = 0; i < r->nitems; i++) {
		FUZZ_CHECK(svc_id_valid(r->items[i].product_id));
		FUZZ_CHECK(r->items[i].quantity >= 1 && r->items[i].quantity <= ORDER_MAX_QUANTITY);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(r->items[i].product_id, r->items[j].product_id) != 0);
	}
	canon = order_request_canonical(r);
	if (canon) {
		/* "v1 <user>\n" and one "<product> <quantity>\n" per line */
		size_t lines = 0;

		for (const char *p = canon; *p; p++)
			lines += *p == '\n';
		FUZZ_CHECK(lines == r->nitems + 1);
		FUZZ_CHECK(strncmp(canon, "v1 ", 3) == 0);
		free(canon);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = fuzz_body_parse(data, size);
	struct order_request req;
	struct svc_problem err;

	if (!body)
		return 0;
	memset(&err, 0, sizeof(err));
	if (order_request_parse(body, &req, &err) == 0)
		check_request(&req);
	else
		fuzz_check_problem(&err);
	json_decref(body);
	return 0;
}
