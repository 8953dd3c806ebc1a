/*
 * svc_http_parse_json, the first step of every JSON endpoint: any body gives
 * either a JSON object or a 400 problem+json reply whose body is itself a
 * well-formed problem (jansson's error text can echo the input).
 */
#include "tests/fuzz/fuzz.h"

#include "svc/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char body[70000];
	struct svc_http_request req = {.method = "POST", .path = "/api/orders"};
	struct svc_http_response res = {.status = 200};
	json_t *v;

	if (size >= sizeof(body))
		return 0; /* over HTTP_MAX_BODY: the server answers 413 first */
	/* the server hands handlers a NUL-terminated copy of the body */
	memcpy(body, data, size);
	body[size] = '\0';
	req.body = body;
	req.body_len = size;
	v = svc_http_parse_json(&req, &res);
	if (v) {
		FUZZ_CHECK(json_is_object(v) && res.body == NULL);
		json_decref(v);
		return 0;
	}
	fuzz_check_problem_reply(&res, 400, false);
	return 0;
}
