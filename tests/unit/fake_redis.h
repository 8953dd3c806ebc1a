/*
 * A fake Redis for the unit tests, behind libsvc's struct svc_redis_ops
 * (svc/redis.h): scripted replies (RESP text, parsed by hiredis's own reader,
 * so callers free them with freeReplyObject), I/O failures, refused
 * connections, and every command recorded.
 *
 *   struct fake_redis *fr = fake_redis_new();
 *   fake_redis_install(fr, &cfg); // the one call: the pool made from cfg uses fr
 *   fake_redis_reply(fr, "+PONG\r\n");
 *
 * One fake at a time (the table's functions take no context). Thread-safe.
 * Out of memory inside the fake aborts the test.
 */
#ifndef FAKE_REDIS_H
#define FAKE_REDIS_H

#include <stddef.h>

#include "svc/redis.h"

struct fake_redis;

/* A new fake, the current one; NULL on OOM. */
struct fake_redis *fake_redis_new(void);
/* Frees it and what it recorded. Every context must be freed. Accepts NULL. */
void fake_redis_free(struct fake_redis *fr);
/* Points `cfg` at the fake's table. */
void fake_redis_install(struct fake_redis *fr, struct svc_redis_config *cfg);
extern const struct svc_redis_ops fake_redis_ops;

/* The answer to the next command not answered yet, as RESP text
 * ("+PONG\r\n", ":1\r\n", "*0\r\n", "-ERR no\r\n"); queued in order. */
void fake_redis_reply(struct fake_redis *fr, const char *resp);
/* The next command not answered yet fails on I/O: no reply, the context's
 * err set (REDIS_ERR_IO). Queued with the replies. */
void fake_redis_fail_io(struct fake_redis *fr);
/* The answer when nothing is queued ("+OK\r\n" at first). */
void fake_redis_default(struct fake_redis *fr, const char *resp);
/* The next `n` connects fail (a context with err set; n < 0: all of them
 * from now on). */
void fake_redis_refuse(struct fake_redis *fr, int n);

/* Commands received, and the i-th one as its arguments joined by spaces
 * (borrowed, valid until fake_redis_free). */
size_t fake_redis_commands(struct fake_redis *fr);
const char *fake_redis_command(struct fake_redis *fr, size_t i);
/* Connects attempted; contexts open now (made and not freed; 0 for a NULL
 * fake); where the last connect went: "host:port" or the socket path. */
unsigned fake_redis_connects(struct fake_redis *fr);
unsigned fake_redis_open(struct fake_redis *fr);
const char *fake_redis_target(struct fake_redis *fr);

#endif
