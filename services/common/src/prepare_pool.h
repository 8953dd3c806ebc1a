/*
 * The consumers' prepare pool (libsvc-internal): a fixed set of threads
 * that help run the outside prepare()s of a delivery at once (svc/consumer.h).
 * The threads live until svc__prepare_pool_stop(), so the per-thread HTTP
 * client handles they use stay connected between deliveries.
 */
#ifndef SVC_PREPARE_POOL_H
#define SVC_PREPARE_POOL_H

#include <stddef.h>

/* One unit of work: item `i` of what `arg` describes. */
typedef void svc__prepare_fn(void *arg, size_t i);

/*
 * Calls fn(arg, i) once for each i in [0, n), on the calling thread and,
 * when n > 1, on idle pool threads too; returns when every call returned.
 * Starts the pool on first use (PREPARE_WORKERS threads, default 48; 0
 * runs everything on the caller). Safe to call from several threads at
 * once; after svc__prepare_pool_stop() it runs everything on the caller.
 */
void svc__prepare_pool_run(svc__prepare_fn *fn, void *arg, size_t n);

/*
 * Stops the pool: its threads finish what they took, exit, and are joined.
 * Call when no delivery can start any more (the HTTP servers are stopped);
 * a run that still comes is done by its caller alone. Idempotent.
 */
void svc__prepare_pool_stop(void);

#endif
