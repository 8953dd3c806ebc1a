/*
 * Line logging to stderr. Each line is formatted into one buffer and written
 * with a single write(2), so lines from different threads never interleave
 * (writes to a pipe or file up to PIPE_BUF bytes are atomic).
 */
#include "svc/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static const char *log_name = "svc";
/* Written once by svc_log_init before threads start; read-only afterwards. */
static int log_min_level = SVC_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static int level_from_string(const char *s)
{
	if (!s || !*s)
		return SVC_LOG_INFO;
	if (!strcasecmp(s, "debug") || !strcasecmp(s, "trace"))
		return SVC_LOG_DEBUG;
	if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
		return SVC_LOG_WARN;
	if (!strcasecmp(s, "error"))
		return SVC_LOG_ERROR;
	return SVC_LOG_INFO;
}

void svc_log_init(const char *name)
{
	if (name && *name)
		log_name = name;
	log_min_level = level_from_string(getenv("LOG_LEVEL"));
}

int svc_log_enabled(enum svc_log_level level)
{
	return (int)level >= log_min_level;
}

/* "2026-11-24T20:17:04.123Z" into buf (at least 25 bytes). */
static size_t format_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	return n;
}

static void write_all(const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		data += n;
		len -= (size_t)n;
	}
}

void svc_log(enum svc_log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t head, len, i;
	va_list ap;
	int n;

	if (!svc_log_enabled(level) || level > SVC_LOG_ERROR)
		return;
	head = format_timestamp(line, sizeof(line));
	n = snprintf(line + head, sizeof(line) - head, " %s %s ", level_names[level], log_name);
	head += n > 0 ? (size_t)n : 0;

	/* Leave room for the newline; a longer message is cut and marked. */
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = head + (size_t)n;
	if (len > sizeof(line) - 2) {
		len = sizeof(line) - 2;
		memcpy(line + len - 3, "...", 3);
	}
	/* One message, one line: network input must not forge log lines. */
	for (i = head; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	write_all(line, len);
}
