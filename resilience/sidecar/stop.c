/* The stop flag: a mutex-guarded bool plus a condition for interruptible sleeps. */
#include "resilience/sidecar/stop.h"

#include <time.h>

#include "svc/clock.h"
#include "svc/error.h"

int sc_stop_init(struct sc_stop *s)
{
	pthread_condattr_t attr;
	int rc = SVC_ENOMEM;

	s->stopped = false;
	if (pthread_condattr_init(&attr) != 0)
		return SVC_ENOMEM;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0)
		goto out_attr;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		goto out_attr;
	if (pthread_cond_init(&s->cond, &attr) != 0) {
		pthread_mutex_destroy(&s->mu);
		goto out_attr;
	}
	rc = 0;
out_attr:
	pthread_condattr_destroy(&attr);
	return rc;
}

void sc_stop_release(struct sc_stop *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
}

void sc_stop_request(struct sc_stop *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopped = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

bool sc_stop_requested(struct sc_stop *s)
{
	pthread_mutex_lock(&s->mu);
	bool stopped = s->stopped;
	pthread_mutex_unlock(&s->mu);
	return stopped;
}

bool sc_stop_wait_ms(struct sc_stop *s, uint64_t ms)
{
	struct timespec deadline = svc_mono_deadline(ms);

	pthread_mutex_lock(&s->mu);
	while (!s->stopped) {
		if (pthread_cond_timedwait(&s->cond, &s->mu, &deadline) != 0)
			break; /* timed out */
	}
	bool stopped = s->stopped;
	pthread_mutex_unlock(&s->mu);
	return stopped;
}
