/*
 * Re-driving one DLQ entry and remembering that it was, in the service's
 * database table dlq_redrives (services/common/migrations/002_dlq.sql):
 *
 *   BEGIN; INSERT IGNORE the entry's row      (0 rows: already re-driven, stop)
 *   produce key + payload to the source topic, wait for the acknowledgement
 *   COMMIT                                    (ROLLBACK when Kafka refused)
 *
 * The uncommitted row locks the entry, so concurrent re-drives (two admin
 * requests, or the CLI beside the running sidecar) send it once. A crash
 * after the acknowledgement but before COMMIT leaves the entry unmarked: a
 * later re-drive sends it again, and the service's inbox answers
 * "duplicate" if the first copy was processed. So re-drive is at least once,
 * and processing stays exactly once.
 */
#ifndef SC_DLQ_REDRIVE_H
#define SC_DLQ_REDRIVE_H

#include <stddef.h>

#include "resilience/sidecar/dlq_entry.h"
#include "resilience/sidecar/producer.h"
#include "svc/db.h"

/* Sets `redriven` of each of the n entries of `dlq_topic` from the table.
 * 0 or SVC_ETRANSIENT (database unreachable or the table missing). */
int sc_dlq_redrive_marks(struct svc_db *db, const char *dlq_topic, struct sc_dlq_entry *entries,
                         size_t n);

/*
 * Re-drives `e` (which the caller checked with sc_dlq_entry_redrivable) to
 * e->source_topic with its original key and payload and the headers of
 * sc_dlq_redrive_headers(), as above. 0 once acknowledged (and recorded,
 * unless the COMMIT failed: then a later re-drive sends it again);
 * SVC_DUPLICATE when it had been re-driven before (nothing sent);
 * SVC_ETRANSIENT when the database or Kafka failed (nothing recorded);
 * SVC_EPERMANENT when Kafka refused the message for good (unknown topic).
 */
int sc_dlq_redrive_one(struct svc_db *db, struct sc_producer *producer, const char *dlq_topic,
                       const struct sc_dlq_entry *e);

#endif
