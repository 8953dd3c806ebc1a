/*
 * Reads the order service's GET /metrics every CONSOLE_SAMPLE_MS into a
 * window of readings (stats.h), on a thread of its own, so that a page's
 * poll costs no call to the service and several open pages share the
 * readings. With several order replicas behind one Service, each reading
 * comes from one of them (a counter that goes down counts from zero).
 */
#ifndef CONSOLE_SAMPLER_H
#define CONSOLE_SAMPLER_H

#include "services/console/config.h"
#include "services/console/stats.h"

struct console_sampler;

/* Starts sampling `cfg->order_url`. `cfg` is borrowed and must outlive it.
 * NULL (logged) when the thread cannot start. */
struct console_sampler *console_sampler_start(const struct console_config *cfg);
/* Stops, joins, frees. Accepts NULL. */
void console_sampler_stop(struct console_sampler *s);

/* Rates over the last 5 s, percentiles over the last 60 s (stats.h), and
 * whether the last reading succeeded. */
void console_sampler_summary(struct console_sampler *s, struct console_summary *out, bool *up);

#endif
