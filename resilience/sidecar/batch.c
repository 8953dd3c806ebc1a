/* Delivery bodies under a byte cap, and their halving on 413 (batch.h). */
#include "resilience/sidecar/batch.h"

#include <string.h>

#include "svc/error.h"

static const char head[] = "{\"messages\":[";
static const char tail[] = "]}";

void sc_batch_init(struct sc_batch *b, size_t max_bytes)
{
	svc_buf_init(&b->body);
	b->count = 0;
	b->max_bytes = max_bytes;
	b->closed = 0;
}

void sc_batch_release(struct sc_batch *b)
{
	svc_buf_release(&b->body);
}

void sc_batch_reset(struct sc_batch *b)
{
	/* keep the allocation for the next body */
	b->body.len = 0;
	if (b->body.data)
		b->body.data[0] = '\0';
	b->body.failed = 0;
	b->count = 0;
	b->closed = 0;
}

/* Opens the body or adds the separator before the next item; returns where
 * the item starts, or 0 when the buffer failed. */
static size_t item_start(struct sc_batch *b)
{
	if (b->count == 0)
		svc_buf_add(&b->body, head, sizeof(head) - 1);
	else
		svc_buf_add(&b->body, ",", 1);
	return b->body.failed ? 0 : b->body.len;
}

/* Keeps the item that ends the body (from `start`) when the cap allows it:
 * 0 or SC_BATCH_FULL (the item and its separator are taken back). */
static int item_end(struct sc_batch *b, size_t start)
{
	if (b->count > 0 && b->body.len + sizeof(tail) - 1 > b->max_bytes) {
		svc_buf_truncate(&b->body, start - 1); /* the comma too */
		return SC_BATCH_FULL;
	}
	b->count++;
	return 0;
}

int sc_batch_add(struct sc_batch *b, const char *item, size_t len)
{
	size_t start;

	if (b->closed)
		return SC_BATCH_FULL;
	/* not even written when it cannot fit */
	if (b->count > 0 && b->body.len + 1 + len + sizeof(tail) - 1 > b->max_bytes)
		return SC_BATCH_FULL;
	start = item_start(b);
	if (!start || svc_buf_add(&b->body, item, len) != 0)
		return SVC_ENOMEM;
	return item_end(b, start);
}

int sc_batch_add_msg(struct sc_batch *b, const struct sc_delivery_msg *m, char *reason,
                     size_t reasonlen)
{
	size_t start;
	int rc;

	if (b->closed)
		return SC_BATCH_FULL;
	start = item_start(b);
	if (!start)
		return SVC_ENOMEM;
	rc = sc_delivery_item_add(&b->body, m, reason, reasonlen);
	if (rc == SVC_EPERMANENT)
		svc_buf_truncate(&b->body, b->count == 0 ? 0 : start - 1);
	if (rc != 0)
		return rc;
	return item_end(b, start);
}

const char *sc_batch_body(struct sc_batch *b, size_t *len)
{
	if (!b->closed) {
		if (b->count == 0)
			svc_buf_add(&b->body, head, sizeof(head) - 1);
		svc_buf_add(&b->body, tail, sizeof(tail) - 1);
		b->closed = 1;
	}
	if (b->body.failed)
		return NULL;
	*len = b->body.len;
	return svc_buf_str(&b->body);
}

size_t sc_batch_shrink(size_t n)
{
	return n > 1 ? n / 2 : 1;
}
