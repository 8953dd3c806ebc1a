/*
 * The event envelope codec (svc/event.h) and the ids and clock it uses.
 *
 * Decoding treats its input as hostile: it comes from Kafka, possibly from a
 * buggy or foreign producer. Every field is checked for presence, type and
 * length, and the reason names the field so a dead-lettered message says what
 * was wrong with it.
 */
#include "svc/event.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "svc/error.h"
#include "svc/json.h"

/* ------------------------------------------------------------------ */
/* reasons                                                             */

/* Writes a reason into err, replacing bytes that are not printable ASCII so
 * that text echoed from the input cannot corrupt logs or Kafka headers. */
static void set_reason(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_reason(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

/* ------------------------------------------------------------------ */
/* field access                                                        */

/* Envelope strings (ids, type, source, version) are printable ASCII tokens. */
static bool is_token(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/*
 * Copies string member `key` of `obj` into out[outlen]. `path` is the field
 * name used in reasons ("metadata.source"). An optional member may be
 * absent or null (out becomes ""); a required one must be a non-empty token.
 */
static int get_token(json_t *obj, const char *key, const char *path, bool required, char *out,
                     size_t outlen, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	size_t len;

	out[0] = '\0';
	if (!v || (!required && json_is_null(v))) {
		if (!required)
			return 0;
		set_reason(err, errlen, "%s: missing", path);
		return SVC_EPERMANENT;
	}
	if (!json_is_string(v)) {
		set_reason(err, errlen, "%s: not a string", path);
		return SVC_EPERMANENT;
	}
	len = json_string_length(v);
	if (len == 0) {
		if (!required)
			return 0;
		set_reason(err, errlen, "%s: empty", path);
		return SVC_EPERMANENT;
	}
	if (len >= outlen) {
		set_reason(err, errlen, "%s: longer than %zu bytes", path, outlen - 1);
		return SVC_EPERMANENT;
	}
	if (!is_token(json_string_value(v), len)) {
		set_reason(err, errlen, "%s: invalid characters", path);
		return SVC_EPERMANENT;
	}
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return 0;
}

/* Copies `s` into out[outlen]; SVC_ERANGE when it does not fit. */
static int copy_field(char *out, size_t outlen, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= outlen)
		return SVC_ERANGE;
	if (len)
		memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* envelope                                                            */

int svc_event_init(struct svc_event *ev, const char *type, const char *correlation_id,
                   const char *source, const char *causation_id, json_t *data)
{
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (!data) {
		rc = SVC_ENOMEM; /* the caller's json_object()/json_pack() failed */
		goto out;
	}
	if (!json_is_object(data) || !type || !*type || !correlation_id || !*correlation_id ||
	    !source || !*source) {
		rc = SVC_EPERMANENT;
		goto release_data;
	}
	rc = copy_field(ev->type, sizeof(ev->type), type);
	if (!rc)
		rc = copy_field(ev->correlation_id, sizeof(ev->correlation_id), correlation_id);
	if (!rc)
		rc = copy_field(ev->source, sizeof(ev->source), source);
	if (!rc)
		rc = copy_field(ev->causation_id, sizeof(ev->causation_id), causation_id);
	if (rc)
		goto release_data;
	svc_uuid7(ev->id);
	copy_field(ev->version, sizeof(ev->version), SVC_EVENT_VERSION);
	ev->timestamp_ms = svc_now_ms();
	ev->data = data;
	return 0;

release_data:
	json_decref(data);
	memset(ev, 0, sizeof(*ev));
out:
	return rc;
}

/* Decodes the metadata object into ev. */
static int decode_metadata(json_t *root, struct svc_event *ev, char *err, size_t errlen)
{
	json_t *md = json_object_get(root, "metadata");
	int rc;

	if (!md) {
		set_reason(err, errlen, "metadata: missing");
		return SVC_EPERMANENT;
	}
	if (!json_is_object(md)) {
		set_reason(err, errlen, "metadata: not an object");
		return SVC_EPERMANENT;
	}
	rc = get_token(md, "correlationId", "metadata.correlationId", true, ev->correlation_id,
	               sizeof(ev->correlation_id), err, errlen);
	if (!rc)
		rc = get_token(md, "version", "metadata.version", true, ev->version,
		               sizeof(ev->version), err, errlen);
	if (!rc && strcmp(ev->version, SVC_EVENT_VERSION) != 0) {
		set_reason(err, errlen, "metadata.version: unsupported version \"%s\"",
		           ev->version);
		rc = SVC_EPERMANENT;
	}
	if (!rc)
		rc = get_token(md, "source", "metadata.source", true, ev->source,
		               sizeof(ev->source), err, errlen);
	if (!rc)
		rc = get_token(md, "causationId", "metadata.causationId", false, ev->causation_id,
		               sizeof(ev->causation_id), err, errlen);
	if (!rc && ev->causation_id[0] && !svc_uuid_valid(ev->causation_id)) {
		set_reason(err, errlen, "metadata.causationId: not a UUID");
		rc = SVC_EPERMANENT;
	}
	return rc;
}

/* Decodes everything but the metadata from the parsed root into ev. */
static int decode_root(json_t *root, struct svc_event *ev, char *err, size_t errlen)
{
	json_t *ts, *data;
	int rc;

	rc = get_token(root, "eventId", "eventId", true, ev->id, sizeof(ev->id), err, errlen);
	if (rc)
		return rc;
	if (!svc_uuid_valid(ev->id)) {
		set_reason(err, errlen, "eventId: not a UUID");
		return SVC_EPERMANENT;
	}
	rc = get_token(root, "type", "type", true, ev->type, sizeof(ev->type), err, errlen);
	if (rc)
		return rc;

	ts = json_object_get(root, "timestamp");
	if (!ts) {
		set_reason(err, errlen, "timestamp: missing");
		return SVC_EPERMANENT;
	}
	if (!json_is_integer(ts)) {
		set_reason(err, errlen, "timestamp: not an integer");
		return SVC_EPERMANENT;
	}
	if (json_integer_value(ts) < 0) {
		set_reason(err, errlen, "timestamp: negative");
		return SVC_EPERMANENT;
	}
	ev->timestamp_ms = json_integer_value(ts);

	data = json_object_get(root, "data");
	if (!data) {
		set_reason(err, errlen, "data: missing");
		return SVC_EPERMANENT;
	}
	if (!json_is_object(data)) {
		set_reason(err, errlen, "data: not an object");
		return SVC_EPERMANENT;
	}
	rc = decode_metadata(root, ev, err, errlen);
	if (rc)
		return rc;
	ev->data = json_incref(data);
	return 0;
}

int svc_event_decode_json(json_t *root, struct svc_event *ev, char *err, size_t errlen)
{
	int rc = SVC_EPERMANENT;

	memset(ev, 0, sizeof(*ev));
	if (err && errlen)
		err[0] = '\0';
	if (!json_is_object(root))
		set_reason(err, errlen, "event: not a JSON object");
	else
		rc = decode_root(root, ev, err, errlen);
	if (rc) {
		json_decref(ev->data);
		memset(ev, 0, sizeof(*ev));
	}
	return rc;
}

int svc_event_decode(const char *json, size_t len, struct svc_event *ev, char *err, size_t errlen)
{
	json_t *root = NULL;
	json_error_t jerr;
	int rc = SVC_EPERMANENT;

	memset(ev, 0, sizeof(*ev));
	if (!json || len == 0) {
		set_reason(err, errlen, "event: empty");
		goto out;
	}
	if (len > SVC_EVENT_MAX_BYTES) {
		set_reason(err, errlen, "event: larger than %d bytes", SVC_EVENT_MAX_BYTES);
		goto out;
	}
	/* No JSON_ALLOW_NUL: "\u0000" inside a string is a parse error, so
	 * every string we hand out is a proper C string. Nesting depth is
	 * bounded as jansson bounds it (JSON_PARSER_MAX_DEPTH). */
	root = svc_json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		set_reason(err, errlen, "event: invalid JSON at position %d: %s", jerr.position,
		           jerr.text);
		goto out;
	}
	rc = svc_event_decode_json(root, ev, err, errlen);
	json_decref(root);
out:
	return rc;
}

char *svc_event_encode(const struct svc_event *ev)
{
	json_t *root = NULL, *md = NULL;
	char *out = NULL;
	int bad = 0;

	root = json_object();
	md = json_object();
	if (!root || !md)
		goto free_json;
	bad |= json_object_set_new(md, "correlationId", json_string(ev->correlation_id));
	bad |= json_object_set_new(md, "version", json_string(ev->version));
	bad |= json_object_set_new(md, "source", json_string(ev->source));
	if (ev->causation_id[0])
		bad |= json_object_set_new(md, "causationId", json_string(ev->causation_id));

	bad |= json_object_set_new(root, "eventId", json_string(ev->id));
	bad |= json_object_set_new(root, "type", json_string(ev->type));
	bad |= json_object_set_new(root, "timestamp", json_integer(ev->timestamp_ms));
	/* A released event has no data; encode it as {} rather than fail. */
	bad |= json_object_set_new(root, "data", ev->data ? json_incref(ev->data) : json_object());
	bad |= json_object_set(root, "metadata", md);
	if (bad)
		goto free_json;
	out = json_dumps(root, JSON_COMPACT);

free_json:
	json_decref(md);
	json_decref(root);
	return out;
}

void svc_event_release(struct svc_event *ev)
{
	if (!ev)
		return;
	json_decref(ev->data);
	ev->data = NULL;
}

/* ------------------------------------------------------------------ */
/* typed access to data                                                */

/* Member `field` of ev->data, or NULL with the "missing" reason. */
static json_t *data_get(const struct svc_event *ev, const char *field, char *err, size_t errlen)
{
	json_t *v = ev->data ? json_object_get(ev->data, field) : NULL;

	if (!v)
		set_reason(err, errlen, "data.%s: missing", field);
	return v;
}

int svc_event_str(const struct svc_event *ev, const char *field, const char **out, char *err,
                  size_t errlen)
{
	json_t *v = data_get(ev, field, err, errlen);

	if (!v)
		return SVC_EPERMANENT;
	if (!json_is_string(v)) {
		set_reason(err, errlen, "data.%s: not a string", field);
		return SVC_EPERMANENT;
	}
	*out = json_string_value(v);
	return 0;
}

int svc_event_int(const struct svc_event *ev, const char *field, int64_t *out, char *err,
                  size_t errlen)
{
	json_t *v = data_get(ev, field, err, errlen);

	if (!v)
		return SVC_EPERMANENT;
	if (!json_is_integer(v)) {
		set_reason(err, errlen, "data.%s: not an integer", field);
		return SVC_EPERMANENT;
	}
	*out = json_integer_value(v);
	return 0;
}

/* ------------------------------------------------------------------ */
/* ids and time                                                        */

int64_t svc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills buf with random bytes from getrandom(); should the kernel refuse
 * (it does not after boot), falls back to a clock-seeded mix so an id is
 * still produced: ids must never make a caller fail. */
static void random_bytes(unsigned char *buf, size_t len)
{
	static _Atomic unsigned long long fallback_seq;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == len)
		return;
	for (size_t i = got; i < len; i++) {
		struct timespec ts;
		unsigned long long x;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32) ^
		    (++fallback_seq * 0x9e3779b97f4a7c15ULL);
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		x ^= x >> 27;
		buf[i] = (unsigned char)x;
	}
}

/*
 * The random part of the ids, drawn from the kernel a block at a time: one
 * getrandom() per 16 ids of a thread instead of one per id (the order
 * service made 1.6-5 of those calls per order). Each thread draws its own
 * block, so no lock; a forked child drops the block it inherited, so it
 * cannot repeat its parent's ids.
 */
#define ID_RANDOM_BLOCK 256

static _Thread_local unsigned char id_block[ID_RANDOM_BLOCK];
static _Thread_local size_t id_block_used = ID_RANDOM_BLOCK;
static pthread_once_t id_fork_once = PTHREAD_ONCE_INIT;

static void id_block_drop(void)
{
	id_block_used = ID_RANDOM_BLOCK;
}

static void id_fork_handler(void)
{
	(void)pthread_atfork(NULL, NULL, id_block_drop);
}

/* `len` (at most ID_RANDOM_BLOCK) random bytes, each used once. */
static void id_random(unsigned char *buf, size_t len)
{
	pthread_once(&id_fork_once, id_fork_handler);
	if (ID_RANDOM_BLOCK - id_block_used < len) {
		random_bytes(id_block, ID_RANDOM_BLOCK);
		id_block_used = 0;
	}
	memcpy(buf, id_block + id_block_used, len);
	memset(id_block + id_block_used, 0, len);
	id_block_used += len;
}

/*
 * Monotonic state (RFC 9562 section 6.2, method 1): the 12 rand_a bits are a
 * counter within one millisecond, started at a random value below 2048 so it
 * has room to grow; when it runs out, the timestamp moves one ms ahead. Ids
 * made by this process therefore sort strictly in creation order, even when
 * the wall clock steps back.
 */
static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid_last_ms;
static unsigned uuid_counter;

void svc_uuid7(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	int64_t ms = svc_now_ms();
	unsigned counter;
	size_t o = 0;

	id_random(b, sizeof(b));
	pthread_mutex_lock(&uuid_lock);
	if (ms > uuid_last_ms) {
		uuid_last_ms = ms;
		uuid_counter = ((unsigned)b[6] << 8 | b[7]) & 0x7ff;
	} else if (++uuid_counter > 0xfff) {
		uuid_last_ms++;
		uuid_counter = ((unsigned)b[6] << 8 | b[7]) & 0x7ff;
	}
	ms = uuid_last_ms;
	counter = uuid_counter;
	pthread_mutex_unlock(&uuid_lock);

	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)((uint64_t)ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (counter >> 8)); /* version 7 */
	b[7] = (unsigned char)counter;
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 10 */

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
}

int svc_uuid_valid(const char *s)
{
	if (!s)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F'))) {
			return 0; /* also stops at a NUL before 36 chars */
		}
	}
	return s[36] == '\0';
}
