/*
 * A stop flag the sidecar's threads wait on: sleeps that end early when the
 * process is asked to stop, so shutdown never waits out a backoff.
 */
#ifndef SC_STOP_H
#define SC_STOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct sc_stop {
	pthread_mutex_t mu;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	bool stopped;
};

/* 0, or SVC_ENOMEM when the mutex/condition cannot be created. */
int sc_stop_init(struct sc_stop *s);
void sc_stop_release(struct sc_stop *s);

/* Raises the flag and wakes every waiter. */
void sc_stop_request(struct sc_stop *s);
bool sc_stop_requested(struct sc_stop *s);
/* Sleeps up to `ms`; true when the stop flag is (or becomes) raised. */
bool sc_stop_wait_ms(struct sc_stop *s, uint64_t ms);

#endif
