/*
 * Growable NUL-terminated byte buffer (svc/buf.h). Grows by doubling; an
 * allocation failure frees nothing and marks the buffer failed so callers can
 * check once at the end.
 */
#include "svc/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

#define BUF_MIN_CAP 64

void svc_buf_init(struct svc_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

void svc_buf_release(struct svc_buf *b)
{
	free(b->data);
	svc_buf_init(b);
}

/* Makes room for `extra` more bytes plus the terminating NUL. */
static int buf_reserve(struct svc_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return SVC_ENOMEM;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = 1;
	return SVC_ENOMEM;
}

int svc_buf_add(struct svc_buf *b, const void *data, size_t len)
{
	int rc = buf_reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int svc_buf_adds(struct svc_buf *b, const char *s)
{
	return svc_buf_add(b, s, strlen(s));
}

int svc_buf_addf(struct svc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	if (b->failed)
		return SVC_ENOMEM;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SVC_EPERMANENT; /* encoding error: the buffer stays usable */
	rc = buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void svc_buf_truncate(struct svc_buf *b, size_t len)
{
	if (!b->data || len > b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

const char *svc_buf_str(const struct svc_buf *b)
{
	return b->data ? b->data : "";
}

char *svc_buf_take(struct svc_buf *b)
{
	char *out;

	if (b->failed) {
		svc_buf_release(b);
		return NULL;
	}
	out = b->data ? b->data : strdup("");
	svc_buf_init(b);
	return out;
}
