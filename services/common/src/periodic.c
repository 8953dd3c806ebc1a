/* A thread calling a function every period (see svc/periodic.h). */
#include "svc/periodic.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "svc/clock.h"
#include "svc/log.h"

struct svc_periodic {
	const char *name;
	long period_ms;
	svc_periodic_fn fn;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* signalled by _stop */
	bool stopping;       /* under lock */
};

static void *run(void *vp)
{
	struct svc_periodic *p = vp;
	struct timespec until;
	bool again;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		pthread_mutex_unlock(&p->lock);
		again = p->fn(p->arg);
		until = svc_mono_deadline((uint64_t)p->period_ms);
		pthread_mutex_lock(&p->lock);
		while (!again && !p->stopping &&
		       pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct svc_periodic *svc_periodic_start(const char *name, long period_ms, svc_periodic_fn fn,
                                        void *arg)
{
	struct svc_periodic *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;
	int rc;

	if (!p)
		return NULL;
	*p = (struct svc_periodic){.name = name, .period_ms = period_ms, .fn = fn, .arg = arg};
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto fail_free;
	if (pthread_condattr_init(&attr) != 0)
		goto fail_lock;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		goto fail_lock;
	if (pthread_create(&p->thread, NULL, run, p) != 0)
		goto fail_cond;
	return p;

fail_cond:
	pthread_cond_destroy(&p->wake);
fail_lock:
	pthread_mutex_destroy(&p->lock);
fail_free:
	svc_error("%s: cannot start its thread", name);
	free(p);
	return NULL;
}

void svc_periodic_stop(struct svc_periodic *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
