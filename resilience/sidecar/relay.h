/*
 * The outbox relay: moves committed outbox_messages rows (svc/outbox.h) to
 * Kafka. Woken by a datagram on OUTBOX_WAKE_SOCKET or every OUTBOX_POLL_MS,
 * it takes the oldest rows FOR UPDATE SKIP LOCKED (so replicas share the
 * work), produces them with the idempotent producer (key msg_key, headers
 * event-id and event-type), waits for every acknowledgement and only then
 * deletes them, in the same transaction: every row in the table is unsent, so
 * the scan walks the primary key and a row costs one insert and one delete
 * (Kafka keeps the sent events). Rows of one key reach Kafka in id order:
 * a row whose produce failed for a passing cause stays and is retried after
 * a backoff, and the later rows of its key wait behind it; a row Kafka
 * refuses for good is dead-lettered to DLQ_TOPIC with the reason and
 * deleted, and its key goes on (relay_plan.h; metric relay_dead_lettered).
 * Never reads "id > last seen": ids commit out of order.
 */
#ifndef SC_RELAY_H
#define SC_RELAY_H

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/metrics.h"
#include "resilience/sidecar/producer.h"
#include "resilience/sidecar/stop.h"
#include "svc/db.h"

struct sc_relay;

/* Binds the wake socket (a failure is logged; polling still works) and
 * starts the relay thread. `db` must be a pool opened with read_committed
 * (svc/db.h). All pointers are borrowed and must outlive the relay. NULL on
 * allocation or thread failure. */
struct sc_relay *sc_relay_start(const struct sc_config *cfg, struct svc_db *db,
                                struct sc_producer *producer, struct sc_metrics *metrics,
                                struct sc_stop *stop);
/* After sc_stop_request(): waits for the thread, removes the socket, frees.
 * Accepts NULL. */
void sc_relay_free(struct sc_relay *r);

#endif
