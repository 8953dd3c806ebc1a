/*
 * Per-second series of a scenario's orders and the recovery times read
 * from them (pure: no I/O). Second 0 starts when the load started.
 *
 * A kill's recovery is measured three ways from the moment of the kill:
 *   (a) ready   its pods Ready again (pod.h, chaos_kill_recovered), timed
 *               by the runner;
 *   (b) order   the first order created after the kill CONFIRMED;
 *   (c) rate    the confirmed-orders rate back to `share` (95 %) of the
 *               baseline for `window` (10) s: the first window, starting
 *               in or after the second of the kill, whose confirmations
 *               add up to share x window x baseline and in which no
 *               second has under a quarter of the baseline (a catch-up
 *               burst after a stall cannot make up for the stall itself).
 */
#ifndef CHAOS_RECOVERY_H
#define CHAOS_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "chaos/orders.h"

struct chaos_series {
	size_t n;        /* seconds */
	long *created;   /* accepted orders, by createdAt */
	long *confirmed; /* by the time they reached CONFIRMED */
	long *cancelled; /* by the time they reached CANCELLED */
	long *errors;    /* requests without a 2xx answer, by the time they were sent */
};

/*
 * Fills s with `seconds` seconds from t0_ms from the orders and the send
 * times of the failed requests (error_ms[nerr]). Events outside the
 * series are left out. 0 or SVC_ENOMEM (s then holds nothing).
 */
int chaos_series_build(struct chaos_series *s, int64_t t0_ms, size_t seconds,
                       const struct chaos_order *orders, size_t norders, const int64_t *error_ms,
                       size_t nerr);
void chaos_series_release(struct chaos_series *s);

/* The mean of v[from..to) (0 when empty). */
double chaos_series_mean(const long *v, size_t from, size_t to);

/* (c) above: seconds from kill_s (seconds from t0) to the recovery, 0 when
 * the rate never dropped; -1 when no window before `end` (the seconds with
 * load) qualifies or the baseline is not positive. */
double chaos_recovery_rate_s(const long *confirmed, size_t end, double baseline, double kill_s,
                             size_t window, double share);

/* (b) above: seconds from kill_ms to the earliest CONFIRMED among the
 * orders created at or after it; -1 when none. */
double chaos_recovery_order_s(const struct chaos_order *orders, size_t n, int64_t kill_ms);

#endif
