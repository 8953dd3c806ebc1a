/* Clock, percentiles and flag parsing for the load-test tools (stats.h). */
#include "loadtest/loadgen/stats.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "svc/clock.h"

int64_t lt_now_us(void)
{
	return (int64_t)svc_mono_us();
}

int64_t lt_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* nearest-rank percentile of sorted samples */
static double rank(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n);
	if (i >= n)
		i = n - 1;
	return sorted[i];
}

void lt_summarize(double *samples, size_t n, struct lt_summary *out)
{
	double sum = 0;

	*out = (struct lt_summary){.count = n};
	if (n == 0)
		return;
	qsort(samples, n, sizeof(*samples), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += samples[i];
	out->avg = sum / (double)n;
	out->p50 = rank(samples, n, 0.50);
	out->p95 = rank(samples, n, 0.95);
	out->p99 = rank(samples, n, 0.99);
	out->max = samples[n - 1];
}

int lt_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int lt_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}
