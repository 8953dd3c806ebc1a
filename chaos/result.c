/*
 * The JSON document of a scenario run (see result.h).
 */
#include "chaos/result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chaos/recovery.h"
#include "chaos/run.h"
#include "svc/error.h"

/* the baseline: confirmations from this second (warm-up before) */
#define BASELINE_FROM_S 5
#define RATE_WINDOW_S   10
#define RATE_SHARE      0.95
#define TAIL_MAX_S      120

/* seconds, or null when negative (not reached) */
static json_t *secs(double s)
{
	return s < 0 ? json_null() : json_real(round(s * 100) / 100);
}

static json_t *settings(const struct chaos_scenario *s)
{
	char mode[16];

	chaos_mode_format(s, mode, sizeof(mode));
	return json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:i, s:I}", "selector",
	        s->selector, "action", chaos_action_name(s->action), "container", s->container,
	        "signal", s->signal, "mode", mode, "grace_s", (json_int_t)s->grace_s, "interval_s",
	        (json_int_t)s->interval_s, "duration_s", (json_int_t)s->duration_s, "baseline_s",
	        (json_int_t)s->baseline_s, "observe_s", (json_int_t)s->observe_s, "rate", s->rate,
	        "decline_every", s->decline_every, "recovery_target_s", (json_int_t)s->target_s);
}

/* bumps obj[key] */
static void bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static json_t *orders_doc(const struct chaos__run *r)
{
	json_t *by_status = json_object(), *reasons = json_object();
	long confirmed = 0, cancelled = 0, declined = 0, by_fault = 0, errors = 0, no_answer = 0,
	     dropped = 0;
	char key[16];

	for (size_t i = 0; i < r->nreqs; i++) {
		const struct chaos_request *q = &r->reqs[i];

		if (q->status >= 200 && q->status <= 299 && q->order_id[0])
			continue;
		if (q->status == CHAOS_STATUS_DROPPED) {
			dropped++;
			continue;
		}
		errors++;
		no_answer += q->status == 0;
		snprintf(key, sizeof(key), "%d", q->status);
		bump(by_status, q->status == 0 ? "no answer" : key);
	}
	for (size_t i = 0; i < r->norders; i++) {
		const struct chaos_order *o = &r->orders[i];

		confirmed += o->status == CHAOS_ORDER_CONFIRMED;
		if (o->status != CHAOS_ORDER_CANCELLED)
			continue;
		cancelled++;
		if (o->expect_decline) {
			declined++;
		} else {
			by_fault++;
			bump(reasons, o->reason[0] ? o->reason : "(none)");
		}
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
	                 "requests", (json_int_t)r->nreqs, "accepted", (json_int_t)r->norders,
	                 "confirmed", (json_int_t)confirmed, "cancelled", (json_int_t)cancelled,
	                 "declined", (json_int_t)declined, "cancelled_by_fault",
	                 (json_int_t)by_fault, "lost", (json_int_t)r->verdict.lost, "not_terminal",
	                 (json_int_t)r->verdict.not_terminal, "late", (json_int_t)r->verdict.late,
	                 "http_errors", (json_int_t)errors, "no_answer", (json_int_t)no_answer,
	                 "dropped", (json_int_t)dropped, "errors_by_status", by_status,
	                 "cancel_reasons", reasons);
}

static json_t *invariants_doc(const struct chaos__run *r)
{
	json_t *checks = json_array();

	for (int i = 0; checks && i < CHAOS_INV_COUNT; i++) {
		const struct chaos_inv_result *v = &r->verdict.inv[i];
		json_t *ex = json_array();

		for (long e = 0; ex && e < v->violations && e < CHAOS_INV_EXAMPLES; e++)
			json_array_append_new(ex, json_string(v->examples[e]));
		json_array_append_new(checks,
		                      json_pack("{s:s, s:I, s:o*}", "name",
		                                chaos_inv_name((enum chaos_inv)i), "violations",
		                                (json_int_t)v->violations, "examples", ex));
	}
	return json_pack("{s:b, s:I, s:I, s:b, s:o*}", "ok", chaos_verdict_ok(&r->verdict),
	                 "captured_net", (json_int_t)r->verdict.captured_net, "confirmed_totals",
	                 (json_int_t)r->verdict.confirmed_totals, "sold_exact", r->sold_exact,
	                 "checks", checks);
}

static json_t *long_array(const long *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* the max of a and b where -1 (not reached) wins */
static double worst(double a, double b)
{
	if (a < 0 || b < 0)
		return -1;
	return a > b ? a : b;
}

json_t *chaos__result(const struct chaos__run *r)
{
	const struct chaos_scenario *s = r->s;
	long load_s = chaos_scenario_load_s(s), tail = 0;
	struct chaos_series series;
	json_t *doc = NULL, *kills = json_array(), *failures = json_array(), *pods;
	int64_t *err_ms = calloc(r->nreqs + 1, sizeof(*err_ms));
	size_t nerr = 0, k;
	double baseline, ready = 0, order = 0, rate = -1, recovery, first_kill;
	char when[32];
	time_t t = (time_t)(r->started_ms / 1000);
	struct tm tm;

	if (!kills || !failures || !err_ms)
		goto fail;
	for (size_t i = 0; i < r->nreqs; i++)
		if (!(r->reqs[i].status >= 200 && r->reqs[i].status <= 299 &&
		      r->reqs[i].order_id[0]) &&
		    r->reqs[i].status != CHAOS_STATUS_DROPPED)
			err_ms[nerr++] = r->reqs[i].sent_ms;
	for (size_t i = 0; i < r->norders; i++)
		if (r->orders[i].done_ms > r->t0_ms + (load_s + tail) * 1000)
			tail = (r->orders[i].done_ms - r->t0_ms) / 1000 + 1 - load_s;
	if (tail > TAIL_MAX_S)
		tail = TAIL_MAX_S;
	if (chaos_series_build(&series, r->t0_ms, (size_t)(load_s + tail), r->orders, r->norders,
	                       err_ms, nerr) != 0)
		goto fail;
	first_kill = (double)chaos_scenario_kill_at_s(s, 0);
	baseline = chaos_series_mean(series.confirmed, BASELINE_FROM_S, (size_t)first_kill);
	for (k = 0; k < r->kills_made; k++) {
		const struct chaos_kill *kl = &r->kills[k];
		double at = (double)(kl->at_ms - r->t0_ms) / 1000.0;
		double rs = kl->ready_ms < 0 ? -1 : (double)(kl->ready_ms - kl->at_ms) / 1000.0;
		double os = chaos_recovery_order_s(r->orders, r->norders, kl->at_ms);

		pods = json_array();
		for (size_t p = 0; pods && p < kl->npods; p++)
			json_array_append_new(pods, json_string(kl->pods[p]));
		json_array_append_new(kills, json_pack("{s:o, s:o*, s:o, s:o, s:s?, s:s?, s:s?}",
		                                       "at_s", secs(at), "pods", pods, "ready_s",
		                                       secs(rs), "order_s", secs(os), "error",
		                                       kl->error[0] ? kl->error : NULL, "ended",
		                                       kl->ended[0] ? kl->ended : NULL, "note",
		                                       kl->note[0] ? kl->note : NULL));
		if (kl->error[0]) {
			json_array_append_new(failures,
			                      json_sprintf("kill %zu: %s", k + 1, kl->error));
			continue;
		}
		ready = worst(ready, rs);
		order = worst(order, os);
		if (k == r->kills_made - 1)
			rate = chaos_recovery_rate_s(series.confirmed, (size_t)load_s, baseline, at,
			                             RATE_WINDOW_S, RATE_SHARE);
	}
	recovery = worst(worst(ready, order), rate);
	if (r->kills_made < r->nkills)
		json_array_append_new(failures, json_sprintf("%zu of %zu kills made (the API did "
		                                             "not answer)",
		                                             r->kills_made, r->nkills));
	if (!(baseline > 0))
		json_array_append_new(failures, json_string("no order confirmed before the kill"));
	if (recovery < 0)
		json_array_append_new(
		        failures,
		        json_string("not recovered (a way of measuring never got there)"));
	else if (recovery >= (double)s->target_s)
		json_array_append_new(failures, json_sprintf("recovery %.1f s, target under %ld s",
		                                             recovery, s->target_s));
	for (int i = 0; i < CHAOS_INV_COUNT; i++)
		if (r->verdict.inv[i].violations)
			json_array_append_new(failures,
			                      json_sprintf("invariant %s: %ld violations (e.g. %s)",
			                                   chaos_inv_name((enum chaos_inv)i),
			                                   r->verdict.inv[i].violations,
			                                   r->verdict.inv[i].examples[0]));
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:{s:I, s:I, s:I, s:I, s:f}, s:O}",
	                "scenario", s->name, "description", s->description, "started_at", when,
	                "verdict", json_array_size(failures) ? "FAIL" : "PASS", "failures",
	                failures, "settings", settings(s), "deadlines", "inventory_ms",
	                (json_int_t)r->inventory_ms, "payment_ms", (json_int_t)r->payment_ms,
	                "compensation_ms", (json_int_t)r->compensation_ms, "scan_ms",
	                (json_int_t)r->scan_ms, "terminal_bound_s", (double)r->bound_ms / 1000.0,
	                "kills", kills);
	if (doc) {
		json_object_set_new(doc, "recovery",
		                    json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:b}",
		                              "baseline_per_s", secs(baseline), "ready_s",
		                              secs(ready), "order_s", secs(order), "rate_s",
		                              secs(rate), "recovery_s", secs(recovery), "target_s",
		                              (json_int_t)s->target_s, "met",
		                              recovery >= 0 && recovery < (double)s->target_s));
		json_object_set_new(doc, "orders", orders_doc(r));
		json_object_set_new(doc, "invariants", invariants_doc(r));
		json_object_set_new(doc, "series",
		                    json_pack("{s:o, s:o, s:o, s:o}", "created",
		                              long_array(series.created, series.n), "confirmed",
		                              long_array(series.confirmed, series.n), "cancelled",
		                              long_array(series.cancelled, series.n), "errors",
		                              long_array(series.errors, series.n)));
	}
	chaos_series_release(&series);
fail:
	json_decref(kills);
	json_decref(failures);
	free(err_ms);
	return doc;
}
