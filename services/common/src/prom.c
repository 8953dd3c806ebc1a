/*
 * Prometheus metrics (svc/prom.h). Each metric keeps its series in an
 * open-addressing table of atomic pointers: lookups read it without a lock,
 * inserts happen under the metric's mutex and publish the new series with a
 * release store. Series are never removed before the registry is freed, so a
 * pointer once read stays valid. Values are relaxed atomics: a scrape may see
 * a histogram's buckets and sum a few observations apart, which Prometheus
 * tolerates.
 */
#include "svc/prom.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

#define PROM_SLOTS 512 /* power of two, > SVC_PROM_MAX_SERIES / 0.75 */

const double SVC_PROM_LATENCY_BOUNDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
const size_t SVC_PROM_LATENCY_NBOUNDS =
        sizeof(SVC_PROM_LATENCY_BOUNDS) / sizeof(SVC_PROM_LATENCY_BOUNDS[0]);

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

static const char *const type_names[] = {"counter", "gauge", "histogram"};

struct svc_prom_series {
	struct svc_prom_series *next; /* registration order, for rendering */
	const struct svc_prom_metric *metric;
	uint64_t hash;
	char *values[SVC_PROM_MAX_LABELS];
	atomic_int_fast64_t value;      /* counter, gauge */
	atomic_uint_fast64_t sum;       /* histogram: the double's bits */
	atomic_uint_fast64_t buckets[]; /* histogram: nbounds + 1, not cumulative */
};

struct svc_prom_metric {
	struct svc_prom_metric *next;
	enum prom_type type;
	char *name, *help;
	char *label_spec; /* the labels as registered: "route,method" */
	char *labels[SVC_PROM_MAX_LABELS];
	size_t nlabels;
	double bounds[SVC_PROM_MAX_BUCKETS];
	size_t nbounds;
	pthread_mutex_t mu; /* inserts; the list walk of a render */
	struct svc_prom_series *first, **last;
	size_t nseries;
	_Atomic(struct svc_prom_series *) slots[PROM_SLOTS];
};

struct svc_prom_hook {
	svc_prom_collect_fn fn;
	void *arg;
};

struct svc_prom {
	pthread_mutex_t mu;        /* the metric list and the hooks */
	pthread_mutex_t render_mu; /* one render at a time */
	struct svc_prom_metric *first, **last;
	struct svc_prom_hook *hooks;
	size_t nhooks;
};

/* ---- registry -------------------------------------------------------- */

struct svc_prom *svc_prom_new(void)
{
	struct svc_prom *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		return NULL;
	}
	if (pthread_mutex_init(&r->render_mu, NULL) != 0) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	r->last = &r->first;
	return r;
}

static void series_free(struct svc_prom_series *s)
{
	for (size_t i = 0; i < SVC_PROM_MAX_LABELS; i++)
		free(s->values[i]);
	free(s);
}

static void metric_free(struct svc_prom_metric *m)
{
	struct svc_prom_series *s, *next;

	if (!m)
		return;
	for (s = m->first; s; s = next) {
		next = s->next;
		series_free(s);
	}
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->name);
	free(m->help);
	free(m->label_spec);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void svc_prom_free(struct svc_prom *r)
{
	struct svc_prom_metric *m, *next;

	if (!r)
		return;
	for (m = r->first; m; m = next) {
		next = m->next;
		metric_free(m);
	}
	free(r->hooks);
	pthread_mutex_destroy(&r->render_mu);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int svc_prom_on_collect(struct svc_prom *r, svc_prom_collect_fn fn, void *arg)
{
	struct svc_prom_hook *hooks;

	if (!r || !fn)
		return 0;
	pthread_mutex_lock(&r->mu);
	hooks = realloc(r->hooks, (r->nhooks + 1) * sizeof(*hooks));
	if (hooks) {
		hooks[r->nhooks++] = (struct svc_prom_hook){fn, arg};
		r->hooks = hooks;
	}
	pthread_mutex_unlock(&r->mu);
	return hooks ? 0 : SVC_ENOMEM;
}

/* ---- registration ---------------------------------------------------- */

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static bool valid_name(const char *s, size_t len, bool colon)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i], i == 0, colon))
			return false;
	return true;
}

/* Splits "a,b" into m->labels; false when a name is invalid or too many. */
static bool parse_labels(struct svc_prom_metric *m, const char *labels)
{
	const char *p = labels, *comma;

	if (!labels || !*labels)
		return true;
	for (;;) {
		size_t len;

		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (m->nlabels == SVC_PROM_MAX_LABELS || !valid_name(p, len, false) ||
		    (len >= 2 && p[0] == '_' && p[1] == '_') || (len == 2 && !memcmp(p, "le", 2)))
			return false;
		m->labels[m->nlabels] = strndup(p, len);
		if (!m->labels[m->nlabels++])
			return false;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

/* Whether `m` is what these arguments would register. */
static bool same_shape(const struct svc_prom_metric *m, enum prom_type type, const char *labels,
                       const double *bounds, size_t nbounds)
{
	if (m->type != type || strcmp(m->label_spec, labels ? labels : "") != 0)
		return false;
	if (type != PROM_HISTOGRAM)
		return true;
	if (!bounds || nbounds == 0) {
		bounds = SVC_PROM_LATENCY_BOUNDS;
		nbounds = SVC_PROM_LATENCY_NBOUNDS;
	}
	return m->nbounds == nbounds && !memcmp(m->bounds, bounds, nbounds * sizeof(*bounds));
}

/* The metric named `name`, or NULL. Under r->mu. */
static struct svc_prom_metric *find_metric(struct svc_prom *r, const char *name)
{
	struct svc_prom_metric *m;

	for (m = r->first; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

static struct svc_prom_metric *metric_new(enum prom_type type, const char *name, const char *help,
                                          const char *labels, const double *bounds, size_t nbounds)
{
	struct svc_prom_metric *m = NULL;

	if (!name || !valid_name(name, strlen(name), true))
		return NULL;
	if (type == PROM_HISTOGRAM && (!bounds || nbounds == 0)) {
		bounds = SVC_PROM_LATENCY_BOUNDS;
		nbounds = SVC_PROM_LATENCY_NBOUNDS;
	}
	if (nbounds > SVC_PROM_MAX_BUCKETS)
		return NULL;
	for (size_t i = 1; i < nbounds; i++)
		if (!(bounds[i] > bounds[i - 1]))
			return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return NULL;
	}
	m->type = type;
	m->last = &m->first;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	m->label_spec = strdup(labels ? labels : "");
	if (type == PROM_HISTOGRAM) {
		memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
		m->nbounds = nbounds;
	}
	for (size_t i = 0; i < PROM_SLOTS; i++)
		atomic_init(&m->slots[i], NULL);
	if (!m->name || !m->help || !m->label_spec || !parse_labels(m, labels)) {
		metric_free(m);
		return NULL;
	}
	return m;
}

static struct svc_prom_metric *add_metric(struct svc_prom *r, enum prom_type type, const char *name,
                                          const char *help, const char *labels,
                                          const double *bounds, size_t nbounds)
{
	struct svc_prom_metric *m, *old;

	if (!r || !name)
		return NULL;
	/* Registering again is cheap: collect functions may do it each time. */
	pthread_mutex_lock(&r->mu);
	old = find_metric(r, name);
	pthread_mutex_unlock(&r->mu);
	if (old)
		return same_shape(old, type, labels, bounds, nbounds) ? old : NULL;
	m = metric_new(type, name, help, labels, bounds, nbounds);
	if (!m)
		return NULL;
	pthread_mutex_lock(&r->mu);
	old = find_metric(r, name); /* registered meanwhile by another thread */
	if (!old) {
		*r->last = m;
		r->last = &m->next;
	}
	pthread_mutex_unlock(&r->mu);
	if (old) {
		metric_free(m);
		return same_shape(old, type, labels, bounds, nbounds) ? old : NULL;
	}
	/* Its one series from the start, so that it renders as 0. */
	if (m->nlabels == 0)
		svc_prom_at(m);
	return m;
}

struct svc_prom_metric *svc_prom_counter(struct svc_prom *r, const char *name, const char *help,
                                         const char *labels)
{
	return add_metric(r, PROM_COUNTER, name, help, labels, NULL, 0);
}

struct svc_prom_metric *svc_prom_gauge(struct svc_prom *r, const char *name, const char *help,
                                       const char *labels)
{
	return add_metric(r, PROM_GAUGE, name, help, labels, NULL, 0);
}

struct svc_prom_metric *svc_prom_histogram(struct svc_prom *r, const char *name, const char *help,
                                           const char *labels, const double *bounds, size_t nbounds)
{
	return add_metric(r, PROM_HISTOGRAM, name, help, labels, bounds, nbounds);
}

/* ---- series ---------------------------------------------------------- */

/* FNV-1a over the values, each followed by a 0xff separator. */
static uint64_t hash_values(const char *const *values, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static bool same_values(const struct svc_prom_series *s, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]) != 0)
			return false;
	return true;
}

/* The slot holding the values, or the empty slot where they would go. */
static _Atomic(struct svc_prom_series *) *probe(struct svc_prom_metric *m, uint64_t h,
                                                const char *const *values)
{
	size_t i = (size_t)h & (PROM_SLOTS - 1);

	for (size_t tries = 0; tries < PROM_SLOTS; tries++, i = (i + 1) & (PROM_SLOTS - 1)) {
		struct svc_prom_series *s =
		        atomic_load_explicit(&m->slots[i], memory_order_acquire);

		if (!s || (s->hash == h && same_values(s, values, m->nlabels)))
			return &m->slots[i];
	}
	return NULL; /* not reached: the table is never more than 3/4 full */
}

static struct svc_prom_series *series_new(const struct svc_prom_metric *m, uint64_t h,
                                          const char *const *values)
{
	size_t nb = m->type == PROM_HISTOGRAM ? m->nbounds + 1 : 0;
	struct svc_prom_series *s = calloc(1, sizeof(*s) + nb * sizeof(s->buckets[0]));

	if (!s)
		return NULL;
	s->metric = m;
	s->hash = h;
	atomic_init(&s->value, 0);
	atomic_init(&s->sum, 0); /* the bits of 0.0 */
	for (size_t i = 0; i < nb; i++)
		atomic_init(&s->buckets[i], 0);
	for (size_t i = 0; i < m->nlabels; i++) {
		s->values[i] = strdup(values[i]);
		if (!s->values[i]) {
			series_free(s);
			return NULL;
		}
	}
	return s;
}

struct svc_prom_series *svc_prom_at(struct svc_prom_metric *m, ...)
{
	const char *values[SVC_PROM_MAX_LABELS];
	_Atomic(struct svc_prom_series *) *slot;
	struct svc_prom_series *s;
	va_list ap;
	uint64_t h;

	if (!m)
		return NULL;
	va_start(ap, m);
	/* every entry set (nlabels <= SVC_PROM_MAX_LABELS, which the analyzer
	 * cannot see): the unused ones are never read */
	for (size_t i = 0; i < SVC_PROM_MAX_LABELS; i++) {
		values[i] = i < m->nlabels ? va_arg(ap, const char *) : "";
		if (!values[i])
			values[i] = "";
	}
	va_end(ap);
	h = hash_values(values, m->nlabels);
	slot = probe(m, h, values);
	s = slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
	if (s)
		return s;

	pthread_mutex_lock(&m->mu);
	/* Another thread may have inserted it, or into that slot, meanwhile. */
	slot = probe(m, h, values);
	s = slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
	if (!s && slot && m->nseries < SVC_PROM_MAX_SERIES) {
		s = series_new(m, h, values);
		if (s) {
			*m->last = s;
			m->last = &s->next;
			m->nseries++;
			atomic_store_explicit(slot, s, memory_order_release);
		}
	}
	pthread_mutex_unlock(&m->mu);
	return s;
}

/* ---- updates --------------------------------------------------------- */

void svc_prom_inc(struct svc_prom_series *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
}

void svc_prom_add(struct svc_prom_series *s, uint64_t n)
{
	if (s)
		atomic_fetch_add_explicit(&s->value, (int_fast64_t)n, memory_order_relaxed);
}

void svc_prom_set(struct svc_prom_series *s, int64_t v)
{
	if (s)
		atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

void svc_prom_gauge_add(struct svc_prom_series *s, int64_t d)
{
	if (s)
		atomic_fetch_add_explicit(&s->value, d, memory_order_relaxed);
}

static uint64_t double_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bits_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

void svc_prom_observe(struct svc_prom_series *s, double v)
{
	const struct svc_prom_metric *m;
	uint64_t old;
	size_t i;

	if (!s || s->metric->type != PROM_HISTOGRAM)
		return;
	m = s->metric;
	for (i = 0; i < m->nbounds && v > m->bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
	old = atomic_load_explicit(&s->sum, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&s->sum, &old,
	                                              double_bits(bits_double(old) + v),
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

int64_t svc_prom_value(const struct svc_prom_series *s)
{
	return s ? (int64_t)atomic_load_explicit(&s->value, memory_order_relaxed) : 0;
}

uint64_t svc_prom_count(const struct svc_prom_series *s)
{
	uint64_t n = 0;

	if (!s || s->metric->type != PROM_HISTOGRAM)
		return 0;
	for (size_t i = 0; i <= s->metric->nbounds; i++)
		n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
	return n;
}

double svc_prom_sum(const struct svc_prom_series *s)
{
	if (!s || s->metric->type != PROM_HISTOGRAM)
		return 0;
	return bits_double(atomic_load_explicit(&s->sum, memory_order_relaxed));
}

/* ---- rendering ------------------------------------------------------- */

/* HELP text: backslash and newline escaped. */
static void add_help(struct svc_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			svc_buf_adds(b, "\\\\");
		else if (*s == '\n')
			svc_buf_adds(b, "\\n");
		else
			svc_buf_add(b, s, 1);
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void add_label_value(struct svc_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			svc_buf_add(b, "\\", 1);
		if (*s == '\n')
			svc_buf_adds(b, "\\n");
		else
			svc_buf_add(b, s, 1);
	}
}

/* A float as Prometheus reads it: the shortest of %.15g and %.17g that reads
 * back exactly (0.005, not 0.0050000000000000001), +Inf, -Inf, NaN. */
static void format_float(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else if (snprintf(buf, len, "%.15g", v) > 0 && strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

static void add_float(struct svc_buf *b, double v)
{
	char text[40];

	format_float(text, sizeof(text), v);
	svc_buf_adds(b, text);
}

/* "{a="x",b="y"" plus `le` when given, then "}"; nothing without labels. */
static void add_labels(struct svc_buf *b, const struct svc_prom_series *s, const char *le)
{
	const struct svc_prom_metric *m = s->metric;
	const char *sep = "{";

	for (size_t i = 0; i < m->nlabels; i++) {
		svc_buf_addf(b, "%s%s=\"", sep, m->labels[i]);
		add_label_value(b, s->values[i]);
		svc_buf_add(b, "\"", 1);
		sep = ",";
	}
	if (le)
		svc_buf_addf(b, "%sle=\"%s\"", sep, le);
	if (m->nlabels || le)
		svc_buf_add(b, "}", 1);
}

static void render_histogram(struct svc_buf *b, const struct svc_prom_series *s)
{
	const struct svc_prom_metric *m = s->metric;
	uint64_t cumulative = 0;
	char le[40];

	for (size_t i = 0; i <= m->nbounds; i++) {
		cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		format_float(le, sizeof(le), i < m->nbounds ? m->bounds[i] : INFINITY);
		svc_buf_addf(b, "%s_bucket", m->name);
		add_labels(b, s, le);
		svc_buf_addf(b, " %llu\n", (unsigned long long)cumulative);
	}
	svc_buf_addf(b, "%s_sum", m->name);
	add_labels(b, s, NULL);
	svc_buf_add(b, " ", 1);
	add_float(b, svc_prom_sum(s));
	svc_buf_addf(b, "\n%s_count", m->name);
	add_labels(b, s, NULL);
	svc_buf_addf(b, " %llu\n", (unsigned long long)cumulative);
}

static void render_metric(struct svc_buf *b, struct svc_prom_metric *m)
{
	struct svc_prom_series *s;

	svc_buf_addf(b, "# HELP %s ", m->name);
	add_help(b, m->help);
	svc_buf_addf(b, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
	pthread_mutex_lock(&m->mu);
	for (s = m->first; s; s = s->next) {
		if (m->type == PROM_HISTOGRAM) {
			render_histogram(b, s);
			continue;
		}
		svc_buf_adds(b, m->name);
		add_labels(b, s, NULL);
		svc_buf_addf(b, " %lld\n", (long long)svc_prom_value(s));
	}
	pthread_mutex_unlock(&m->mu);
}

int svc_prom_render(struct svc_prom *r, struct svc_buf *out)
{
	struct svc_prom_metric *m;

	size_t nhooks;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->render_mu);
	/* The hooks may register metrics (they take r->mu), so not under it;
	 * hooks are only ever appended, so the first nhooks stay put. */
	pthread_mutex_lock(&r->mu);
	nhooks = r->nhooks;
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < nhooks; i++) {
		struct svc_prom_hook h;

		pthread_mutex_lock(&r->mu);
		h = r->hooks[i];
		pthread_mutex_unlock(&r->mu);
		h.fn(r, h.arg);
	}
	pthread_mutex_lock(&r->mu);
	for (m = r->first; m; m = m->next)
		render_metric(out, m);
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_unlock(&r->render_mu);
	return out->failed ? SVC_ENOMEM : 0;
}
