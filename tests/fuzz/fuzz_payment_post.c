/*
 * POST /api/payments bodies (pay_request_parse): an accepted request has a
 * UUID order id, a positive amount and a three-letter currency.
 */
#include "tests/fuzz/fuzz.h"

#include "services/payment/request.h"
#include "svc/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = fuzz_body_parse(data, size);
	struct pay_request req;
	struct svc_problem err;

	if (!body)
		return 0;
	memset(&err, 0, sizeof(err));
	if (pay_request_parse(body, &req, &err) == 0) {
		FUZZ_CHECK(svc_uuid_valid(req.order_id));
		FUZZ_CHECK(req.amount > 0);
		FUZZ_CHECK(strlen(req.currency) == 3);
		for (size_t i = 0; i < 3; i++)
			FUZZ_CHECK(req.currency[i] >= 'A' && req.currency[i] <= 'Z');
	} else {
		fuzz_check_problem(&err);
		FUZZ_CHECK(!strcmp(err.field, "orderId") || !strcmp(err.field, "amount") ||
		           !strcmp(err.field, "currency"));
	}
	json_decref(body);
	return 0;
}
