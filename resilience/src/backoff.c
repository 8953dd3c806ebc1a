/*
 * Exponential backoff with "equal jitter" and the per-thread random source
 * that feeds it (see resilience/backoff.h).
 */
#include "resilience/backoff.h"

#include <stdbool.h>
#include <sys/random.h>
#include <time.h>

uint64_t rs_backoff_delay_ms(const struct rs_backoff *b, unsigned attempt, uint64_t random)
{
	uint64_t d, half;

	if (!b || b->base_ms == 0 || b->max_ms == 0)
		return 0;
	/* base_ms < 2^32, so a shift below 32 fits in 64 bits; anything larger
	 * is past every possible cap anyway. */
	d = attempt < 32 ? (uint64_t)b->base_ms << attempt : b->max_ms;
	if (d > b->max_ms)
		d = b->max_ms;
	half = d / 2;
	/* d - half + 1 <= 2^32, no overflow; result in [half, d]. */
	return half + random % (d - half + 1);
}

/* splitmix64 (Steele, Lea, Flood): one 64-bit word of state, good enough
 * for jitter, and each thread keeps its own so no lock is needed. */
static _Thread_local uint64_t rs_random_state;
static _Thread_local bool rs_random_seeded;

static void rs_random_seed(void)
{
	uint64_t seed = 0;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		/* No entropy yet (early boot) or no syscall: mix time and the
		 * address of this thread's state, distinct per thread. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
		       (uint64_t)(uintptr_t)&rs_random_state;
	}
	rs_random_state = seed;
	rs_random_seeded = true;
}

uint64_t rs_random(void)
{
	uint64_t z;

	if (!rs_random_seeded)
		rs_random_seed();
	z = (rs_random_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}
