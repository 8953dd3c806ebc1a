/*
 * svc_json_loadb against json_loadb (svc/json.h): for every flag
 * combination the project uses, both take the text or both refuse it, and
 * what both take is the same tree: json_equal, and dumped byte for byte the
 * same (members in the same order, integers and reals alike).
 *
 * Input: byte 0 picks the flags (bit 0 JSON_REJECT_DUPLICATES, bit 1
 * JSON_ALLOW_NUL, bit 2 JSON_DECODE_ANY), the rest is the text.
 */
#include "tests/fuzz/fuzz.h"

#include "svc/json.h"

static size_t flags_of(uint8_t b)
{
	return (b & 1 ? JSON_REJECT_DUPLICATES : 0) | (b & 2 ? JSON_ALLOW_NUL : 0) |
	       (b & 4 ? JSON_DECODE_ANY : 0);
}

/* The same text dumped from both trees (JSON_ENCODE_ANY: scalars too). */
static void check_same_dump(json_t *a, json_t *b)
{
	const size_t how = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	char *da = json_dumps(a, how), *db = json_dumps(b, how);

	FUZZ_CHECK(da && db && strcmp(da, db) == 0);
	free(da);
	free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	json_error_t err;
	json_t *ours, *theirs;
	size_t flags;

	if (size < 1)
		return 0;
	flags = flags_of(data[0]);
	ours = svc_json_loadb(text, size - 1, flags, &err);
	theirs = json_loadb(text, size - 1, flags, NULL);
	if (!ours || !theirs) {
		if (ours || theirs)
			fprintf(stderr, "svc_json_loadb %s, json_loadb %s (ours: %s)\n",
			        ours ? "took it" : "refused", theirs ? "took it" : "refused",
			        ours ? "-" : err.text);
		FUZZ_CHECK(!ours && !theirs);
		FUZZ_CHECK(err.text[0] != '\0' && err.position >= 0);
		return 0;
	}
	FUZZ_CHECK(json_equal(ours, theirs));
	check_same_dump(ours, theirs);
	json_decref(ours);
	json_decref(theirs);
	return 0;
}
