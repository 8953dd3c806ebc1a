/*
 * The order rates and completion-time percentiles of the console, from the
 * order service's own metrics (docs/observability.md): a sampler reads its
 * GET /metrics every second into a window of readings, and a summary
 * compares the newest reading with older ones:
 *   orders created/s   svc_http_requests_total{route="/api/orders",
 *                      method="POST",status_class="2xx"}
 *   confirmed/s, cancelled/s and the percentiles
 *                      saga_completion_seconds{outcome} (its count and buckets)
 * A counter that went down (the order service restarted) counts from zero.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef CONSOLE_STATS_H
#define CONSOLE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_HIST_MAX   24 /* buckets kept, +Inf included */
#define CONSOLE_WINDOW_MAX 64 /* readings kept */

enum console_outcome { CONSOLE_CONFIRMED, CONSOLE_CANCELLED, CONSOLE_OUTCOMES };

/* A cumulative histogram: counts of observations <= le[i], increasing le,
 * the last +Inf (its count is the total). */
struct console_hist {
	size_t n;
	double le[CONSOLE_HIST_MAX];
	double cum[CONSOLE_HIST_MAX];
};

struct console_order_reading {
	uint64_t t_ms;  /* when it was taken (svc_mono_ms) */
	double created; /* orders accepted since the order service started */
	struct console_hist completion[CONSOLE_OUTCOMES];
};

/* Fills `r` (t_ms untouched) from `len` bytes of the order service's metrics
 * text. Returns the number of samples used (0: nothing the console knows). */
size_t console_order_reading_parse(const char *text, size_t len, struct console_order_reading *r);

/* The q-quantile (0 < q < 1) of the observations in `h`, interpolated
 * linearly inside a bucket like Prometheus's histogram_quantile(): the
 * highest finite bound when it falls in +Inf, NaN when `h` holds none. */
double console_hist_quantile(const struct console_hist *h, double q);

/* out = newer - older, bucket by bucket; newer itself when their bounds
 * differ or a count went down (a restart). */
void console_hist_delta(struct console_hist *out, const struct console_hist *newer,
                        const struct console_hist *older);

/* The readings, oldest first, at most CONSOLE_WINDOW_MAX (the oldest drops
 * out). Caller-embedded; zero it to initialise. */
struct console_window {
	struct console_order_reading r[CONSOLE_WINDOW_MAX];
	size_t first, count;
};

void console_window_push(struct console_window *w, const struct console_order_reading *r);

struct console_summary {
	bool known;    /* at least one reading */
	double rate_s; /* the span the rates cover, seconds (0: one reading only) */
	double created_per_s, finished_per_s[CONSOLE_OUTCOMES];
	double created_total, finished_total[CONSOLE_OUTCOMES]; /* since the service started */
	double pct_s;         /* the span the percentiles cover, seconds */
	double completions;   /* sagas finished in that span, both outcomes */
	double p50, p95, p99; /* seconds; NaN when none finished in that span */
};

/* Rates over the last `rate_ms` (from the newest reading back to the oldest
 * one at most that old), percentiles over the last `pct_ms` (both outcomes
 * together; since the service started when the window holds one reading). */
void console_window_summary(const struct console_window *w, uint64_t rate_ms, uint64_t pct_ms,
                            struct console_summary *out);

#endif
