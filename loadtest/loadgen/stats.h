/*
 * Small helpers shared by the load-test tools (loadgen, kafka-ceiling,
 * db-ceiling, lagmon): a monotonic clock, latency percentiles and strict
 * number parsing for command-line flags.
 */
#ifndef LT_STATS_H
#define LT_STATS_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. */
int64_t lt_now_us(void);
/* CLOCK_REALTIME in milliseconds since the epoch. */
int64_t lt_wall_ms(void);

struct lt_summary {
	size_t count;
	double avg, p50, p95, p99, max; /* in the unit of the samples */
};

/* Sorts samples in place and fills *out (all zero when n is 0). */
void lt_summarize(double *samples, size_t n, struct lt_summary *out);

/* Parses a whole decimal string into [min, max]; 0 or -1. */
int lt_parse_long(const char *s, long min, long max, long *out);
/* Parses a whole floating-point string into [min, max]; 0 or -1. */
int lt_parse_double(const char *s, double min, double max, double *out);

#endif
