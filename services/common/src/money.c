/*
 * Money in integer minor units (svc/money.h): checked arithmetic only, so an
 * absurd quantity or price is an error, never a wrapped-around total.
 */
#include "svc/money.h"

#include <inttypes.h>
#include <stdio.h>

#include "svc/error.h"

int svc_money_mul(int64_t unit, int64_t qty, int64_t *out)
{
	int64_t r;

	if (unit < 0 || qty < 0 || __builtin_mul_overflow(unit, qty, &r))
		return SVC_ERANGE;
	*out = r;
	return 0;
}

int svc_money_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
		return SVC_ERANGE;
	*out = r;
	return 0;
}

int svc_money_format(int64_t minor, char *buf, size_t len)
{
	/* Magnitude as unsigned so INT64_MIN formats without overflow. */
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	int n;

	if (!buf || len == 0)
		return SVC_ERANGE;
	n = snprintf(buf, len, "%s%" PRIu64 ".%02" PRIu64, minor < 0 ? "-" : "", mag / 100,
	             mag % 100);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return SVC_ERANGE;
	}
	return 0;
}
