/* The Prometheus text exposition format, read (promtext.h). */
#include "services/console/promtext.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over one line. */
struct cursor {
	const char *p, *end;
};

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static void skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A metric or label name into out[size]; false when absent or too long. */
static bool read_name(struct cursor *c, char *out, size_t size)
{
	size_t n = 0;

	if (c->p >= c->end || !name_start(*c->p))
		return false;
	while (c->p < c->end && name_char(*c->p)) {
		if (n + 1 >= size)
			return false;
		out[n++] = *c->p++;
	}
	out[n] = '\0';
	return true;
}

/* A quoted label value, unescaped, into out[size]. */
static bool read_quoted(struct cursor *c, char *out, size_t size)
{
	size_t n = 0;

	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;

		if (ch == '\\') {
			if (c->p >= c->end)
				return false;
			ch = *c->p++;
			if (ch == 'n')
				ch = '\n';
			else if (ch != '\\' && ch != '"')
				return false;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = ch;
	}
	if (c->p >= c->end)
		return false;
	c->p++; /* the closing quote */
	out[n] = '\0';
	return true;
}

/* {name="value",...} (a trailing comma allowed, as the format does). */
static bool read_labels(struct cursor *c, struct console_prom_sample *s)
{
	c->p++; /* '{' */
	for (;;) {
		skip_blanks(c);
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return true;
		}
		if (s->nlabels == CONSOLE_PROM_MAX_LABELS)
			return false;
		if (!read_name(c, s->labels[s->nlabels].name, sizeof(s->labels[0].name)))
			return false;
		skip_blanks(c);
		if (c->p >= c->end || *c->p != '=')
			return false;
		c->p++;
		skip_blanks(c);
		if (!read_quoted(c, s->labels[s->nlabels].value, sizeof(s->labels[0].value)))
			return false;
		s->nlabels++;
		skip_blanks(c);
		if (c->p < c->end && *c->p == ',')
			c->p++;
		else if (c->p >= c->end || *c->p != '}')
			return false;
	}
}

/* The value token: a float, +Inf, -Inf or NaN. */
static bool read_value(struct cursor *c, double *out)
{
	char tok[64], *endp;
	size_t n = 0;

	while (c->p < c->end && *c->p != ' ' && *c->p != '\t') {
		if (n + 1 >= sizeof(tok))
			return false;
		tok[n++] = *c->p++;
	}
	tok[n] = '\0';
	if (n == 0)
		return false;
	if (!strcmp(tok, "+Inf") || !strcmp(tok, "Inf")) {
		*out = INFINITY;
		return true;
	}
	if (!strcmp(tok, "-Inf")) {
		*out = -INFINITY;
		return true;
	}
	if (!strcmp(tok, "NaN")) {
		*out = NAN;
		return true;
	}
	/* strtod would also take hex floats, "inf" and "nan(...)": the format
	 * has none of them */
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", tok[i]))
			return false;
	*out = strtod(tok, &endp);
	return *endp == '\0';
}

/* An optional integer timestamp, then nothing. */
static bool read_rest(struct cursor *c)
{
	skip_blanks(c);
	if (c->p < c->end && *c->p == '-')
		c->p++;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	skip_blanks(c);
	return c->p == c->end;
}

static bool read_sample(struct cursor *c, struct console_prom_sample *s)
{
	s->nlabels = 0;
	if (!read_name(c, s->name, sizeof(s->name)))
		return false;
	skip_blanks(c);
	if (c->p < c->end && *c->p == '{' && !read_labels(c, s))
		return false;
	skip_blanks(c);
	return read_value(c, &s->value) && read_rest(c);
}

int console_prom_parse(const char *text, size_t len, console_prom_sample_fn fn, void *arg,
                       size_t *bad)
{
	struct console_prom_sample s;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = p;
		struct cursor c;
		int rc;

		while (eol < end && *eol != '\n' && *eol != '\0')
			eol++;
		c.p = p;
		c.end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		p = eol < end ? eol + 1 : end;
		skip_blanks(&c);
		if (c.p == c.end || *c.p == '#')
			continue;
		if (!read_sample(&c, &s)) {
			if (bad)
				(*bad)++;
			continue;
		}
		rc = fn(&s, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

const char *console_prom_label(const struct console_prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	return NULL;
}
