/*
 * A growable byte buffer, always NUL-terminated (after curl's dynbuf).
 * An allocation failure makes the buffer sticky-failed: later appends are
 * no-ops and return SVC_ENOMEM, so callers may check once at the end.
 * A buffer belongs to one thread at a time (no locking).
 */
#ifndef SVC_BUF_H
#define SVC_BUF_H

#include <stddef.h>

struct svc_buf {
	char *data; /* NUL-terminated, NULL until the first append */
	size_t len;
	size_t cap;
	int failed;
};

/* Makes `b` (caller-embedded) an empty buffer; allocates nothing. */
void svc_buf_init(struct svc_buf *b);
/* Frees the contents; the struct may be reused after svc_buf_init. */
void svc_buf_release(struct svc_buf *b);
/* Append `len` bytes / a string / a formatted string. 0, or SVC_ENOMEM (the
 * buffer is then failed: see above). */
int svc_buf_add(struct svc_buf *b, const void *data, size_t len);
int svc_buf_adds(struct svc_buf *b, const char *s);
int svc_buf_addf(struct svc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Cuts the contents back to their first `len` bytes (len <= b->len), to
 * undo appends; a failed buffer stays failed. */
void svc_buf_truncate(struct svc_buf *b, size_t len);
/* Contents as a string ("" when empty); valid until the next append. */
const char *svc_buf_str(const struct svc_buf *b);
/* Hands the contents out (caller frees; "" allocated when empty) and resets
 * the buffer. NULL when the buffer failed. */
char *svc_buf_take(struct svc_buf *b);

#endif
