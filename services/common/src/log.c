/*
 * Line logging to stderr (svc/log.h). Each line is formatted into one buffer
 * and written with a single write(2), so lines from different threads never
 * interleave (writes to a pipe or file up to PIPE_BUF bytes are atomic).
 *
 * The context is thread-local on purpose: it only annotates lines (the
 * handle rule of STYLE.md is about what functions do), and the lines that
 * need it are written deep inside service code that has no reason to carry
 * an event around.
 */
#include "svc/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "svc/utf8.h"

#define LOG_LINE_MAX 4096
/* Room kept at the end of a JSON line for the fields and the closing brace. */
#define LOG_TAIL_ROOM 400

static const char *log_name = "svc";
/* Written once by svc_log_init before threads start; read-only afterwards. */
static int log_min_level = SVC_LOG_INFO;
static bool log_text;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

struct log_context {
	char correlation_id[64];
	char order_id[64];
	char event_id[40];
	char event_type[64];
};

static _Thread_local struct log_context log_ctx;

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
	const char *format = getenv("LOG_FORMAT");

	if (name && *name)
		log_name = name;
	log_min_level = level_from_string(getenv("LOG_LEVEL"));
	log_text = format && !strcasecmp(format, "text");
}

int svc_log_enabled(enum svc_log_level level)
{
	return (int)level >= log_min_level;
}

/* ---- context --------------------------------------------------------- */

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void svc_log_context_set(const struct svc_log_fields *f)
{
	const struct svc_log_fields none = {0};

	if (!f)
		f = &none;
	copy_field(log_ctx.correlation_id, sizeof(log_ctx.correlation_id), f->correlation_id);
	copy_field(log_ctx.order_id, sizeof(log_ctx.order_id), f->order_id);
	copy_field(log_ctx.event_id, sizeof(log_ctx.event_id), f->event_id);
	copy_field(log_ctx.event_type, sizeof(log_ctx.event_type), f->event_type);
}

void svc_log_context_event(const char *event_id, const char *event_type, const char *correlation_id)
{
	svc_log_context_set(&(struct svc_log_fields){.correlation_id = correlation_id,
	                                             .order_id = correlation_id,
	                                             .event_id = event_id,
	                                             .event_type = event_type});
}

void svc_log_context_order(const char *order_id)
{
	svc_log_context_set(
	        &(struct svc_log_fields){.correlation_id = order_id, .order_id = order_id});
}

void svc_log_context_clear(void)
{
	log_ctx.correlation_id[0] = log_ctx.order_id[0] = '\0';
	log_ctx.event_id[0] = log_ctx.event_type[0] = '\0';
}

/* ---- lines ----------------------------------------------------------- */

/* A line being built in a fixed buffer; what does not fit is dropped. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t cap; /* where appends stop (leaves room for what must follow) */
};

static void line_add(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		n = l->cap - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void line_adds(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

/* "2026-11-24T20:17:04.123Z" */
static void add_timestamp(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char buf[40];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	line_adds(l, buf);
}

/* `s` as the inside of a JSON string: quotes, backslashes and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD. Stops before what
 * does not fit whole; false then. */
static bool add_json_chars(struct line *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	while (i < n && l->len < l->cap) {
		unsigned char c = (unsigned char)s[i];
		size_t seq;

		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			if (l->cap - l->len < sizeof(esc))
				break;
			line_add(l, esc, sizeof(esc));
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			if (l->cap - l->len < sizeof(esc))
				break;
			line_add(l, esc, sizeof(esc));
			i++;
		} else if (c < 0x80) {
			line_add(l, (const char *)&c, 1);
			i++;
		} else if ((seq = svc_utf8_seq_len(s + i, n - i)) > 0) {
			if (l->cap - l->len < seq)
				break;
			line_add(l, s + i, seq);
			i += seq;
		} else {
			if (l->cap - l->len < 3)
				break;
			line_add(l, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	return i == n;
}

/* ,"name":"value" when value is set. */
static void add_json_field(struct line *l, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	line_adds(l, ",\"");
	line_adds(l, name);
	line_adds(l, "\":\"");
	add_json_chars(l, value, strlen(value));
	line_adds(l, "\"");
}

/* " name=value" when value is set (text lines). */
static void add_text_field(struct line *l, const char *name, const char *value, bool *first)
{
	if (!value || !*value)
		return;
	line_adds(l, *first ? " [" : " ");
	*first = false;
	line_adds(l, name);
	line_adds(l, "=");
	line_adds(l, value);
}

/* The explicit field when given, else the context's. */
static const char *pick(const char *explicit_value, const char *context_value)
{
	return explicit_value && *explicit_value ? explicit_value : context_value;
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

static void emit(enum svc_log_level level, const struct svc_log_fields *f, const char *fmt,
                 va_list ap) __attribute__((format(printf, 3, 0)));

static void emit(enum svc_log_level level, const struct svc_log_fields *f, const char *fmt,
                 va_list ap)
{
	const struct svc_log_fields none = {0};
	const char *corr, *order, *event_id, *event_type;
	char msg[LOG_LINE_MAX];
	struct line l;
	size_t msg_len, i;
	bool complete;
	int n;

	if (!svc_log_enabled(level) || level > SVC_LOG_ERROR)
		return;
	if (!f)
		f = &none;
	corr = pick(f->correlation_id, log_ctx.correlation_id);
	order = pick(f->order_id, log_ctx.order_id);
	event_id = pick(f->event_id, log_ctx.event_id);
	event_type = pick(f->event_type, log_ctx.event_type);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	msg_len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	l.len = 0;
	l.cap = sizeof(l.buf) - LOG_TAIL_ROOM;

	if (log_text) {
		bool first = true;

		add_timestamp(&l);
		line_adds(&l, " ");
		line_adds(&l, level_names[level]);
		line_adds(&l, " ");
		line_adds(&l, log_name);
		line_adds(&l, " ");
		/* One message, one line: network input must not forge log lines. */
		for (i = 0; i < msg_len; i++)
			if (msg[i] == '\n' || msg[i] == '\r')
				msg[i] = ' ';
		line_add(&l, msg, msg_len);
		if (l.len == l.cap)
			memcpy(l.buf + l.len - 3, "...", 3);
		l.cap = sizeof(l.buf) - 1;
		add_text_field(&l, "orderId", order, &first);
		if (corr && strcmp(corr, order ? order : "") != 0)
			add_text_field(&l, "correlationId", corr, &first);
		add_text_field(&l, "eventType", event_type, &first);
		add_text_field(&l, "eventId", event_id, &first);
		if (!first)
			line_adds(&l, "]");
	} else {
		line_adds(&l, "{\"timestamp\":\"");
		add_timestamp(&l);
		line_adds(&l, "\",\"level\":\"");
		line_adds(&l, level_names[level]);
		line_adds(&l, "\",\"service\":\"");
		add_json_chars(&l, log_name, strlen(log_name));
		line_adds(&l, "\",\"message\":\"");
		l.cap -= 3; /* room for "..." */
		complete = add_json_chars(&l, msg, msg_len) && msg_len == (size_t)(n < 0 ? 0 : n);
		l.cap = sizeof(l.buf) - 1;
		if (!complete)
			line_adds(&l, "...");
		line_adds(&l, "\"");
		add_json_field(&l, "correlationId", corr);
		add_json_field(&l, "orderId", order);
		add_json_field(&l, "eventId", event_id);
		add_json_field(&l, "eventType", event_type);
		line_adds(&l, "}");
	}
	l.buf[l.len++] = '\n';
	write_all(l.buf, l.len);
}

void svc_log(enum svc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

void svc_log_with(enum svc_log_level level, const struct svc_log_fields *fields, const char *fmt,
                  ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, fields, fmt, ap);
	va_end(ap);
}
