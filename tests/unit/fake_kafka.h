/*
 * A fake Kafka broker for the unit tests, behind the sidecar's struct
 * sc_kafka_ops (resilience/sidecar/kafka.h): topics and partitions in memory,
 * produced messages recorded, consumed messages scripted, delivery reports
 * acknowledged or failed with a chosen error, and every call counted by name
 * (pause_partitions, offsets_store, ...).
 *
 *   struct fake_kafka *fk = fake_kafka_new();
 *   fake_kafka_install(fk, &cfg.kafka); // the one call: cfg's clients use fk
 *   ...
 *   fake_kafka_free(fk);
 *
 * One fake at a time: the table's functions take no context, so they work on
 * the fake made last. Thread-safe: the sidecar's threads call it at once.
 * Out of memory inside the fake aborts the test (it is not the code under
 * test).
 */
#ifndef FAKE_KAFKA_H
#define FAKE_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/kafka.h"

struct fake_kafka;

/* A new, empty broker; NULL on OOM. It becomes the current fake. */
struct fake_kafka *fake_kafka_new(void);
/* Frees the broker and what it recorded. Every client must be gone. Accepts NULL. */
void fake_kafka_free(struct fake_kafka *fk);
/* Points `k` (a client configuration) at the fake's table. */
void fake_kafka_install(struct fake_kafka *fk, struct sc_kafka_client *k);
/* The fake's table itself. */
extern const struct sc_kafka_ops fake_kafka_ops;
/* Fills what a sidecar's Kafka clients read of `cfg` (brokers "fake:9092",
 * log name "test-sidecar", service "test", group "test-service", DLQ topic
 * "test.dlq", lz4, a 5 ms linger, 30 s message timeout, fetch settings) and
 * installs the fake in cfg->kafka. The rest of `cfg` is left as it is. */
void fake_kafka_sidecar_config(struct fake_kafka *fk, struct sc_config *cfg);

/* ---- the broker's state ---------------------------------------------------- */

/* Creates `topic` with `partitions` partitions (or grows it to that many). */
void fake_kafka_topic(struct fake_kafka *fk, const char *topic, int32_t partitions);
/* Appends a message to a partition's log (the topic grows as needed) and
 * returns its offset. `hdrs` (may be NULL) is the fake's afterwards. */
int64_t fake_kafka_append(struct fake_kafka *fk, const char *topic, int32_t partition,
                          const char *key, const char *payload, rd_kafka_headers_t *hdrs,
                          int64_t timestamp_ms);
/* Moves a partition's log start (older messages are then gone). */
void fake_kafka_set_low(struct fake_kafka *fk, const char *topic, int32_t partition, int64_t low);
/* The group's committed offset of a partition (committed() answers it). */
void fake_kafka_set_committed(struct fake_kafka *fk, const char *topic, int32_t partition,
                              int64_t offset);
/* Brokers listed in metadata answers (1; 0: none reachable). */
void fake_kafka_set_brokers(struct fake_kafka *fk, int n);
/* What fatal_error() answers (RD_KAFKA_RESP_ERR_NO_ERROR: none). */
void fake_kafka_set_fatal(struct fake_kafka *fk, rd_kafka_resp_err_t err);
/* What rebalance_protocol() answers ("EAGER"). */
void fake_kafka_set_protocol(struct fake_kafka *fk, const char *protocol);

/* ---- failures ---------------------------------------------------------------- */

/*
 * The next `times` calls of operation `op` (an entry name of struct
 * sc_kafka_ops: "produce", "metadata", "offsets_store", "new_client", ...;
 * times < 0: every call from now on) fail with `err`: those returning an
 * error code return it, new_client and topic_new return NULL, the
 * rd_kafka_error_t ones an error of that code; consumer_poll hands out
 * nothing (NULL after its timeout).
 */
void fake_kafka_fail(struct fake_kafka *fk, const char *op, rd_kafka_resp_err_t err, int times);
/* The same, once the next `skip` calls of `op` went through (e.g. the third
 * produce() fails, the two before it do not). */
void fake_kafka_fail_after(struct fake_kafka *fk, const char *op, unsigned skip,
                           rd_kafka_resp_err_t err, int times);
/* How many times operation `op` was called. */
unsigned fake_kafka_calls(struct fake_kafka *fk, const char *op);

/* ---- producing ---------------------------------------------------------------- */

/* The next delivery reports carry `err` (queued, one per report; then
 * RD_KAFKA_RESP_ERR_NO_ERROR again). A failed report appends nothing. */
void fake_kafka_report(struct fake_kafka *fk, rd_kafka_resp_err_t err);
/* While held, no delivery report is served (poll and flush serve none). */
void fake_kafka_hold_reports(struct fake_kafka *fk, bool hold);

/* One accepted produce() call, in call order. */
struct fake_kafka_produced {
	char *topic;
	void *key; /* NULL when the message had none */
	size_t keylen;
	void *payload; /* NULL when the message had none */
	size_t len;
	rd_kafka_headers_t *hdrs;  /* NULL when none */
	bool reported;             /* its delivery report was served */
	rd_kafka_resp_err_t error; /* the report's error, once reported */
};
size_t fake_kafka_produced_count(struct fake_kafka *fk);
/* The i-th produced message (borrowed; valid until fake_kafka_free). Read it
 * only while no client is producing. */
const struct fake_kafka_produced *fake_kafka_produced(struct fake_kafka *fk, size_t i);
/* The index of the first message produced to `topic` with payload `payload`
 * (a string; NULL: any) from the `from`-th on, or -1. */
long fake_kafka_find(struct fake_kafka *fk, const char *topic, const char *payload, size_t from);
/* How many messages were produced to `topic` with payload `payload` (NULL: any). */
size_t fake_kafka_count(struct fake_kafka *fk, const char *topic, const char *payload);
/* Header `name` of `p` as a string copied into buf, or NULL when absent. */
const char *fake_kafka_header(const struct fake_kafka_produced *p, const char *name, char *buf,
                              size_t len);

/* ---- consuming (scripted) --------------------------------------------------- */

/* consumer_poll() of any consumer hands out the scripted events in order
 * before the logs of assigned partitions: */
/* a message (`hdrs` may be NULL; the fake's afterwards), */
void fake_kafka_push_message(struct fake_kafka *fk, const char *topic, int32_t partition,
                             int64_t offset, const char *key, const char *payload,
                             rd_kafka_headers_t *hdrs);
/* an error message (err set, no payload), */
void fake_kafka_push_error(struct fake_kafka *fk, rd_kafka_resp_err_t err);
/* a rebalance (RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS or _REVOKE_PARTITIONS of
 * one partition): the consumer's rebalance callback runs inside that
 * consumer_poll(), which then returns NULL. */
void fake_kafka_push_rebalance(struct fake_kafka *fk, rd_kafka_resp_err_t err, const char *topic,
                               int32_t partition);
/* Scripted events not handed out yet. */
size_t fake_kafka_script_left(struct fake_kafka *fk);

/* ---- what the clients did -------------------------------------------------- */

/* The offset last stored (offsets_store) for a partition, -1 if none. */
int64_t fake_kafka_stored(struct fake_kafka *fk, const char *topic, int32_t partition);
/* Whether a partition is paused now (pause_partitions minus resume_partitions). */
bool fake_kafka_paused(struct fake_kafka *fk, const char *topic, int32_t partition);
/* The offset of the last seek of a partition, -1 if none. */
int64_t fake_kafka_seeked(struct fake_kafka *fk, const char *topic, int32_t partition);
/* Clients made and not destroyed yet (0 for a NULL fake). */
unsigned fake_kafka_clients(struct fake_kafka *fk);
/* The topics of the last subscribe(), comma-separated ("" before any). */
const char *fake_kafka_subscription(struct fake_kafka *fk);

#endif
