/*
 * A combiner: many threads ask for the same kind of database work at once
 * (look up a contact, record a payment request); instead of one round trip
 * each, whoever finds no run in progress takes every request queued so far
 * and runs them together (one SELECT ... IN, one multi-row INSERT and
 * COMMIT); the others wait until a run has answered theirs. No request waits
 * for more than the run in progress and its own (and, with
 * svc_combine_linger(), the linger of a lone request). Nothing is cached.
 *
 *     static int run(void *arg, void *const *items, size_t n) { ... }
 *     svc_combiner_init(&c, run, arg);
 *     rc = svc_combine(&c, &my_item);    // from any thread
 *
 * run() answers every item of the group: it returns one code for all, and
 * may leave per-item results in the items (which belong to their callers
 * and stay valid until svc_combine returns).
 */
#ifndef SVC_COMBINE_H
#define SVC_COMBINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct svc_combine_wait;

struct svc_combiner {
	int (*run)(void *arg, void *const *items, size_t n);
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t done;
	struct svc_combine_wait *queue; /* under mu: requests not yet taken */
	bool busy;                      /* under mu: a run is in progress */
};

/* 0, or SVC_ENOMEM. */
int svc_combiner_init(struct svc_combiner *c, int (*run)(void *, void *const *, size_t), void *arg);
/* No request may be in progress. */
void svc_combiner_release(struct svc_combiner *c);

/* Queues `item`, waits until a run has handled it and returns that run's
 * code (SVC_ENOMEM when the group could not be formed). */
int svc_combine(struct svc_combiner *c, void *item);

/*
 * svc_combine(), except that a request that finds no run in progress and
 * nobody else waiting first waits `linger_ms` for company (the requests
 * that come meanwhile join its run) instead of running alone. For work
 * whose cost is mostly its round trip and commit (an order create at a
 * moderate rate); 0 is svc_combine(). Never lingers twice.
 */
int svc_combine_linger(struct svc_combiner *c, void *item, long linger_ms);

/* Requests waiting for a run to take them (tests). */
size_t svc_combiner_waiting(struct svc_combiner *c);

#endif
