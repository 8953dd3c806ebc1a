/*
 * The transactional outbox, service side. A service writes the events it
 * emits into outbox_messages in the same database transaction as the state
 * change; its sidecar relays them to Kafka and deletes them once the broker
 * has acknowledged (resilience/sidecar/relay.c).
 *
 *   outbox_messages(id BIGINT AUTO_INCREMENT PK, event_id CHAR(36),
 *                   topic, msg_key, event_type, payload MEDIUMTEXT,
 *                   messages INT, created_at DATETIME(6))
 *
 * A row with messages = 1 is one event (its columns). When the transaction
 * defers (svc/defer.h), its events go in one row instead: messages = N > 1
 * and the payload a pack of the N events in order (svc/outbox_pack.h; a
 * new row every SVC_OUTBOX_PACK_BYTES or SVC_OUTBOX_PACK_MESSAGES); the
 * other columns are the first event's. A deferring transaction with one
 * event writes a plain row.
 *
 * (services/common/migrations creates it in every service database.)
 */
#ifndef SVC_OUTBOX_H
#define SVC_OUTBOX_H

#include "svc/event.h"
#include "svc/tx.h"

/* Inserts `ev` for `topic` with Kafka key `key` (the orderId) in the caller's
 * open transaction `tx`: at once as a row of its own, or, when `tx` defers
 * (svc/defer.h), in the transaction's pack, written at svc_defer_flush()
 * (or when the pack is full). 0, SVC_ENOMEM, SVC_ETRANSIENT or SVC_EPERMANENT. */
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
