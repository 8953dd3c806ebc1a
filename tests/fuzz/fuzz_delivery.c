/*
 * The sidecar's inbound delivery wire format (resilience/sidecar/delivery.h):
 * the service's answer to POST /internal/events (sc_delivery_parse) and the
 * request item written from a raw Kafka message (sc_delivery_item_add).
 *
 * Input: byte 0 is the batch size the answer must match (0..15) and the split
 * of the rest between key and payload; the rest is both the answer body and
 * the message.
 */
#include "tests/fuzz/fuzz.h"

#include "resilience/sidecar/delivery.h"
#include "svc/error.h"
#include "svc/json.h"

#define MAX_BATCH 16

static void check_answer(const char *body, size_t len, size_t n)
{
	struct sc_delivery_result out[MAX_BATCH];

	memset(out, 0xa5, sizeof(out));
	if (sc_delivery_parse(body, len, out, n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(out[i].verdict == SC_VERDICT_DONE ||
		           out[i].verdict == SC_VERDICT_REJECTED ||
		           out[i].verdict == SC_VERDICT_RETRY);
		FUZZ_CHECK(fuzz_terminated(out[i].reason, sizeof(out[i].reason)) &&
		           out[i].reason[0]);
	}
	/* the caller's array is written only up to n */
	for (size_t i = n; i < MAX_BATCH; i++)
		FUZZ_CHECK(((const unsigned char *)&out[i])[0] == 0xa5);
}

/* The item for a message keyed with the first `keylen` bytes, payload the
 * rest, written after a first item as in a batch body: the body stays JSON
 * the service loads, the payload travels byte for byte (a NUL inside too),
 * as the object itself exactly when it is a valid JSON object. */
static void check_item(const char *bytes, size_t len, size_t keylen)
{
	struct sc_delivery_msg m = {.topic = "order.events", .partition = 3, .offset = 42};
	char reason[128] = "";
	struct svc_buf b;
	json_t *body = NULL;
	int rc;

	m.key = keylen ? bytes : NULL;
	m.keylen = keylen;
	m.value = bytes + keylen;
	m.len = len - keylen;
	svc_buf_init(&b);
	svc_buf_adds(&b, "{\"messages\":[{},");
	rc = sc_delivery_item_add(&b, &m, reason, sizeof(reason));
	if (rc != 0) {
		FUZZ_CHECK(rc == SVC_EPERMANENT);
		FUZZ_CHECK(reason[0] && fuzz_terminated(reason, sizeof(reason)));
		FUZZ_CHECK(strcmp(svc_buf_str(&b), "{\"messages\":[{},") == 0);
		goto release;
	}
	svc_buf_adds(&b, "]}");
	FUZZ_CHECK(!b.failed);
	/* as svc_consumer_handle_batch() loads it */
	body = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	FUZZ_CHECK(body != NULL);
	json_t *item = json_array_get(json_object_get(body, "messages"), 1);
	json_t *key = json_object_get(item, "key");
	json_t *value = json_object_get(item, "value");
	FUZZ_CHECK(json_is_string(key) && json_string_length(key) == keylen);
	FUZZ_CHECK(keylen == 0 || memcmp(json_string_value(key), m.key, keylen) == 0);
	if (json_is_object(value)) {
		FUZZ_CHECK(svc_json_object_valid(m.value, m.len, SC_DELIVERY_VALUE_DEPTH));
		FUZZ_CHECK(strstr(b.data, ",\"value\":") != NULL);
	} else {
		FUZZ_CHECK(json_is_string(value) && json_string_length(value) == m.len);
		FUZZ_CHECK(memcmp(json_string_value(value), m.value, m.len) == 0);
	}
release:
	json_decref(body);
	svc_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rest;
	size_t len;

	if (size < 1)
		return 0;
	rest = (const char *)data + 1;
	len = size - 1;
	check_answer(rest, len, data[0] & 0x0f);
	check_item(rest, len, len ? (size_t)(data[0] >> 4) % (len + 1) : 0);
	return 0;
}
