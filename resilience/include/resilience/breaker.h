/*
 * Circuit breaker: closed / open / half-open, on the failure rate over a
 * sliding window of the last `window` calls; calls slower than slow_call_ms
 * count as failures. Pure logic with a caller-supplied clock (milliseconds),
 * thread-safe (internal mutex).
 *
 * closed    -> open       when >= min_calls in the window and failures*100 >=
 *                         failure_rate_pct * calls
 * open      -> half-open  after open_ms
 * half-open -> closed     after half_open_calls successes in a row
 * half-open -> open       on any failure
 */
#ifndef RS_BREAKER_H
#define RS_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum rs_breaker_state { RS_BREAKER_CLOSED, RS_BREAKER_OPEN, RS_BREAKER_HALF_OPEN };

struct rs_breaker_config {
	unsigned window;           /* calls remembered, 1..1024 (default 20) */
	unsigned min_calls;        /* calls needed before it may open (default 10) */
	unsigned failure_rate_pct; /* 1..100 (default 50) */
	uint64_t open_ms;          /* time open before probing (default 5000) */
	uint64_t slow_call_ms;     /* slower counts as failure; 0 = off */
	unsigned half_open_calls;  /* probes admitted at once and successes to close (default 3) */
	/*
	 * Optional (default NULL): told of every state change exactly once,
	 * with the breaker's name and `on_change_arg`. Runs with the breaker's
	 * lock held, on whichever thread caused the change: it must be quick
	 * and must not call into this breaker.
	 */
	void (*on_change)(const char *name, enum rs_breaker_state from, enum rs_breaker_state to,
	                  void *arg);
	void *on_change_arg;
};

/* Fills `cfg` with the defaults above. */
void rs_breaker_config_default(struct rs_breaker_config *cfg);

struct rs_breaker;

/* `name` is copied. NULL on allocation failure or invalid config. */
struct rs_breaker *rs_breaker_new(const char *name, const struct rs_breaker_config *cfg);
/* Accepts NULL. No call may be in progress. */
void rs_breaker_free(struct rs_breaker *b);

/* May a call go ahead now? False while open, and in half-open once the probe
 * slots are taken. Every true must be followed by one rs_breaker_record(). */
bool rs_breaker_allow(struct rs_breaker *b, uint64_t now_ms);
/* The outcome of an allowed call that took `duration_ms`. */
void rs_breaker_record(struct rs_breaker *b, uint64_t now_ms, bool success, uint64_t duration_ms);

/* The state at `now_ms` (an open breaker whose time is up reads half-open). */
enum rs_breaker_state rs_breaker_state(struct rs_breaker *b, uint64_t now_ms);
/* "closed", "open", "half-open": static strings. */
const char *rs_breaker_state_name(enum rs_breaker_state s);
/* The name given to rs_breaker_new; owned by `b`. */
const char *rs_breaker_name(const struct rs_breaker *b);

#endif
