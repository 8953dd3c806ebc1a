/* UTF-8 validation, the one copy: what jansson and utf8mb4 columns accept. */
#ifndef SVC_UTF8_H
#define SVC_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s[0..n), 0 when there is none
 * (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF;
 * a sequence cut by the end of the buffer is invalid). n must be >= 1. Pure. */
size_t svc_utf8_seq_len(const void *s, size_t n);

#endif
