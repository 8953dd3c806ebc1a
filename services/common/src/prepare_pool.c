/*
 * The prepare pool (prepare_pool.h). A run is a wave of n items queued for
 * the pool's threads; its submitter works on it too, takes it off the queue
 * once every item is taken, and waits for the helpers that joined in.
 */
#include "prepare_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "svc/config.h"
#include "svc/log.h"

struct prep_wave {
	svc__prepare_fn *fn;
	void *arg;
	size_t n;
	atomic_size_t next; /* the next item to take */
	size_t done;        /* under pool.mu: items done */
	size_t helpers;     /* under pool.mu: pool threads working on it */
	struct prep_wave *queued_next;
};

static struct {
	pthread_once_t once;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a wave was queued, or the pool stops */
	pthread_cond_t done; /* a wave's item finished */
	struct prep_wave *queue;
	pthread_t *threads; /* workers of them, joined by svc__prepare_pool_stop */
	size_t workers;
	bool stopping; /* under mu */
} pool = {.once = PTHREAD_ONCE_INIT,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .work = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* Takes and runs items of `w` until none is left. */
static void wave_work(struct prep_wave *w)
{
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->n) {
		w->fn(w->arg, i);
		pthread_mutex_lock(&pool.mu);
		w->done++;
		pthread_cond_broadcast(&pool.done);
		pthread_mutex_unlock(&pool.mu);
	}
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.mu);
	while (!pool.stopping) {
		struct prep_wave *w = pool.queue;

		if (!w) {
			pthread_cond_wait(&pool.work, &pool.mu);
			continue;
		}
		if (atomic_load(&w->next) >= w->n) { /* all taken: off the queue */
			pool.queue = w->queued_next;
			continue;
		}
		w->helpers++; /* its submitter waits for us before it returns */
		pthread_mutex_unlock(&pool.mu);
		wave_work(w);
		pthread_mutex_lock(&pool.mu);
		w->helpers--;
		pthread_cond_broadcast(&pool.done);
	}
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

static void pool_start(void)
{
	long want = svc_env_long("PREPARE_WORKERS", 48, 0, 256);

	pthread_mutex_lock(&pool.mu);
	if (pool.stopping)
		want = 0;
	pthread_mutex_unlock(&pool.mu);
	pool.threads = calloc(want > 0 ? (size_t)want : 1, sizeof(*pool.threads));
	for (long i = 0; pool.threads && i < want; i++) {
		if (pthread_create(&pool.threads[pool.workers], NULL, pool_main, NULL) != 0)
			break;
		pool.workers++;
	}
	if ((long)pool.workers < want)
		svc_warn("inbox: %zu of %ld prepare workers started", pool.workers, want);
}

void svc__prepare_pool_run(svc__prepare_fn *fn, void *arg, size_t n)
{
	struct prep_wave w = {.fn = fn, .arg = arg, .n = n};
	struct prep_wave **tail;

	atomic_init(&w.next, 0);
	pthread_once(&pool.once, pool_start);
	if (n > 1 && pool.workers > 0) {
		pthread_mutex_lock(&pool.mu);
		if (!pool.stopping) {
			for (tail = &pool.queue; *tail; tail = &(*tail)->queued_next)
				;
			*tail = &w;
			pthread_cond_broadcast(&pool.work);
		}
		pthread_mutex_unlock(&pool.mu);
	}
	wave_work(&w);
	pthread_mutex_lock(&pool.mu);
	/* Off the queue, so no other thread starts on it; then wait for those
	 * that did. */
	for (tail = &pool.queue; *tail; tail = &(*tail)->queued_next) {
		if (*tail == &w) {
			*tail = w.queued_next;
			break;
		}
	}
	while (w.done < w.n || w.helpers > 0)
		pthread_cond_wait(&pool.done, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
}

/* Only so that a stop before any run leaves no start behind. */
static void pool_start_none(void)
{
}

void svc__prepare_pool_stop(void)
{
	bool first;

	pthread_mutex_lock(&pool.mu);
	first = !pool.stopping;
	pool.stopping = true;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.mu);
	/* A pool never started stays so; one started is joined once. */
	pthread_once(&pool.once, pool_start_none);
	for (size_t i = 0; first && i < pool.workers; i++)
		pthread_join(pool.threads[i], NULL);
	if (first) {
		free(pool.threads);
		pool.threads = NULL;
	}
}
