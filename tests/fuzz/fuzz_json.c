/*
 * JSON text without a tree (svc/json.h), against jansson: what
 * svc_json_object_valid() takes, jansson loads as an object with
 * JSON_REJECT_DUPLICATES (the service embeds it in a body loaded that way),
 * and svc_json_add_string() escapes any valid UTF-8 into a string jansson
 * reads back byte for byte.
 *
 * Input: byte 0 is the depth limit, the rest the text.
 */
#include "tests/fuzz/fuzz.h"

#include "svc/buf.h"
#include "svc/error.h"
#include "svc/json.h"

static void check_object(const char *s, size_t len, unsigned max_depth)
{
	json_t *j;

	if (!svc_json_object_valid(s, len, max_depth))
		return;
	j = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(j));
	json_decref(j);
}

static void check_string(const char *s, size_t len)
{
	struct svc_buf b;
	json_t *j;
	int rc;

	svc_buf_init(&b);
	rc = svc_json_add_string(&b, s, len);
	if (rc != 0) {
		FUZZ_CHECK(rc == SVC_EPERMANENT && b.len == 0);
		/* jansson refuses it too */
		FUZZ_CHECK(json_stringn(s, len) == NULL);
		goto release;
	}
	j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	FUZZ_CHECK(json_is_string(j) && json_string_length(j) == len);
	FUZZ_CHECK(len == 0 || memcmp(json_string_value(j), s, len) == 0);
	json_decref(j);
release:
	svc_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	check_object((const char *)data + 1, size - 1, data[0]);
	check_string((const char *)data + 1, size - 1);
	return 0;
}
