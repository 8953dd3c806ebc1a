/* Joining a configured base URL and a path: the one place that trims the
 * base's trailing slashes, and refuses (never truncates) what does not fit. */
#ifndef SVC_URL_H
#define SVC_URL_H

#include <stddef.h>

/* Length of `base` without its trailing '/' characters. Pure. */
size_t svc_url_base_len(const char *base);

/* Writes `base` without its trailing slashes followed by `path` (which
 * brings its own leading '/', or is "") into out[outlen]. 0, or
 * SVC_EPERMANENT when the result does not fit (out is then ""). Pure. */
int svc_url_join(char *out, size_t outlen, const char *base, const char *path);

/* The same, allocated: caller owns the result and frees it. NULL on OOM. */
char *svc_url_join_dup(const char *base, const char *path);

#endif
