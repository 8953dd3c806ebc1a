/*
 * Redis through hiredis: a small pool of contexts that reconnect by
 * themselves. Redis is a cache here, never the truth: callers treat every
 * failure as a miss and go to the database.
 */
#ifndef SVC_REDIS_H
#define SVC_REDIS_H

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/time.h>

/*
 * The hiredis calls of the pool, as a table of function pointers:
 * svc_redis_hiredis is hiredis itself; the unit tests give a fake
 * (tests/unit/fake_redis.h). Each entry has the contract of the hiredis
 * function in its comment; the replies it hands out are hiredis's own
 * (callers free them with freeReplyObject). Called from any thread, one
 * context at a time.
 */
struct svc_redis_ops {
	/* redisConnectWithTimeout, redisConnectUnixWithTimeout: NULL only on
	 * allocation failure, else a context whose err says if it connected */
	redisContext *(*connect)(const char *ip, int port, struct timeval tv);
	redisContext *(*connect_unix)(const char *path, struct timeval tv);
	/* redisSetTimeout, redisEnableKeepAlive: REDIS_OK or REDIS_ERR */
	int (*set_timeout)(redisContext *c, struct timeval tv);
	int (*enable_keepalive)(redisContext *c);
	/* redisvCommand, redisCommandArgv: the reply, or NULL with c->err set */
	void *(*vcommand)(redisContext *c, const char *fmt, va_list ap);
	void *(*command_argv)(redisContext *c, int argc, const char **argv, const size_t *argvlen);
	/* redisFree */
	void (*free)(redisContext *c);
};

/* hiredis. */
extern const struct svc_redis_ops svc_redis_hiredis;

struct svc_redis_config {
	const char *host;                /* REDIS_HOST, default 127.0.0.1 */
	unsigned port;                   /* REDIS_PORT, default 6379 */
	const char *socket;              /* REDIS_SOCKET: Unix socket path; preferred when set */
	unsigned timeout_ms;             /* REDIS_TIMEOUT_MS, default 200 */
	unsigned pool_size;              /* REDIS_POOL_SIZE, default 8 */
	const struct svc_redis_ops *ops; /* NULL: hiredis (borrowed, must outlive the pool) */
};

/* Fills `cfg` from REDIS_* (defaults above), ops NULL; strings point into
 * the environment. */
void svc_redis_config_from_env(struct svc_redis_config *cfg);

struct svc_redis;

/* NULL only on allocation failure; connects lazily. Strings are copied. */
struct svc_redis *svc_redis_open(const struct svc_redis_config *cfg);
void svc_redis_free(struct svc_redis *r);

/*
 * Runs one command (redisCommand format). Returns the reply (caller frees
 * with freeReplyObject), or NULL when Redis is unreachable or the reply is an
 * error; the context is then dropped and reconnected on a later call.
 */
redisReply *svc_redis_command(struct svc_redis *r, const char *fmt, ...);
/* The same with the command as argc strings (argvlen[i] bytes each, or
 * strlen when argvlen is NULL), for commands whose number of arguments is
 * only known at run time (EVAL over many keys). Arguments are sent as they
 * are, never parsed as a format. */
redisReply *svc_redis_command_argv(struct svc_redis *r, int argc, const char *const *argv,
                                   const size_t *argvlen);
/* True when Redis answers PING now (readiness). */
bool svc_redis_ping(struct svc_redis *r);

#endif
