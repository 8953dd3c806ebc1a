/*
 * Prometheus metrics: a registry of counters, gauges and histograms, each
 * with a fixed set of label names, and their text exposition (format 0.0.4).
 *
 * A metric is a family (name, help, label names); a series is one set of its
 * label values. Updating a series is one relaxed atomic operation (a
 * histogram's: two, plus a compare-and-swap for its sum): no lock, no
 * allocation. Finding a series by its label values (svc_prom_at) hashes and
 * compares them without a lock; only the first use of a set of values takes
 * the metric's lock and allocates. Callers on a hot path with a fixed set of
 * values keep the series pointer.
 *
 * Labels must be bounded: route templates, event types, states, never ids or
 * raw paths. A metric holds at most SVC_PROM_MAX_SERIES series; past that,
 * svc_prom_at() returns NULL.
 *
 * Every function accepts NULL handles and then does nothing (a lookup returns
 * NULL): code may count into a registry that is not there (tests, tools).
 */
#ifndef SVC_PROM_H
#define SVC_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "svc/buf.h"

#define SVC_PROM_MAX_LABELS  4
#define SVC_PROM_MAX_BUCKETS 16
#define SVC_PROM_MAX_SERIES  384
/* The Content-Type of svc_prom_render()'s text. */
#define SVC_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct svc_prom;        /* a registry */
struct svc_prom_metric; /* a family: name, help, label names */
struct svc_prom_series; /* one set of label values of a metric */

/* An empty registry (NULL on OOM). */
struct svc_prom *svc_prom_new(void);
/* Frees the registry, its metrics and series. Accepts NULL. */
void svc_prom_free(struct svc_prom *r);

/*
 * Registers a metric. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*; `labels` is
 * NULL or "" (no labels) or a comma-separated list of up to
 * SVC_PROM_MAX_LABELS label names ("route,method"), each [a-zA-Z_][a-zA-Z0-9_]*
 * and not "le". Strings are copied. Registering the same name again with the
 * same type, labels (the same string) and bounds returns the metric already
 * there, without allocating; with others, NULL.
 * NULL too on an invalid name or OOM. A metric without labels has its one
 * series from the start (rendered as 0).
 *
 * Histogram `bounds`: upper bounds, strictly increasing, at most
 * SVC_PROM_MAX_BUCKETS (the +Inf bucket is implied); NULL or nbounds 0 gives
 * SVC_PROM_LATENCY_BOUNDS (seconds, 1 ms .. 10 s).
 */
struct svc_prom_metric *svc_prom_counter(struct svc_prom *r, const char *name, const char *help,
                                         const char *labels);
struct svc_prom_metric *svc_prom_gauge(struct svc_prom *r, const char *name, const char *help,
                                       const char *labels);
struct svc_prom_metric *svc_prom_histogram(struct svc_prom *r, const char *name, const char *help,
                                           const char *labels, const double *bounds,
                                           size_t nbounds);

/*
 * The series of `m` for the label values that follow, one `const char *` per
 * label name, in order (NULL counts as ""). Created on first use. Borrowed:
 * valid as long as the registry. NULL when `m` is NULL, the metric is full
 * or on OOM.
 */
struct svc_prom_series *svc_prom_at(struct svc_prom_metric *m, ...);

/* Counters: add 1 / n. */
void svc_prom_inc(struct svc_prom_series *s);
void svc_prom_add(struct svc_prom_series *s, uint64_t n);
/* Gauges: set to v / add d (d may be negative). svc_prom_set() also sets a
 * counter that mirrors a count kept elsewhere (read at collection). */
void svc_prom_set(struct svc_prom_series *s, int64_t v);
void svc_prom_gauge_add(struct svc_prom_series *s, int64_t d);
/* Histograms: one observation (seconds, for a *_seconds metric). */
void svc_prom_observe(struct svc_prom_series *s, double v);

/* Reads of one series, for tests and JSON views: a counter's or gauge's
 * value; a histogram's number of observations and their sum. */
int64_t svc_prom_value(const struct svc_prom_series *s);
uint64_t svc_prom_count(const struct svc_prom_series *s);
double svc_prom_sum(const struct svc_prom_series *s);

/*
 * A function run at every svc_prom_render(), before the text is written,
 * to set gauges read at scrape time (a pool's use, a table's backlog, a
 * breaker's state). Runs on the scraping thread, one render at a time; may
 * register metrics.
 */
typedef void (*svc_prom_collect_fn)(struct svc_prom *r, void *arg);
/* Adds a collect function with its argument (borrowed: must outlive the
 * registry, or the registry be freed first). 0, or SVC_ENOMEM. */
int svc_prom_on_collect(struct svc_prom *r, svc_prom_collect_fn fn, void *arg);

/*
 * Appends the exposition text of every metric, in the order they were
 * registered (# HELP, # TYPE, then one line per series; histograms as
 * _bucket{le=...} cumulative, _sum, _count). Runs the collect functions
 * first. 0, or SVC_ENOMEM (the buffer failed).
 */
int svc_prom_render(struct svc_prom *r, struct svc_buf *out);

/* Default histogram bounds, seconds. */
extern const double SVC_PROM_LATENCY_BOUNDS[];
extern const size_t SVC_PROM_LATENCY_NBOUNDS;

#endif
