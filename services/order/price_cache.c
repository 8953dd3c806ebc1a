/*
 * Price cache (price_cache.h): a chained hash table split into stripes, each
 * with its own mutex, its buckets and a list of its entries in the order they
 * were stored (oldest first), which gives both the eviction order and O(1)
 * removal.
 */
#include "services/order/price_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"
#include "svc/validate.h"

/* Few enough that a stripe's lock is rarely contended by 8-32 HTTP threads. */
#define STRIPES_MAX 16
/* Below this many entries in all, one stripe (eviction is then exact). */
#define STRIPED_MIN 64

struct entry {
	struct entry *chain; /* next in the same bucket */
	struct entry *older; /* age list: towards the oldest */
	struct entry *newer; /* age list: towards the newest */
	int64_t stored_ms;
	int64_t price;
	uint64_t hash;
	char key[SVC_ID_MAX + 1];
};

struct stripe {
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t mask;         /* buckets - 1 (a power of two) */
	size_t count, limit; /* entries held, at most `limit` */
	struct entry *oldest, *newest;
};

struct order_price_cache {
	int64_t ttl_ms;
	size_t nstripes;
	struct stripe stripes[STRIPES_MAX];
};

/* FNV-1a, 64 bits, then a finalizer so that the high bits (the stripe) are
 * as well spread as the low ones for ids that differ in one digit. */
static uint64_t hash_key(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static struct stripe *stripe_of(struct order_price_cache *c, uint64_t h)
{
	/* the high bits pick the stripe, the low ones the bucket */
	return &c->stripes[(h >> 56) % c->nstripes];
}

static struct entry **bucket_of(struct stripe *s, uint64_t h)
{
	return &s->buckets[h & s->mask];
}

static struct entry *find(struct stripe *s, uint64_t h, const char *key)
{
	struct entry *e;

	for (e = *bucket_of(s, h); e; e = e->chain)
		if (e->hash == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

static void age_unlink(struct stripe *s, struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	e->older = e->newer = NULL;
}

static void age_append(struct stripe *s, struct entry *e)
{
	e->older = s->newest;
	e->newer = NULL;
	if (s->newest)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
}

/* Unlinks `e` from its bucket and the age list and frees it. */
static void drop(struct stripe *s, struct entry *e)
{
	struct entry **p = bucket_of(s, e->hash);

	while (*p != e)
		p = &(*p)->chain;
	*p = e->chain;
	age_unlink(s, e);
	s->count--;
	free(e);
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 8;

	while (p < n)
		p <<= 1;
	return p;
}

struct order_price_cache *order_price_cache_new(size_t max_entries, int64_t ttl_ms)
{
	struct order_price_cache *c = NULL;
	size_t i, per;

	if (max_entries == 0 || ttl_ms <= 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ttl_ms = ttl_ms;
	c->nstripes = max_entries < STRIPED_MIN ? 1 : STRIPES_MAX;
	per = max_entries / c->nstripes;
	for (i = 0; i < c->nstripes; i++) {
		struct stripe *s = &c->stripes[i];
		size_t nb = pow2_at_least(per);

		s->limit = per;
		s->mask = nb - 1;
		s->buckets = calloc(nb, sizeof(*s->buckets));
		if (!s->buckets || pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->buckets);
			s->buckets = NULL;
			goto free_cache;
		}
	}
	return c;
free_cache:
	c->nstripes = i; /* only the stripes set up so far */
	order_price_cache_free(c);
	return NULL;
}

void order_price_cache_free(struct order_price_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nstripes; i++) {
		struct stripe *s = &c->stripes[i];

		while (s->oldest)
			drop(s, s->oldest);
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
	}
	free(c);
}

bool order_price_cache_get(struct order_price_cache *c, const char *product_id, int64_t now_ms,
                           int64_t *price)
{
	struct stripe *s;
	struct entry *e;
	uint64_t h;
	bool hit = false;

	if (!c || !product_id)
		return false;
	h = hash_key(product_id);
	s = stripe_of(c, h);
	pthread_mutex_lock(&s->lock);
	e = find(s, h, product_id);
	if (e && now_ms - e->stored_ms < c->ttl_ms) {
		*price = e->price;
		hit = true;
	} else if (e) {
		drop(s, e);
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

int order_price_cache_put(struct order_price_cache *c, const char *product_id, int64_t price,
                          int64_t now_ms)
{
	struct stripe *s;
	struct entry *e;
	size_t len;
	uint64_t h;
	int rc = 0;

	if (!c)
		return 0;
	len = product_id ? strlen(product_id) : 0;
	if (len == 0 || len > SVC_ID_MAX)
		return SVC_EPERMANENT;
	h = hash_key(product_id);
	s = stripe_of(c, h);
	pthread_mutex_lock(&s->lock);
	e = find(s, h, product_id);
	if (e) { /* refreshed: now the newest */
		age_unlink(s, e);
		goto store;
	}
	if (s->count >= s->limit)
		drop(s, s->oldest);
	e = calloc(1, sizeof(*e));
	if (!e) {
		rc = SVC_ENOMEM;
		goto unlock;
	}
	e->hash = h;
	memcpy(e->key, product_id, len + 1);
	e->chain = *bucket_of(s, h);
	*bucket_of(s, h) = e;
	s->count++;
store:
	e->price = price;
	e->stored_ms = now_ms;
	age_append(s, e);
unlock:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t order_price_cache_size(struct order_price_cache *c)
{
	size_t n = 0;

	for (size_t i = 0; c && i < c->nstripes; i++) {
		pthread_mutex_lock(&c->stripes[i].lock);
		n += c->stripes[i].count;
		pthread_mutex_unlock(&c->stripes[i].lock);
	}
	return n;
}
