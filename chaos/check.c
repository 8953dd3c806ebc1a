/*
 * The invariants of a chaos scenario (see check.h).
 */
#include "chaos/check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *chaos_inv_name(enum chaos_inv i)
{
	static const char *const names[CHAOS_INV_COUNT] = {
	        [CHAOS_INV_TERMINAL] = "terminal", [CHAOS_INV_OUTCOME] = "outcome",
	        [CHAOS_INV_STOCK] = "stock",       [CHAOS_INV_MONEY] = "money",
	        [CHAOS_INV_NOTIFIED] = "notified", [CHAOS_INV_DLQ] = "dlq",
	};

	return i < CHAOS_INV_COUNT ? names[i] : "?";
}

static void violation(struct chaos_inv_result *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void violation(struct chaos_inv_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->violations < CHAOS_INV_EXAMPLES) {
		va_start(ap, fmt);
		vsnprintf(r->examples[r->violations], sizeof(r->examples[0]), fmt, ap);
		va_end(ap);
	}
	r->violations++;
}

bool chaos_reason_allowed(const char *reason, const char *allow)
{
	const char *p = allow, *bar;
	char part[128];
	size_t len;

	if (!allow || !reason)
		return false;
	while (*p) {
		bar = strchr(p, '|');
		len = bar ? (size_t)(bar - p) : strlen(p);
		if (len > 0 && len < sizeof(part)) {
			memcpy(part, p, len);
			part[len] = '\0';
			if (strstr(reason, part))
				return true;
		}
		p += len + (bar ? 1 : 0);
	}
	return false;
}

static void check_terminal(const struct chaos_check_input *in, struct chaos_verdict *v)
{
	struct chaos_inv_result *r = &v->inv[CHAOS_INV_TERMINAL];

	for (size_t i = 0; i < in->norders; i++) {
		const struct chaos_order *o = &in->orders[i];

		if (o->status == CHAOS_ORDER_MISSING && o->unread) {
			violation(r, "order %s could not be read (no answer)", o->id);
		} else if (o->status == CHAOS_ORDER_MISSING) {
			v->lost++;
			violation(r, "order %s (accepted) not found", o->id);
		} else if (!chaos_order_terminal(o)) {
			v->not_terminal++;
			violation(r, "order %s is not terminal", o->id);
		} else if (o->done_ms < 0 || o->done_ms - o->created_ms > in->terminal_bound_ms) {
			v->late++;
			violation(r, "order %s terminal after %.1f s (bound %.1f s)", o->id,
			          (double)(o->done_ms - o->created_ms) / 1000.0,
			          (double)in->terminal_bound_ms / 1000.0);
		}
	}
}

static void check_outcome(const struct chaos_check_input *in, struct chaos_verdict *v)
{
	for (size_t i = 0; i < in->norders; i++) {
		const struct chaos_order *o = &in->orders[i];

		if (o->expect_decline && o->status == CHAOS_ORDER_CONFIRMED)
			violation(&v->inv[CHAOS_INV_OUTCOME],
			          "order %s above the decline threshold is CONFIRMED", o->id);
	}
}

static void check_stock(const struct chaos_check_input *in, struct chaos_verdict *v)
{
	struct chaos_inv_result *r = &v->inv[CHAOS_INV_STOCK];

	for (size_t p = 0; p < in->nproducts; p++) {
		const struct chaos_product *pr = &in->products[p];
		long confirmed = 0, sum = pr->available + pr->reserved + pr->sold;

		if (!pr->found) {
			violation(r, "product %s %s", pr->id,
			          pr->unread ? "could not be read (no answer)" : "not found");
			continue;
		}
		if (pr->available < 0 || pr->reserved < 0 || pr->sold < 0)
			violation(r, "%s has a negative count (%ld/%ld/%ld)", pr->id, pr->available,
			          pr->reserved, pr->sold);
		else if (sum != pr->initial)
			violation(r, "%s: available %ld + reserved %ld + sold %ld = %ld, not %ld",
			          pr->id, pr->available, pr->reserved, pr->sold, sum, pr->initial);
		else if (pr->reserved != 0)
			violation(r, "%s: %ld still reserved", pr->id, pr->reserved);
		if (!in->sold_exact)
			continue;
		for (size_t i = 0; i < in->norders; i++)
			if (in->orders[i].product == p &&
			    in->orders[i].status == CHAOS_ORDER_CONFIRMED)
				confirmed += in->orders[i].quantity;
		if (pr->sold != confirmed)
			violation(r, "%s: sold %ld, but the CONFIRMED orders took %ld", pr->id,
			          pr->sold, confirmed);
	}
}

static bool keeps_no_money(const struct chaos_order *o)
{
	if (!o->pay_found)
		return true;
	if (!strcmp(o->pay_status, "DECLINED") || !strcmp(o->pay_status, "VOIDED"))
		return true;
	return !strcmp(o->pay_status, "REFUNDED") && o->pay_refunded == o->pay_amount;
}

static void check_money(const struct chaos_check_input *in, struct chaos_verdict *v)
{
	struct chaos_inv_result *r = &v->inv[CHAOS_INV_MONEY];

	v->captured_net = v->confirmed_totals = 0;
	for (size_t i = 0; i < in->norders; i++) {
		const struct chaos_order *o = &in->orders[i];
		bool moved = o->pay_found && (!strcmp(o->pay_status, "CAPTURED") ||
		                              !strcmp(o->pay_status, "REFUNDED"));

		if (moved)
			v->captured_net += o->pay_amount - o->pay_refunded;
		if (o->money_unread)
			violation(r, "the payment or notifications of order %s could not be read",
			          o->id);
		if (o->status == CHAOS_ORDER_CONFIRMED) {
			v->confirmed_totals += o->total;
			if (!o->pay_found || strcmp(o->pay_status, "CAPTURED") ||
			    o->pay_amount != o->total || o->pay_refunded != 0)
				violation(r,
				          "CONFIRMED order %s (total %" PRId64
				          ") has payment %s %" PRId64 " refunded %" PRId64,
				          o->id, o->total, o->pay_found ? o->pay_status : "none",
				          o->pay_amount, o->pay_refunded);
		} else if (o->status == CHAOS_ORDER_CANCELLED && !keeps_no_money(o)) {
			violation(r,
			          "CANCELLED order %s has payment %s %" PRId64 " refunded %" PRId64,
			          o->id, o->pay_status, o->pay_amount, o->pay_refunded);
		}
	}
	if (v->captured_net != v->confirmed_totals)
		violation(r, "captured - refunded = %" PRId64 ", CONFIRMED totals = %" PRId64,
		          v->captured_net, v->confirmed_totals);
}

static void check_notified(const struct chaos_check_input *in, struct chaos_verdict *v)
{
	for (size_t i = 0; i < in->norders; i++)
		if (chaos_order_terminal(&in->orders[i]) && !in->orders[i].notified)
			violation(&v->inv[CHAOS_INV_NOTIFIED], "order %s: no notification",
			          in->orders[i].id);
}

static void check_dlq(const struct chaos_check_input *in, struct chaos_verdict *v)
{
	for (size_t i = 0; i < in->ndlq; i++) {
		const struct chaos_dlq_entry *d = &in->dlq[i];

		if (!chaos_reason_allowed(d->reason, in->dlq_allow))
			violation(&v->inv[CHAOS_INV_DLQ], "%s.dlq: order %s: %s", d->service,
			          d->order_id[0] ? d->order_id : "-", d->reason);
	}
}

void chaos_check(const struct chaos_check_input *in, struct chaos_verdict *out)
{
	memset(out, 0, sizeof(*out));
	check_terminal(in, out);
	check_outcome(in, out);
	check_stock(in, out);
	check_money(in, out);
	check_notified(in, out);
	check_dlq(in, out);
}

bool chaos_verdict_ok(const struct chaos_verdict *v)
{
	for (int i = 0; i < CHAOS_INV_COUNT; i++)
		if (v->inv[i].violations)
			return false;
	return true;
}
