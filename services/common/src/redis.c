/*
 * Redis pool (svc/redis.h). Each slot holds one hiredis context, opened on
 * first use with connect and command timeouts; a context that saw an I/O or
 * protocol error is freed and reopened by a later call. Redis is only a cache,
 * so failures are logged once per outage, not once per call.
 */
#include "svc/redis.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "svc/config.h"
#include "svc/log.h"

struct redis_slot {
	redisContext *ctx; /* NULL until first use or after an error */
	bool busy;
};

struct svc_redis {
	const struct svc_redis_ops *ops;
	char *host, *socket;
	unsigned port, timeout_ms, size;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	bool down; /* last attempt failed: log again only when it recovers */
	struct redis_slot *slots;
};

const struct svc_redis_ops svc_redis_hiredis = {
        .connect = redisConnectWithTimeout,
        .connect_unix = redisConnectUnixWithTimeout,
        .set_timeout = redisSetTimeout,
        .enable_keepalive = redisEnableKeepAlive,
        .vcommand = redisvCommand,
        .command_argv = redisCommandArgv,
        .free = redisFree,
};

void svc_redis_config_from_env(struct svc_redis_config *cfg)
{
	cfg->host = svc_env_str("REDIS_HOST", "127.0.0.1");
	cfg->port = (unsigned)svc_env_long("REDIS_PORT", 6379, 1, 65535);
	cfg->socket = svc_env_str("REDIS_SOCKET", NULL);
	cfg->timeout_ms = (unsigned)svc_env_long("REDIS_TIMEOUT_MS", 200, 1, 60000);
	cfg->pool_size = (unsigned)svc_env_long("REDIS_POOL_SIZE", 8, 1, 1024);
	cfg->ops = NULL;
}

struct svc_redis *svc_redis_open(const struct svc_redis_config *cfg)
{
	struct svc_redis *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ops = cfg->ops ? cfg->ops : &svc_redis_hiredis;
	r->host = strdup(cfg->host ? cfg->host : "127.0.0.1");
	r->socket = cfg->socket ? strdup(cfg->socket) : NULL;
	r->port = cfg->port ? cfg->port : 6379;
	r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 200;
	r->size = cfg->pool_size ? cfg->pool_size : 8;
	r->slots = calloc(r->size, sizeof(*r->slots));
	if (!r->host || (cfg->socket && !r->socket) || !r->slots)
		goto free_r;
	if (pthread_mutex_init(&r->lock, NULL))
		goto free_r;
	if (pthread_cond_init(&r->freed, NULL)) {
		pthread_mutex_destroy(&r->lock);
		goto free_r;
	}
	return r;

free_r:
	free(r->slots);
	free(r->socket);
	free(r->host);
	free(r);
	return NULL;
}

void svc_redis_free(struct svc_redis *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->size; i++)
		if (r->slots[i].ctx)
			r->ops->free(r->slots[i].ctx);
	pthread_cond_destroy(&r->freed);
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r->socket);
	free(r->host);
	free(r);
}

/* Records an outage or recovery, logging only the transitions. */
static void redis_set_down(struct svc_redis *r, bool down, const char *why)
{
	bool changed;

	pthread_mutex_lock(&r->lock);
	changed = r->down != down;
	r->down = down;
	pthread_mutex_unlock(&r->lock);
	if (changed && down)
		svc_warn("redis: unavailable (%s); serving from the database", why);
	else if (changed)
		svc_info("redis: available again");
}

/* Opens a context with the configured timeouts; NULL on failure. */
static redisContext *redis_connect(struct svc_redis *r)
{
	struct timeval tv = {
	        .tv_sec = r->timeout_ms / 1000,
	        .tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000,
	};
	redisContext *c;

	c = r->socket ? r->ops->connect_unix(r->socket, tv)
	              : r->ops->connect(r->host, (int)r->port, tv);
	if (!c) {
		redis_set_down(r, true, "out of memory");
		return NULL;
	}
	if (c->err || r->ops->set_timeout(c, tv) != REDIS_OK) {
		redis_set_down(r, true, c->errstr[0] ? c->errstr : "cannot set timeout");
		r->ops->free(c);
		return NULL;
	}
	if (!r->socket)
		r->ops->enable_keepalive(c);
	return c;
}

static struct redis_slot *redis_acquire(struct svc_redis *r)
{
	struct redis_slot *slot = NULL;

	pthread_mutex_lock(&r->lock);
	while (!slot) {
		for (unsigned i = 0; i < r->size; i++) {
			if (r->slots[i].busy)
				continue;
			if (!slot || (!slot->ctx && r->slots[i].ctx))
				slot = &r->slots[i];
			if (slot->ctx)
				break;
		}
		if (!slot)
			pthread_cond_wait(&r->freed, &r->lock);
	}
	/* the loop above ends only with a slot */
	/* cppcheck-suppress nullPointerRedundantCheck */
	slot->busy = true;
	pthread_mutex_unlock(&r->lock);
	return slot;
}

static void redis_release(struct svc_redis *r, struct redis_slot *slot)
{
	pthread_mutex_lock(&r->lock);
	slot->busy = false;
	pthread_cond_signal(&r->freed);
	pthread_mutex_unlock(&r->lock);
}

/* One command: a format with its arguments (`ap`), or, when `fmt` is NULL,
 * argc strings. */
struct redis_cmd {
	const char *fmt;
	va_list *ap;
	int argc;
	const char *const *argv;
	const size_t *argvlen;
};

static redisReply *redis_send(const struct svc_redis *r, redisContext *c,
                              const struct redis_cmd *cmd)
{
	if (cmd->fmt)
		return r->ops->vcommand(c, cmd->fmt, *cmd->ap);
	/* hiredis 0.14 takes argv without const; it only reads it */
	return r->ops->command_argv(c, cmd->argc, (const char **)cmd->argv, cmd->argvlen);
}

/* Runs `cmd` on a pooled context (svc_redis_command's contract). */
static redisReply *redis_run(struct svc_redis *r, const struct redis_cmd *cmd)
{
	struct redis_slot *slot;
	redisReply *reply = NULL;

	if (!r)
		return NULL;
	slot = redis_acquire(r);
	if (!slot->ctx)
		slot->ctx = redis_connect(r);
	if (!slot->ctx)
		goto release;

	reply = redis_send(r, slot->ctx, cmd);
	if (!reply || slot->ctx->err) {
		/* After an I/O or protocol error the context is unusable. */
		redis_set_down(r, true, slot->ctx->errstr[0] ? slot->ctx->errstr : "no reply");
		if (reply)
			freeReplyObject(reply);
		reply = NULL;
		r->ops->free(slot->ctx);
		slot->ctx = NULL;
		goto release;
	}
	redis_set_down(r, false, NULL);
	if (reply->type == REDIS_REPLY_ERROR) {
		/* The server answered: the connection is fine, the command was not. */
		svc_warn("redis: error reply: %.*s", (int)reply->len, reply->str);
		freeReplyObject(reply);
		reply = NULL;
	}

release:
	redis_release(r, slot);
	return reply;
}

redisReply *svc_redis_command(struct svc_redis *r, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;
	struct redis_cmd cmd = {.fmt = fmt};

	va_start(ap, fmt);
	cmd.ap = &ap;
	reply = redis_run(r, &cmd);
	va_end(ap);
	return reply;
}

redisReply *svc_redis_command_argv(struct svc_redis *r, int argc, const char *const *argv,
                                   const size_t *argvlen)
{
	struct redis_cmd cmd = {.argc = argc, .argv = argv, .argvlen = argvlen};

	return redis_run(r, &cmd);
}

bool svc_redis_ping(struct svc_redis *r)
{
	redisReply *reply = svc_redis_command(r, "PING");
	bool ok = reply && reply->type == REDIS_REPLY_STATUS && reply->str &&
	          strcmp(reply->str, "PONG") == 0;

	if (reply)
		freeReplyObject(reply);
	return ok;
}
