/*
 * A background job: a thread that calls fn(arg) every period_ms until it is
 * stopped. fn returns true when more work is due at once (a full batch): it
 * is then called again without waiting. Stopping wakes the wait and joins.
 */
#ifndef SVC_PERIODIC_H
#define SVC_PERIODIC_H

#include <stdbool.h>

struct svc_periodic;

typedef bool (*svc_periodic_fn)(void *arg);

/* Starts the thread (the first call at once). `name` is for the log. NULL,
 * logged, when the thread cannot start or on OOM. */
struct svc_periodic *svc_periodic_start(const char *name, long period_ms, svc_periodic_fn fn,
                                        void *arg);
/* Stops and joins (a running call finishes first), frees. Accepts NULL. */
void svc_periodic_stop(struct svc_periodic *p);

#endif
