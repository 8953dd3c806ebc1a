/*
 * The one monotonic clock and sleep of the project: every timeout, deadline,
 * cache age and backoff wait reads CLOCK_MONOTONIC through here, so a wall
 * clock step never shortens or stretches one.
 */
#ifndef SVC_CLOCK_H
#define SVC_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (an arbitrary origin). Thread-safe. */
uint64_t svc_mono_ms(void);
/* Microseconds on the same clock. Thread-safe. */
uint64_t svc_mono_us(void);
/* Seconds on the same clock, for reports. Thread-safe. */
double svc_mono_s(void);
/* The CLOCK_MONOTONIC instant `ms` from now, for pthread_cond_timedwait on a
 * condition created with pthread_condattr_setclock(CLOCK_MONOTONIC). */
struct timespec svc_mono_deadline(uint64_t ms);
/* Sleeps `ms` milliseconds, resuming after signals. A sleep that must end
 * early on shutdown waits on the owner's stop condition instead (the
 * sidecar's sc_stop_wait_ms, svc/periodic.h). */
void svc_sleep_ms(uint64_t ms);

#endif
