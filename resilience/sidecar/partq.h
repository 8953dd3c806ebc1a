/*
 * Per-partition queues of inbound delivery (inbound.h), pure bookkeeping:
 * which partitions have messages waiting, which one a worker holds, which
 * ones a rebalance is taking away. Not thread-safe: the caller locks.
 *
 * A partition is handed to at most one worker at a time (sc_partq_next marks
 * it busy until sc_partq_done), so the messages of one partition, and with
 * them the events of one key, are delivered in order. Partitions wait their
 * turn in a FIFO ("ready"): one that still has messages when a worker
 * finishes goes to the back.
 */
#ifndef SC_PARTQ_H
#define SC_PARTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One partition's messages, oldest first. Read-only to callers. */
struct sc_partq {
	char *topic;
	int32_t partition;
	void **items; /* items[head, head + len) */
	size_t head, len, cap;
	bool busy;    /* a worker holds it (sc_partq_next .. sc_partq_done) */
	bool ready;   /* in the ready FIFO */
	bool revoked; /* being taken away: handed to no worker any more */
	bool paused;  /* the caller paused its consumption (flow control) */
	bool solo;    /* the caller's mark: deliver it alone (inbound_worker.c) */
	struct sc_partq *next_ready;
};

typedef void (*sc_partq_free_fn)(void *arg, void *item);

/* Caller-embedded. */
struct sc_partq_set {
	struct sc_partq **parts;
	size_t nparts, cap;
	struct sc_partq *ready_head, *ready_tail;
	size_t queued;              /* items in every queue */
	sc_partq_free_fn free_item; /* frees an item the set drops or finishes */
	void *free_arg;             /* free_item's first argument */
};

void sc_partq_set_init(struct sc_partq_set *s, sc_partq_free_fn free_item, void *free_arg);
/* Frees every partition and every item still queued. */
void sc_partq_set_release(struct sc_partq_set *s);

/* The partition's queue, or NULL when it has none. */
struct sc_partq *sc_partq_find(struct sc_partq_set *s, const char *topic, int32_t partition);

/* Appends `item` to its partition's queue (created on first use) and makes the
 * partition ready unless a worker holds it. 0 (the set owns `item`), or
 * SVC_ENOMEM (the caller keeps it). */
int sc_partq_push(struct sc_partq_set *s, const char *topic, int32_t partition, void *item);

/* Takes the partition waiting longest for a worker and marks it busy; NULL when
 * none is ready. */
struct sc_partq *sc_partq_next(struct sc_partq_set *s);

/* Copies up to `max` of the oldest items of `q` into out (still owned by the
 * set); returns how many. */
size_t sc_partq_peek(const struct sc_partq *q, void **out, size_t max);

/* A worker finished the `n` oldest items of `q` (n <= its length): they are
 * freed, the partition is released and, if it still has items and is not
 * revoked, queued as ready again. */
void sc_partq_done(struct sc_partq_set *s, struct sc_partq *q, size_t n);

/* Marks `q` revoked: no worker will get it any more. */
void sc_partq_revoke(struct sc_partq_set *s, struct sc_partq *q);
/* True while a worker still holds a revoked partition. */
bool sc_partq_revoked_busy(const struct sc_partq_set *s);
/* Removes every revoked partition no worker holds, freeing its queued items. */
void sc_partq_drop_revoked(struct sc_partq_set *s);

#endif
