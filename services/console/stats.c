/* Order rates and completion percentiles from the order service's metrics (stats.h). */
#include "services/console/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "services/console/promtext.h"

struct parse_state {
	struct console_order_reading *r;
	size_t used;
};

static int outcome_of(const char *v)
{
	if (!v)
		return -1;
	if (!strcmp(v, "CONFIRMED"))
		return CONSOLE_CONFIRMED;
	if (!strcmp(v, "CANCELLED"))
		return CONSOLE_CANCELLED;
	return -1;
}

static bool is_label(const struct console_prom_sample *s, const char *name, const char *want)
{
	const char *v = console_prom_label(s, name);

	return v && !strcmp(v, want);
}

/* Adds one bucket, kept in increasing order of its bound (the text lists
 * them so; a repeated bound replaces the count). */
static void add_bucket(struct console_hist *h, double le, double count)
{
	size_t i = 0;

	while (i < h->n && h->le[i] < le)
		i++;
	if (i < h->n && h->le[i] == le) {
		h->cum[i] = count;
		return;
	}
	if (h->n == CONSOLE_HIST_MAX)
		return;
	memmove(&h->le[i + 1], &h->le[i], (h->n - i) * sizeof(h->le[0]));
	memmove(&h->cum[i + 1], &h->cum[i], (h->n - i) * sizeof(h->cum[0]));
	h->le[i] = le;
	h->cum[i] = count;
	h->n++;
}

static int on_sample(const struct console_prom_sample *s, void *arg)
{
	struct parse_state *st = arg;
	const char *le;
	char *end;
	double bound;
	int o;

	if (!isfinite(s->value) || s->value < 0)
		return 0;
	if (!strcmp(s->name, "svc_http_requests_total")) {
		if (is_label(s, "route", "/api/orders") && is_label(s, "method", "POST") &&
		    is_label(s, "status_class", "2xx")) {
			st->r->created += s->value;
			st->used++;
		}
	} else if (!strcmp(s->name, "saga_completion_seconds_bucket")) {
		o = outcome_of(console_prom_label(s, "outcome"));
		le = console_prom_label(s, "le");
		if (o < 0 || !le)
			return 0;
		if (!strcmp(le, "+Inf")) {
			bound = INFINITY;
		} else {
			bound = strtod(le, &end);
			if (end == le || *end || !isfinite(bound))
				return 0;
		}
		add_bucket(&st->r->completion[o], bound, s->value);
		st->used++;
	}
	return 0;
}

size_t console_order_reading_parse(const char *text, size_t len, struct console_order_reading *r)
{
	struct parse_state st = {.r = r};
	uint64_t t = r->t_ms;

	memset(r, 0, sizeof(*r));
	r->t_ms = t;
	console_prom_parse(text, len, on_sample, &st, NULL);
	return st.used;
}

static double hist_total(const struct console_hist *h)
{
	return h->n ? h->cum[h->n - 1] : 0;
}

double console_hist_quantile(const struct console_hist *h, double q)
{
	double total = hist_total(h), rank, lo = 0, below = 0;

	if (total <= 0 || h->n == 0 || !(q > 0 && q < 1))
		return NAN;
	rank = q * total;
	for (size_t i = 0; i < h->n; i++) {
		if (h->cum[i] >= rank) {
			if (isinf(h->le[i]))
				return i > 0 ? h->le[i - 1] : NAN;
			if (h->cum[i] - below <= 0)
				return h->le[i];
			return lo + (h->le[i] - lo) * (rank - below) / (h->cum[i] - below);
		}
		lo = h->le[i];
		below = h->cum[i];
	}
	return h->n > 1 ? h->le[h->n - 2] : NAN;
}

void console_hist_delta(struct console_hist *out, const struct console_hist *newer,
                        const struct console_hist *older)
{
	bool same = newer->n == older->n;

	for (size_t i = 0; same && i < newer->n; i++)
		same = newer->le[i] == older->le[i] && newer->cum[i] >= older->cum[i];
	*out = *newer;
	if (!same)
		return;
	for (size_t i = 0; i < newer->n; i++)
		out->cum[i] = newer->cum[i] - older->cum[i];
}

void console_window_push(struct console_window *w, const struct console_order_reading *r)
{
	if (w->count == CONSOLE_WINDOW_MAX) {
		w->r[w->first] = *r;
		w->first = (w->first + 1) % CONSOLE_WINDOW_MAX;
		return;
	}
	w->r[(w->first + w->count) % CONSOLE_WINDOW_MAX] = *r;
	w->count++;
}

static const struct console_order_reading *nth(const struct console_window *w, size_t i)
{
	return &w->r[(w->first + i) % CONSOLE_WINDOW_MAX];
}

/* The oldest reading at most `span_ms` older than `newest`. */
static const struct console_order_reading *
back(const struct console_window *w, const struct console_order_reading *newest, uint64_t span_ms)
{
	for (size_t i = 0; i < w->count; i++)
		if (newest->t_ms - nth(w, i)->t_ms <= span_ms)
			return nth(w, i);
	return newest;
}

static double increase(double newer, double older)
{
	return newer >= older ? newer - older : newer; /* a restart counts from zero */
}

void console_window_summary(const struct console_window *w, uint64_t rate_ms, uint64_t pct_ms,
                            struct console_summary *out)
{
	const struct console_order_reading *now, *old;
	struct console_hist all = {0}, d;

	memset(out, 0, sizeof(*out));
	out->p50 = out->p95 = out->p99 = NAN;
	if (w->count == 0)
		return;
	out->known = true;
	now = nth(w, w->count - 1);
	out->created_total = now->created;
	for (int o = 0; o < CONSOLE_OUTCOMES; o++)
		out->finished_total[o] = hist_total(&now->completion[o]);

	old = back(w, now, rate_ms);
	out->rate_s = (double)(now->t_ms - old->t_ms) / 1000.0;
	if (out->rate_s > 0) {
		out->created_per_s = increase(now->created, old->created) / out->rate_s;
		for (int o = 0; o < CONSOLE_OUTCOMES; o++)
			out->finished_per_s[o] = increase(hist_total(&now->completion[o]),
			                                  hist_total(&old->completion[o])) /
			                         out->rate_s;
	}

	old = back(w, now, pct_ms);
	out->pct_s = (double)(now->t_ms - old->t_ms) / 1000.0;
	for (int o = 0; o < CONSOLE_OUTCOMES; o++) {
		if (old == now)
			d = now->completion[o];
		else
			console_hist_delta(&d, &now->completion[o], &old->completion[o]);
		if (d.n == 0)
			continue;
		if (all.n == 0) {
			all = d;
			continue;
		}
		if (all.n != d.n)
			continue; /* both come from one histogram: never differ */
		for (size_t i = 0; i < d.n; i++)
			all.cum[i] += d.cum[i];
	}
	out->completions = hist_total(&all);
	out->p50 = console_hist_quantile(&all, 0.50);
	out->p95 = console_hist_quantile(&all, 0.95);
	out->p99 = console_hist_quantile(&all, 0.99);
}
