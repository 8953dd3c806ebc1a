/* What defer.c needs of outbox.c (libsvc only). */
#ifndef SVC_OUTBOX_INTERNAL_H
#define SVC_OUTBOX_INTERNAL_H

#include "svc/tx.h"

/* Hands the messages packed in `tx` (if any) to the deferred outbox INSERT
 * as one row (a plain row when there is one message) and empties the pack.
 * 0, SVC_ENOMEM or the statement's error. */
int svc__outbox_flush(struct svc_tx *tx);
/* Empties the pack of `tx` and frees its buffers. */
void svc__outbox_discard(struct svc_tx *tx);

#endif
