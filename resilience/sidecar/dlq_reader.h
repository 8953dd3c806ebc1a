/*
 * Reading a DLQ topic for the admin (dlq_admin.h): a short-lived consumer
 * that assign()s partitions at explicit offsets (no subscribe, no group, no
 * commits: it never moves anyone's position) and reads each partition up to
 * the high watermark it had when the read began, so messages dead-lettered
 * meanwhile, including copies of entries being re-driven, are not seen.
 */
#ifndef SC_DLQ_READER_H
#define SC_DLQ_READER_H

#include <stdint.h>

#include "resilience/sidecar/dlq_entry.h"
#include "resilience/sidecar/kafkaconf.h"

struct sc_dlq_reader_config {
	const struct sc_kafka_client *kafka; /* brokers and security (kafkaconf.h) */
	const char *topic;
	const char *client_id;
	long timeout_ms; /* for the whole read */
};

/* Which messages to read. */
struct sc_dlq_window {
	int32_t partition; /* -1: every partition */
	int64_t offset;    /* >= 0 (with a partition): only the message at this offset */
	int64_t tail;      /* > 0: only the last `tail` messages of each partition */
};

/* Called for each message, in offset order within a partition. A non-zero
 * return stops the read and is returned by sc_dlq_read(). */
typedef int (*sc_dlq_visit_fn)(void *arg, const struct sc_dlq_message *m);

/*
 * Reads the window, calling `visit` for each message. 0 when every selected
 * partition was read to its end; SVC_ENOTFOUND when the topic, the
 * partition or the offset does not exist (below the low or at/above the high
 * watermark); SVC_ETRANSIENT when Kafka did not answer within timeout_ms;
 * SVC_ENOMEM; or the visitor's code.
 */
int sc_dlq_read(const struct sc_dlq_reader_config *cfg, const struct sc_dlq_window *w,
                sc_dlq_visit_fn visit, void *arg);

#endif
