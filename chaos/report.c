/*
 * The chaos report: Markdown, JSON and SVG (see report.h).
 */
#include "chaos/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "svc/error.h"

/* the chart's geometry */
#define SVG_W      760
#define SVG_H      280
#define PAD_LEFT   52
#define PAD_RIGHT  16
#define PAD_TOP    34
#define PAD_BOTTOM 40

static const char *str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static double num(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

static json_int_t integer(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* "1.23 s", or "n/a" for null */
static void fmt_secs(const json_t *v, char *buf, size_t len)
{
	if (json_is_number(v))
		snprintf(buf, len, "%.2f s", json_number_value(v));
	else
		snprintf(buf, len, "n/a");
}

/* text for XML content and attributes */
static void add_xml(struct svc_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			svc_buf_adds(b, "&lt;");
			break;
		case '>':
			svc_buf_adds(b, "&gt;");
			break;
		case '&':
			svc_buf_adds(b, "&amp;");
			break;
		case '"':
			svc_buf_adds(b, "&quot;");
			break;
		default:
			svc_buf_add(b, s, 1);
		}
	}
}

/* text for a Markdown table cell: no line breaks, pipes escaped */
static void add_cell(struct svc_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			svc_buf_adds(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			svc_buf_adds(b, " ");
		else
			svc_buf_add(b, s, 1);
	}
}

/* the smallest of 1, 2, 5 x 10^k at or above v (at least 5) */
static double nice_max(double v)
{
	double p = 1;

	if (v < 5)
		return 5;
	while (p * 10 <= v)
		p *= 10;
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

struct plot {
	double x0, y0, w, h; /* the plot area */
	double xmax, ymax;
};

static double px(const struct plot *p, double x)
{
	return p->x0 + p->w * x / p->xmax;
}

static double py(const struct plot *p, double y)
{
	return p->y0 + p->h - p->h * y / p->ymax;
}

static void polyline(struct svc_buf *b, const struct plot *p, const json_t *v, const char *color)
{
	size_t i;
	const json_t *e;

	svc_buf_addf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
	             color);
	json_array_foreach(v, i, e)
	{
		/* the count of second i drawn at its middle */
		svc_buf_addf(b, "%s%.1f,%.1f", i ? " " : "", px(p, (double)i + 0.5),
		             py(p, (double)json_integer_value(e)));
	}
	svc_buf_adds(b, "\"/>\n");
}

static void marker(struct svc_buf *b, const struct plot *p, double x, const char *color,
                   const char *label, int row)
{
	if (x < 0 || x > p->xmax)
		return;
	svc_buf_addf(b,
	             "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
	             "stroke-dasharray=\"4 3\"/>\n",
	             px(p, x), p->y0, px(p, x), p->y0 + p->h, color);
	svc_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"10\">", px(p, x) + 3,
	             p->y0 + 10 + 11 * row, color);
	add_xml(b, label);
	svc_buf_adds(b, "</text>\n");
}

static double series_max(const json_t *series, const char *const *keys, size_t nkeys)
{
	double m = 0;

	for (size_t k = 0; k < nkeys; k++) {
		size_t i;
		const json_t *e;

		json_array_foreach(json_object_get(series, keys[k]), i, e)
		{
			if ((double)json_integer_value(e) > m)
				m = (double)json_integer_value(e);
		}
	}
	return m;
}

int chaos_report_svg(const json_t *result, struct svc_buf *out)
{
	static const char *const keys[] = {"created", "confirmed", "cancelled", "errors"};
	static const char *const colors[] = {"#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"};
	static const char *const labels[] = {"orders created/s", "confirmed/s", "cancelled/s",
	                                     "HTTP errors/s"};
	const json_t *series = json_object_get(result, "series");
	const json_t *kills = json_object_get(result, "kills"), *kill;
	const json_t *rec = json_object_get(json_object_get(result, "recovery"), "recovery_s");
	struct plot p = {
	        PAD_LEFT, PAD_TOP, SVG_W - PAD_LEFT - PAD_RIGHT, SVG_H - PAD_TOP - PAD_BOTTOM,
	        0,        0};
	size_t n = json_array_size(json_object_get(series, "created")), i;
	double step, last_kill = -1;
	char label[64];

	if (n == 0)
		return SVC_EPERMANENT;
	p.xmax = (double)n;
	p.ymax = nice_max(series_max(series, keys, 4));
	svc_buf_addf(out,
	             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	             "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
	             "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	             "<text x=\"%d\" y=\"14\" font-size=\"13\" font-weight=\"bold\">",
	             SVG_W, SVG_H, SVG_W, SVG_H, PAD_LEFT);
	add_xml(out, str(result, "scenario"));
	svc_buf_adds(out, "</text>\n");
	for (i = 0; i < 4; i++)
		svc_buf_addf(out,
		             "<rect x=\"%d\" y=\"20\" width=\"10\" height=\"3\" fill=\"%s\"/>"
		             "<text x=\"%d\" y=\"25\" font-size=\"10\">%s</text>\n",
		             PAD_LEFT + 150 + (int)i * 140, colors[i],
		             PAD_LEFT + 164 + (int)i * 140, labels[i]);
	/* axes, grid, ticks */
	svc_buf_addf(out,
	             "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
	             "stroke=\"#999\"/>\n",
	             p.x0, p.y0, p.w, p.h);
	for (i = 0; i <= 4; i++) {
		double y = p.ymax * (double)i / 4;

		svc_buf_addf(
		        out,
		        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
		        "text-anchor=\"end\">%g</text>\n",
		        p.x0, py(&p, y), p.x0 + p.w, py(&p, y), p.x0 - 4, py(&p, y) + 3, y);
	}
	step = n > 300 ? 60 : n > 120 ? 20 : 10;
	for (double x = 0; x <= p.xmax; x += step)
		svc_buf_addf(out,
		             "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
		             "text-anchor=\"middle\">%g</text>\n",
		             px(&p, x), p.y0 + p.h + 14, x);
	svc_buf_addf(
	        out,
	        "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">seconds since "
	        "the load started</text>\n",
	        p.x0 + p.w / 2, SVG_H - 6);
	for (i = 0; i < 4; i++)
		polyline(out, &p, json_object_get(series, keys[i]), colors[i]);
	json_array_foreach(kills, i, kill)
	{
		snprintf(label, sizeof(label), "kill %zu", i + 1);
		marker(out, &p, num(kill, "at_s"), "#d62728",
		       json_array_size(kills) > 3 && i ? "" : label, 0);
		last_kill = num(kill, "at_s");
	}
	if (json_is_number(rec) && last_kill >= 0) {
		snprintf(label, sizeof(label), "recovered (%.1f s)", json_number_value(rec));
		marker(out, &p, last_kill + json_number_value(rec), "#2ca02c", label, 1);
	}
	svc_buf_adds(out, "</svg>\n");
	return out->failed ? SVC_ENOMEM : 0;
}

bool chaos_report_all_passed(const json_t *results)
{
	size_t i;
	const json_t *r;

	if (json_array_size(results) == 0)
		return false;
	json_array_foreach(results, i, r)
	{
		if (strcmp(str(r, "verdict"), "PASS"))
			return false;
	}
	return true;
}

json_t *chaos_report_json(const json_t *results, const char *cpu, const char *command,
                          const char *generated_at)
{
	size_t i, passed = 0;
	const json_t *r;

	json_array_foreach(results, i, r)
	{
		passed += !strcmp(str(r, "verdict"), "PASS");
	}
	return json_pack("{s:s?, s:s?, s:s?, s:I, s:I, s:O}", "generated_at", generated_at, "cpu",
	                 cpu, "command", command, "passed", (json_int_t)passed, "failed",
	                 (json_int_t)(json_array_size(results) - passed), "scenarios", results);
}

static void summary_row(struct svc_buf *b, const json_t *r)
{
	const json_t *rec = json_object_get(r, "recovery");
	const json_t *o = json_object_get(r, "orders");
	const json_t *inv = json_object_get(r, "invariants");
	char a[24], ob[24], c[24], total[24];

	fmt_secs(json_object_get(rec, "ready_s"), a, sizeof(a));
	fmt_secs(json_object_get(rec, "order_s"), ob, sizeof(ob));
	fmt_secs(json_object_get(rec, "rate_s"), c, sizeof(c));
	fmt_secs(json_object_get(rec, "recovery_s"), total, sizeof(total));
	svc_buf_adds(b, "| ");
	add_cell(b, str(r, "scenario"));
	svc_buf_addf(
	        b,
	        " | %s | %s | %s | **%s** | < %lld s | %lld | %lld | %lld / %lld | %lld | %lld | "
	        "%s | %s |\n",
	        a, ob, c, total, (long long)integer(rec, "target_s"),
	        (long long)integer(o, "accepted"), (long long)integer(o, "confirmed"),
	        (long long)integer(o, "declined"), (long long)integer(o, "cancelled_by_fault"),
	        (long long)integer(o, "lost"), (long long)integer(o, "http_errors"),
	        json_is_true(json_object_get(inv, "ok")) ? "hold" : "**violated**",
	        str(r, "verdict"));
}

static void kill_rows(struct svc_buf *b, const json_t *r)
{
	const json_t *kill, *pod;
	size_t i, j;
	char at[24], rs[24], os[24];

	svc_buf_adds(b, "\n| kill | at | pods | (a) Ready | (b) first order | how it ended |\n"
	                "|---|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(r, "kills"), i, kill)
	{
		fmt_secs(json_object_get(kill, "at_s"), at, sizeof(at));
		fmt_secs(json_object_get(kill, "ready_s"), rs, sizeof(rs));
		fmt_secs(json_object_get(kill, "order_s"), os, sizeof(os));
		svc_buf_addf(b, "| %zu | %s | ", i + 1, at);
		json_array_foreach(json_object_get(kill, "pods"), j, pod)
		{
			svc_buf_adds(b, j ? ", " : "");
			add_cell(b, json_string_value(pod) ? json_string_value(pod) : "");
		}
		svc_buf_addf(b, " | %s | %s | ", rs, os);
		if (*str(kill, "error")) {
			svc_buf_adds(b, "kill failed: ");
			add_cell(b, str(kill, "error"));
		}
		add_cell(b, str(kill, "ended"));
		if (*str(kill, "note")) {
			svc_buf_adds(b, " (killer: ");
			add_cell(b, str(kill, "note"));
			svc_buf_adds(b, ")");
		}
		svc_buf_adds(b, " |\n");
	}
}

static void section(struct svc_buf *b, const json_t *r)
{
	const json_t *st = json_object_get(r, "settings");
	const json_t *rec = json_object_get(r, "recovery");
	const json_t *o = json_object_get(r, "orders");
	const json_t *inv = json_object_get(r, "invariants");
	const json_t *dl = json_object_get(r, "deadlines");
	const json_t *check, *e, *v;
	const char *key;
	size_t i, j;

	svc_buf_adds(b, "\n### ");
	add_cell(b, str(r, "scenario"));
	svc_buf_addf(b, ": %s\n\n", str(r, "verdict"));
	add_cell(b, str(r, "description"));
	svc_buf_adds(b, "\n\n- fault: `");
	svc_buf_addf(b, "%s` of `%s`", str(st, "action"), str(st, "selector"));
	if (*str(st, "container"))
		svc_buf_addf(b, " (container `%s`, SIG%s)", str(st, "container"),
		             str(st, "signal"));
	svc_buf_addf(b, ", mode %s", str(st, "mode"));
	if (integer(st, "interval_s") > 0)
		svc_buf_addf(b, ", every %lld s for %lld s", (long long)integer(st, "interval_s"),
		             (long long)integer(st, "duration_s"));
	svc_buf_addf(
	        b,
	        "\n- load: %.1f orders/s (every %lld%s declined by the gateway), %lld s before "
	        "the first kill, %lld s after the last; saga step deadlines %lld/%lld/%lld ms, "
	        "every order terminal within %.0f s\n",
	        num(st, "rate"), (long long)integer(st, "decline_every"),
	        integer(st, "decline_every") == 2   ? "nd"
	        : integer(st, "decline_every") == 3 ? "rd"
	                                            : "th",
	        (long long)integer(st, "baseline_s"), (long long)integer(st, "observe_s"),
	        (long long)integer(dl, "inventory_ms"), (long long)integer(dl, "payment_ms"),
	        (long long)integer(dl, "compensation_ms"), num(dl, "terminal_bound_s"));
	svc_buf_addf(b, "- baseline: %.1f orders confirmed/s\n", num(rec, "baseline_per_s"));
	kill_rows(b, r);
	svc_buf_addf(
	        b,
	        "\nOrders: %lld requests, %lld accepted, %lld CONFIRMED, %lld CANCELLED (%lld "
	        "declined by design, %lld because of the fault), %lld lost, %lld not terminal, "
	        "%lld late; %lld HTTP errors",
	        (long long)integer(o, "requests"), (long long)integer(o, "accepted"),
	        (long long)integer(o, "confirmed"), (long long)integer(o, "cancelled"),
	        (long long)integer(o, "declined"), (long long)integer(o, "cancelled_by_fault"),
	        (long long)integer(o, "lost"), (long long)integer(o, "not_terminal"),
	        (long long)integer(o, "late"), (long long)integer(o, "http_errors"));
	j = 0;
	json_object_foreach((json_t *)json_object_get(o, "errors_by_status"), key, v)
	{
		svc_buf_addf(b, "%s%s: %lld", j++ ? ", " : " (", key,
		             (long long)json_integer_value(v));
	}
	svc_buf_adds(b, j ? ")" : "");
	if (integer(o, "dropped"))
		svc_buf_addf(b, "; %lld arrivals dropped (too many in flight)",
		             (long long)integer(o, "dropped"));
	svc_buf_adds(b, ".\n");
	j = 0;
	json_object_foreach((json_t *)json_object_get(o, "cancel_reasons"), key, v)
	{
		svc_buf_adds(b, j++ ? "; " : "Cancelled because of the fault: ");
		add_cell(b, key);
		svc_buf_addf(b, " (%lld)", (long long)json_integer_value(v));
	}
	svc_buf_adds(b, j ? ".\n" : "");
	svc_buf_addf(b, "\nInvariants (captured - refunded = %lld, CONFIRMED totals = %lld):\n",
	             (long long)integer(inv, "captured_net"),
	             (long long)integer(inv, "confirmed_totals"));
	json_array_foreach(json_object_get(inv, "checks"), i, check)
	{
		svc_buf_addf(b, "- %s: %s", str(check, "name"),
		             integer(check, "violations") ? "**violated**" : "holds");
		if (integer(check, "violations"))
			svc_buf_addf(b, " (%lld)", (long long)integer(check, "violations"));
		json_array_foreach(json_object_get(check, "examples"), j, e)
		{
			svc_buf_adds(b, j ? "; " : ": ");
			add_cell(b, json_string_value(e) ? json_string_value(e) : "");
		}
		svc_buf_adds(b, "\n");
	}
	json_array_foreach(json_object_get(r, "failures"), i, e)
	{
		svc_buf_adds(b, i ? "; " : "\nWhy it failed: ");
		add_cell(b, json_string_value(e) ? json_string_value(e) : "");
	}
	svc_buf_adds(b, json_array_size(json_object_get(r, "failures")) ? "\n" : "");
	svc_buf_adds(b, "\n![");
	add_cell(b, str(r, "scenario"));
	svc_buf_addf(b, "](chaos-%s.svg)\n", str(r, "scenario"));
}

int chaos_report_markdown(const json_t *results, const char *cpu, const char *command,
                          struct svc_buf *out)
{
	const json_t *r;
	size_t i;

	svc_buf_adds(out, "# Chaos report\n\n");
	if (command)
		svc_buf_addf(out, "Reproduce: `%s`", command);
	if (cpu)
		svc_buf_addf(out, "%sMachine: %s", command ? ". " : "", cpu);
	svc_buf_adds(out, command || cpu ? ".\n\n" : "");
	svc_buf_adds(
	        out,
	        "Recovery from the kill: (a) its pods Ready again, (b) the first order created "
	        "after it CONFIRMED, (c) the confirmed-orders rate back to 95 % of the baseline "
	        "for 10 s; the recovery is the slowest of the three.\n\n"
	        "| scenario | (a) Ready | (b) first order | (c) rate back | recovery | target "
	        "| accepted | confirmed | cancelled: declined / by fault | lost | HTTP errors | "
	        "invariants | verdict |\n"
	        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	json_array_foreach(results, i, r)
	{
		summary_row(out, r);
	}
	json_array_foreach(results, i, r)
	{
		section(out, r);
	}
	return out->failed ? SVC_ENOMEM : 0;
}
