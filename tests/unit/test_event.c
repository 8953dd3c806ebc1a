/* The event envelope codec, UUIDv7 ids and the strict decoder's reasons. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc/error.h"
#include "svc/event.h"

#define EVENT_ID "0190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8e"
#define CAUSE_ID "0190f3a2-7c1e-7b3a-9d2e-000000000001"
#define ORDER_ID "5b0e8f9c-1d2e-4f3a-8b7c-6d5e4f3a2b1c"

/* A valid envelope as a JSON value, to be broken field by field. */
static json_t *valid_envelope(void)
{
	return json_pack("{s:s, s:s, s:I, s:{s:s, s:i}, s:{s:s, s:s, s:s, s:s}}", "eventId",
	                 EVENT_ID, "type", "OrderCreatedEvent", "timestamp",
	                 (json_int_t)1732479424123LL, "data", "orderId", ORDER_ID, "quantity", 2,
	                 "metadata", "correlationId", ORDER_ID, "version", "1", "source",
	                 "order-service", "causationId", CAUSE_ID);
}

/* Decodes `root` (dumped compactly); returns the code and fills err. The
 * parsed form (svc_event_decode_json, what a delivery with the event as an
 * object gives) must say the same. */
static int decode_value(json_t *root, struct svc_event *ev, char *err, size_t errlen)
{
	char *text = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
	char *before = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
	struct svc_event parsed;
	char parsed_err[256];
	int rc;

	assert_non_null(text);
	rc = svc_event_decode(text, strlen(text), ev, err, errlen);
	assert_int_equal(svc_event_decode_json(root, &parsed, parsed_err, sizeof(parsed_err)), rc);
	if (rc == 0) {
		assert_string_equal(parsed.id, ev->id);
		assert_string_equal(parsed.type, ev->type);
		assert_string_equal(parsed.version, ev->version);
		assert_string_equal(parsed.correlation_id, ev->correlation_id);
		assert_string_equal(parsed.source, ev->source);
		assert_string_equal(parsed.causation_id, ev->causation_id);
		assert_int_equal(parsed.timestamp_ms, ev->timestamp_ms);
		assert_true(json_equal(parsed.data, ev->data));
	} else if (errlen > 0) {
		assert_int_equal(strncmp(parsed_err, err, errlen - 1), 0);
		assert_null(parsed.data);
	}
	svc_event_release(&parsed);
	/* root is left as it was */
	char *after = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_string_equal(after, before);
	free(after);
	free(before);
	free(text);
	return rc;
}

static int decode_str(const char *s, char *err, size_t errlen)
{
	struct svc_event ev;
	int rc = svc_event_decode(s, strlen(s), &ev, err, errlen);

	if (rc == 0)
		svc_event_release(&ev);
	else
		assert_null(ev.data);
	return rc;
}

/* Removes or replaces the member at "a" or "a.b" of root. */
static void set_path(json_t *root, const char *path, json_t *value)
{
	const char *dot = strchr(path, '.');
	json_t *obj = root;
	char head[64];

	if (dot) {
		assert_true((size_t)(dot - path) < sizeof(head));
		memcpy(head, path, (size_t)(dot - path));
		head[dot - path] = '\0';
		obj = json_object_get(root, head);
		assert_non_null(obj);
		path = dot + 1;
	}
	if (value)
		json_object_set_new(obj, path, value);
	else
		json_object_del(obj, path);
}

/* ---- decoding valid input ---- */

static void test_event_decode_accepts_valid_envelope(void **state)
{
	json_t *root = valid_envelope();
	struct svc_event ev;
	char err[128] = "";
	int64_t qty = 0;
	const char *oid = NULL;

	(void)state;
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(ev.id, EVENT_ID);
	assert_string_equal(ev.type, "OrderCreatedEvent");
	assert_true(ev.timestamp_ms == 1732479424123LL);
	assert_string_equal(ev.correlation_id, ORDER_ID);
	assert_string_equal(ev.version, "1");
	assert_string_equal(ev.source, "order-service");
	assert_string_equal(ev.causation_id, CAUSE_ID);
	assert_int_equal(svc_event_str(&ev, "orderId", &oid, err, sizeof(err)), 0);
	assert_string_equal(oid, ORDER_ID);
	assert_int_equal(svc_event_int(&ev, "quantity", &qty, err, sizeof(err)), 0);
	assert_int_equal(qty, 2);
	svc_event_release(&ev);
	svc_event_release(&ev); /* twice is harmless */
	json_decref(root);
}

static void test_event_decode_treats_absent_or_null_causation_as_none(void **state)
{
	json_t *root = valid_envelope();
	struct svc_event ev;
	char err[128];

	(void)state;
	set_path(root, "metadata.causationId", NULL);
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.causation_id, "");
	svc_event_release(&ev);
	set_path(root, "metadata.causationId", json_null());
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.causation_id, "");
	svc_event_release(&ev);
	json_decref(root);
}

static void test_event_decode_ignores_unknown_fields(void **state)
{
	json_t *root = valid_envelope();
	struct svc_event ev;
	char err[128];

	(void)state;
	set_path(root, "traceparent", json_string("00-abc"));
	set_path(root, "metadata.tenant", json_integer(3));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), 0);
	svc_event_release(&ev);
	json_decref(root);
}

/* ---- round trip ---- */

static void test_event_round_trip_keeps_every_field(void **state)
{
	struct svc_event ev, back;
	char err[128];
	char *text;

	(void)state;
	assert_int_equal(
	        svc_event_init(&ev, "PaymentCompletedEvent", ORDER_ID, "payment-service", CAUSE_ID,
	                       json_pack("{s:s, s:I, s:s}", "orderId", ORDER_ID, "amount",
	                                 (json_int_t)5997, "gatewayRef", "gw-\"1\"\u00e9")),
	        0);
	assert_true(svc_uuid_valid(ev.id));
	assert_string_equal(ev.version, SVC_EVENT_VERSION);
	text = svc_event_encode(&ev);
	assert_non_null(text);
	assert_int_equal(svc_event_decode(text, strlen(text), &back, err, sizeof(err)), 0);
	assert_string_equal(back.id, ev.id);
	assert_string_equal(back.type, ev.type);
	assert_true(back.timestamp_ms == ev.timestamp_ms);
	assert_string_equal(back.correlation_id, ev.correlation_id);
	assert_string_equal(back.version, ev.version);
	assert_string_equal(back.source, ev.source);
	assert_string_equal(back.causation_id, ev.causation_id);
	assert_true(json_equal(back.data, ev.data));
	free(text);
	svc_event_release(&back);
	svc_event_release(&ev);
}

static void test_event_encode_omits_empty_causation(void **state)
{
	struct svc_event ev;
	char *text;

	(void)state;
	assert_int_equal(svc_event_init(&ev, "OrderCreatedEvent", ORDER_ID, "order-service", NULL,
	                                json_object()),
	                 0);
	text = svc_event_encode(&ev);
	assert_non_null(text);
	assert_null(strstr(text, "causationId"));
	assert_non_null(strstr(text, "\"version\":\"1\""));
	free(text);
	svc_event_release(&ev);
}

/* ---- init ---- */

static void test_event_init_rejects_oversized_strings_and_releases_data(void **state)
{
	char longer[100];
	struct svc_event ev;

	(void)state;
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	/* under ASan/LSan a leaked data object would fail the run */
	assert_int_equal(
	        svc_event_init(&ev, longer, ORDER_ID, "order-service", NULL, json_object()),
	        SVC_ERANGE);
	assert_int_equal(svc_event_init(&ev, "T", longer, "order-service", NULL, json_object()),
	                 SVC_ERANGE);
	assert_int_equal(svc_event_init(&ev, "T", ORDER_ID, longer, NULL, json_object()),
	                 SVC_ERANGE);
	assert_int_equal(svc_event_init(&ev, "T", ORDER_ID, "s", longer, json_object()),
	                 SVC_ERANGE);
	assert_null(ev.data);
}

static void test_event_init_rejects_non_object_data(void **state)
{
	struct svc_event ev;

	(void)state;
	assert_int_equal(svc_event_init(&ev, "T", ORDER_ID, "s", NULL, json_array()),
	                 SVC_EPERMANENT);
	assert_int_equal(svc_event_init(&ev, "T", ORDER_ID, "s", NULL, NULL), SVC_ENOMEM);
	assert_int_equal(svc_event_init(&ev, "", ORDER_ID, "s", NULL, json_object()),
	                 SVC_EPERMANENT);
}

/* ---- strictness: every field ---- */

static const char *const required_fields[] = {
        "eventId",          "type",
        "timestamp",        "data",
        "metadata",         "metadata.correlationId",
        "metadata.version", "metadata.source",
};

static void test_event_decode_rejects_each_missing_field_naming_it(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(required_fields) / sizeof(required_fields[0]); i++) {
		json_t *root = valid_envelope();
		struct svc_event ev;
		char err[128], want[128];

		set_path(root, required_fields[i], NULL);
		assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
		snprintf(want, sizeof(want), "%s: missing", required_fields[i]);
		assert_string_equal(err, want);
		assert_null(ev.data);
		json_decref(root);
	}
}

static void test_event_decode_rejects_each_mistyped_field_naming_it(void **state)
{
	static const char *const fields[] = {
	        "eventId",
	        "type",
	        "timestamp",
	        "data",
	        "metadata",
	        "metadata.correlationId",
	        "metadata.version",
	        "metadata.source",
	        "metadata.causationId",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		/* Each field gets every type it must not have. */
		json_t *wrong[] = {json_integer(5), json_string("x"), json_true(), json_array(),
		                   json_object(),   json_real(1.5),   json_null()};

		for (size_t j = 0; j < sizeof(wrong) / sizeof(wrong[0]); j++) {
			json_t *root;
			struct svc_event ev;
			char err[128], prefix[64];
			int rc;

			if (json_is_object(wrong[j]) && strchr(fields[i], '.') == NULL &&
			    (!strcmp(fields[i], "data") || !strcmp(fields[i], "metadata"))) {
				/* the right type: {} for metadata fails on its members */
				json_decref(wrong[j]);
				continue;
			}
			root = valid_envelope();
			set_path(root, fields[i], wrong[j]);
			rc = decode_value(root, &ev, err, sizeof(err));
			json_decref(root);
			if (rc == 0) {
				/* Only the types that are right for the field may pass. */
				svc_event_release(&ev);
				continue;
			}
			assert_int_equal(rc, SVC_EPERMANENT);
			snprintf(prefix, sizeof(prefix), "%s: ", fields[i]);
			if (strncmp(err, prefix, strlen(prefix)) != 0)
				fail_msg("field %s type %zu: reason \"%s\"", fields[i], j, err);
		}
	}
}

static void test_event_decode_accepts_only_the_right_type_per_field(void **state)
{
	json_t *root;
	struct svc_event ev;
	char err[128];

	(void)state;
	/* Strings where a string is expected, an integer for the timestamp,
	 * an object for data: anything else was rejected by the test above.
	 * Here: the near misses. */
	root = valid_envelope();
	set_path(root, "timestamp", json_real(1732479424123.0));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "timestamp: not an integer");
	set_path(root, "timestamp", json_integer(-1));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "timestamp: negative");
	json_decref(root);

	root = valid_envelope();
	set_path(root, "data", json_array());
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "data: not an object");
	json_decref(root);
}

static void test_event_decode_rejects_empty_and_oversized_strings(void **state)
{
	char longer[200];
	json_t *root;
	struct svc_event ev;
	char err[128];

	(void)state;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';

	root = valid_envelope();
	set_path(root, "type", json_string(""));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "type: empty");
	set_path(root, "type", json_string(longer));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "type: longer than 63 bytes");
	json_decref(root);

	root = valid_envelope();
	set_path(root, "metadata.source", json_string(longer));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "metadata.source: longer than 63 bytes");
	set_path(root, "metadata.source", json_string("order service"));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "metadata.source: invalid characters");
	json_decref(root);
}

static void test_event_decode_rejects_bad_ids_and_versions(void **state)
{
	json_t *root = valid_envelope();
	struct svc_event ev;
	char err[128];

	(void)state;
	set_path(root, "eventId", json_string("not-a-uuid"));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "eventId: not a UUID");
	set_path(root, "eventId", json_string(EVENT_ID));

	set_path(root, "metadata.causationId", json_string("12345"));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "metadata.causationId: not a UUID");
	set_path(root, "metadata.causationId", json_string(CAUSE_ID));

	set_path(root, "metadata.version", json_string("2"));
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "metadata.version: unsupported version \"2\"");
	json_decref(root);
}

/* ---- typed data access ---- */

static void test_event_data_access_names_missing_and_mistyped_fields(void **state)
{
	json_t *root = valid_envelope();
	struct svc_event ev;
	char err[128];
	const char *s = NULL;
	int64_t n = 0;

	(void)state;
	assert_int_equal(decode_value(root, &ev, err, sizeof(err)), 0);
	assert_int_equal(svc_event_str(&ev, "userId", &s, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "data.userId: missing");
	assert_int_equal(svc_event_str(&ev, "quantity", &s, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "data.quantity: not a string");
	assert_int_equal(svc_event_int(&ev, "orderId", &n, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "data.orderId: not an integer");
	assert_int_equal(svc_event_int(&ev, "totalAmount", &n, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "data.totalAmount: missing");
	svc_event_release(&ev);
	/* a released event has no data: still an answer, not a crash */
	assert_int_equal(svc_event_int(&ev, "quantity", &n, err, sizeof(err)), SVC_EPERMANENT);
	json_decref(root);
}

/* ---- hostile input ---- */

static void test_event_decode_rejects_non_objects_and_garbage(void **state)
{
	static const char *const inputs[] = {
	        "[]",
	        "1",
	        "\"x\"",
	        "null",
	        "true",
	        "{",
	        "}",
	        "{\"eventId\":",
	        "\xff\xfe{}",
	        "{\"a\":1} trailing",
	        "{'eventId':'x'}",
	        "   ",
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		err[0] = '\0';
		assert_int_equal(decode_str(inputs[i], err, sizeof(err)), SVC_EPERMANENT);
		assert_true(strncmp(err, "event: ", 7) == 0);
	}
	assert_int_equal(svc_event_decode(NULL, 0, &(struct svc_event){0}, err, sizeof(err)),
	                 SVC_EPERMANENT);
	assert_string_equal(err, "event: empty");
	/* a tiny or absent error buffer is fine */
	assert_int_equal(decode_str("[", err, 1), SVC_EPERMANENT);
	assert_int_equal(decode_str("[", NULL, 0), SVC_EPERMANENT);
}

static void test_event_decode_rejects_every_truncation_of_a_valid_event(void **state)
{
	json_t *root = valid_envelope();
	char *text = json_dumps(root, JSON_COMPACT);
	size_t len = strlen(text);
	char err[128];

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		/* exact-size copies so ASan catches any read past the length */
		char *part = malloc(cut ? cut : 1);
		struct svc_event ev;

		memcpy(part, text, cut);
		assert_int_equal(svc_event_decode(part, cut, &ev, err, sizeof(err)),
		                 SVC_EPERMANENT);
		free(part);
	}
	free(text);
	json_decref(root);
}

static void test_event_decode_rejects_nul_bytes_in_strings(void **state)
{
	static const char escaped[] =
	        "{\"eventId\":\"" EVENT_ID "\",\"type\":\"Order\\u0000Created\",\"timestamp\":1,"
	        "\"data\":{},\"metadata\":{\"correlationId\":\"o\",\"version\":\"1\","
	        "\"source\":\"s\"}}";
	static const char raw[] = "{\"eventId\":\"" EVENT_ID "\",\"type\":\"Order\0Created\","
	                          "\"timestamp\":1,\"data\":{},\"metadata\":{\"correlationId\":"
	                          "\"o\",\"version\":\"1\",\"source\":\"s\"}}";
	static const char in_data[] =
	        "{\"eventId\":\"" EVENT_ID "\",\"type\":\"T\",\"timestamp\":1,"
	        "\"data\":{\"orderId\":\"a\\u0000b\"},\"metadata\":{\"correlationId\":\"o\","
	        "\"version\":\"1\",\"source\":\"s\"}}";
	struct svc_event ev;
	char err[128];

	(void)state;
	assert_int_equal(svc_event_decode(escaped, sizeof(escaped) - 1, &ev, err, sizeof(err)),
	                 SVC_EPERMANENT);
	assert_int_equal(svc_event_decode(raw, sizeof(raw) - 1, &ev, err, sizeof(err)),
	                 SVC_EPERMANENT);
	assert_int_equal(svc_event_decode(in_data, sizeof(in_data) - 1, &ev, err, sizeof(err)),
	                 SVC_EPERMANENT);
	/* the reason itself stays printable */
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);
}

static void test_event_decode_rejects_duplicate_keys(void **state)
{
	static const char dup[] =
	        "{\"eventId\":\"" EVENT_ID "\",\"type\":\"A\",\"type\":\"B\",\"timestamp\":1,"
	        "\"data\":{},\"metadata\":{\"correlationId\":\"o\",\"version\":\"1\","
	        "\"source\":\"s\"}}";
	char err[128];

	(void)state;
	assert_int_equal(decode_str(dup, err, sizeof(err)), SVC_EPERMANENT);
	assert_non_null(strstr(err, "duplicate"));
}

static void test_event_decode_rejects_huge_numbers(void **state)
{
	static const char *const stamps[] = {"99999999999999999999999", "1e400", "-1e400",
	                                     "9223372036854775808"};
	char json[512], err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		snprintf(json, sizeof(json),
		         "{\"eventId\":\"" EVENT_ID "\",\"type\":\"T\",\"timestamp\":%s,"
		         "\"data\":{},\"metadata\":{\"correlationId\":\"o\",\"version\":\"1\","
		         "\"source\":\"s\"}}",
		         stamps[i]);
		assert_int_equal(decode_str(json, err, sizeof(err)), SVC_EPERMANENT);
	}
}

static void test_event_decode_rejects_deep_nesting_without_crashing(void **state)
{
	const size_t depth = 200000;
	const char *head = "{\"eventId\":\"" EVENT_ID "\",\"type\":\"T\",\"timestamp\":1,"
	                   "\"metadata\":{\"correlationId\":\"o\",\"version\":\"1\","
	                   "\"source\":\"s\"},\"data\":{\"x\":";
	size_t hlen = strlen(head), len = hlen + 2 * depth + 2;
	char *json = malloc(len);
	char err[128];
	struct svc_event ev;

	(void)state;
	memcpy(json, head, hlen);
	memset(json + hlen, '[', depth);
	memset(json + hlen + depth, ']', depth);
	memcpy(json + hlen + 2 * depth, "}}", 2);
	assert_int_equal(svc_event_decode(json, len, &ev, err, sizeof(err)), SVC_EPERMANENT);
	free(json);
}

static void test_event_decode_rejects_input_over_the_size_limit(void **state)
{
	size_t len = SVC_EVENT_MAX_BYTES + 1;
	char *json = malloc(len);
	char err[128];
	struct svc_event ev;

	(void)state;
	memset(json, ' ', len);
	json[0] = '{';
	json[len - 1] = '}';
	assert_int_equal(svc_event_decode(json, len, &ev, err, sizeof(err)), SVC_EPERMANENT);
	assert_string_equal(err, "event: larger than 1048576 bytes");
	free(json);
}

static void test_event_decode_survives_random_mutations(void **state)
{
	json_t *root = valid_envelope();
	char *text = json_dumps(root, JSON_COMPACT);
	size_t len = strlen(text);
	unsigned seed = 12345;
	char err[128];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char *m = malloc(len);
		struct svc_event ev;
		int flips = 1 + (int)(rand_r(&seed) % 4);

		memcpy(m, text, len);
		for (int f = 0; f < flips; f++)
			m[(unsigned)rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
		err[0] = '\0';
		if (svc_event_decode(m, len, &ev, err, sizeof(err)) == 0)
			svc_event_release(&ev);
		else
			assert_true(err[0] != '\0');
		free(m);
	}
	free(text);
	json_decref(root);
}

/* ---- ids and time ---- */

static void test_event_decode_json_data_outlives_the_parsed_root(void **state)
{
	json_t *root = valid_envelope();
	struct svc_event ev;
	char err[128];

	(void)state;
	assert_int_equal(svc_event_decode_json(root, &ev, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	json_decref(root); /* the delivery body goes, the event stays */
	assert_string_equal(json_string_value(json_object_get(ev.data, "orderId")), ORDER_ID);
	svc_event_release(&ev);
}

static void test_event_decode_json_rejects_non_objects(void **state)
{
	json_t *values[] = {json_pack("[i]", 1), json_string("x"), json_integer(12), json_null()};
	struct svc_event ev;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_int_equal(svc_event_decode_json(values[i], &ev, err, sizeof(err)),
		                 SVC_EPERMANENT);
		assert_string_equal(err, "event: not a JSON object");
		assert_null(ev.data);
		json_decref(values[i]);
	}
	assert_int_equal(svc_event_decode_json(NULL, &ev, err, sizeof(err)), SVC_EPERMANENT);
}

static void test_uuid7_has_version_variant_and_current_time(void **state)
{
	char id[37];
	int64_t before = svc_now_ms(), after, stamp;
	char hex[13];

	(void)state;
	svc_uuid7(id);
	after = svc_now_ms();
	assert_int_equal(strlen(id), 36);
	assert_true(svc_uuid_valid(id));
	assert_int_equal(id[14], '7');
	assert_non_null(strchr("89ab", id[19]));
	for (const char *p = id; *p; p++)
		assert_true(*p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
	memcpy(hex, id, 8);
	memcpy(hex + 8, id + 9, 4);
	hex[12] = '\0';
	stamp = strtoll(hex, NULL, 16);
	/* the counter may run the stamp at most a little ahead */
	assert_true(stamp >= before && stamp <= after + 5);
}

static void test_uuid7_ids_sort_in_creation_order(void **state)
{
	enum { N = 20000 };
	char(*ids)[37] = malloc(sizeof(*ids) * N);

	(void)state;
	for (int i = 0; i < N; i++)
		svc_uuid7(ids[i]);
	for (int i = 1; i < N; i++)
		if (strcmp(ids[i - 1], ids[i]) >= 0)
			fail_msg("%s !< %s", ids[i - 1], ids[i]);
	free(ids);
}

/* The random tail of an id (its last 16 hex digits; the first 16 hold the
 * time and the counter). */
static void random_tail(const char id[37], char out[17])
{
	size_t o = 0;

	for (const char *p = id + 19; *p && o < 16; p++)
		if (*p != '-')
			out[o++] = *p;
	out[o] = '\0';
}

struct ids_of_thread {
	char ids[64][37];
};

static void *make_ids(void *arg)
{
	struct ids_of_thread *t = arg;

	for (int i = 0; i < 64; i++)
		svc_uuid7(t->ids[i]);
	return NULL;
}

static void test_uuid7_random_parts_differ_across_threads_and_fork(void **state)
{
	struct ids_of_thread *a = calloc(2, sizeof(*a));
	char tails[2 * 64 + 1][17], id[37], child_id[37] = {0};
	int fds[2];
	pthread_t th;
	pid_t pid;
	int n = 0;

	(void)state;
	assert_non_null(a);
	/* two threads drawing ids at once: no random part is handed out twice */
	assert_int_equal(pthread_create(&th, NULL, make_ids, &a[0]), 0);
	make_ids(&a[1]);
	assert_int_equal(pthread_join(th, NULL), 0);
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 64; i++)
			random_tail(a[t].ids[i], tails[n++]);
	/* a forked child's next id is not its parent's next id */
	svc_uuid7(id); /* the parent now holds a block with bytes left */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		svc_uuid7(child_id);
		_exit(write(fds[1], child_id, sizeof(child_id)) == (ssize_t)sizeof(child_id) ? 0
		                                                                             : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], child_id, sizeof(child_id)), (ssize_t)sizeof(child_id));
	close(fds[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	svc_uuid7(id);
	random_tail(id, tails[n++]);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(tails[i], tails[j]))
				fail_msg("random part %s handed out twice", tails[i]);
	assert_true(svc_uuid_valid(child_id));
	random_tail(child_id, tails[0]);
	random_tail(id, tails[1]);
	assert_string_not_equal(tails[0], tails[1]);
	free(a);
}

static void test_uuid_valid_accepts_canonical_form_only(void **state)
{
	(void)state;
	assert_true(svc_uuid_valid(EVENT_ID));
	assert_true(svc_uuid_valid("5B0E8F9C-1D2E-4F3A-8B7C-6D5E4F3A2B1C"));
	assert_false(svc_uuid_valid(NULL));
	assert_false(svc_uuid_valid(""));
	assert_false(svc_uuid_valid("0190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8"));
	assert_false(svc_uuid_valid("0190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8e0"));
	assert_false(svc_uuid_valid("0190f3a2x7c1e-7b3a-9d2e-3f4a5b6c7d8e"));
	assert_false(svc_uuid_valid("0190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8g"));
	assert_false(svc_uuid_valid("{190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8e}"));
}

static void test_now_ms_is_epoch_milliseconds(void **state)
{
	int64_t now = svc_now_ms();

	(void)state;
	assert_true(now > INT64_C(1700000000000)); /* after Nov 2023 */
	assert_true(now < INT64_C(4102444800000)); /* before 2100 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_event_decode_accepts_valid_envelope),
	        cmocka_unit_test(test_event_decode_treats_absent_or_null_causation_as_none),
	        cmocka_unit_test(test_event_decode_ignores_unknown_fields),
	        cmocka_unit_test(test_event_round_trip_keeps_every_field),
	        cmocka_unit_test(test_event_encode_omits_empty_causation),
	        cmocka_unit_test(test_event_init_rejects_oversized_strings_and_releases_data),
	        cmocka_unit_test(test_event_init_rejects_non_object_data),
	        cmocka_unit_test(test_event_decode_rejects_each_missing_field_naming_it),
	        cmocka_unit_test(test_event_decode_rejects_each_mistyped_field_naming_it),
	        cmocka_unit_test(test_event_decode_accepts_only_the_right_type_per_field),
	        cmocka_unit_test(test_event_decode_rejects_empty_and_oversized_strings),
	        cmocka_unit_test(test_event_decode_rejects_bad_ids_and_versions),
	        cmocka_unit_test(test_event_data_access_names_missing_and_mistyped_fields),
	        cmocka_unit_test(test_event_decode_rejects_non_objects_and_garbage),
	        cmocka_unit_test(test_event_decode_rejects_every_truncation_of_a_valid_event),
	        cmocka_unit_test(test_event_decode_rejects_nul_bytes_in_strings),
	        cmocka_unit_test(test_event_decode_rejects_duplicate_keys),
	        cmocka_unit_test(test_event_decode_rejects_huge_numbers),
	        cmocka_unit_test(test_event_decode_rejects_deep_nesting_without_crashing),
	        cmocka_unit_test(test_event_decode_rejects_input_over_the_size_limit),
	        cmocka_unit_test(test_event_decode_survives_random_mutations),
	        cmocka_unit_test(test_event_decode_json_data_outlives_the_parsed_root),
	        cmocka_unit_test(test_event_decode_json_rejects_non_objects),
	        cmocka_unit_test(test_uuid7_has_version_variant_and_current_time),
	        cmocka_unit_test(test_uuid7_ids_sort_in_creation_order),
	        cmocka_unit_test(test_uuid7_random_parts_differ_across_threads_and_fork),
	        cmocka_unit_test(test_uuid_valid_accepts_canonical_form_only),
	        cmocka_unit_test(test_now_ms_is_epoch_milliseconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
