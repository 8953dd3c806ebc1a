/*
 * Reading the services' answers (see orders.h).
 */
#include "chaos/orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc/error.h"

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* n digits at s as a number; -1 when not digits */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int64_t chaos_time_parse_ms(const char *iso)
{
	struct tm tm = {0};
	int64_t ms = 0, scale = 100;
	const char *p;
	time_t secs;

	if (!iso || strlen(iso) < 19 || iso[4] != '-' || iso[7] != '-' ||
	    (iso[10] != 'T' && iso[10] != ' ') || iso[13] != ':' || iso[16] != ':')
		return -1;
	tm.tm_year = digits(iso, 4) - 1900;
	tm.tm_mon = digits(iso + 5, 2) - 1;
	tm.tm_mday = digits(iso + 8, 2);
	tm.tm_hour = digits(iso + 11, 2);
	tm.tm_min = digits(iso + 14, 2);
	tm.tm_sec = digits(iso + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
		return -1;
	p = iso + 19;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			ms += scale * (*p - '0');
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") && strcmp(p, "+00:00") && *p)
		return -1;
	secs = timegm(&tm);
	return secs < 0 ? -1 : (int64_t)secs * 1000 + ms;
}

static enum chaos_order_status status_of(const char *s)
{
	if (!s)
		return CHAOS_ORDER_MISSING;
	if (!strcmp(s, "CONFIRMED"))
		return CHAOS_ORDER_CONFIRMED;
	if (!strcmp(s, "CANCELLED"))
		return CHAOS_ORDER_CANCELLED;
	return CHAOS_ORDER_OPEN;
}

int chaos_order_read(const json_t *doc, struct chaos_order *o)
{
	const char *status = json_string_value(json_object_get(doc, "status"));
	const json_t *h;
	int64_t created;
	size_t i;

	if (!status || !json_is_integer(json_object_get(doc, "totalAmount")))
		return SVC_EPERMANENT;
	o->status = status_of(status);
	o->total = (int64_t)json_integer_value(json_object_get(doc, "totalAmount"));
	created = chaos_time_parse_ms(json_string_value(json_object_get(doc, "createdAt")));
	if (created >= 0)
		o->created_ms = created;
	copy(o->reason, sizeof(o->reason),
	     json_string_value(json_object_get(doc, "cancellationReason")));
	o->done_ms = -1;
	if (!chaos_order_terminal(o))
		return 0;
	json_array_foreach(json_object_get(doc, "history"), i, h)
	{
		const char *to = json_string_value(json_object_get(h, "to"));

		if (to && status_of(to) == o->status) {
			o->done_ms =
			        chaos_time_parse_ms(json_string_value(json_object_get(h, "at")));
			break;
		}
	}
	if (o->done_ms < 0) /* no history: the last change */
		o->done_ms =
		        chaos_time_parse_ms(json_string_value(json_object_get(doc, "updatedAt")));
	return 0;
}

int chaos_payment_read(const json_t *doc, struct chaos_order *o)
{
	const char *status = json_string_value(json_object_get(doc, "status"));

	if (!status || !json_is_integer(json_object_get(doc, "amount")))
		return SVC_EPERMANENT;
	o->pay_found = true;
	copy(o->pay_status, sizeof(o->pay_status), status);
	o->pay_amount = (int64_t)json_integer_value(json_object_get(doc, "amount"));
	o->pay_refunded = (int64_t)json_integer_value(json_object_get(doc, "refundedAmount"));
	return 0;
}

int chaos_product_read(const json_t *doc, struct chaos_product *p)
{
	static const char *const keys[] = {"available", "reserved", "sold"};
	long *fields[] = {&p->available, &p->reserved, &p->sold};

	for (size_t i = 0; i < 3; i++) {
		const json_t *v = json_object_get(doc, keys[i]);

		if (!json_is_integer(v))
			return SVC_EPERMANENT;
		*fields[i] = (long)json_integer_value(v);
	}
	p->found = true;
	return 0;
}

int chaos_dlq_read(const json_t *doc, const char *service, struct chaos_dlq_entry **v, size_t *n,
                   size_t *cap)
{
	const json_t *entries = json_object_get(doc, "entries"), *e;
	size_t i;

	if (!json_is_array(entries))
		return SVC_EPERMANENT;
	json_array_foreach(entries, i, e)
	{
		struct chaos_dlq_entry *d;
		const json_t *ts = json_object_get(e, "timestamp");

		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			struct chaos_dlq_entry *grown = realloc(*v, ncap * sizeof(**v));

			if (!grown)
				return SVC_ENOMEM;
			*v = grown;
			*cap = ncap;
		}
		d = &(*v)[(*n)++];
		memset(d, 0, sizeof(*d));
		copy(d->service, sizeof(d->service), service);
		copy(d->order_id, sizeof(d->order_id),
		     json_string_value(json_object_get(e, "orderId")));
		copy(d->reason, sizeof(d->reason), json_string_value(json_object_get(e, "reason")));
		d->at_ms = json_is_integer(ts) ? (int64_t)json_integer_value(ts) : -1;
	}
	return 0;
}
