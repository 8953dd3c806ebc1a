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

int sc_batch_add(struct sc_batch *b, const char *item, size_t len)
{
	size_t sep = b->count > 0 ? 1 : 0;

	if (b->closed)
		return SC_BATCH_FULL;
	if (b->count == 0 && svc_buf_add(&b->body, head, sizeof(head) - 1) != 0)
		return SVC_ENOMEM;
	if (b->count > 0 && b->body.len + sep + len + sizeof(tail) - 1 > b->max_bytes)
		return SC_BATCH_FULL;
	if ((sep && svc_buf_add(&b->body, ",", 1) != 0) || svc_buf_add(&b->body, item, len) != 0)
		return SVC_ENOMEM;
	b->count++;
	return 0;
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
