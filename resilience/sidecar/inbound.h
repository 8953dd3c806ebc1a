/*
 * Inbound delivery: consumes SUBSCRIBE_TOPICS in group CONSUMER_GROUP and
 * POSTs batches to SERVICE_URL/internal/events (svc/consumer.h).
 *
 * One thread polls Kafka and appends each message to its partition's queue
 * (partq.h); DELIVERY_WORKERS threads deliver, each holding the partitions
 * it took until it lets them go, so partitions are delivered in parallel and
 * each partition (each key) in order. A worker takes the partition waiting
 * longest and then, up to DELIVERY_COMBINE_PARTITIONS in all, the others
 * ready at that moment: their oldest messages, at most DELIVERY_BATCH_MAX in
 * all and DELIVERY_BATCH_BYTES of body (batch.h), go in one request (at low
 * rates each partition has a message or two, and each request costs the
 * service a transaction and a commit). What follows a partition's first
 * unfinished message is then delivered with that partition alone: the first
 * such partition by the same worker, the others handed back, to be taken
 * alone until a delivery of their own finished them. A
 * partition whose queue grows past 2 x DELIVERY_BATCH_MAX is paused in the
 * consumer and resumed once it is down to DELIVERY_BATCH_MAX.
 *
 * A message's offset is stored (and later auto-committed) only after the
 * service finished it and every earlier message of its partition: "ok",
 * "duplicate", "ignored", or "rejected" once the DLQ copy is acknowledged.
 * "retry", no response or a non-200 answer resends the rest of the batch, in
 * order, after a growing backoff, for as long as it takes: transient causes
 * are never dead-lettered. Only that partition waits; the others go on. HTTP
 * 413 (body too large) halves the batch and resends at once, down to one
 * message, counted neither as an attempt nor as a breaker failure. A single
 * message that still gets a permanent status (a 4xx such as 413) is
 * dead-lettered once the service answered it that way RETRY_MAX_ATTEMPTS
 * times.
 *
 * Every delivery POST goes through a circuit breaker named "service"
 * (SERVICE_BREAKER_*, config.h); a delivery fails when no answer came, on a
 * transient status (5xx, timeout) or when every message was answered "retry"
 * (outcome.h). While the breaker is open nothing is delivered, dead-lettered
 * or skipped: every worker waits and the queues fill up until their
 * partitions pause; after open_ms one probe delivery goes out (half-open),
 * and its success closes the breaker. A pause longer than the consumer's
 * max.poll.interval.ms (10 min) makes Kafka hand the partitions to another
 * member; the uncommitted messages are redelivered there and the service
 * answers "duplicate" for any it had finished.
 *
 * Rebalance: before partitions are revoked, no worker is handed them any
 * more, the deliveries in flight on them end (a retrying worker gives up at
 * once), their stored offsets are committed and their queued messages are
 * dropped: the new owner consumes them again from the committed offset.
 */
#ifndef SC_INBOUND_H
#define SC_INBOUND_H

#include <jansson.h>

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/metrics.h"
#include "resilience/sidecar/producer.h"
#include "resilience/sidecar/stop.h"

struct sc_inbound;

/* Creates the consumer, subscribes and starts the delivery thread. All
 * pointers are borrowed and must outlive the returned object. NULL (logged)
 * on a bad configuration. */
struct sc_inbound *sc_inbound_start(const struct sc_config *cfg, struct sc_producer *producer,
                                    struct sc_metrics *metrics, struct sc_stop *stop);
/* After sc_stop_request(): waits for the thread, closes the consumer (which
 * commits the stored offsets) and frees. Accepts NULL. */
void sc_inbound_free(struct sc_inbound *in);

/*
 * Adds to the object `details` (readiness, /metrics):
 *   "service": {"breaker": "closed|open|half-open", "delivered": n,
 *               "retried": n, "lastError": "why the last failed delivery
 *               failed" or null}
 * Thread-safe. Accepts a NULL `in` (no inbound delivery: adds nothing).
 */
void sc_inbound_status(struct sc_inbound *in, json_t *details);

#endif
