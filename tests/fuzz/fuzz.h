/*
 * Shared by the libFuzzer harnesses (tests/fuzz/fuzz_<target>.c): an
 * invariant check that crashes loudly, so the fuzzer keeps the input, and the
 * body parsing every JSON endpoint does before it validates.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/http.h"
#include "svc/validate.h"

/* A broken invariant is a finding: report it and abort (libFuzzer saves the input). */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* True when s[0..len) holds a NUL terminator (a fixed buffer was not overrun). */
static inline bool fuzz_terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

/* True when the NUL-terminated `s` is valid UTF-8 (jansson accepts it as a string). */
static inline bool fuzz_utf8(const char *s)
{
	json_t *v = json_string(s);
	bool ok = v != NULL;

	json_decref(v);
	return ok;
}

/* The request body as svc_http_parse_json() reads it (same flags, object only),
 * so the validators see what they see in the service; NULL when the service
 * would already have answered 400. fuzz_http_json covers that step itself. */
static inline json_t *fuzz_body_parse(const uint8_t *data, size_t size)
{
	json_t *v =
	        size ? json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (v && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* The body of a problem+json reply is a complete problem: an object with
 * the status, a detail and, when one was named, the field. Frees the body. */
static inline void fuzz_check_problem_reply(struct svc_http_response *res, int status,
                                            bool has_field)
{
	json_t *p;

	FUZZ_CHECK(res->status == status && res->body != NULL);
	p = json_loadb(res->body, res->body_len, 0, NULL);
	FUZZ_CHECK(json_is_object(p));
	FUZZ_CHECK(json_integer_value(json_object_get(p, "status")) == status);
	FUZZ_CHECK(json_is_string(json_object_get(p, "title")));
	FUZZ_CHECK(json_is_string(json_object_get(p, "detail")));
	FUZZ_CHECK(!has_field || json_is_string(json_object_get(p, "field")));
	json_decref(p);
	free(res->body);
	res->body = NULL;
}

/* A validation problem: 400 or 422, terminated strings, and the reply the
 * handler makes of it (svc_http_reply_invalid) is a complete problem. */
static inline void fuzz_check_problem(const struct svc_problem *p)
{
	struct svc_http_response res = {.status = 200};

	FUZZ_CHECK(p->status == 400 || p->status == 422);
	FUZZ_CHECK(fuzz_terminated(p->field, sizeof(p->field)));
	FUZZ_CHECK(fuzz_terminated(p->detail, sizeof(p->detail)) && p->detail[0]);
	svc_http_reply_invalid(&res, p);
	fuzz_check_problem_reply(&res, p->status, p->field[0] != '\0');
}

/* libFuzzer's entry point; each harness defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
