/* DLQ entries: provenance headers in, JSON and re-drive headers out; admin input checks. */
#include "resilience/sidecar/dlq_entry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"
#include "svc/utf8.h"

/* ---- reading headers ------------------------------------------------------ */

/* The last value of header `name`, or NULL (with *size 0) when absent. */
static const void *header(const rd_kafka_headers_t *h, const char *name, size_t *size)
{
	const void *value = NULL;

	*size = 0;
	if (!h || rd_kafka_header_get_last(h, name, &value, size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (!value)
		*size = 0;
	return value ? value : "";
}

/* Header `name` as a new NUL-terminated string; NULL when absent. *oom is
 * set when it was present but could not be copied. */
static char *header_dup(const rd_kafka_headers_t *h, const char *name, bool *oom)
{
	size_t size;
	const void *value = header(h, name, &size);
	char *s;

	if (!value)
		return NULL;
	s = malloc(size + 1);
	if (!s) {
		*oom = true;
		return NULL;
	}
	memcpy(s, value, size);
	s[size] = '\0';
	return s;
}

/* Header `name` as a decimal integer in [min, max]; -1 when absent or not one. */
static int64_t header_i64(const rd_kafka_headers_t *h, const char *name, int64_t min, int64_t max)
{
	size_t size;
	const void *value = header(h, name, &size);
	char buf[32], *end = NULL;
	long long v;

	if (!value || size == 0 || size >= sizeof(buf))
		return -1;
	memcpy(buf, value, size);
	buf[size] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return (int64_t)v;
}

/* A copy of `len` bytes (NULL stays NULL). false on OOM. */
static bool copy_bytes(void **dst, const void *src, size_t len)
{
	*dst = NULL;
	if (!src)
		return true;
	*dst = malloc(len ? len : 1);
	if (!*dst)
		return false;
	if (len)
		memcpy(*dst, src, len);
	return true;
}

/* The event id: header event-id, else the payload's top-level "eventId". */
static void find_event_id(struct sc_dlq_entry *e, const rd_kafka_headers_t *h)
{
	size_t size;
	const void *value = header(h, "event-id", &size);
	json_t *root = NULL;

	e->event_id[0] = '\0';
	if (value && size > 0 && size < sizeof(e->event_id)) {
		memcpy(e->event_id, value, size);
		e->event_id[size] = '\0';
		return;
	}
	if (!e->payload || e->len == 0)
		return;
	root = json_loadb(e->payload, e->len, 0, NULL);
	const char *id = json_string_value(json_object_get(root, "eventId"));
	if (id && strlen(id) < sizeof(e->event_id))
		snprintf(e->event_id, sizeof(e->event_id), "%s", id);
	json_decref(root);
}

int sc_dlq_entry_init(struct sc_dlq_entry *e, const struct sc_dlq_message *m)
{
	const rd_kafka_headers_t *h = m->hdrs;
	bool oom = false;

	memset(e, 0, sizeof(*e));
	e->partition = m->partition;
	e->offset = m->offset;
	if (!copy_bytes(&e->key, m->key, m->keylen) || !copy_bytes(&e->payload, m->payload, m->len))
		goto oom;
	e->keylen = m->key ? m->keylen : 0;
	e->len = m->payload ? m->len : 0;
	e->order_id = header_dup(h, "order-id", &oom);
	e->reason = header_dup(h, "dlq-reason", &oom);
	e->source_topic = header_dup(h, "dlq-source-topic", &oom);
	if (oom)
		goto oom;
	e->source_partition = (int32_t)header_i64(h, "dlq-source-partition", 0, INT32_MAX);
	e->source_offset = header_i64(h, "dlq-source-offset", 0, INT64_MAX);
	e->timestamp_ms = header_i64(h, "dlq-timestamp", 0, INT64_MAX);
	if (e->timestamp_ms < 0)
		e->timestamp_ms = m->timestamp_ms >= 0 ? m->timestamp_ms : -1;
	e->attempts = header_i64(h, "dlq-attempts", 0, INT64_MAX);
	find_event_id(e, h);
	size_t size;
	const void *root = header(h, "dlq-entry", &size);
	if (root && size > 0 && size < sizeof(e->entry_id) && !memchr(root, '\0', size)) {
		memcpy(e->entry_id, root, size);
		e->entry_id[size] = '\0';
		e->redrives = header_i64(h, "dlq-redrives", 0, INT64_MAX / 2);
		if (e->redrives < 0)
			e->redrives = 0;
	}
	return 0;
oom:
	sc_dlq_entry_release(e);
	return SVC_ENOMEM;
}

void sc_dlq_entry_release(struct sc_dlq_entry *e)
{
	free(e->key);
	free(e->payload);
	free(e->order_id);
	free(e->reason);
	free(e->source_topic);
	memset(e, 0, sizeof(*e));
}

/* ---- folding re-driven copies ---------------------------------------------- */

/* Entries by entry id, then by position in the array: a copy after its elders. */
static int by_entry_id(const void *a, const void *b)
{
	const struct sc_dlq_entry *x = *(struct sc_dlq_entry *const *)a;
	const struct sc_dlq_entry *y = *(struct sc_dlq_entry *const *)b;
	int c = strcmp(x->entry_id, y->entry_id);

	return c ? c : (x > y) - (x < y);
}

int sc_dlq_entries_fold(struct sc_dlq_entry *v, size_t *n, const char *dlq_topic, bool fold)
{
	struct sc_dlq_entry **sorted = NULL;
	size_t kept = 0;

	for (size_t i = 0; i < *n; i++)
		if (!v[i].entry_id[0])
			snprintf(v[i].entry_id, sizeof(v[i].entry_id), "%s/%" PRId32 "/%" PRId64,
			         dlq_topic, v[i].partition, v[i].offset);
	if (!fold || *n < 2)
		return 0;
	sorted = malloc(*n * sizeof(*sorted));
	if (!sorted)
		return SVC_ENOMEM;
	for (size_t i = 0; i < *n; i++)
		sorted[i] = &v[i];
	qsort(sorted, *n, sizeof(*sorted), by_entry_id);
	for (size_t i = 0; i + 1 < *n; i++)
		if (strcmp(sorted[i]->entry_id, sorted[i + 1]->entry_id) == 0) {
			sc_dlq_entry_release(sorted[i]); /* superseded by a newer copy */
			sorted[i]->partition = -1;
		}
	free(sorted);
	for (size_t i = 0; i < *n; i++)
		if (v[i].partition >= 0)
			v[kept++] = v[i];
	*n = kept;
	return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

/* Bytes as a JSON string, invalid UTF-8 replaced by U+FFFD; null for NULL. */
static json_t *text_json(const void *data, size_t len)
{
	static const char replacement[] = "\xEF\xBF\xBD";
	const unsigned char *s = data;
	char *clean = NULL;
	size_t n = 0;
	json_t *j;

	if (!data)
		return json_null();
	j = json_stringn(data, len);
	if (j)
		return j;
	/* Not UTF-8 (or OOM): every byte becomes at most 3. */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	clean = malloc(len * 3 + 1);
	if (!clean)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k = svc_utf8_seq_len(s + i, len - i);
		if (k == 0) {
			memcpy(clean + n, replacement, 3);
			n += 3;
			i++;
		} else {
			memcpy(clean + n, s + i, k);
			n += k;
			i += k;
		}
	}
	j = json_stringn(clean, n);
	free(clean);
	return j;
}

/* A non-negative number, or null for -1 (absent). */
static json_t *opt_int(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

json_t *sc_dlq_entry_json(const struct sc_dlq_entry *e)
{
	return json_pack("{s:i, s:I, s:o, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:s?, s:b, s:s?, "
	                 "s:I, s:o}",
	                 "partition", (int)e->partition, "offset", (json_int_t)e->offset, "key",
	                 text_json(e->key, e->keylen), "orderId", e->order_id, "reason", e->reason,
	                 "sourceTopic", e->source_topic, "sourcePartition",
	                 opt_int(e->source_partition), "sourceOffset", opt_int(e->source_offset),
	                 "timestamp", opt_int(e->timestamp_ms), "attempts", opt_int(e->attempts),
	                 "eventId", e->event_id[0] ? e->event_id : NULL, "redriven", e->redriven,
	                 "entryId", e->entry_id[0] ? e->entry_id : NULL, "redrives",
	                 (json_int_t)e->redrives, "payload", text_json(e->payload, e->len));
}

/* ---- re-drive ------------------------------------------------------------- */

/* True when `topic` is one of the comma/space-separated `list`. */
static bool topic_listed(const char *list, const char *topic)
{
	size_t tlen = strlen(topic);

	for (const char *p = list ? list : ""; *p;) {
		p += strspn(p, ", ");
		size_t n = strcspn(p, ", ");
		if (n > 0 && n == tlen && memcmp(p, topic, n) == 0)
			return true;
		p += n;
	}
	return false;
}

int sc_dlq_entry_redrivable(const struct sc_dlq_entry *e, const char *subscribe, char *why,
                            size_t whylen)
{
	if (!e->source_topic || e->source_topic[0] == '\0') {
		snprintf(why, whylen, "the entry has no dlq-source-topic header");
		return SVC_EPERMANENT;
	}
	if (!topic_listed(subscribe, e->source_topic)) {
		snprintf(why, whylen, "source topic %.100s is not one this sidecar consumes",
		         e->source_topic);
		return SVC_EPERMANENT;
	}
	return 0;
}

rd_kafka_headers_t *sc_dlq_redrive_headers(const struct sc_dlq_entry *e, const char *dlq_topic)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(5);
	char from[SC_DLQ_ENTRY_ID_MAX], redrives[24], before[24];

	if (!h)
		return NULL;
	snprintf(from, sizeof(from), "%s/%" PRId32 "/%" PRId64, dlq_topic, e->partition, e->offset);
	snprintf(redrives, sizeof(redrives), "%" PRId64, e->redrives + 1);
	snprintf(before, sizeof(before), "%" PRId64, e->attempts > 0 ? e->attempts : 0);
	if (rd_kafka_header_add(h, "dlq-redriven-from", -1, from, -1) ||
	    (e->event_id[0] && rd_kafka_header_add(h, "event-id", -1, e->event_id, -1)) ||
	    rd_kafka_header_add(h, "dlq-entry", -1, e->entry_id[0] ? e->entry_id : from, -1) ||
	    rd_kafka_header_add(h, "dlq-redrives", -1, redrives, -1) ||
	    rd_kafka_header_add(h, "dlq-attempts-before", -1, before, -1)) {
		rd_kafka_headers_destroy(h);
		return NULL;
	}
	return h;
}

/* ---- admin input ---------------------------------------------------------- */

int sc_dlq_redrive_request_parse(const char *body, size_t len, struct sc_dlq_redrive_request *out,
                                 struct svc_problem *p)
{
	json_t *root = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, NULL);
	json_t *all, *part, *off;
	const char *name;
	json_t *value;
	int rc = SVC_EPERMANENT;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root)) {
		svc_problem_set(p, 400, NULL,
		                "body must be a JSON object: {\"all\":true} or "
		                "{\"partition\":p,\"offset\":o}");
		goto out;
	}
	json_object_foreach(root, name, value)
	{
		if (strcmp(name, "all") != 0 && strcmp(name, "partition") != 0 &&
		    strcmp(name, "offset") != 0) {
			svc_problem_set(p, 400, name, "unknown field %.60s", name);
			goto out;
		}
	}
	all = json_object_get(root, "all");
	part = json_object_get(root, "partition");
	off = json_object_get(root, "offset");
	if (all && !json_is_boolean(all)) {
		svc_problem_set(p, 400, "all", "all must be a boolean");
		goto out;
	}
	if (json_is_true(all)) {
		if (part || off) {
			svc_problem_set(p, 422, part ? "partition" : "offset",
			                "give either all or partition and offset, not both");
			goto out;
		}
		out->all = true;
		rc = 0;
		goto out;
	}
	if (!json_is_integer(part) || !json_is_integer(off)) {
		name = !json_is_integer(part) ? "partition" : "offset";
		svc_problem_set(p, 400, name, "%s must be an integer (or give \"all\": true)",
		                name);
		goto out;
	}
	if (json_integer_value(part) < 0 || json_integer_value(part) > INT32_MAX) {
		svc_problem_set(p, 422, "partition", "partition must be in 0..%d", INT32_MAX);
		goto out;
	}
	if (json_integer_value(off) < 0) {
		svc_problem_set(p, 422, "offset", "offset must be >= 0");
		goto out;
	}
	out->partition = (int32_t)json_integer_value(part);
	out->offset = (int64_t)json_integer_value(off);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int sc_dlq_limit_parse(const char *s, long *out, struct svc_problem *p)
{
	char *end = NULL;
	long v;

	*out = SC_DLQ_LIMIT_DEFAULT;
	if (!s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || errno != 0 || *end != '\0' || v < 1 || v > SC_DLQ_LIMIT_MAX)
		return svc_problem_set(p, 400, "limit", "limit must be an integer in 1..%d",
		                       SC_DLQ_LIMIT_MAX);
	*out = v;
	return 0;
}
