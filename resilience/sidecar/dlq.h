/*
 * Dead-letter routing: a message the service rejected for good is produced,
 * unchanged (same key, same payload), to the service's DLQ topic with
 * headers saying why and where from:
 *   dlq-reason, dlq-source-topic, dlq-source-partition, dlq-source-offset,
 *   dlq-timestamp (epoch ms), dlq-attempts, dlq-service, order-id (the key),
 *   and the source message's event-id header when it had one.
 * A message that came from a DLQ re-drive (dlq_entry.h) carries its entry's
 * id and count: dead-lettered again, it keeps them (dlq-entry, dlq-redrives)
 * and dlq-attempts adds this round's attempts to the earlier ones, so the
 * listing shows one entry, however often it was re-driven.
 * The source offset may be stored only once the DLQ copy is acknowledged.
 */
#ifndef SC_DLQ_H
#define SC_DLQ_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "resilience/backoff.h"
#include "resilience/sidecar/producer.h"
#include "resilience/sidecar/stop.h"

struct sc_dlq_record {
	const char *source_topic;
	int32_t source_partition;
	int64_t source_offset;
	const void *key; /* may be NULL */
	size_t keylen;
	const void *payload; /* may be NULL */
	size_t len;
	const char *reason;
	unsigned attempts;    /* deliveries tried before giving up */
	const void *event_id; /* the source's event-id header, or NULL */
	size_t event_id_len;
	/* Of a re-driven message (sc_dlq_record_carry), else NULL / 0: */
	const void *entry_id; /* dlq-entry: the DLQ entry it was first */
	size_t entry_id_len;
	int64_t attempts_before; /* dlq-attempts-before: earlier rounds' attempts */
	int64_t redrives;        /* dlq-redrives: re-drives so far */
};

/* Fills r's event_id, entry_id, attempts_before and redrives from the
 * source message's headers `h` (may be NULL); the values are borrowed from
 * `h`. Absent or malformed headers leave them NULL / 0. */
void sc_dlq_record_carry(struct sc_dlq_record *r, const rd_kafka_headers_t *h);

/* Caller-embedded; every pointer is borrowed and must outlive it. */
struct sc_dlq {
	struct sc_producer *producer;
	const char *topic;   /* DLQ_TOPIC */
	const char *service; /* SERVICE_NAME */
	struct sc_stop *stop;
	struct rs_backoff backoff; /* between failed DLQ produces */
};

/* The DLQ headers of `r` at time `now_ms` (caller owns; NULL on OOM). Pure. */
rd_kafka_headers_t *sc_dlq_headers(const struct sc_dlq_record *r, const char *service,
                                   int64_t now_ms);

/* Produces one message with the shared producer and waits for its delivery
 * report. Takes ownership of `hdrs` (may be NULL) in every case. Returns
 * RD_KAFKA_RESP_ERR_NO_ERROR once acknowledged, else why it was not. Also
 * used to re-drive DLQ entries (dlq_redrive.h). */
rd_kafka_resp_err_t sc_dlq_produce_wait(struct sc_producer *producer, const char *topic,
                                        const void *key, size_t keylen, const void *payload,
                                        size_t len, rd_kafka_headers_t *hdrs);

/* Produces the record once, stamped now, and waits for its delivery report:
 * RD_KAFKA_RESP_ERR_NO_ERROR once acknowledged, else why not (no retry). */
rd_kafka_resp_err_t sc_dlq_send_once(struct sc_dlq *d, const struct sc_dlq_record *r);

/*
 * Produces the record and waits for its acknowledgement, retrying with
 * backoff for as long as it fails: a dead letter is never dropped.
 * 0 once acknowledged; SVC_ETRANSIENT only when stop was requested first
 * (the source offset must then not be stored).
 */
int sc_dlq_send(struct sc_dlq *d, const struct sc_dlq_record *r);

#endif
