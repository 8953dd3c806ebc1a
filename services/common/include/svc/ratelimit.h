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

#endif
