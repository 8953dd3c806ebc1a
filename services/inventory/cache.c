/*
 * Redis stock cache (cache.h). Writes go through one Lua script: compare the
 * cached version, set all fields and the TTL atomically, for one product or
 * many at once; reads of many products go through another (every HGETALL
 * in one round trip). Every Redis call is admitted and recorded by the
 * "redis" circuit breaker.
 */
#include "services/inventory/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resilience/breaker.h"
#include "svc/breaker.h"
#include "svc/clock.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"
#include "svc/redis.h"
#include "svc/service.h"

#define INV_CACHE_TTL_S         300
#define INV_CACHE_WARN_EVERY_MS 5000

struct inv_cache {
	struct rs_breaker *breaker;
	pthread_mutex_t lock; /* guards the dirty list */
	/* Products whose cached copy may be stale: a write was skipped or failed. */
	char (*dirty)[INV_PRODUCT_ID_MAX + 1];
	size_t ndirty;
	atomic_bool has_dirty;
	bool overflowed; /* some were not remembered: logged once per outage */
};

/*
 * Writes each KEYS[i] unless it holds version ARGV[..] or a newer one. ARGV:
 * the TTL, then for each key version, available, reserved, sold, price,
 * name. Returns how many were written.
 */
static const char set_if_newer[] =
        "local ttl, n = ARGV[1], 0 "
        "for i, k in ipairs(KEYS) do "
        "local a = (i - 1) * 6 + 1 "
        "local v = redis.call('HGET', k, 'version') "
        "if not v or tonumber(v) < tonumber(ARGV[a + 1]) then "
        "redis.call('HSET', k, 'version', ARGV[a + 1], 'available', ARGV[a + 2], "
        "'reserved', ARGV[a + 3], 'sold', ARGV[a + 4], 'price', ARGV[a + 5], "
        "'name', ARGV[a + 6]) "
        "redis.call('EXPIRE', k, ttl) "
        "n = n + 1 "
        "end end "
        "return n";

/* Every KEYS[i]'s HGETALL, in order (an absent key gives an empty array). */
static const char get_all[] = "local r = {} "
                              "for i, k in ipairs(KEYS) do r[i] = redis.call('HGETALL', k) end "
                              "return r";

/* The strings of one product in a set_if_newer call. */
#define STORE_ARGS 6
/* The longest decimal int64 with its sign and NUL. */
#define I64_CHARS 21

struct inv_cache *inv_cache_new(void)
{
	struct inv_cache *c = calloc(1, sizeof(*c));
	struct rs_breaker_config cfg;

	if (!c)
		return NULL;
	c->dirty = calloc(INV_CACHE_DIRTY_MAX, sizeof(*c->dirty));
	if (!c->dirty || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->dirty);
		free(c);
		return NULL;
	}
	atomic_init(&c->has_dirty, false);
	rs_breaker_config_default(&cfg);
	if (svc_breaker_config_from_env(&cfg, "REDIS_BREAKER", "cache") == 0)
		c->breaker = rs_breaker_new("redis", &cfg);
	if (!c->breaker) {
		svc_error("cache: cannot create the Redis circuit breaker (REDIS_BREAKER_*)");
		inv_cache_free(c);
		return NULL;
	}
	return c;
}

void inv_cache_free(struct inv_cache *c)
{
	if (!c)
		return;
	rs_breaker_free(c->breaker);
	pthread_mutex_destroy(&c->lock);
	free(c->dirty);
	free(c);
}

/* The cache state when Redis is configured, else NULL (every call a no-op). */
static struct inv_cache *cache_of(struct svc_ctx *ctx)
{
	return ctx->redis ? ctx->user : NULL;
}

/* Logs that Redis is unavailable, at most once per INV_CACHE_WARN_EVERY_MS. */
static void warn_unavailable(const char *what)
{
	static _Atomic int64_t last_ms;
	int64_t now = svc_now_ms(), prev = atomic_load(&last_ms);

	if (now - prev >= INV_CACHE_WARN_EVERY_MS &&
	    atomic_compare_exchange_strong(&last_ms, &prev, now))
		svc_warn("redis unavailable (%s): serving stock from the database", what);
}

/* Remembers that the cached copy of `product_id` may be stale. */
static void mark_dirty(struct inv_cache *c, const char *product_id)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->ndirty && strcmp(c->dirty[i], product_id) != 0; i++)
		;
	if (i == c->ndirty && c->ndirty < INV_CACHE_DIRTY_MAX) {
		snprintf(c->dirty[c->ndirty++], sizeof(c->dirty[0]), "%s", product_id);
	} else if (i == c->ndirty && !c->overflowed) {
		c->overflowed = true;
		svc_warn("cache: more than %d products changed while Redis was unavailable; "
		         "the others may be served stale until their TTL",
		         INV_CACHE_DIRTY_MAX);
	}
	atomic_store(&c->has_dirty, true);
	pthread_mutex_unlock(&c->lock);
}

/* Redis answers again: deletes the possibly stale copies, so that the next
 * read loads the database's state. Stops at the first failure (Redis gone
 * again); what is left stays listed for the next time. */
static void forget_dirty(struct svc_ctx *ctx, struct inv_cache *c)
{
	size_t done = 0;

	pthread_mutex_lock(&c->lock);
	for (; done < c->ndirty; done++) {
		redisReply *reply = svc_redis_command(ctx->redis, "DEL inv:%s", c->dirty[done]);

		if (!reply)
			break;
		freeReplyObject(reply);
	}
	if (done > 0)
		svc_info("cache: dropped %zu cached product(s) changed during the Redis outage",
		         done);
	memmove(c->dirty, c->dirty + done, (c->ndirty - done) * sizeof(c->dirty[0]));
	c->ndirty -= done;
	if (c->ndirty == 0)
		c->overflowed = false;
	atomic_store(&c->has_dirty, c->ndirty > 0);
	pthread_mutex_unlock(&c->lock);
}

/* May a Redis call go ahead? Sets *start for cache_done(). */
static bool cache_allow(struct inv_cache *c, uint64_t *start)
{
	*start = svc_mono_ms();
	return rs_breaker_allow(c->breaker, *start);
}

/* Records the outcome of an admitted call; after a success, cleans up what
 * the outage left behind. */
static void cache_done(struct svc_ctx *ctx, struct inv_cache *c, uint64_t start, bool ok)
{
	uint64_t now = svc_mono_ms();

	rs_breaker_record(c->breaker, now, ok, now - start);
	if (ok && atomic_load(&c->has_dirty) &&
	    rs_breaker_state(c->breaker, now) == RS_BREAKER_CLOSED)
		forget_dirty(ctx, c);
}

/*
 * The strings of one EVAL of a script over the keys "inv:<id>" of some
 * products (argv[2] is numkeys), with the room they point into. Built by
 * eval_build(), freed by eval_release().
 */
struct eval {
	const char **argv;
	int argc;
	char numkeys[I64_CHARS];
	char ttl[I64_CHARS];
	char (*keys)[INV_PRODUCT_ID_MAX + 8];
	char (*nums)[STORE_ARGS - 1][I64_CHARS]; /* per product: its counts */
};

static void eval_release(struct eval *e)
{
	free(e->argv);
	free(e->keys);
	free(e->nums);
}

/* EVAL `script` over the keys of ps[0..n); with `ttl_s` > 0 (a store),
 * ARGV = the TTL, then each product's version, counts, price and name.
 * 0 or SVC_ENOMEM; release it either way. */
static int eval_build(struct eval *e, const char *script, const struct inv_product *const *ps,
                      size_t n, long ttl_s)
{
	size_t cap = 4 + n * (1 + STORE_ARGS);
	size_t i, j;

	memset(e, 0, sizeof(*e));
	if (n == 0 || n > INT32_MAX / (2 * (1 + STORE_ARGS)))
		return SVC_ENOMEM; /* argc is an int; callers hold a few hundred at most */
	e->argv = calloc(cap, sizeof(*e->argv));
	e->keys = calloc(n, sizeof(*e->keys));
	e->nums = ttl_s > 0 ? calloc(n, sizeof(*e->nums)) : NULL;
	if (!e->argv || !e->keys || (ttl_s > 0 && !e->nums))
		return SVC_ENOMEM;
	snprintf(e->numkeys, sizeof(e->numkeys), "%zu", n);
	e->argv[e->argc++] = "EVAL";
	e->argv[e->argc++] = script;
	e->argv[e->argc++] = e->numkeys;
	for (i = 0; i < n; i++) {
		snprintf(e->keys[i], sizeof(e->keys[i]), "inv:%s", ps[i]->product_id);
		e->argv[e->argc++] = e->keys[i];
	}
	if (ttl_s <= 0)
		return 0;
	snprintf(e->ttl, sizeof(e->ttl), "%ld", ttl_s);
	e->argv[e->argc++] = e->ttl;
	for (i = 0; i < n; i++) {
		const int64_t v[STORE_ARGS - 1] = {ps[i]->c.version, ps[i]->c.available,
		                                   ps[i]->c.reserved, ps[i]->c.sold,
		                                   ps[i]->c.price};

		for (j = 0; j < STORE_ARGS - 1; j++) {
			snprintf(e->nums[i][j], I64_CHARS, "%lld", (long long)v[j]);
			e->argv[e->argc++] = e->nums[i][j];
		}
		e->argv[e->argc++] = ps[i]->name;
	}
	return 0;
}

/* Runs the built EVAL through the breaker: the reply, or NULL when the
 * breaker refused it or Redis failed (logged as `what`). */
static redisReply *eval_run(struct svc_ctx *ctx, struct inv_cache *c, const struct eval *e,
                            const char *what)
{
	redisReply *reply;
	uint64_t start;

	if (!cache_allow(c, &start))
		return NULL;
	reply = svc_redis_command_argv(ctx->redis, e->argc, e->argv, NULL);
	if (!reply)
		warn_unavailable(what);
	cache_done(ctx, c, start, reply != NULL);
	return reply;
}

void inv_cache_store_many(struct svc_ctx *ctx, const struct inv_product *const *ps, size_t n)
{
	struct inv_cache *c = cache_of(ctx);
	redisReply *reply = NULL;
	struct eval e;

	if (!c || n == 0)
		return;
	if (eval_build(&e, set_if_newer, ps, n,
	               svc_env_long("INVENTORY_CACHE_TTL_S", INV_CACHE_TTL_S, 1, 86400)) == 0)
		reply = eval_run(ctx, c, &e, "cache write");
	/* not written: the copies there may be older now */
	for (size_t i = 0; !reply && i < n; i++)
		mark_dirty(c, ps[i]->product_id);
	if (reply)
		freeReplyObject(reply);
	eval_release(&e);
}

void inv_cache_store(struct svc_ctx *ctx, const struct inv_product *p)
{
	inv_cache_store_many(ctx, &p, 1);
}

static int64_t to_i64(const char *s, bool *ok)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		*ok = false;
	return (int64_t)v;
}

/* Fills *p from an HGETALL reply. 0, or SVC_ENOTFOUND when it is not a
 * complete entry written by us. */
static int parse_entry(const redisReply *reply, const char *product_id, struct inv_product *p)
{
	size_t i, seen = 0;
	bool ok = true;

	memset(p, 0, sizeof(*p));
	snprintf(p->product_id, sizeof(p->product_id), "%s", product_id);
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		const char *f = reply->element[i]->str, *v = reply->element[i + 1]->str;

		if (!f || !v)
			continue;
		seen++;
		if (!strcmp(f, "name"))
			snprintf(p->name, sizeof(p->name), "%s", v);
		else if (!strcmp(f, "available"))
			p->c.available = to_i64(v, &ok);
		else if (!strcmp(f, "reserved"))
			p->c.reserved = to_i64(v, &ok);
		else if (!strcmp(f, "sold"))
			p->c.sold = to_i64(v, &ok);
		else if (!strcmp(f, "price"))
			p->c.price = to_i64(v, &ok);
		else if (!strcmp(f, "version"))
			p->c.version = to_i64(v, &ok);
		else
			seen--;
	}
	if (seen != 6 || !ok) /* absent or not written by us: a miss */
		return SVC_ENOTFOUND;
	p->c.found = true;
	return 0;
}

int inv_cache_load(struct svc_ctx *ctx, const char *product_id, struct inv_product *p)
{
	struct inv_cache *c = cache_of(ctx);
	char key[INV_PRODUCT_ID_MAX + 8];
	redisReply *reply;
	uint64_t start;
	int rc;

	if (!c || !cache_allow(c, &start))
		return SVC_ENOTFOUND;
	snprintf(key, sizeof(key), "inv:%s", product_id);
	reply = svc_redis_command(ctx->redis, "HGETALL %s", key);
	if (!reply)
		warn_unavailable("cache read");
	cache_done(ctx, c, start, reply != NULL);
	if (!reply)
		return SVC_ENOTFOUND;
	rc = parse_entry(reply, product_id, p);
	freeReplyObject(reply);
	return rc;
}

void inv_cache_load_many(struct svc_ctx *ctx, struct inv_product *const *ps, size_t n)
{
	struct inv_cache *c = cache_of(ctx);
	redisReply *reply = NULL;
	struct eval e;

	if (!c || n == 0)
		return;
	if (eval_build(&e, get_all, (const struct inv_product *const *)ps, n, 0) == 0)
		reply = eval_run(ctx, c, &e, "cache read");
	for (size_t i = 0;
	     reply && reply->type == REDIS_REPLY_ARRAY && i < n && i < reply->elements; i++) {
		struct inv_product hit;

		/* parse_entry() clears what it fills: a miss keeps *ps[i] */
		if (parse_entry(reply->element[i], ps[i]->product_id, &hit) == 0)
			*ps[i] = hit;
	}
	if (reply)
		freeReplyObject(reply);
	eval_release(&e);
}

void inv_cache_status(struct svc_ctx *ctx, json_t *details)
{
	struct inv_cache *c = cache_of(ctx);

	if (!c || !json_is_object(details))
		return;
	json_object_set_new(
	        details, "redisBreaker",
	        json_string(rs_breaker_state_name(rs_breaker_state(c->breaker, svc_mono_ms()))));
}
