/*
 * Redis stock cache (cache.h). Writes go through one Lua script: compare the
 * cached version, set all fields and the TTL atomically.
 */
#include "services/inventory/cache.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "svc/config.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"
#include "svc/redis.h"
#include "svc/service.h"

#define INV_CACHE_TTL_S         300
#define INV_CACHE_WARN_EVERY_MS 5000

/* KEYS[1] = the hash; ARGV = version, available, reserved, sold, price, name, ttl. */
static const char set_if_newer[] =
        "local v = redis.call('HGET', KEYS[1], 'version') "
        "if v and tonumber(v) >= tonumber(ARGV[1]) then return 0 end "
        "redis.call('HSET', KEYS[1], 'version', ARGV[1], 'available', ARGV[2], "
        "'reserved', ARGV[3], 'sold', ARGV[4], 'price', ARGV[5], 'name', ARGV[6]) "
        "redis.call('EXPIRE', KEYS[1], ARGV[7]) "
        "return 1";

/* Logs that Redis is unavailable, at most once per INV_CACHE_WARN_EVERY_MS. */
static void warn_unavailable(const char *what)
{
	static _Atomic int64_t last_ms;
	int64_t now = svc_now_ms(), prev = atomic_load(&last_ms);

	if (now - prev >= INV_CACHE_WARN_EVERY_MS &&
	    atomic_compare_exchange_strong(&last_ms, &prev, now))
		svc_warn("redis unavailable (%s): serving stock from the database", what);
}

void inv_cache_store(struct svc_ctx *ctx, const struct inv_product *p)
{
	char key[INV_PRODUCT_ID_MAX + 8];
	redisReply *reply;

	if (!ctx->redis)
		return;
	snprintf(key, sizeof(key), "inv:%s", p->product_id);
	reply = svc_redis_command(
	        ctx->redis, "EVAL %s 1 %s %lld %lld %lld %lld %lld %s %d", set_if_newer, key,
	        (long long)p->c.version, (long long)p->c.available, (long long)p->c.reserved,
	        (long long)p->c.sold, (long long)p->c.price, p->name,
	        (int)svc_env_long("INVENTORY_CACHE_TTL_S", INV_CACHE_TTL_S, 1, 86400));
	if (!reply)
		warn_unavailable("cache write");
	else
		freeReplyObject(reply);
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

int inv_cache_load(struct svc_ctx *ctx, const char *product_id, struct inv_product *p)
{
	char key[INV_PRODUCT_ID_MAX + 8];
	redisReply *reply;
	size_t i, seen = 0;
	bool ok = true;

	if (!ctx->redis)
		return SVC_ENOTFOUND;
	snprintf(key, sizeof(key), "inv:%s", product_id);
	reply = svc_redis_command(ctx->redis, "HGETALL %s", key);
	if (!reply) {
		warn_unavailable("cache read");
		return SVC_ENOTFOUND;
	}
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
	freeReplyObject(reply);
	if (seen != 6 || !ok) /* absent or not written by us: a miss */
		return SVC_ENOTFOUND;
	p->c.found = true;
	return 0;
}

/* Drops the cached product, so the next GET reads the database. */
static void forget(struct svc_ctx *ctx, const char *product_id)
{
	redisReply *reply = svc_redis_command(ctx->redis, "DEL inv:%s", product_id);

	if (reply)
		freeReplyObject(reply);
}

void inv_cache_refresh(struct svc_ctx *ctx, const struct inv_item *items, size_t n)
{
	struct inv_product p;
	MYSQL *conn;
	size_t i;
	int rc = 0;

	if (!ctx->redis || n == 0)
		return;
	conn = svc_db_acquire(ctx->db);
	for (i = 0; i < n; i++) {
		rc = conn ? inv_product_get(conn, items[i].product_id, &p) : SVC_ETRANSIENT;
		if (rc == 0)
			inv_cache_store(ctx, &p);
		else
			forget(ctx, items[i].product_id); /* never leave an old version behind */
	}
	if (conn)
		svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
}
