/*
 * Exponential backoff with jitter (pure: the caller supplies randomness).
 */
#ifndef RS_BACKOFF_H
#define RS_BACKOFF_H

#include <stdint.h>

struct rs_backoff {
	uint32_t base_ms; /* delay scale of the first retry */
	uint32_t max_ms;  /* cap of any single delay */
};

/*
 * Delay before retry number `attempt` (0 = first retry): "equal jitter",
 * d = min(max_ms, base_ms * 2^attempt), result in [d/2, d], with `random`
 * any uniformly distributed 64-bit value. Never overflows.
 */
uint64_t rs_backoff_delay_ms(const struct rs_backoff *b, unsigned attempt, uint64_t random);

/* A 64-bit random value for the jitter (thread-safe, not cryptographic). */
uint64_t rs_random(void);

#endif
