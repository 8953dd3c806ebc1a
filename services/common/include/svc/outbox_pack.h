/*
 * The outbox pack: the events of one transaction in one outbox_messages row
 * (svc/outbox.h). A row with messages = 1 is a plain row: its columns are
 * the message. A row with messages = N > 1 holds a pack in its payload: N
 * messages in order, each five netstrings (event id, topic, key, event
 * type, payload), a netstring being "<length in decimal>:<bytes>," with no
 * leading zero in the length. Unambiguous for any bytes, cheap to write and
 * to read, and text (the payload column is MEDIUMTEXT): the fields of a
 * valid UTF-8 event stay valid UTF-8.
 *
 * Written by the service (outbox.c), read by the sidecar's relay
 * (resilience/sidecar/relay.c), which dead-letters a pack that does not
 * parse. Pure: no I/O.
 */
#ifndef SVC_OUTBOX_PACK_H
#define SVC_OUTBOX_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "svc/buf.h"

/* A pack is closed (written as a row) once it holds this many bytes or
 * messages; a single message may make it bigger (up to SVC_EVENT_MAX_BYTES
 * plus its other fields). Far below max_allowed_packet, and small enough
 * that a relay round of OUTBOX_BATCH rows stays bounded. */
#define SVC_OUTBOX_PACK_BYTES    (512 * 1024)
#define SVC_OUTBOX_PACK_MESSAGES 256

/* Bytes of one field, borrowed. */
struct svc_outbox_span {
	const char *p;
	size_t len;
};

/* One message of a pack. */
struct svc_outbox_msg {
	struct svc_outbox_span event_id, topic, key, type, payload;
};

/* What svc_outbox_pack_add() appends for `m`, in bytes. */
size_t svc_outbox_pack_size(const struct svc_outbox_msg *m);

/* Appends `m` to the pack in `b` (caller's buffer). 0 or SVC_ENOMEM (the
 * buffer is then marked failed, as svc_buf does). */
int svc_outbox_pack_add(struct svc_buf *b, const struct svc_outbox_msg *m);

/*
 * Reads the pack `pack` (`len` bytes) into out[0..*n): exactly `expect`
 * messages. Every field of the buffer is NUL-terminated in place (its ','
 * becomes '\0'), so the spans point into `pack` and may be used as strings;
 * the buffer must stay alive and unchanged while they are used. A message
 * needs an event id, a topic and an event type. 0, or SVC_EPERMANENT with
 * *why a static text saying what is wrong (the buffer is then partly
 * rewritten: do not read it again).
 */
int svc_outbox_pack_read(char *pack, size_t len, size_t expect, struct svc_outbox_msg *out,
                         size_t *n, const char **why);

#endif
