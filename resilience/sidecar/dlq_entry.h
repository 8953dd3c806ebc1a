/*
 * One dead letter as the DLQ admin sees it (dlq_admin.h), pure: reading the
 * provenance headers written by dlq.h into an entry, its JSON form, the
 * headers of its re-driven copy, and validating the admin's inputs.
 */
#ifndef SC_DLQ_ENTRY_H
#define SC_DLQ_ENTRY_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/validate.h"

#define SC_DLQ_LIMIT_DEFAULT 100
#define SC_DLQ_LIMIT_MAX     10000
#define SC_DLQ_ENTRY_ID_MAX  300 /* a topic name (249) and two numbers */

/* A message read from the DLQ topic; every pointer is borrowed. */
struct sc_dlq_message {
	int32_t partition;
	int64_t offset;
	int64_t timestamp_ms; /* the broker's message timestamp, -1 if none */
	const void *key;      /* may be NULL */
	size_t keylen;
	const void *payload; /* may be NULL */
	size_t len;
	const rd_kafka_headers_t *hdrs; /* may be NULL */
};

/* Owns every pointer; numbers absent from the headers (or unparsable) are -1. */
struct sc_dlq_entry {
	int32_t partition; /* where it sits in the DLQ topic */
	int64_t offset;
	void *key; /* exact key bytes, NULL when the message had none */
	size_t keylen;
	void *payload; /* exact payload bytes, NULL when the message had none */
	size_t len;
	char *order_id;     /* header order-id, NULL if absent */
	char *reason;       /* dlq-reason */
	char *source_topic; /* dlq-source-topic */
	int32_t source_partition;
	int64_t source_offset;
	int64_t timestamp_ms; /* dlq-timestamp, else the message timestamp */
	int64_t attempts;     /* dlq-attempts */
	char event_id[65];    /* header event-id, else the payload's "eventId", "" */
	bool redriven;        /* filled in by the caller (dlq_redrive.h) */
	/* The dead letter this message is a copy of, "<dlq topic>/<p>/<o>": header
	 * dlq-entry of a re-driven message dead-lettered again; "" for a first
	 * one until sc_dlq_entries_fold names it after its own position. */
	char entry_id[SC_DLQ_ENTRY_ID_MAX];
	int64_t redrives; /* dlq-redrives: times re-driven before this copy, 0 */
};

/* Copies `m` into `e` and reads its headers. 0 or SVC_ENOMEM (then `e` holds
 * nothing to release). Never fails on odd content: missing or malformed
 * headers just leave fields NULL / -1. */
int sc_dlq_entry_init(struct sc_dlq_entry *e, const struct sc_dlq_message *m);
/* Frees what `e` owns. Accepts a zeroed entry. */
void sc_dlq_entry_release(struct sc_dlq_entry *e);

/*
 * Names each of v[0..*n) (entries of `dlq_topic`, oldest first) by its
 * entry_id, a first dead letter after its own position. With `fold`, keeps
 * only the newest copy of each entry (the one a re-drive would send; its
 * attempts and redrives count every round), releases the others and sets
 * *n to how many are left, order kept. 0, or SVC_ENOMEM (v unchanged but
 * for the names). Pure.
 */
int sc_dlq_entries_fold(struct sc_dlq_entry *v, size_t *n, const char *dlq_topic, bool fold);

/*
 * {"partition","offset","key","orderId","reason","sourceTopic",
 *  "sourcePartition","sourceOffset","timestamp","attempts","eventId",
 *  "redriven","entryId","redrives","payload"} (new reference, NULL on OOM).
 * Key and payload are strings; bytes that are not UTF-8 become U+FFFD.
 * Absent values are null.
 */
json_t *sc_dlq_entry_json(const struct sc_dlq_entry *e);

/*
 * Whether `e` may be re-driven by a sidecar subscribed to `subscribe` (the
 * comma-separated SUBSCRIBE_TOPICS): it must name its source topic, and that
 * topic must be one this sidecar consumes, so a forged header cannot aim
 * the sidecar's producer at an arbitrary topic. 0, or SVC_EPERMANENT with the
 * reason in `why`.
 */
int sc_dlq_entry_redrivable(const struct sc_dlq_entry *e, const char *subscribe, char *why,
                            size_t whylen);

/* The headers of the re-driven copy: dlq-redriven-from "<topic>/<p>/<o>",
 * event-id when known, and what keeps it one entry if it is dead-lettered
 * again (dlq.h): dlq-entry (e's entry_id, else its position), dlq-redrives
 * (e's + 1), dlq-attempts-before (e's attempts). Caller owns; NULL on OOM. */
rd_kafka_headers_t *sc_dlq_redrive_headers(const struct sc_dlq_entry *e, const char *dlq_topic);

/* POST /dlq/redrive body: {"all": true} or {"partition": p, "offset": o}. */
struct sc_dlq_redrive_request {
	bool all;
	int32_t partition; /* when !all */
	int64_t offset;
};

/* Validates and reads the body. 0, or SVC_EPERMANENT with *p saying what is
 * wrong (400 malformed or mistyped, 422 out of range or contradictory). */
int sc_dlq_redrive_request_parse(const char *body, size_t len, struct sc_dlq_redrive_request *out,
                                 struct svc_problem *p);

/* The ?limit= of GET /dlq: NULL gives SC_DLQ_LIMIT_DEFAULT; else an integer in
 * 1..SC_DLQ_LIMIT_MAX. 0, or SVC_EPERMANENT with *p filled (400). */
int sc_dlq_limit_parse(const char *s, long *out, struct svc_problem *p);

#endif
