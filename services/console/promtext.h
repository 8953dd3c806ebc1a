/*
 * Reading the Prometheus text exposition format (0.0.4) that the services
 * and sidecars serve at GET /metrics (svc/prom.h writes it). The console
 * reads it from processes it reaches over the network, so the parser takes
 * any bytes: a line it cannot read is skipped and counted, never fatal.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef CONSOLE_PROMTEXT_H
#define CONSOLE_PROMTEXT_H

#include <stddef.h>

#define CONSOLE_PROM_MAX_LABELS 8
#define CONSOLE_PROM_NAME_MAX   128
#define CONSOLE_PROM_VALUE_MAX  256

/* One sample line: name{labels} value. Label values are unescaped (\\, \",
 * \n). A metric name, label name or value longer than its buffer makes the
 * line unreadable. */
struct console_prom_sample {
	char name[CONSOLE_PROM_NAME_MAX];
	size_t nlabels;
	struct {
		char name[CONSOLE_PROM_NAME_MAX];
		char value[CONSOLE_PROM_VALUE_MAX];
	} labels[CONSOLE_PROM_MAX_LABELS];
	double value; /* +Inf, -Inf and NaN as such */
};

/* Called for each sample read; a non-zero return stops the parse and is
 * returned by console_prom_parse(). */
typedef int (*console_prom_sample_fn)(const struct console_prom_sample *s, void *arg);

/*
 * Reads `len` bytes of exposition text (no NUL needed; a NUL ends a line
 * like a newline), calling fn for every sample line, in order. Comments
 * (# HELP, # TYPE) and blank lines are skipped; an unreadable line is
 * skipped and counted in *bad when `bad` is not NULL. An optional timestamp
 * after the value is accepted and ignored. Returns 0, or fn's non-zero
 * return.
 */
int console_prom_parse(const char *text, size_t len, console_prom_sample_fn fn, void *arg,
                       size_t *bad);

/* The value of label `name` of `s`, or NULL when it has none. */
const char *console_prom_label(const struct console_prom_sample *s, const char *name);

#endif
