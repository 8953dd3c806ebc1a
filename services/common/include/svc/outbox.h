/*
 * The transactional outbox, service side. A service writes the events it
 * emits into outbox_messages in the same database transaction as the state
 * change; its sidecar relays them to Kafka and deletes them once the broker
 * has acknowledged (resilience/sidecar/relay.c).
 *
 *   outbox_messages(id BIGINT AUTO_INCREMENT PK, event_id CHAR(36),
 *                   topic, msg_key, event_type, payload MEDIUMTEXT,
 *                   created_at DATETIME(6))
 *
 * (services/common/migrations creates it in every service database.)
 */
#ifndef SVC_OUTBOX_H
#define SVC_OUTBOX_H

#include "svc/event.h"
#include "svc/tx.h"

/* Inserts `ev` for `topic` with Kafka key `key` (the orderId) in the caller's
 * open transaction `tx`: at once, or at svc_defer_flush() when `tx` defers
 * (svc/defer.h). 0, SVC_ENOMEM, SVC_ETRANSIENT or SVC_EPERMANENT. */
int svc_outbox_add(struct svc_tx *tx, const char *topic, const char *key,
                   const struct svc_event *ev);

/* Builds the event and adds it: svc_event_init + svc_outbox_add + release.
 * Steals `data`. */
int svc_outbox_emit(struct svc_tx *tx, const char *topic, const char *type, const char *order_id,
                    const char *source, const char *causation_id, json_t *data);

/*
 * Tells the sidecar that new rows are committed: one non-blocking datagram to
 * the Unix socket named by OUTBOX_WAKE_SOCKET (no-op when unset). Call after
 * COMMIT. Losing a wake-up only delays relaying until the sidecar's fallback
 * poll (OUTBOX_POLL_MS).
 */
void svc_outbox_wake(void);

#endif
