/*
 * Inbound events (inventory.events, payment.events, notification.events):
 * each becomes a saga input for its order (see transition.h). The consumer
 * endpoint (svc/consumer.h) has already claimed the event id, so a
 * redelivered event never gets here twice. A batch of events locks all its
 * orders in one statement and writes them back in another (batch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/order/batch.h"
#include "services/order/order.h"
#include "services/order/transition.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"

static const struct {
	const char *type;
	enum order_input input;
} inputs[] = {
        {EV_INVENTORY_RESERVED, ORDER_IN_INVENTORY_RESERVED},
        {EV_INVENTORY_SHORTAGE, ORDER_IN_INVENTORY_SHORTAGE},
        {EV_INVENTORY_RELEASED, ORDER_IN_INVENTORY_RELEASED},
        {EV_PAYMENT_REQUESTED, ORDER_IN_PAYMENT_REQUESTED},
        {EV_PAYMENT_COMPLETED, ORDER_IN_PAYMENT_COMPLETED},
        {EV_PAYMENT_FAILED, ORDER_IN_PAYMENT_FAILED},
        {EV_PAYMENT_REFUNDED, ORDER_IN_PAYMENT_REFUNDED},
        {EV_NOTIFICATION_SENT, ORDER_IN_NOTIFICATION_SENT},
};

static bool input_of(const char *type, enum order_input *out)
{
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		if (strcmp(type, inputs[i].type) == 0) {
			*out = inputs[i].input;
			return true;
		}
	}
	return false;
}

/* The input and the order of `ev`: 0 or SVC_EPERMANENT (reason set). */
static int parse(const struct svc_event *ev, enum order_input *input, const char **order_id,
                 char *reason, size_t reasonlen)
{
	if (!input_of(ev->type, input)) {
		snprintf(reason, reasonlen, "unknown event type %s", ev->type);
		return SVC_EPERMANENT;
	}
	if (svc_event_str(ev, "orderId", order_id, reason, reasonlen) != 0)
		return SVC_EPERMANENT;
	if (!svc_uuid_valid(*order_id)) {
		snprintf(reason, reasonlen, "data.orderId is not a UUID");
		return SVC_EPERMANENT;
	}
	return 0;
}

/* What a PaymentCompleted says was captured, checked against the order
 * (transition.h); absent fields stay absent. 0 or SVC_EPERMANENT (reason
 * set) for a paymentId that is not a UUID. */
static int parse_capture(const struct svc_event *ev, struct order_input_event *in, char *reason,
                         size_t reasonlen)
{
	char ignored[8];

	if (svc_event_str(ev, "paymentId", &in->payment_id, ignored, sizeof(ignored)) != 0)
		in->payment_id = NULL;
	else if (!svc_uuid_valid(in->payment_id)) {
		snprintf(reason, reasonlen, "data.paymentId is not a UUID");
		return SVC_EPERMANENT;
	}
	if (svc_event_int(ev, "amount", &in->amount, ignored, sizeof(ignored)) != 0)
		in->amount = -1;
	if (svc_event_str(ev, "currency", &in->currency, ignored, sizeof(ignored)) != 0)
		in->currency = NULL;
	return 0;
}

static int apply(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev, void *scratch,
                 char *reason, size_t reasonlen)
{
	char conflict[ORDER_REASON_MAX] = "";
	struct order_input_event in = {
	        .event_type = ev->type,
	        .event_id = ev->id,
	        .amount = -1,
	        .conflict = conflict,
	        .conflict_len = sizeof(conflict),
	};
	const char *order_id = NULL, *why = NULL;
	char ignored[8];
	int rc;

	(void)scratch;
	rc = parse(ev, &in.input, &order_id, reason, reasonlen);
	if (rc == 0 && in.input == ORDER_IN_PAYMENT_COMPLETED)
		rc = parse_capture(ev, &in, reason, reasonlen);
	if (rc != 0)
		return rc;
	/* "reason" is optional context (shortage, decline, release). */
	if (svc_event_str(ev, "reason", &why, ignored, sizeof(ignored)) == 0)
		in.reason = why;

	rc = order_transition_apply(ctx, tx, order_id, &in);
	switch (rc) {
	case 0:
		break;
	case SVC_IGNORED:
		snprintf(reason, reasonlen, "%s unexpected in the order's state", ev->type);
		break;
	case SVC_ENOTFOUND:
		snprintf(reason, reasonlen, "unknown order %s", order_id);
		rc = SVC_EPERMANENT;
		break;
	case SVC_ECONFLICT:
		snprintf(reason, reasonlen, "%s refused for order %s: %s", ev->type, order_id,
		         conflict);
		rc = SVC_EPERMANENT;
		break;
	case SVC_EPERMANENT:
		snprintf(reason, reasonlen, "cannot apply %s to order %s", ev->type, order_id);
		break;
	default:
		snprintf(reason, reasonlen, "%s applying %s", svc_strerror(rc), ev->type);
		rc = rc == SVC_ENOMEM ? SVC_ETRANSIENT : rc;
		break;
	}
	return rc;
}

/* Whether `input` may end the saga, whose OrderConfirmed/OrderCancelled
 * carry the order's lines. */
static bool may_need_items(enum order_input input)
{
	return input == ORDER_IN_PAYMENT_COMPLETED || input == ORDER_IN_INVENTORY_SHORTAGE ||
	       input == ORDER_IN_INVENTORY_RELEASED;
}

/* Locks the orders of the batch's events at once (batch.h); an event apply()
 * will reject is left out. */
static int begin_batch(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *const *evs,
                       size_t n)
{
	struct order_batch_key *keys = calloc(n ? n : 1, sizeof(*keys));
	size_t k = 0;
	int rc;

	(void)ctx;
	if (!keys)
		return SVC_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		enum order_input input;
		char ignored[8];

		if (parse(evs[i], &input, &keys[k].order_id, ignored, sizeof(ignored)) == 0)
			keys[k++].wants_items = may_need_items(input);
	}
	rc = order_batch_begin(tx, keys, k);
	free(keys);
	return rc;
}

/* Writes the batch's changed orders back (or only drops them). */
static int end_batch(struct svc_ctx *ctx, struct svc_tx *tx, bool write)
{
	(void)ctx;
	return order_batch_end(tx, write);
}

const struct svc_consumer_ops order_consumer_ops = {
        .apply = apply,
        .begin_batch = begin_batch,
        .end_batch = end_batch,
};
