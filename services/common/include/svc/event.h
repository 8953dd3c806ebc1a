/*
 * The event envelope and its codec (pure: no I/O).
 *
 *   {"eventId": "<uuid>", "type": "OrderCreatedEvent", "timestamp": <ms>,
 *    "data": {...},
 *    "metadata": {"correlationId": "<orderId>", "version": "1",
 *                 "source": "order-service", "causationId": "<eventId>"?}}
 *
 * Decoding is strict: a missing or mistyped field, an unknown envelope
 * version or a non-object data is a permanent error with a reason that names
 * the field.
 */
#ifndef SVC_EVENT_H
#define SVC_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SVC_EVENT_VERSION   "1"
#define SVC_EVENT_MAX_BYTES (1024 * 1024)

struct svc_event {
	char id[40];             /* eventId: UUID, 36 chars */
	char type[64];           /* e.g. "OrderCreatedEvent" */
	char version[16];        /* metadata.version */
	char correlation_id[64]; /* metadata.correlationId: the orderId */
	char source[64];         /* metadata.source: "order-service" */
	char causation_id[40];   /* metadata.causationId: event that caused it, "" if none */
	int64_t timestamp_ms;    /* epoch milliseconds */
	json_t *data;            /* owned object */
};

/*
 * Fills `ev` with a new event: fresh UUIDv7 id, timestamp now, version 1.
 * Steals the reference to `data` (must be an object). `causation_id` may be
 * NULL. Strings longer than the fields give SVC_ERANGE; an empty type,
 * correlation id or source, or a non-object `data`, SVC_EPERMANENT; a NULL
 * `data` SVC_ENOMEM (so a failed json_pack passes straight through). On
 * failure `data` is released too.
 */
int svc_event_init(struct svc_event *ev, const char *type, const char *correlation_id,
                   const char *source, const char *causation_id, json_t *data);
/* Parses `len` bytes of JSON. 0, or SVC_EPERMANENT with a reason in err. */
int svc_event_decode(const char *json, size_t len, struct svc_event *ev, char *err, size_t errlen);
/* The same from an already parsed value (must be an object to decode):
 * ev->data then holds a new reference to its "data" member (root is not
 * changed). The caller checks the text's size and duplicate keys. */
int svc_event_decode_json(json_t *root, struct svc_event *ev, char *err, size_t errlen);
/* Compact JSON of the envelope, malloc'd (caller frees); NULL on OOM. */
char *svc_event_encode(const struct svc_event *ev);
/* Drops the data reference. Accepts a zeroed or released event. */
void svc_event_release(struct svc_event *ev);

/* Typed access to ev->data with the same strictness as decoding: SVC_EPERMANENT
 * and a reason naming the field when missing or mistyped. */
int svc_event_str(const struct svc_event *ev, const char *field, const char **out, char *err,
                  size_t errlen);
int svc_event_int(const struct svc_event *ev, const char *field, int64_t *out, char *err,
                  size_t errlen);

/* UUIDv7 (time-ordered, so inserts stay local in a B-tree), 36 chars + NUL. */
void svc_uuid7(char out[37]);
/* True when `s` is a canonical 36-char UUID (any version). */
int svc_uuid_valid(const char *s);
int64_t svc_now_ms(void);

#endif
