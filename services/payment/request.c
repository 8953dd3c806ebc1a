/* POST /api/payments body validation (see request.h). */
#include "services/payment/request.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "svc/event.h"

/* Three upper-case ASCII letters, as ISO 4217 codes are. */
static bool currency_ok(const char *s)
{
	return s && strlen(s) == 3 && isupper((unsigned char)s[0]) &&
	       isupper((unsigned char)s[1]) && isupper((unsigned char)s[2]);
}

int pay_request_parse(const json_t *body, struct pay_request *out, struct svc_problem *err)
{
	const json_t *order_id = json_object_get(body, "orderId");
	const json_t *amount = json_object_get(body, "amount");
	const json_t *currency = json_object_get(body, "currency");
	const char *cur = "USD";

	memset(out, 0, sizeof(*out));
	if (!json_is_string(order_id))
		return svc_problem_set(err, 400, "orderId", "orderId is required (a UUID string)");
	if (!json_is_integer(amount))
		return svc_problem_set(err, 400, "amount",
		                       "amount is required (an integer in minor units)");
	if (!svc_uuid_valid(json_string_value(order_id)))
		return svc_problem_set(err, 422, "orderId", "orderId must be a UUID");
	if (json_integer_value(amount) <= 0)
		return svc_problem_set(err, 422, "amount",
		                       "amount must be a positive integer (minor units)");
	if (currency) {
		cur = json_string_value(currency);
		if (!currency_ok(cur))
			return svc_problem_set(err, 422, "currency",
			                       "currency must be a 3-letter ISO 4217 code");
	}
	snprintf(out->order_id, sizeof(out->order_id), "%s", json_string_value(order_id));
	out->amount = json_integer_value(amount);
	snprintf(out->currency, sizeof(out->currency), "%s", cur);
	return 0;
}
