/* A fake Redis behind struct svc_redis_ops (fake_redis.h). */
#include "fake_redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A queued answer: RESP text, or NULL for an I/O failure. */
struct fr_answer {
	char *resp;
	struct fr_answer *next;
};

struct fake_redis {
	pthread_mutex_t mu;
	struct fr_answer *head, *tail;
	char *fallback;
	int refuse;
	char **cmds;
	size_t ncmds;
	unsigned connects, open;
	char target[256];
};

static struct fake_redis *current;

static void *must(void *p)
{
	if (!p) {
		fprintf(stderr, "fake_redis: out of memory\n");
		abort();
	}
	return p;
}

struct fake_redis *fake_redis_new(void)
{
	struct fake_redis *fr = calloc(1, sizeof(*fr));

	if (!fr)
		return NULL;
	pthread_mutex_init(&fr->mu, NULL);
	fr->fallback = must(strdup("+OK\r\n"));
	current = fr;
	return fr;
}

void fake_redis_free(struct fake_redis *fr)
{
	if (!fr)
		return;
	while (fr->head) {
		struct fr_answer *a = fr->head;
		fr->head = a->next;
		free(a->resp);
		free(a);
	}
	for (size_t i = 0; i < fr->ncmds; i++)
		free(fr->cmds[i]);
	free(fr->cmds);
	free(fr->fallback);
	pthread_mutex_destroy(&fr->mu);
	if (current == fr)
		current = NULL;
	free(fr);
}

void fake_redis_install(struct fake_redis *fr, struct svc_redis_config *cfg)
{
	current = fr;
	cfg->ops = &fake_redis_ops;
}

static void queue(struct fake_redis *fr, const char *resp)
{
	struct fr_answer *a = must(calloc(1, sizeof(*a)));

	a->resp = resp ? must(strdup(resp)) : NULL;
	pthread_mutex_lock(&fr->mu);
	if (fr->tail)
		fr->tail->next = a;
	else
		fr->head = a;
	fr->tail = a;
	pthread_mutex_unlock(&fr->mu);
}

void fake_redis_reply(struct fake_redis *fr, const char *resp)
{
	queue(fr, resp);
}

void fake_redis_fail_io(struct fake_redis *fr)
{
	queue(fr, NULL);
}

void fake_redis_default(struct fake_redis *fr, const char *resp)
{
	pthread_mutex_lock(&fr->mu);
	free(fr->fallback);
	fr->fallback = must(strdup(resp));
	pthread_mutex_unlock(&fr->mu);
}

void fake_redis_refuse(struct fake_redis *fr, int n)
{
	pthread_mutex_lock(&fr->mu);
	fr->refuse = n;
	pthread_mutex_unlock(&fr->mu);
}

size_t fake_redis_commands(struct fake_redis *fr)
{
	pthread_mutex_lock(&fr->mu);
	size_t n = fr->ncmds;
	pthread_mutex_unlock(&fr->mu);
	return n;
}

const char *fake_redis_command(struct fake_redis *fr, size_t i)
{
	pthread_mutex_lock(&fr->mu);
	const char *c = i < fr->ncmds ? fr->cmds[i] : NULL;
	pthread_mutex_unlock(&fr->mu);
	return c;
}

unsigned fake_redis_connects(struct fake_redis *fr)
{
	pthread_mutex_lock(&fr->mu);
	unsigned n = fr->connects;
	pthread_mutex_unlock(&fr->mu);
	return n;
}

unsigned fake_redis_open(struct fake_redis *fr)
{
	if (!fr)
		return 0;
	pthread_mutex_lock(&fr->mu);
	unsigned n = fr->open;
	pthread_mutex_unlock(&fr->mu);
	return n;
}

const char *fake_redis_target(struct fake_redis *fr)
{
	return fr->target;
}

/* ---- the table ----------------------------------------------------------------- */

static redisContext *connect_to(const char *target)
{
	struct fake_redis *fr = current;
	redisContext *c = must(calloc(1, sizeof(*c)));

	c->fd = -1;
	pthread_mutex_lock(&fr->mu);
	fr->connects++;
	fr->open++;
	snprintf(fr->target, sizeof(fr->target), "%s", target);
	if (fr->refuse != 0) {
		if (fr->refuse > 0)
			fr->refuse--;
		c->err = REDIS_ERR_IO;
		snprintf(c->errstr, sizeof(c->errstr), "Connection refused");
	}
	pthread_mutex_unlock(&fr->mu);
	return c;
}

static redisContext *fr_connect(const char *ip, int port, struct timeval tv)
{
	char target[256];

	(void)tv;
	snprintf(target, sizeof(target), "%s:%d", ip, port);
	return connect_to(target);
}

static redisContext *fr_connect_unix(const char *path, struct timeval tv)
{
	(void)tv;
	return connect_to(path);
}

static int fr_set_timeout(redisContext *c, struct timeval tv)
{
	(void)c;
	(void)tv;
	return REDIS_OK;
}

static int fr_enable_keepalive(redisContext *c)
{
	(void)c;
	return REDIS_OK;
}

static void fr_free(redisContext *c)
{
	pthread_mutex_lock(&current->mu);
	current->open--;
	pthread_mutex_unlock(&current->mu);
	free(c);
}

/* The arguments of a RESP command ("*N\r\n$len\r\narg\r\n...") joined by spaces. */
static char *readable(const char *cmd)
{
	char *out = must(calloc(1, strlen(cmd) + 1));
	const char *p = strchr(cmd, '\n');
	size_t n = 0;

	while (p && p[1] == '$') {
		char *end = NULL;
		size_t len = (size_t)strtoul(p + 2, &end, 10);
		const char *arg = end + 2; /* past \r\n */
		if (n)
			out[n++] = ' ';
		memcpy(out + n, arg, len);
		n += len;
		p = arg + len + 1; /* at the \n after the argument */
	}
	return out;
}

/* Records `cmd` (RESP, freed here) and answers the next queued reply. */
static void *answer(redisContext *c, char *cmd)
{
	struct fake_redis *fr = current;
	redisReader *reader = NULL;
	void *reply = NULL;

	pthread_mutex_lock(&fr->mu);
	fr->cmds = must(realloc(fr->cmds, (fr->ncmds + 1) * sizeof(*fr->cmds)));
	fr->cmds[fr->ncmds++] = readable(cmd);
	struct fr_answer *a = fr->head;
	if (a) {
		fr->head = a->next;
		if (!fr->head)
			fr->tail = NULL;
	}
	char *resp = a ? a->resp : must(strdup(fr->fallback));
	pthread_mutex_unlock(&fr->mu);
	free(a);
	redisFreeCommand(cmd);
	if (!resp) {
		c->err = REDIS_ERR_IO;
		snprintf(c->errstr, sizeof(c->errstr), "fake: connection reset");
		return NULL;
	}
	reader = must(redisReaderCreate());
	if (redisReaderFeed(reader, resp, strlen(resp)) != REDIS_OK ||
	    redisReaderGetReply(reader, &reply) != REDIS_OK || !reply) {
		fprintf(stderr, "fake_redis: bad RESP %s\n", resp);
		abort();
	}
	redisReaderFree(reader);
	free(resp);
	return reply;
}

static void *fr_vcommand(redisContext *c, const char *fmt, va_list ap)
{
	char *cmd = NULL;

	if (redisvFormatCommand(&cmd, fmt, ap) < 0)
		must(NULL);
	return answer(c, cmd);
}

static void *fr_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
	char *cmd = NULL;

	if (redisFormatCommandArgv(&cmd, argc, argv, argvlen) < 0)
		must(NULL);
	return answer(c, cmd);
}

const struct svc_redis_ops fake_redis_ops = {
        .connect = fr_connect,
        .connect_unix = fr_connect_unix,
        .set_timeout = fr_set_timeout,
        .enable_keepalive = fr_enable_keepalive,
        .vcommand = fr_vcommand,
        .command_argv = fr_command_argv,
        .free = fr_free,
};
