/*
 * gw_store (store.h): chained hash table plus an insertion-ordered list for
 * evicting the oldest entry, all under one mutex. Answers are small and
 * copied out, so the lock is held only for the lookup itself. The journal
 * is written under the same mutex, so its lines are in the order of the
 * changes they record.
 */
#include "services/gateway-sim/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc/error.h"
#include "svc/log.h"

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
	int journal_fd; /* -1: memory only */
	bool journal_sync;
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
	s->journal_fd = -1;
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
	if (s->journal_fd >= 0)
		close(s->journal_fd);
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

/* Appends `rec` (stolen) as one line to the journal, if there is one.
 * Caller holds the lock. 0, SVC_ENOMEM or SVC_ETRANSIENT. */
static int journal_append(struct gw_store *s, json_t *rec)
{
	char *line = NULL;
	size_t len, off = 0;
	int rc = 0;

	if (s->journal_fd < 0) {
		json_decref(rec);
		return 0;
	}
	line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (!line)
		return SVC_ENOMEM;
	len = strlen(line);
	line[len++] = '\n'; /* over the NUL: written by length */
	while (off < len) {
		ssize_t n = write(s->journal_fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			svc_error("gateway ledger: write failed: %s", strerror(errno));
			rc = SVC_ETRANSIENT;
			goto out;
		}
		off += (size_t)n;
	}
	if (s->journal_sync && fdatasync(s->journal_fd) != 0) {
		svc_error("gateway ledger: fdatasync failed: %s", strerror(errno));
		rc = SVC_ETRANSIENT;
	}
out:
	free(line);
	return rc;
}

static json_t *put_record(const struct gw_entry *e)
{
	return json_pack("{s:s, s:i, s:I, s:O}", "k", e->key, "s", e->status, "f",
	                 (json_int_t)e->fingerprint, "b", e->body);
}

/* Links `e` in as the newest entry, forgetting the oldest when full. Caller
 * holds the lock; e's key is not in the store. */
static void link_newest(struct gw_store *s, struct gw_entry *e)
{
	size_t b;

	if (s->count >= s->capacity)
		evict_oldest(s);
	b = hash(e->key) & (s->nbuckets - 1);
	e->chain = s->buckets[b];
	s->buckets[b] = e;
	if (s->newest)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
	s->count++;
}

int gw_store_put(struct gw_store *s, const char *key, int status, int64_t fingerprint, json_t *body)
{
	struct gw_entry *e = NULL;
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
	rc = journal_append(s, put_record(e));
	if (rc)
		goto unlock;
	link_newest(s, e);
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
	json_t *copy = NULL;
	int rc;

	pthread_mutex_lock(&s->lock);
	e = find(s, key);
	if (!e) {
		rc = SVC_ENOTFOUND;
		goto unlock;
	}
	copy = json_deep_copy(e->body);
	if (!copy) {
		rc = SVC_ENOMEM;
		goto unlock;
	}
	rc = fn(copy, arg);
	if (rc == 0)
		rc = journal_append(s, json_pack("{s:s, s:O}", "k", key, "u", copy));
	if (rc == 0) {
		json_decref(e->body);
		e->body = copy;
		copy = NULL;
	}
unlock:
	pthread_mutex_unlock(&s->lock);
	json_decref(copy);
	return rc;
}

/* Applies one journal line to the store (no journal open yet). False when
 * the line is not a record. */
static bool replay_line(struct gw_store *s, const char *line)
{
	json_t *rec = json_loads(line, 0, NULL), *body;
	const char *key = json_string_value(json_object_get(rec, "k"));
	struct gw_entry *e;
	bool ok = false;

	if (!key)
		goto out;
	if ((body = json_object_get(rec, "u"))) { /* an update */
		e = find(s, key);
		if (e) {
			json_decref(e->body);
			e->body = json_incref(body);
		}
		ok = true;
	} else if ((body = json_object_get(rec, "b"))) { /* a put */
		ok = gw_store_put(s, key, (int)json_integer_value(json_object_get(rec, "s")),
		                  json_integer_value(json_object_get(rec, "f")),
		                  json_incref(body)) != SVC_ENOMEM;
	}
out:
	json_decref(rec);
	return ok;
}

/* Writes every entry, oldest first, as put records to a new file `tmp`,
 * synced. 0 or SVC_ETRANSIENT. */
static int write_snapshot(struct gw_store *s, const char *tmp)
{
	int rc = 0;

	s->journal_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s->journal_fd < 0) {
		svc_error("gateway ledger: cannot create %s: %s", tmp, strerror(errno));
		return SVC_ETRANSIENT;
	}
	for (const struct gw_entry *e = s->oldest; e && rc == 0; e = e->newer)
		rc = journal_append(s, put_record(e));
	if (rc == 0 && fsync(s->journal_fd) != 0)
		rc = SVC_ETRANSIENT;
	close(s->journal_fd);
	s->journal_fd = -1;
	return rc;
}

int gw_store_journal(struct gw_store *s, const char *path, bool sync)
{
	char tmp[4096], *line = NULL;
	size_t cap = 0, lineno = 0, skipped = 0;
	FILE *in = NULL;
	int rc = SVC_ETRANSIENT;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return SVC_ETRANSIENT;
	in = fopen(path, "re");
	if (!in && errno != ENOENT) {
		svc_error("gateway ledger: cannot read %s: %s", path, strerror(errno));
		return SVC_ETRANSIENT;
	}
	while (in && getline(&line, &cap, in) > 0) {
		lineno++;
		if (!replay_line(s, line)) {
			svc_warn("gateway ledger: %s line %zu is not a record: skipped", path,
			         lineno);
			skipped++;
		}
	}
	free(line);
	if (in && ferror(in)) {
		svc_error("gateway ledger: reading %s failed", path);
		goto out;
	}
	if (write_snapshot(s, tmp) != 0)
		goto out;
	if (rename(tmp, path) != 0) {
		svc_error("gateway ledger: cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	s->journal_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->journal_fd < 0) {
		svc_error("gateway ledger: cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	s->journal_sync = sync;
	svc_info("gateway ledger %s: %zu entries restored from %zu lines (%zu skipped)", path,
	         s->count, lineno, skipped);
	rc = 0;
out:
	if (in)
		fclose(in);
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
