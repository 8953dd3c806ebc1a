/*
 * Circuit breaker over a sliding window of call outcomes (see
 * resilience/breaker.h). Time only comes in through the now_ms arguments, so
 * tests drive it with a fake clock.
 */
#include "resilience/breaker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RS_BREAKER_MAX_WINDOW 1024

struct rs_breaker {
	char *name;
	struct rs_breaker_config cfg;
	pthread_mutex_t lock; /* guards everything below */
	enum rs_breaker_state state;
	/* Closed: ring of the last `count` outcomes (1 = failure), oldest at
	 * (head - count) mod window; `failures` is the number of 1s in it. */
	unsigned char *ring;
	unsigned head;
	unsigned count;
	unsigned failures;
	uint64_t opened_at_ms;
	/* Half-open: probes admitted and not yet recorded, successes so far. */
	unsigned probes_in_flight;
	unsigned probe_successes;
};

void rs_breaker_config_default(struct rs_breaker_config *cfg)
{
	cfg->window = 20;
	cfg->min_calls = 10;
	cfg->failure_rate_pct = 50;
	cfg->open_ms = 5000;
	cfg->slow_call_ms = 0;
	cfg->half_open_calls = 3;
	cfg->on_change = NULL;
	cfg->on_change_arg = NULL;
}

static bool config_valid(const struct rs_breaker_config *cfg)
{
	return cfg->window >= 1 && cfg->window <= RS_BREAKER_MAX_WINDOW &&
	       cfg->min_calls <= cfg->window && cfg->failure_rate_pct >= 1 &&
	       cfg->failure_rate_pct <= 100 && cfg->half_open_calls >= 1;
}

struct rs_breaker *rs_breaker_new(const char *name, const struct rs_breaker_config *cfg)
{
	struct rs_breaker *b = NULL;
	struct rs_breaker_config def;

	if (!cfg) {
		rs_breaker_config_default(&def);
		cfg = &def;
	}
	if (!config_valid(cfg))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto fail;
	b->name = strdup(name ? name : "");
	b->ring = calloc(cfg->window, 1);
	if (!b->name || !b->ring)
		goto fail;
	if (pthread_mutex_init(&b->lock, NULL) != 0)
		goto fail;
	b->cfg = *cfg;
	b->state = RS_BREAKER_CLOSED;
	return b;

fail:
	if (b) {
		free(b->ring);
		free(b->name);
		free(b);
	}
	return NULL;
}

void rs_breaker_free(struct rs_breaker *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->ring);
	free(b->name);
	free(b);
}

static void window_clear(struct rs_breaker *b)
{
	memset(b->ring, 0, b->cfg.window);
	b->head = 0;
	b->count = 0;
	b->failures = 0;
}

/* Appends one outcome, dropping the oldest once the window is full. */
static void window_push(struct rs_breaker *b, bool failure)
{
	if (b->count == b->cfg.window)
		b->failures -= b->ring[b->head]; /* head is the oldest when full */
	else
		b->count++;
	b->ring[b->head] = failure ? 1 : 0;
	b->failures += failure ? 1 : 0;
	b->head = (b->head + 1) % b->cfg.window;
}

/* Moves to state `to`, telling the on_change callback. Lock held. */
static void set_state(struct rs_breaker *b, enum rs_breaker_state to)
{
	enum rs_breaker_state from = b->state;

	b->state = to;
	if (from != to && b->cfg.on_change)
		b->cfg.on_change(b->name, from, to, b->cfg.on_change_arg);
}

static void trip(struct rs_breaker *b, uint64_t now_ms)
{
	set_state(b, RS_BREAKER_OPEN);
	b->opened_at_ms = now_ms;
	b->probes_in_flight = 0;
	b->probe_successes = 0;
	window_clear(b);
}

/* Applies the time-driven transition (open -> half-open). Lock held. */
static void advance(struct rs_breaker *b, uint64_t now_ms)
{
	if (b->state == RS_BREAKER_OPEN && now_ms >= b->opened_at_ms &&
	    now_ms - b->opened_at_ms >= b->cfg.open_ms) {
		set_state(b, RS_BREAKER_HALF_OPEN);
		b->probes_in_flight = 0;
		b->probe_successes = 0;
	}
}

bool rs_breaker_allow(struct rs_breaker *b, uint64_t now_ms)
{
	bool allowed = false;

	pthread_mutex_lock(&b->lock);
	advance(b, now_ms);
	switch (b->state) {
	case RS_BREAKER_CLOSED:
		allowed = true;
		break;
	case RS_BREAKER_OPEN:
		break;
	case RS_BREAKER_HALF_OPEN:
		if (b->probes_in_flight < b->cfg.half_open_calls) {
			b->probes_in_flight++;
			allowed = true;
		}
		break;
	}
	pthread_mutex_unlock(&b->lock);
	return allowed;
}

void rs_breaker_record(struct rs_breaker *b, uint64_t now_ms, bool success, uint64_t duration_ms)
{
	bool failure = !success || (b->cfg.slow_call_ms && duration_ms > b->cfg.slow_call_ms);

	pthread_mutex_lock(&b->lock);
	advance(b, now_ms);
	switch (b->state) {
	case RS_BREAKER_CLOSED:
		window_push(b, failure);
		if (b->count >= b->cfg.min_calls &&
		    (uint64_t)b->failures * 100 >= (uint64_t)b->cfg.failure_rate_pct * b->count)
			trip(b, now_ms);
		break;
	case RS_BREAKER_OPEN:
		/* A call let through before the breaker opened: its outcome
		 * is stale and must not shorten or lengthen the open period. */
		break;
	case RS_BREAKER_HALF_OPEN:
		/* Without a probe in flight this is such a stale call too. */
		if (b->probes_in_flight == 0)
			break;
		b->probes_in_flight--;
		if (failure) {
			trip(b, now_ms);
		} else if (++b->probe_successes >= b->cfg.half_open_calls) {
			set_state(b, RS_BREAKER_CLOSED);
			window_clear(b);
		}
		break;
	}
	pthread_mutex_unlock(&b->lock);
}

enum rs_breaker_state rs_breaker_state(struct rs_breaker *b, uint64_t now_ms)
{
	enum rs_breaker_state s;

	pthread_mutex_lock(&b->lock);
	advance(b, now_ms);
	s = b->state;
	pthread_mutex_unlock(&b->lock);
	return s;
}

const char *rs_breaker_state_name(enum rs_breaker_state s)
{
	switch (s) {
	case RS_BREAKER_CLOSED:
		return "closed";
	case RS_BREAKER_OPEN:
		return "open";
	case RS_BREAKER_HALF_OPEN:
		return "half-open";
	}
	return "unknown";
}

const char *rs_breaker_name(const struct rs_breaker *b)
{
	return b->name;
}
