/* Unit tests of the DLQ admin: its pure parts (resilience/sidecar/dlq_entry.h:
 * reading dead-letter headers into an entry, its JSON, the re-drive headers
 * and the validation of the admin's inputs), and the listing
 * (resilience/sidecar/dlq_admin.h) over the fake broker (fake_kafka.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/dlq_admin.h"
#include "resilience/sidecar/dlq_entry.h"
#include "svc/error.h"
#include "tests/unit/fake_kafka.h"

static const char payload[] = "{\"eventId\":\"0190a0a0-0000-7000-8000-00000000abcd\","
                              "\"type\":\"OrderCreatedEvent\"}";

/* The headers sc_dlq_headers() writes for a typical dead letter. */
static rd_kafka_headers_t *typical_headers(void)
{
	struct sc_dlq_record r = {
	        .source_topic = "order.events",
	        .source_partition = 4,
	        .source_offset = 1234,
	        .key = "order-42",
	        .keylen = 8,
	        .reason = "unknown event type",
	        .attempts = 3,
	};
	return sc_dlq_headers(&r, "inventory", 1700000000123LL);
}

static struct sc_dlq_message message(const void *key, size_t keylen, const void *value, size_t len,
                                     const rd_kafka_headers_t *hdrs)
{
	struct sc_dlq_message m = {
	        .partition = 2,
	        .offset = 17,
	        .timestamp_ms = 1600000000000LL,
	        .key = key,
	        .keylen = keylen,
	        .payload = value,
	        .len = len,
	        .hdrs = hdrs,
	};
	return m;
}

static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t len)
{
	const void *value = NULL;
	size_t size = 0;

	if (rd_kafka_header_get_last(h, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (size >= len)
		size = len - 1;
	memcpy(buf, value, size);
	buf[size] = '\0';
	return buf;
}

/* ---- entries from headers ------------------------------------------------- */

static void test_dlq_entry_reads_the_provenance_headers(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = typical_headers();
	struct sc_dlq_message m = message("order-42", 8, payload, strlen(payload), h);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	assert_int_equal(e.partition, 2);
	assert_int_equal(e.offset, 17);
	assert_string_equal(e.reason, "unknown event type");
	assert_string_equal(e.source_topic, "order.events");
	assert_int_equal(e.source_partition, 4);
	assert_int_equal(e.source_offset, 1234);
	assert_int_equal(e.timestamp_ms, 1700000000123LL);
	assert_int_equal(e.attempts, 3);
	assert_string_equal(e.order_id, "order-42");
	assert_int_equal(e.keylen, 8);
	assert_memory_equal(e.key, "order-42", 8);
	assert_int_equal(e.len, strlen(payload));
	assert_memory_equal(e.payload, payload, e.len);
	assert_false(e.redriven);
	sc_dlq_entry_release(&e);
	rd_kafka_headers_destroy(h);
}

static void test_dlq_entry_takes_event_id_from_payload_without_header(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = typical_headers();
	struct sc_dlq_message m = message("k", 1, payload, strlen(payload), h);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	assert_string_equal(e.event_id, "0190a0a0-0000-7000-8000-00000000abcd");
	sc_dlq_entry_release(&e);
	rd_kafka_headers_destroy(h);
}

static void test_dlq_entry_prefers_event_id_header(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = typical_headers();
	rd_kafka_header_add(h, "event-id", -1, "from-header", -1);
	struct sc_dlq_message m = message("k", 1, payload, strlen(payload), h);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	assert_string_equal(e.event_id, "from-header");
	sc_dlq_entry_release(&e);
	rd_kafka_headers_destroy(h);
}

static void test_dlq_entry_without_headers_leaves_fields_absent(void **state)
{
	(void)state;
	struct sc_dlq_message m = message(NULL, 0, "{not json", 9, NULL);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	assert_null(e.key);
	assert_null(e.reason);
	assert_null(e.source_topic);
	assert_null(e.order_id);
	assert_int_equal(e.source_partition, -1);
	assert_int_equal(e.source_offset, -1);
	assert_int_equal(e.attempts, -1);
	/* no dlq-timestamp: the broker's message timestamp */
	assert_int_equal(e.timestamp_ms, 1600000000000LL);
	assert_string_equal(e.event_id, "");
	sc_dlq_entry_release(&e);
}

static void test_dlq_entry_ignores_malformed_numbers(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = rd_kafka_headers_new(4);
	rd_kafka_header_add(h, "dlq-source-partition", -1, "4x", -1);
	rd_kafka_header_add(h, "dlq-source-offset", -1, "-5", -1);
	rd_kafka_header_add(h, "dlq-attempts", -1, "99999999999999999999999", -1);
	rd_kafka_header_add(h, "dlq-timestamp", -1, "", -1);
	struct sc_dlq_message m = message("k", 1, "x", 1, h);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	assert_int_equal(e.source_partition, -1);
	assert_int_equal(e.source_offset, -1);
	assert_int_equal(e.attempts, -1);
	assert_int_equal(e.timestamp_ms, 1600000000000LL);
	sc_dlq_entry_release(&e);
	rd_kafka_headers_destroy(h);
}

/* ---- JSON ----------------------------------------------------------------- */

static void test_dlq_entry_json_has_every_field(void **state)
{
	(void)state;
	rd_kafka_headers_t *h = typical_headers();
	struct sc_dlq_message m = message("order-42", 8, payload, strlen(payload), h);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	e.redriven = true;
	json_t *j = sc_dlq_entry_json(&e);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "partition")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "offset")), 17);
	assert_string_equal(json_string_value(json_object_get(j, "key")), "order-42");
	assert_string_equal(json_string_value(json_object_get(j, "orderId")), "order-42");
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "unknown event type");
	assert_string_equal(json_string_value(json_object_get(j, "sourceTopic")), "order.events");
	assert_int_equal(json_integer_value(json_object_get(j, "sourcePartition")), 4);
	assert_int_equal(json_integer_value(json_object_get(j, "sourceOffset")), 1234);
	assert_int_equal(json_integer_value(json_object_get(j, "timestamp")), 1700000000123LL);
	assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 3);
	assert_true(json_is_true(json_object_get(j, "redriven")));
	assert_string_equal(json_string_value(json_object_get(j, "payload")), payload);
	json_decref(j);
	sc_dlq_entry_release(&e);
	rd_kafka_headers_destroy(h);
}

static void test_dlq_entry_json_replaces_invalid_utf8(void **state)
{
	(void)state;
	static const char bad[] = {'a', (char)0xFF, 'b', (char)0xC3}; /* stray, truncated */
	struct sc_dlq_message m = message(NULL, 0, bad, sizeof(bad), NULL);
	struct sc_dlq_entry e;

	assert_int_equal(sc_dlq_entry_init(&e, &m), 0);
	json_t *j = sc_dlq_entry_json(&e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "payload")), "a\xEF\xBF\xBD"
	                                                                      "b\xEF\xBF\xBD");
	assert_true(json_is_null(json_object_get(j, "key")));
	assert_true(json_is_null(json_object_get(j, "sourceOffset")));
	json_decref(j);
	sc_dlq_entry_release(&e);
}

/* ---- re-drive ------------------------------------------------------------- */

static void test_dlq_entry_redrivable_only_to_a_consumed_topic(void **state)
{
	(void)state;
	struct sc_dlq_entry e = {.source_topic = "order.events"};
	char why[200];

	assert_int_equal(
	        sc_dlq_entry_redrivable(&e, "order.events,inventory.commands", why, sizeof(why)),
	        0);
	assert_int_equal(
	        sc_dlq_entry_redrivable(&e, "inventory.commands, order.events", why, sizeof(why)),
	        0);
	assert_int_equal(
	        sc_dlq_entry_redrivable(&e, "order.event,payment.commands", why, sizeof(why)),
	        SVC_EPERMANENT);
	assert_non_null(strstr(why, "order.events"));
	e.source_topic = NULL;
	assert_int_equal(sc_dlq_entry_redrivable(&e, "order.events", why, sizeof(why)),
	                 SVC_EPERMANENT);
	assert_non_null(strstr(why, "dlq-source-topic"));
}

static void test_dlq_redrive_headers_name_origin_and_event(void **state)
{
	(void)state;
	struct sc_dlq_entry e = {.partition = 3, .offset = 99};
	char buf[128];

	snprintf(e.event_id, sizeof(e.event_id), "%s", "ev-1");
	rd_kafka_headers_t *h = sc_dlq_redrive_headers(&e, "inventory.dlq");
	assert_non_null(h);
	assert_string_equal(header(h, "dlq-redriven-from", buf, sizeof(buf)), "inventory.dlq/3/99");
	assert_string_equal(header(h, "event-id", buf, sizeof(buf)), "ev-1");
	rd_kafka_headers_destroy(h);

	e.event_id[0] = '\0';
	h = sc_dlq_redrive_headers(&e, "inventory.dlq");
	assert_non_null(h);
	assert_null(header(h, "event-id", buf, sizeof(buf)));
	rd_kafka_headers_destroy(h);
}

/* Dead-letters again, at `offset`, a message re-driven from `from` that
 * failed `attempts` more times: the headers a sidecar writes (dlq.h). */
static void dead_letter_again(const struct sc_dlq_entry *from, int64_t offset, unsigned attempts,
                              struct sc_dlq_entry *out)
{
	rd_kafka_headers_t *redriven = sc_dlq_redrive_headers(from, "inventory.dlq"), *h;
	struct sc_dlq_record r = {
	        .source_topic = "order.events",
	        .source_partition = 4,
	        .source_offset = 2000 + offset,
	        .key = "order-42",
	        .keylen = 8,
	        .reason = "unknown event type",
	        .attempts = attempts,
	};
	struct sc_dlq_message m;

	assert_non_null(redriven);
	sc_dlq_record_carry(&r, redriven);
	h = sc_dlq_headers(&r, "inventory", 1700000000999LL);
	assert_non_null(h);
	m = message("order-42", 8, payload, strlen(payload), h);
	m.offset = offset;
	assert_int_equal(sc_dlq_entry_init(out, &m), 0);
	rd_kafka_headers_destroy(h);
	rd_kafka_headers_destroy(redriven);
}

/* An entry re-driven twice and dead-lettered again each time is listed as
 * one entry: its newest copy, every round's attempts, two re-drives. */
static void test_dlq_redriven_entry_failing_again_stays_one_entry(void **state)
{
	(void)state;
	struct sc_dlq_entry v[4];
	rd_kafka_headers_t *h = typical_headers(); /* 3 attempts */
	struct sc_dlq_message m = message("order-42", 8, payload, strlen(payload), h);
	size_t n = 4;

	assert_int_equal(sc_dlq_entry_init(&v[0], &m), 0); /* inventory.dlq/2/17 */
	m.offset = 18;                                     /* another dead letter */
	assert_int_equal(sc_dlq_entry_init(&v[1], &m), 0);
	rd_kafka_headers_destroy(h);
	assert_string_equal(v[0].entry_id, "");
	dead_letter_again(&v[0], 19, 2, &v[2]);
	assert_string_equal(v[2].entry_id, "inventory.dlq/2/17");
	assert_int_equal(v[2].attempts, 5);
	assert_int_equal(v[2].redrives, 1);
	dead_letter_again(&v[2], 20, 4, &v[3]);
	assert_string_equal(v[3].entry_id, "inventory.dlq/2/17");
	assert_int_equal(v[3].attempts, 9);
	assert_int_equal(v[3].redrives, 2);

	assert_int_equal(sc_dlq_entries_fold(v, &n, "inventory.dlq", true), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].offset, 18);
	assert_string_equal(v[0].entry_id, "inventory.dlq/2/18");
	assert_int_equal(v[1].offset, 20);
	assert_int_equal(v[1].attempts, 9);
	json_t *j = sc_dlq_entry_json(&v[1]);
	assert_string_equal(json_string_value(json_object_get(j, "entryId")), "inventory.dlq/2/17");
	assert_int_equal(json_integer_value(json_object_get(j, "redrives")), 2);
	json_decref(j);
	for (size_t i = 0; i < n; i++)
		sc_dlq_entry_release(&v[i]);
}

/* ---- request validation --------------------------------------------------- */

static int parse(const char *body, struct sc_dlq_redrive_request *r, struct svc_problem *p)
{
	return sc_dlq_redrive_request_parse(body, strlen(body), r, p);
}

static void test_redrive_request_accepts_one_entry_or_all(void **state)
{
	(void)state;
	struct sc_dlq_redrive_request r;
	struct svc_problem p;

	assert_int_equal(parse("{\"partition\":5,\"offset\":12345678901}", &r, &p), 0);
	assert_false(r.all);
	assert_int_equal(r.partition, 5);
	assert_int_equal(r.offset, 12345678901LL);
	assert_int_equal(parse("{\"all\":true}", &r, &p), 0);
	assert_true(r.all);
	assert_int_equal(parse("{\"all\":false,\"partition\":0,\"offset\":0}", &r, &p), 0);
	assert_false(r.all);
}

static void test_redrive_request_rejects_malformed_bodies(void **state)
{
	(void)state;
	struct sc_dlq_redrive_request r;
	struct svc_problem p;

	assert_int_equal(parse("", &r, &p), SVC_EPERMANENT);
	assert_int_equal(p.status, 400);
	assert_int_equal(parse("[1]", &r, &p), SVC_EPERMANENT);
	assert_int_equal(p.status, 400);
	assert_int_equal(parse("{\"partition\":1}", &r, &p), SVC_EPERMANENT);
	assert_int_equal(p.status, 400);
	assert_string_equal(p.field, "offset");
	assert_int_equal(parse("{\"partition\":\"1\",\"offset\":2}", &r, &p), SVC_EPERMANENT);
	assert_string_equal(p.field, "partition");
	assert_int_equal(parse("{\"all\":\"yes\"}", &r, &p), SVC_EPERMANENT);
	assert_string_equal(p.field, "all");
	assert_int_equal(parse("{\"all\":true,\"offest\":1}", &r, &p), SVC_EPERMANENT);
	assert_string_equal(p.field, "offest");
	assert_int_equal(parse("{\"all\":true,\"all\":true}", &r, &p), SVC_EPERMANENT);
}

static void test_redrive_request_rejects_out_of_range_values(void **state)
{
	(void)state;
	struct sc_dlq_redrive_request r;
	struct svc_problem p;

	assert_int_equal(parse("{\"partition\":-1,\"offset\":0}", &r, &p), SVC_EPERMANENT);
	assert_int_equal(p.status, 422);
	assert_string_equal(p.field, "partition");
	assert_int_equal(parse("{\"partition\":2147483648,\"offset\":0}", &r, &p), SVC_EPERMANENT);
	assert_int_equal(p.status, 422);
	assert_int_equal(parse("{\"partition\":0,\"offset\":-3}", &r, &p), SVC_EPERMANENT);
	assert_string_equal(p.field, "offset");
	assert_int_equal(parse("{\"all\":true,\"partition\":0,\"offset\":1}", &r, &p),
	                 SVC_EPERMANENT);
	assert_int_equal(p.status, 422);
}

static void test_limit_defaults_and_bounds(void **state)
{
	(void)state;
	struct svc_problem p;
	long limit = 0;

	assert_int_equal(sc_dlq_limit_parse(NULL, &limit, &p), 0);
	assert_int_equal(limit, SC_DLQ_LIMIT_DEFAULT);
	assert_int_equal(sc_dlq_limit_parse("7", &limit, &p), 0);
	assert_int_equal(limit, 7);
	assert_int_equal(sc_dlq_limit_parse("10000", &limit, &p), 0);
	assert_int_equal(sc_dlq_limit_parse("0", &limit, &p), SVC_EPERMANENT);
	assert_int_equal(p.status, 400);
	assert_string_equal(p.field, "limit");
	assert_int_equal(sc_dlq_limit_parse("10001", &limit, &p), SVC_EPERMANENT);
	assert_int_equal(sc_dlq_limit_parse("", &limit, &p), SVC_EPERMANENT);
	assert_int_equal(sc_dlq_limit_parse("5x", &limit, &p), SVC_EPERMANENT);
	assert_int_equal(sc_dlq_limit_parse("99999999999999999999", &limit, &p), SVC_EPERMANENT);
}

/* ---- listing over the fake broker ---------------------------------------------- */

struct admin_fixture {
	struct fake_kafka *fk;
	struct sc_config cfg;
	struct sc_dlq_admin admin;
};

/* Dead-letters a message of `order` at `ts` into partition p; `entry` (may be
 * NULL) names the entry it is a re-driven copy of. */
static void dead_letter(struct admin_fixture *f, int32_t p, const char *order, int64_t ts,
                        const char *entry)
{
	struct sc_dlq_record r = {
	        .source_topic = "order.events",
	        .key = order,
	        .keylen = strlen(order),
	        .reason = "rejected",
	        .attempts = 1,
	        .entry_id = entry,
	        .entry_id_len = entry ? strlen(entry) : 0,
	        .redrives = entry ? 1 : 0,
	};
	fake_kafka_append(f->fk, "test.dlq", p, order, "{}", sc_dlq_headers(&r, "test", ts), ts);
}

static int admin_teardown(void **state)
{
	struct admin_fixture *f = *state;

	fake_kafka_free(f->fk);
	free(f);
	return 0;
}

static int admin_setup(void **state)
{
	struct admin_fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f)
		return -1;
	if (!(f->fk = fake_kafka_new()))
		goto fail;
	fake_kafka_sidecar_config(f->fk, &f->cfg);
	f->cfg.subscribe = "order.events";
	sc_dlq_admin_init(&f->admin, &f->cfg, NULL, NULL);
	fake_kafka_topic(f->fk, "test.dlq", 2);
	return 0;

fail:
	admin_teardown(state);
	return -1;
}

/* The i-th entry's `field` of a listing, as an integer or string. */
static json_int_t entry_int(json_t *doc, size_t i, const char *field)
{
	return json_integer_value(
	        json_object_get(json_array_get(json_object_get(doc, "entries"), i), field));
}

static const char *entry_str(json_t *doc, size_t i, const char *field)
{
	return json_string_value(
	        json_object_get(json_array_get(json_object_get(doc, "entries"), i), field));
}

static void test_dlq_admin_list_keeps_the_newest_entries_oldest_first(void **state)
{
	struct admin_fixture *f = *state;
	struct svc_problem p = {0};
	json_t *doc = NULL;

	dead_letter(f, 0, "o-1", 100, NULL);
	dead_letter(f, 0, "o-3", 300, NULL);
	dead_letter(f, 1, "o-2", 200, NULL);
	assert_int_equal(sc_dlq_admin_list(&f->admin, 2, false, &doc, &p), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 2);
	assert_string_equal(json_string_value(json_object_get(doc, "topic")), "test.dlq");
	assert_string_equal(entry_str(doc, 0, "orderId"), "o-2");
	assert_string_equal(entry_str(doc, 1, "orderId"), "o-3");
	assert_int_equal(entry_int(doc, 1, "partition"), 0);
	assert_int_equal(entry_int(doc, 1, "offset"), 1);
	json_decref(doc);
}

static void test_dlq_admin_list_folds_redriven_copies_unless_asked(void **state)
{
	struct admin_fixture *f = *state;
	struct svc_problem p = {0};
	json_t *doc = NULL;

	dead_letter(f, 0, "o-1", 100, NULL);
	dead_letter(f, 1, "o-1", 200, "test.dlq/0/0"); /* re-driven, failed again */
	assert_int_equal(sc_dlq_admin_list(&f->admin, 10, false, &doc, &p), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 1);
	assert_string_equal(entry_str(doc, 0, "entryId"), "test.dlq/0/0");
	assert_int_equal(entry_int(doc, 0, "partition"), 1); /* the newest copy */
	assert_int_equal(entry_int(doc, 0, "redrives"), 1);
	json_decref(doc);
	assert_int_equal(sc_dlq_admin_list(&f->admin, 10, true, &doc, &p), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 2);
	json_decref(doc);
}

static void test_dlq_admin_list_of_an_empty_dlq_is_empty(void **state)
{
	struct admin_fixture *f = *state;
	struct svc_problem p = {0};
	json_t *doc = NULL;

	assert_int_equal(sc_dlq_admin_list(&f->admin, 10, false, &doc, &p), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "entries")), 0);
	json_decref(doc);
}

static void test_dlq_admin_list_answers_404_and_503(void **state)
{
	struct admin_fixture *f = *state;
	struct svc_problem p = {0};
	json_t *doc = NULL;

	snprintf(f->cfg.dlq_topic, sizeof(f->cfg.dlq_topic), "missing.dlq");
	assert_int_equal(sc_dlq_admin_list(&f->admin, 10, false, &doc, &p), SVC_ENOTFOUND);
	assert_int_equal(p.status, 404);
	assert_null(doc);
	snprintf(f->cfg.dlq_topic, sizeof(f->cfg.dlq_topic), "test.dlq");
	fake_kafka_fail(f->fk, "metadata", RD_KAFKA_RESP_ERR__TRANSPORT, 1);
	assert_int_equal(sc_dlq_admin_list(&f->admin, 10, false, &doc, &p), SVC_ETRANSIENT);
	assert_int_equal(p.status, 503);
	assert_null(doc);
}

static void test_dlq_admin_redrive_needs_the_service_database(void **state)
{
	struct admin_fixture *f = *state;
	struct sc_dlq_redrive_request req = {.all = true};
	struct svc_problem p = {0};
	json_t *doc = NULL;

	dead_letter(f, 0, "o-1", 100, NULL);
	assert_int_equal(sc_dlq_admin_redrive(&f->admin, &req, &doc, &p), SVC_ECONFLICT);
	assert_int_equal(p.status, 409);
	assert_null(doc);
	assert_int_equal(fake_kafka_calls(f->fk, "new_client"), 0); /* Kafka not even asked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dlq_entry_reads_the_provenance_headers),
	        cmocka_unit_test(test_dlq_entry_takes_event_id_from_payload_without_header),
	        cmocka_unit_test(test_dlq_entry_prefers_event_id_header),
	        cmocka_unit_test(test_dlq_entry_without_headers_leaves_fields_absent),
	        cmocka_unit_test(test_dlq_entry_ignores_malformed_numbers),
	        cmocka_unit_test(test_dlq_entry_json_has_every_field),
	        cmocka_unit_test(test_dlq_entry_json_replaces_invalid_utf8),
	        cmocka_unit_test(test_dlq_entry_redrivable_only_to_a_consumed_topic),
	        cmocka_unit_test(test_dlq_redrive_headers_name_origin_and_event),
	        cmocka_unit_test(test_redrive_request_accepts_one_entry_or_all),
	        cmocka_unit_test(test_redrive_request_rejects_malformed_bodies),
	        cmocka_unit_test(test_redrive_request_rejects_out_of_range_values),
	        cmocka_unit_test(test_limit_defaults_and_bounds),
	        cmocka_unit_test(test_dlq_redriven_entry_failing_again_stays_one_entry),
	        cmocka_unit_test_setup_teardown(
	                test_dlq_admin_list_keeps_the_newest_entries_oldest_first, admin_setup,
	                admin_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_dlq_admin_list_folds_redriven_copies_unless_asked, admin_setup,
	                admin_teardown),
	        cmocka_unit_test_setup_teardown(test_dlq_admin_list_of_an_empty_dlq_is_empty,
	                                        admin_setup, admin_teardown),
	        cmocka_unit_test_setup_teardown(test_dlq_admin_list_answers_404_and_503,
	                                        admin_setup, admin_teardown),
	        cmocka_unit_test_setup_teardown(test_dlq_admin_redrive_needs_the_service_database,
	                                        admin_setup, admin_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
