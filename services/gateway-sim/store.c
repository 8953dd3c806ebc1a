/*
 * gw_store (store.h): chained hash table plus an insertion-ordered list for
 * evicting the oldest entry, all under one mutex. Answers are small and
 * copied out, so the lock is held only for the lookup itself.
 */
#include "services/gateway-sim/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

struct gw_entry {
	char *key;
	int status;
	int64_t fingerprint;
	json_t *body;
	struct gw_entry *chain; /* next in the same bucket */
	struct gw_entry *newer; /* next in insertion order */
};

struct gw_store {
	pthread_mutex_t lock;
	struct gw_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t capacity;
	struct gw_entry *oldest;
	struct gw_entry *newest;
};

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

struct gw_store *gw_store_new(size_t capacity)
{
	struct gw_store *s = NULL;
	size_t n = 16;

	if (capacity == 0)
		return NULL;
	while (n < capacity && n < ((size_t)1 << 24))
		n <<= 1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->buckets = calloc(n, sizeof(*s->buckets));
	if (!s->buckets) {
		free(s);
		return NULL;
	}
	s->nbuckets = n;
	s->capacity = capacity;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s->buckets);
		free(s);
		return NULL;
	}
	return s;
}

static void entry_free(struct gw_entry *e)
{
	json_decref(e->body);
	free(e->key);
	free(e);
}

void gw_store_free(struct gw_store *s)
{
	struct gw_entry *e, *next;

	if (!s)
		return;
	for (e = s->oldest; e; e = next) {
		next = e->newer;
		entry_free(e);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->buckets);
	free(s);
}

/* Caller holds the lock. */
static struct gw_entry *find(struct gw_store *s, const char *key)
{
	struct gw_entry *e = s->buckets[hash(key) & (s->nbuckets - 1)];

	while (e && strcmp(e->key, key))
		e = e->chain;
	return e;
}

/* Forgets the oldest entry. Caller holds the lock; the store is not empty. */
static void evict_oldest(struct gw_store *s)
{
	struct gw_entry *victim = s->oldest;
	struct gw_entry **link = &s->buckets[hash(victim->key) & (s->nbuckets - 1)];

	while (*link != victim)
		link = &(*link)->chain;
	*link = victim->chain;
	s->oldest = victim->newer;
	if (!s->oldest)
		s->newest = NULL;
	s->count--;
	entry_free(victim);
}

bool gw_store_get(struct gw_store *s, const char *key, int *status, int64_t *fingerprint,
                  json_t **body)
{
	struct gw_entry *e;
	bool hit = false;

	pthread_mutex_lock(&s->lock);
	e = find(s, key);
	if (e) {
		*body = json_deep_copy(e->body);
		*status = e->status;
		*fingerprint = e->fingerprint;
		hit = *body != NULL;
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

int gw_store_put(struct gw_store *s, const char *key, int status, int64_t fingerprint, json_t *body)
{
	struct gw_entry *e = NULL;
	size_t b;
	int rc = 0;

	if (!body)
		return SVC_ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		json_decref(body);
		return SVC_ENOMEM;
	}
	e->status = status;
	e->fingerprint = fingerprint;
	e->body = body;

	pthread_mutex_lock(&s->lock);
	if (find(s, key)) {
		rc = SVC_DUPLICATE;
		goto unlock;
	}
	if (s->count >= s->capacity)
		evict_oldest(s);
	b = hash(key) & (s->nbuckets - 1);
	e->chain = s->buckets[b];
	s->buckets[b] = e;
	if (s->newest)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
	s->count++;
	e = NULL; /* owned by the store now */
unlock:
	pthread_mutex_unlock(&s->lock);
	if (e)
		entry_free(e);
	return rc;
}

int gw_store_update(struct gw_store *s, const char *key, int (*fn)(json_t *body, void *arg),
                    void *arg)
{
	struct gw_entry *e;
	int rc;

	pthread_mutex_lock(&s->lock);
	e = find(s, key);
	rc = e ? fn(e->body, arg) : SVC_ENOTFOUND;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t gw_store_count(struct gw_store *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
