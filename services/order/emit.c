/*
 * Building the Order service's outgoing messages (see emit.h).
 */
#include "services/order/emit.h"

#include <jansson.h>
#include <stdio.h>

#include "services/order/batch.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/events.h"
#include "svc/outbox.h"

int order_emit_created(struct svc_tx *tx, const struct order_new *o, const char *source,
                       char event_id[40])
{
	const struct order_request *req = o->req;
	json_t *items = json_array(), *data;
	struct svc_event ev;
	json_int_t qty = 0;
	int rc;

	for (size_t i = 0; items && i < req->nitems; i++) {
		qty += req->items[i].quantity;
		if (json_array_append_new(items, json_pack("{s:s, s:i, s:I}", "productId",
		                                           req->items[i].product_id, "quantity",
		                                           req->items[i].quantity, "unitPrice",
		                                           (json_int_t)o->unit_prices[i])) != 0) {
			json_decref(items);
			items = NULL;
		}
	}
	if (!items)
		return SVC_ENOMEM;
	/* productId/quantity: the spec's single-product view (first line, sum). */
	data = json_pack("{s:s, s:s, s:o, s:s, s:I, s:I, s:s, s:I}", "orderId", o->order_id,
	                 "userId", req->user_id, "items", items, "productId",
	                 req->items[0].product_id, "quantity", qty, "totalAmount",
	                 (json_int_t)o->total, "currency", o->currency, "timestamp",
	                 (json_int_t)svc_now_ms());
	if (!data)
		return SVC_ENOMEM;
	/* svc_outbox_emit() without hiding the event id */
	rc = svc_event_init(&ev, EV_ORDER_CREATED, o->order_id, source, NULL, data);
	if (rc != 0)
		return rc;
	rc = svc_outbox_add(tx, TOPIC_ORDER_EVENTS, o->order_id, &ev);
	snprintf(event_id, 40, "%s", ev.id);
	svc_event_release(&ev);
	return rc;
}

/* OrderConfirmed / OrderCancelled: the order with its lines. */
static int emit_outcome(struct svc_tx *tx, const struct order_row *row, const char *type,
                        const char *reason, const char *source, const char *causation_id)
{
	json_t *items = NULL, *data;
	int rc;

	rc = order_batch_items(tx, row->order_id, &items);
	if (rc != 0)
		return rc;
	data = json_pack("{s:s, s:s, s:o, s:I, s:s, s:I}", "orderId", row->order_id, "userId",
	                 row->user_id, "items", items, "totalAmount", (json_int_t)row->total,
	                 "currency", row->currency, "timestamp", (json_int_t)svc_now_ms());
	if (data && reason && json_object_set_new(data, "reason", json_string(reason)) != 0) {
		json_decref(data);
		data = NULL;
	}
	if (!data)
		return SVC_ENOMEM;
	return svc_outbox_emit(tx, TOPIC_ORDER_EVENTS, type, row->order_id, source, causation_id,
	                       data);
}

/* A command with {"orderId", "reason"} and "paymentId" when `payment_id` is
 * not NULL or "". */
static int emit_reason_command(struct svc_tx *tx, const struct order_row *row, const char *topic,
                               const char *type, const char *reason, const char *payment_id,
                               const char *source, const char *causation_id)
{
	json_t *data = json_pack("{s:s, s:s}", "orderId", row->order_id, "reason", reason);

	if (data && payment_id && payment_id[0] &&
	    json_object_set_new(data, "paymentId", json_string(payment_id)) != 0) {
		json_decref(data);
		data = NULL;
	}
	if (!data)
		return SVC_ENOMEM;
	return svc_outbox_emit(tx, topic, type, row->order_id, source, causation_id, data);
}

/* ProcessPayment for a new payment id, stored as the order's first. */
static int emit_process_payment(struct svc_tx *tx, const struct order_row *row, const char *source,
                                const char *causation_id)
{
	char payment_id[37];
	json_t *data;
	int rc;

	svc_uuid7(payment_id);
	rc = order_batch_set_payment_id(tx, row->order_id, payment_id);
	if (rc != 0)
		return rc;
	data = json_pack("{s:s, s:s, s:s, s:I, s:s}", "orderId", row->order_id, "paymentId",
	                 payment_id, "userId", row->user_id, "amount", (json_int_t)row->total,
	                 "currency", row->currency);
	if (!data)
		return SVC_ENOMEM;
	return svc_outbox_emit(tx, TOPIC_PAYMENT_COMMANDS, CMD_PROCESS_PAYMENT, row->order_id,
	                       source, causation_id, data);
}

int order_emit_actions(struct svc_tx *tx, const struct order_row *row, unsigned actions,
                       const char *reason, const char *captured_id, const char *source,
                       const char *causation_id)
{
	/* a capture in PENDING was not asked for by the saga (saga.c) */
	const char *why = reason && reason[0]           ? reason
	                  : row->state == ORDER_PENDING ? "payment not requested by the saga"
	                                                : "order cancelled";
	const char *refund_id = row->payment_id[0] ? row->payment_id : captured_id;
	int rc = 0;

	if (actions & ORDER_SEND_PROCESS_PAYMENT)
		rc = emit_process_payment(tx, row, source, causation_id);
	if (rc == 0 && (actions & ORDER_SEND_REFUND_PAYMENT))
		rc = emit_reason_command(tx, row, TOPIC_PAYMENT_COMMANDS, CMD_REFUND_PAYMENT, why,
		                         refund_id, source, causation_id);
	if (rc == 0 && (actions & ORDER_SEND_RELEASE_INVENTORY))
		rc = emit_reason_command(tx, row, TOPIC_INVENTORY_COMMANDS, CMD_RELEASE_INVENTORY,
		                         why, NULL, source, causation_id);
	if (rc == 0 && (actions & ORDER_EMIT_ORDER_CONFIRMED))
		rc = emit_outcome(tx, row, EV_ORDER_CONFIRMED, NULL, source, causation_id);
	if (rc == 0 && (actions & ORDER_EMIT_ORDER_CANCELLED))
		rc = emit_outcome(tx, row, EV_ORDER_CANCELLED, why, source, causation_id);
	return rc;
}
