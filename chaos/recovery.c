/*
 * Series and recovery times (see recovery.h).
 */
#include "chaos/recovery.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

void chaos_series_release(struct chaos_series *s)
{
	if (!s)
		return;
	free(s->created);
	free(s->confirmed);
	free(s->cancelled);
	free(s->errors);
	memset(s, 0, sizeof(*s));
}

/* bumps v[second of t] when it falls in the series */
static void count(long *v, size_t n, int64_t t0_ms, int64_t t_ms)
{
	int64_t sec;

	if (t_ms < t0_ms)
		return;
	sec = (t_ms - t0_ms) / 1000;
	if ((uint64_t)sec < n)
		v[sec]++;
}

int chaos_series_build(struct chaos_series *s, int64_t t0_ms, size_t seconds,
                       const struct chaos_order *orders, size_t norders, const int64_t *error_ms,
                       size_t nerr)
{
	size_t i, len = seconds ? seconds : 1;

	memset(s, 0, sizeof(*s));
	s->created = calloc(len, sizeof(long));
	s->confirmed = calloc(len, sizeof(long));
	s->cancelled = calloc(len, sizeof(long));
	s->errors = calloc(len, sizeof(long));
	if (!s->created || !s->confirmed || !s->cancelled || !s->errors) {
		chaos_series_release(s);
		return SVC_ENOMEM;
	}
	s->n = seconds;
	for (i = 0; i < norders; i++) {
		const struct chaos_order *o = &orders[i];

		count(s->created, s->n, t0_ms, o->created_ms);
		if (o->done_ms < 0)
			continue;
		if (o->status == CHAOS_ORDER_CONFIRMED)
			count(s->confirmed, s->n, t0_ms, o->done_ms);
		else if (o->status == CHAOS_ORDER_CANCELLED)
			count(s->cancelled, s->n, t0_ms, o->done_ms);
	}
	for (i = 0; i < nerr; i++)
		count(s->errors, s->n, t0_ms, error_ms[i]);
	return 0;
}

double chaos_series_mean(const long *v, size_t from, size_t to)
{
	long sum = 0;

	if (to <= from)
		return 0;
	for (size_t i = from; i < to; i++)
		sum += v[i];
	return (double)sum / (double)(to - from);
}

double chaos_recovery_rate_s(const long *confirmed, size_t end, double baseline, double kill_s,
                             size_t window, double share)
{
	size_t t, i;

	if (!(baseline > 0) || kill_s < 0 || window == 0)
		return -1;
	for (t = (size_t)floor(kill_s); t + window <= end; t++) {
		long sum = 0;
		bool stall = false;

		for (i = t; i < t + window; i++) {
			sum += confirmed[i];
			stall = stall || (double)confirmed[i] < 0.25 * baseline;
		}
		if (!stall && (double)sum >= share * (double)window * baseline)
			return (double)t > kill_s ? (double)t - kill_s : 0;
	}
	return -1;
}

double chaos_recovery_order_s(const struct chaos_order *orders, size_t n, int64_t kill_ms)
{
	int64_t best = -1;

	for (size_t i = 0; i < n; i++) {
		const struct chaos_order *o = &orders[i];

		if (o->status != CHAOS_ORDER_CONFIRMED || o->created_ms < kill_ms || o->done_ms < 0)
			continue;
		if (best < 0 || o->done_ms < best)
			best = o->done_ms;
	}
	return best < 0 ? -1 : (double)(best - kill_ms) / 1000.0;
}
