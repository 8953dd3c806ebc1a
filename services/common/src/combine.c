/* The combiner (svc/combine.h). */
#include "svc/combine.h"

#include <stdlib.h>
#include <string.h>

#include "svc/clock.h"
#include "svc/error.h"

/* One waiting request, on its caller's stack. */
struct svc_combine_wait {
	void *item;
	int rc;
	bool answered;
	struct svc_combine_wait *next;
};

int svc_combiner_init(struct svc_combiner *c, int (*run)(void *, void *const *, size_t), void *arg)
{
	memset(c, 0, sizeof(*c));
	c->run = run;
	c->arg = arg;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		return SVC_ENOMEM;
	if (pthread_cond_init(&c->done, NULL) != 0) {
		pthread_mutex_destroy(&c->mu);
		return SVC_ENOMEM;
	}
	return 0;
}

void svc_combiner_release(struct svc_combiner *c)
{
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
}

size_t svc_combiner_waiting(struct svc_combiner *c)
{
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	for (const struct svc_combine_wait *w = c->queue; w; w = w->next)
		n++;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* Runs every queued request as one group. Called and returns with c->mu
 * held; releases it while run() works. */
static void run_queue(struct svc_combiner *c)
{
	struct svc_combine_wait *taken = c->queue, *w;
	void **items;
	size_t n = 0;
	int rc = SVC_ENOMEM;

	c->queue = NULL;
	c->busy = true;
	for (w = taken; w; w = w->next)
		n++;
	pthread_mutex_unlock(&c->mu);
	items = calloc(n, sizeof(*items));
	if (items) {
		size_t i = n;

		/* The queue is newest first: hand the group over oldest first. */
		for (w = taken; w; w = w->next)
			items[--i] = w->item;
		rc = c->run(c->arg, items, n);
	}
	free(items);
	pthread_mutex_lock(&c->mu);
	for (w = taken; w; w = w->next) {
		w->rc = rc;
		w->answered = true;
	}
	c->busy = false;
	pthread_cond_broadcast(&c->done);
}

int svc_combine(struct svc_combiner *c, void *item)
{
	return svc_combine_linger(c, item, 0);
}

int svc_combine_linger(struct svc_combiner *c, void *item, long linger_ms)
{
	struct svc_combine_wait me = {.item = item};
	bool lingered = linger_ms <= 0;

	pthread_mutex_lock(&c->mu);
	me.next = c->queue;
	/* me outlives its place in the queue: run_queue() takes the whole queue
	 * before it answers, and we return only once answered */
	/* cppcheck-suppress autoVariables */
	c->queue = &me;
	while (!me.answered) {
		if (c->busy) {
			pthread_cond_wait(&c->done, &c->mu);
		} else if (!lingered && c->queue == &me && !me.next) {
			/* Alone: hold the combiner as if running, so that those who
			 * come meanwhile queue behind us, and sleep without the lock. */
			lingered = true;
			c->busy = true;
			pthread_mutex_unlock(&c->mu);
			svc_sleep_ms((uint64_t)linger_ms);
			pthread_mutex_lock(&c->mu);
			c->busy = false;
		} else {
			run_queue(c);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return me.rc;
}
