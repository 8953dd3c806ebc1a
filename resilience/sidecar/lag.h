/*
 * Consumer lag of the sidecar's group, for GET /metrics: per subscribed
 * partition, the high watermark minus the group's committed offset (the log
 * start when nothing is committed yet), read from the brokers at every
 * scrape with a client of its own that never joins the group, so it neither
 * touches the inbound consumer nor rebalances anything. The offsets are
 * committed every second, so the figure trails by up to a second of traffic.
 */
#ifndef SC_LAG_H
#define SC_LAG_H

#include "resilience/sidecar/config.h"

struct sc_lag;
struct svc_prom;

/* NULL when there is nothing to measure (no SUBSCRIBE_TOPICS) or the client
 * cannot be made (logged). `cfg` is borrowed and must outlive it. */
struct sc_lag *sc_lag_new(const struct sc_config *cfg);
/* Accepts NULL. */
void sc_lag_free(struct sc_lag *lag);

/* A collect function (svc/prom.h) for `lag` (a struct sc_lag *): sets the
 * gauge saga_consumer_lag{topic,partition}. Blocks for a few broker round
 * trips (each bounded by SC_LAG_TIMEOUT_MS); a partition it cannot read
 * keeps its last value. */
void sc_lag_collect(struct svc_prom *r, void *lag);

#define SC_LAG_TIMEOUT_MS 2000

#endif
