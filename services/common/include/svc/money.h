/*
 * Money is integer minor units (cents) in int64_t, never floating point.
 * Every operation checks for overflow and negative results.
 */
#ifndef SVC_MONEY_H
#define SVC_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* *out = unit * qty. SVC_ERANGE when negative input or overflow. */
int svc_money_mul(int64_t unit, int64_t qty, int64_t *out);
/* *out = a + b. SVC_ERANGE when negative input or overflow. */
int svc_money_add(int64_t a, int64_t b, int64_t *out);
/* Formats 12345 as "123.45" into buf. SVC_ERANGE if it does not fit. */
int svc_money_format(int64_t minor, char *buf, size_t len);

#endif
