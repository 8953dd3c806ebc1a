/* Per-partition queues of inbound delivery (partq.h). */
#include "resilience/sidecar/partq.h"

#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

void sc_partq_set_init(struct sc_partq_set *s, sc_partq_free_fn free_item, void *free_arg)
{
	memset(s, 0, sizeof(*s));
	s->free_item = free_item;
	s->free_arg = free_arg;
}

/* Frees the queue's items [head, head + n) and drops them from the queue. */
static void pop_items(struct sc_partq_set *s, struct sc_partq *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->free_item)
			s->free_item(s->free_arg, q->items[q->head + i]);
	q->head += n;
	q->len -= n;
	s->queued -= n;
	if (q->len == 0)
		q->head = 0;
}

static void partq_free(struct sc_partq_set *s, struct sc_partq *q)
{
	pop_items(s, q, q->len);
	free(q->items);
	free(q->topic);
	free(q);
}

void sc_partq_set_release(struct sc_partq_set *s)
{
	for (size_t i = 0; i < s->nparts; i++)
		partq_free(s, s->parts[i]);
	free(s->parts);
	memset(s, 0, sizeof(*s));
}

struct sc_partq *sc_partq_find(struct sc_partq_set *s, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < s->nparts; i++)
		if (s->parts[i]->partition == partition && strcmp(s->parts[i]->topic, topic) == 0)
			return s->parts[i];
	return NULL;
}

static struct sc_partq *partq_add(struct sc_partq_set *s, const char *topic, int32_t partition)
{
	struct sc_partq *q = NULL;

	if (s->nparts == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct sc_partq **parts = realloc(s->parts, cap * sizeof(*parts));
		if (!parts)
			goto fail;
		s->parts = parts;
		s->cap = cap;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		goto fail;
	q->topic = strdup(topic);
	if (!q->topic)
		goto fail;
	q->partition = partition;
	s->parts[s->nparts++] = q;
	return q;

fail:
	if (q)
		free(q->topic);
	free(q);
	return NULL;
}

/* Room for one more item at the end: compacts, or grows the array. */
static int make_room(struct sc_partq *q)
{
	if (q->head + q->len < q->cap)
		return 0;
	if (q->head > 0) {
		memmove(q->items, q->items + q->head, q->len * sizeof(*q->items));
		q->head = 0;
		return 0;
	}
	size_t cap = q->cap ? q->cap * 2 : 64;
	void **items = realloc(q->items, cap * sizeof(*items));
	if (!items)
		return SVC_ENOMEM;
	q->items = items;
	q->cap = cap;
	return 0;
}

static void make_ready(struct sc_partq_set *s, struct sc_partq *q)
{
	if (q->ready || q->busy || q->revoked || q->len == 0)
		return;
	q->ready = true;
	q->next_ready = NULL;
	if (s->ready_tail)
		s->ready_tail->next_ready = q;
	else
		s->ready_head = q;
	s->ready_tail = q;
}

static void unlink_ready(struct sc_partq_set *s, struct sc_partq *q)
{
	struct sc_partq **pp = &s->ready_head, *prev = NULL;

	if (!q->ready)
		return;
	while (*pp && *pp != q) {
		prev = *pp;
		pp = &(*pp)->next_ready;
	}
	if (*pp)
		*pp = q->next_ready;
	if (s->ready_tail == q)
		s->ready_tail = prev;
	q->ready = false;
	q->next_ready = NULL;
}

int sc_partq_push(struct sc_partq_set *s, const char *topic, int32_t partition, void *item)
{
	struct sc_partq *q = sc_partq_find(s, topic, partition);

	if (!q)
		q = partq_add(s, topic, partition);
	if (!q || make_room(q) != 0)
		return SVC_ENOMEM;
	q->items[q->head + q->len++] = item;
	s->queued++;
	make_ready(s, q);
	return 0;
}

struct sc_partq *sc_partq_next(struct sc_partq_set *s)
{
	struct sc_partq *q = s->ready_head;

	if (!q)
		return NULL;
	unlink_ready(s, q);
	q->busy = true;
	return q;
}

size_t sc_partq_peek(const struct sc_partq *q, void **out, size_t max)
{
	size_t n = q->len < max ? q->len : max;

	memcpy(out, q->items + q->head, n * sizeof(*out));
	return n;
}

void sc_partq_done(struct sc_partq_set *s, struct sc_partq *q, size_t n)
{
	pop_items(s, q, n <= q->len ? n : q->len);
	q->busy = false;
	make_ready(s, q);
}

void sc_partq_revoke(struct sc_partq_set *s, struct sc_partq *q)
{
	unlink_ready(s, q);
	q->revoked = true;
}

bool sc_partq_revoked_busy(const struct sc_partq_set *s)
{
	for (size_t i = 0; i < s->nparts; i++)
		if (s->parts[i]->revoked && s->parts[i]->busy)
			return true;
	return false;
}

void sc_partq_drop_revoked(struct sc_partq_set *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nparts; i++) {
		struct sc_partq *q = s->parts[i];
		if (q->revoked && !q->busy)
			partq_free(s, q);
		else
			s->parts[kept++] = q;
	}
	s->nparts = kept;
}
