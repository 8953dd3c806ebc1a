/*
 * Inbound delivery: consumes SUBSCRIBE_TOPICS in group CONSUMER_GROUP and
 * POSTs batches to SERVICE_URL/internal/events (svc/consumer.h).
 *
 * A message's offset is stored (and later auto-committed) only after the
 * service finished it: "ok", "duplicate", "ignored", or "rejected" once the
 * DLQ copy is acknowledged. "retry", no response or a non-200 answer resends
 * the rest of the batch, in order, after a growing backoff, for as long as it
 * takes: transient causes are never dead-lettered. The one exception is a
 * permanent HTTP status (a 4xx such as 413 that will not change on resend):
 * the batch shrinks to the first message alone, and when the service keeps
 * answering it that way RETRY_MAX_ATTEMPTS times it is dead-lettered.
 *
 * Every delivery POST goes through a circuit breaker named "service"
 * (SERVICE_BREAKER_*, config.h); a delivery fails when no answer came, on a
 * transient status (5xx, timeout) or when every message was answered "retry"
 * (outcome.h). While the breaker is open nothing is delivered, dead-lettered
 * or skipped: the batch waits and consumption pauses; after open_ms one probe
 * delivery goes out (half-open), and its success closes the breaker. A pause
 * longer than the consumer's max.poll.interval.ms (10 min) makes Kafka hand
 * the partitions to another member; the uncommitted messages are redelivered
 * there and the service answers "duplicate" for any it had finished.
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
