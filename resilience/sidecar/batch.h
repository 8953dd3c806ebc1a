/*
 * The size of one delivery (inbound.h), pure: the POST /internal/events body
 * {"messages":[item,...]} assembled from the messages' items (delivery.h),
 * written straight into the body, under a byte cap
 * (DELIVERY_BATCH_BYTES), and how a batch shrinks when the service answers
 * 413 (body too large).
 */
#ifndef SC_BATCH_H
#define SC_BATCH_H

#include <stddef.h>

#include "resilience/sidecar/delivery.h"
#include "svc/buf.h"

/* sc_batch_add: the item would take the body past its cap; it was not added. */
#define SC_BATCH_FULL 1

/* Caller-embedded. */
struct sc_batch {
	struct svc_buf body;
	size_t count;     /* items added */
	size_t max_bytes; /* cap of the finished body */
	int closed;
};

void sc_batch_init(struct sc_batch *b, size_t max_bytes);
void sc_batch_release(struct sc_batch *b);
/* Empties the batch for the next body (keeps the cap). */
void sc_batch_reset(struct sc_batch *b);

/*
 * Appends one item (JSON text of `len` bytes). The first item is always
 * taken whatever its size (a message larger than the cap still goes out,
 * alone); later ones only while the finished body stays within max_bytes.
 * 0 when added, SC_BATCH_FULL when not, SVC_ENOMEM.
 */
int sc_batch_add(struct sc_batch *b, const char *item, size_t len);

/*
 * Appends the item of message `m` (sc_delivery_item_add()), under the same
 * rule. 0 when added, SC_BATCH_FULL when not, SVC_EPERMANENT when the
 * message cannot be sent (reason in `reason`: reject it), SVC_ENOMEM.
 * Nothing of the item stays in the body unless it returns 0.
 */
int sc_batch_add_msg(struct sc_batch *b, const struct sc_delivery_msg *m, char *reason,
                     size_t reasonlen);

/* Closes the body and returns it (owned by the batch, valid until the next
 * reset); *len gets its length. NULL on allocation failure. */
const char *sc_batch_body(struct sc_batch *b, size_t *len);

/* How many messages to send after the service answered 413 for `n`: half,
 * rounded down, never less than one. */
size_t sc_batch_shrink(size_t n);

#endif
