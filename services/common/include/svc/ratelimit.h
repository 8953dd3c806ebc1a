/*
 * Per-client rate limits: a token bucket per key (a user id), refilled at
 * `per_s` tokens a second up to `burst`. Buckets live in a fixed table of
 * `slots` entries chosen by the key's hash; two keys sharing a slot share a
 * bucket until one of them takes the slot over, which only ever makes the
 * limit looser, never refuses an idle client. Thread-safe (striped locks).
 * The limit is per process: N replicas admit N times the rate.
 */
#ifndef SVC_RATELIMIT_H
#define SVC_RATELIMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct svc_ratelimit;

/* NULL when per_s <= 0 (no limit) or out of memory. */
struct svc_ratelimit *svc_ratelimit_new(double per_s, double burst, size_t slots);
void svc_ratelimit_free(struct svc_ratelimit *rl);

/* Takes one token for `key` at `now_ms` (CLOCK_MONOTONIC milliseconds; -1:
 * now): 0 when allowed, else the whole seconds (>= 1) until a token is back,
 * for Retry-After. A NULL limiter allows everything. */
long svc_ratelimit_take(struct svc_ratelimit *rl, const char *key, int64_t now_ms);

/*
 * Events per second, for work that waits for company only while it is
 * quiet (the order service's creates, a sidecar's relay): the count of the
 * last window of at least a second. Atomics, no lock: two calls that end a
 * window at once may each count in a different window, which moves the
 * figure by their events. Zero it to start.
 */
struct svc_rate {
	_Atomic uint64_t start_ms; /* the current window's start */
	_Atomic uint64_t count;    /* events in it so far */
	atomic_uint last;          /* per second, in the last whole window */
};

/* Counts n events at `now_ms` (monotonic) and returns the rate of the last
 * whole window (0 before the first one ended; after a quiet spell, the few
 * events of that long window over its length). */
unsigned svc_rate_add(struct svc_rate *r, uint64_t now_ms, unsigned n);
/* The rate of the last whole window, counting nothing. */
unsigned svc_rate_last(struct svc_rate *r);

#endif
