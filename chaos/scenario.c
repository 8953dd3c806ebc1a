/*
 * Scenario files (see scenario.h): `key = value` lines over defaults.
 */
#include "chaos/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

#define LINE_MAX_LEN 1024

void chaos_scenario_init(struct chaos_scenario *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	snprintf(s->signal, sizeof(s->signal), "KILL");
	s->action = CHAOS_ACTION_DELETE;
	s->mode = CHAOS_MODE_ONE;
	s->grace_s = -1;
	s->baseline_s = 20;
	s->observe_s = 40;
	s->rate = 25;
	s->decline_every = 4;
	s->target_s = 30;
	s->settle_s = 60;
}

/* The keys, each with the bit that marks it seen. */
enum key {
	K_DESCRIPTION,
	K_SELECTOR,
	K_ACTION,
	K_CONTAINER,
	K_SIGNAL,
	K_GRACE,
	K_MODE,
	K_INTERVAL,
	K_DURATION,
	K_BASELINE,
	K_OBSERVE,
	K_RATE,
	K_DECLINE_EVERY,
	K_TARGET,
	K_SETTLE,
	K_DLQ_ALLOW,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {
        [K_DESCRIPTION] = "description",
        [K_SELECTOR] = "selector",
        [K_ACTION] = "action",
        [K_CONTAINER] = "container",
        [K_SIGNAL] = "signal",
        [K_GRACE] = "grace",
        [K_MODE] = "mode",
        [K_INTERVAL] = "interval",
        [K_DURATION] = "duration",
        [K_BASELINE] = "baseline",
        [K_OBSERVE] = "observe",
        [K_RATE] = "rate",
        [K_DECLINE_EVERY] = "decline_every",
        [K_TARGET] = "recovery_target",
        [K_SETTLE] = "settle",
        [K_DLQ_ALLOW] = "dlq_allow",
};

/* A whole decimal number in [min, max]. */
static bool parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]) && v[0] != '-')
		return false;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool parse_rate(const char *v, double *out)
{
	char *end;
	double d;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	d = strtod(v, &end);
	if (errno || *end || !(d > 0 && d <= 10000))
		return false;
	*out = d;
	return true;
}

/* Copies v into dst[len]; false when it does not fit. */
static bool copy_text(char *dst, size_t len, const char *v)
{
	return (size_t)snprintf(dst, len, "%s", v) < len;
}

/* A label selector here: label keys and values, =, ==, !=, commas. */
static bool selector_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("./-_=!,", *v))
			return false;
	return true;
}

static bool parse_mode(const char *v, struct chaos_scenario *s)
{
	long pct;
	size_t n = strlen(v);
	char num[8];

	if (!strcmp(v, "one")) {
		s->mode = CHAOS_MODE_ONE;
		return true;
	}
	if (!strcmp(v, "all")) {
		s->mode = CHAOS_MODE_ALL;
		return true;
	}
	if (n < 2 || n > 4 || v[n - 1] != '%')
		return false;
	memcpy(num, v, n - 1);
	num[n - 1] = '\0';
	if (!parse_long(num, 1, 100, &pct))
		return false;
	s->mode = CHAOS_MODE_PERCENT;
	s->percent = (int)pct;
	return true;
}

/* Applies one key's value; false when the value is not acceptable. */
static bool apply(struct chaos_scenario *s, enum key k, const char *v)
{
	long n;

	switch (k) {
	case K_DESCRIPTION:
		return copy_text(s->description, sizeof(s->description), v);
	case K_SELECTOR:
		return selector_ok(v) && copy_text(s->selector, sizeof(s->selector), v);
	case K_ACTION:
		if (!strcmp(v, "delete"))
			s->action = CHAOS_ACTION_DELETE;
		else if (!strcmp(v, "delete-now"))
			s->action = CHAOS_ACTION_DELETE_NOW;
		else if (!strcmp(v, "kill-container"))
			s->action = CHAOS_ACTION_KILL_CONTAINER;
		else
			return false;
		return true;
	case K_CONTAINER:
		for (const char *p = v; *p; p++)
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
				return false;
		return *v && copy_text(s->container, sizeof(s->container), v);
	case K_SIGNAL:
		if (strcmp(v, "KILL") && strcmp(v, "TERM"))
			return false;
		return copy_text(s->signal, sizeof(s->signal), v);
	case K_GRACE:
		return parse_long(v, 0, 3600, &s->grace_s);
	case K_MODE:
		return parse_mode(v, s);
	case K_INTERVAL:
		return parse_long(v, 0, 3600, &s->interval_s);
	case K_DURATION:
		return parse_long(v, 1, 3600, &s->duration_s);
	case K_BASELINE:
		return parse_long(v, 5, 3600, &s->baseline_s);
	case K_OBSERVE:
		return parse_long(v, 10, 3600, &s->observe_s);
	case K_RATE:
		return parse_rate(v, &s->rate);
	case K_DECLINE_EVERY:
		if (!parse_long(v, 0, 1000, &n) || n == 1)
			return false;
		s->decline_every = (int)n;
		return true;
	case K_TARGET:
		return parse_long(v, 1, 3600, &s->target_s);
	case K_SETTLE:
		return parse_long(v, 0, 3600, &s->settle_s);
	case K_DLQ_ALLOW:
		return copy_text(s->dlq_allow, sizeof(s->dlq_allow), v);
	case K_COUNT:
		break;
	}
	return false;
}

/* Trims spaces at both ends of the NUL-terminated s in place. */
static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* The settings that only make sense together. */
static int check_whole(const struct chaos_scenario *s, unsigned seen, char *err, size_t errlen)
{
	if (!(seen & (1u << K_SELECTOR)))
		snprintf(err, errlen, "selector is required");
	else if (!(seen & (1u << K_ACTION)))
		snprintf(err, errlen, "action is required");
	else if (s->action == CHAOS_ACTION_KILL_CONTAINER && !s->container[0])
		snprintf(err, errlen, "action kill-container needs a container");
	else if (s->action != CHAOS_ACTION_KILL_CONTAINER && s->container[0])
		snprintf(err, errlen, "container is for action kill-container only");
	else if (s->action != CHAOS_ACTION_DELETE && s->grace_s >= 0)
		snprintf(err, errlen, "grace is for action delete only");
	else if (s->interval_s > 0 && s->duration_s == 0)
		snprintf(err, errlen, "interval needs a duration");
	else if (s->interval_s == 0 && s->duration_s > 0)
		snprintf(err, errlen, "duration needs an interval");
	else
		return 0;
	return SVC_EPERMANENT;
}

int chaos_scenario_parse(struct chaos_scenario *s, const char *text, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN];
	unsigned seen = 0;
	int lineno = 0;
	const char *p = text, *nl;
	size_t len;

	while (*p) {
		char *l, *eq, *key, *value;
		int k;

		lineno++;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "line %d: longer than %d characters", lineno,
			         LINE_MAX_LEN - 1);
			return SVC_EPERMANENT;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		l = trim(line);
		if (!*l || *l == '#')
			continue;
		eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, errlen, "line %d: not `key = value`", lineno);
			return SVC_EPERMANENT;
		}
		*eq = '\0';
		key = trim(l);
		value = trim(eq + 1);
		for (k = 0; k < K_COUNT && strcmp(key, key_names[k]); k++)
			;
		if (k == K_COUNT) {
			snprintf(err, errlen, "line %d: unknown key '%.64s'", lineno, key);
			return SVC_EPERMANENT;
		}
		if (seen & (1u << k)) {
			snprintf(err, errlen, "line %d: %s given twice", lineno, key_names[k]);
			return SVC_EPERMANENT;
		}
		seen |= 1u << k;
		if (!apply(s, (enum key)k, value)) {
			snprintf(err, errlen, "line %d: bad %s '%.64s'", lineno, key_names[k],
			         value);
			return SVC_EPERMANENT;
		}
	}
	return check_whole(s, seen, err, errlen);
}

int chaos_scenario_load(struct chaos_scenario *s, const char *path, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	char *text = NULL;
	FILE *f = NULL;
	long size;
	int rc = SVC_ENOTFOUND;

	chaos_scenario_init(s, base ? base + 1 : path);
	f = fopen(path, "r");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > 65536 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: cannot read it", path);
		goto close;
	}
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read it", path);
		goto close;
	}
	text[size] = '\0';
	rc = chaos_scenario_parse(s, text, err, errlen);
close:
	free(text);
	if (f)
		fclose(f);
	return rc;
}

size_t chaos_scenario_kills(const struct chaos_scenario *s)
{
	if (s->interval_s <= 0)
		return 1;
	return (size_t)((s->duration_s + s->interval_s - 1) / s->interval_s);
}

long chaos_scenario_kill_at_s(const struct chaos_scenario *s, size_t k)
{
	return s->baseline_s + (long)k * s->interval_s;
}

long chaos_scenario_load_s(const struct chaos_scenario *s)
{
	return chaos_scenario_kill_at_s(s, chaos_scenario_kills(s) - 1) + s->observe_s;
}

const char *chaos_action_name(enum chaos_action a)
{
	switch (a) {
	case CHAOS_ACTION_DELETE:
		return "delete";
	case CHAOS_ACTION_DELETE_NOW:
		return "delete-now";
	case CHAOS_ACTION_KILL_CONTAINER:
		return "kill-container";
	}
	return "?";
}

void chaos_mode_format(const struct chaos_scenario *s, char *buf, size_t len)
{
	switch (s->mode) {
	case CHAOS_MODE_ONE:
		snprintf(buf, len, "one");
		break;
	case CHAOS_MODE_ALL:
		snprintf(buf, len, "all");
		break;
	case CHAOS_MODE_PERCENT:
		snprintf(buf, len, "%d%%", s->percent);
		break;
	}
}
