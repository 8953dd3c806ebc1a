/*
 * PUT /api/inventory/{productId} bodies (inv_put_request_parse): accepted
 * counts are in range and the name, when given, is 1..255 bytes.
 */
#include "tests/fuzz/fuzz.h"

#include <limits.h>

#include "services/inventory/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = fuzz_body_parse(data, size);
	struct inv_put_request req;
	struct svc_problem err;

	if (!body)
		return 0;
	memset(&err, 0, sizeof(err));
	if (inv_put_request_parse(body, &req, &err) == 0) {
		FUZZ_CHECK(req.available >= 0 && req.available <= INT_MAX);
		FUZZ_CHECK(req.price >= 0 && req.price <= INT64_MAX / 1000000);
		FUZZ_CHECK(!req.name || (req.name[0] && strlen(req.name) <= INV_NAME_MAX));
	} else {
		fuzz_check_problem(&err);
	}
	json_decref(body);
	return 0;
}
