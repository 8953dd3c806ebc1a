/*
 * Kafka as the console shows it: every topic (but Kafka's own, "__*") with
 * its partitions, their log start and end offsets (high watermarks), and
 * for each consumer group of CONSOLE_GROUPS that has committed offsets
 * there, the committed offset and the lag (end minus committed). Read with
 * clients that never join a group (as the sidecar's lag.h), so they
 * disturb no one; with Kafka's ACLs they need DESCRIBE on the topics and
 * the groups only.
 *
 * A snapshot is kept for a second: several open pages share it.
 */
#ifndef CONSOLE_KAFKA_H
#define CONSOLE_KAFKA_H

#include <jansson.h>

#include "services/console/config.h"

#define CONSOLE_KAFKA_TIMEOUT_MS 2000
#define CONSOLE_KAFKA_CACHE_MS   1000

struct console_kafka;

/* The clients (no broker is contacted yet). `cfg` is borrowed and must
 * outlive it. NULL (logged) when librdkafka refuses the configuration. */
struct console_kafka *console_kafka_new(const struct console_config *cfg);
/* Accepts NULL. */
void console_kafka_free(struct console_kafka *k);

/*
 * The snapshot, a new reference (NULL on OOM):
 *   {"topics":[{"name":"order.events","partitions":[{"partition":0,
 *     "start":0,"end":1234,"groups":[{"group":"inventory-service",
 *     "committed":1230,"lag":4}]}]}], "groups":["order-service",...],
 *    "error":"..." (when the brokers did not answer)}
 * Blocks for a few broker round trips, each bounded by
 * CONSOLE_KAFKA_TIMEOUT_MS.
 */
json_t *console_kafka_snapshot(struct console_kafka *k);

#endif
