/* Token buckets per key in a hashed table (see svc/ratelimit.h). */
#include "svc/clock.h"
#include "svc/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define RATELIMIT_STRIPES 64

struct bucket {
	uint64_t key_hash; /* 0: never used */
	double tokens;
	int64_t last_ms;
};

struct svc_ratelimit {
	double per_s, burst;
	size_t nslots;
	struct bucket *slots;
	pthread_mutex_t locks[RATELIMIT_STRIPES];
};

/* FNV-1a, never 0. */
static uint64_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h ? h : 1;
}

struct svc_ratelimit *svc_ratelimit_new(double per_s, double burst, size_t slots)
{
	struct svc_ratelimit *rl;
	size_t i;

	if (!(per_s > 0) || slots == 0)
		return NULL;
	rl = calloc(1, sizeof(*rl));
	if (!rl || !(rl->slots = calloc(slots, sizeof(*rl->slots)))) {
		free(rl);
		return NULL;
	}
	rl->per_s = per_s;
	rl->burst = burst < 1 ? 1 : burst;
	rl->nslots = slots;
	for (i = 0; i < RATELIMIT_STRIPES; i++) {
		if (pthread_mutex_init(&rl->locks[i], NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&rl->locks[i]);
			free(rl->slots);
			free(rl);
			return NULL;
		}
	}
	return rl;
}

void svc_ratelimit_free(struct svc_ratelimit *rl)
{
	size_t i;

	if (!rl)
		return;
	for (i = 0; i < RATELIMIT_STRIPES; i++)
		pthread_mutex_destroy(&rl->locks[i]);
	free(rl->slots);
	free(rl);
}

long svc_ratelimit_take(struct svc_ratelimit *rl, const char *key, int64_t now_ms)
{
	uint64_t h;
	size_t slot;
	struct bucket *b;
	long wait_s = 0;

	if (!rl)
		return 0;
	if (now_ms < 0)
		now_ms = (int64_t)svc_mono_ms();
	h = hash_key(key ? key : "");
	slot = (size_t)(h % rl->nslots);
	b = &rl->slots[slot];
	pthread_mutex_lock(&rl->locks[slot % RATELIMIT_STRIPES]);
	if (b->key_hash != h) { /* a new client (or another one's slot): a full bucket */
		b->key_hash = h;
		b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rl->per_s / 1000.0;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
	} else {
		wait_s = (long)ceil((1.0 - b->tokens) / rl->per_s);
		if (wait_s < 1)
			wait_s = 1;
	}
	pthread_mutex_unlock(&rl->locks[slot % RATELIMIT_STRIPES]);
	return wait_s;
}

unsigned svc_rate_add(struct svc_rate *r, uint64_t now_ms, unsigned n)
{
	uint64_t start = atomic_load(&r->start_ms);

	if (start == 0 && atomic_compare_exchange_strong(&r->start_ms, &start, now_ms))
		start = now_ms;
	if (now_ms >= start + 1000 &&
	    atomic_compare_exchange_strong(&r->start_ms, &start, now_ms)) {
		uint64_t count = atomic_exchange(&r->count, 0);

		atomic_store(&r->last, (unsigned)(count * 1000 / (now_ms - start)));
	}
	atomic_fetch_add(&r->count, n);
	return atomic_load(&r->last);
}

unsigned svc_rate_last(struct svc_rate *r)
{
	return atomic_load(&r->last);
}
