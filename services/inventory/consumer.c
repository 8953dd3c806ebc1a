/*
 * Inventory consumer (consumer.h). Every handler runs in the inbox's
 * transaction and locks the order's reservation row first, then the product
 * rows in productId order, so concurrent orders cannot deadlock. The
 * products touched are kept in the scratch state and re-cached after the
 * commit (committed()).
 */
#include "services/inventory/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/inventory/cache.h"
#include "services/inventory/reserve.h"
#include "services/inventory/stock.h"
#include "svc/error.h"
#include "svc/events.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/service.h"

/* Scratch state: the products whose rows this event changed. */
struct touched {
	struct inv_item items[INV_MAX_ITEMS];
	size_t n;
};

static int emit(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev, const char *type,
                const char *order_id, json_t *data)
{
	return svc_outbox_emit(conn, TOPIC_INVENTORY_EVENTS, type, order_id, ctx->svc->source,
	                       ev->id, data);
}

static int shortage(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev,
                    const char *order_id, const struct inv_item *items,
                    const struct inv_shortage *sh)
{
	char reason[160];
	int rc;

	inv_shortage_reason(items, sh, reason, sizeof(reason));
	rc = inv_reservation_insert(conn, order_id, INV_RES_SHORTAGE, reason);
	if (rc)
		return rc;
	svc_info("order %s: %s (requested %lld, available %lld)", order_id, reason,
	         (long long)sh->requested, (long long)sh->available);
	return emit(ctx, conn, ev, EV_INVENTORY_SHORTAGE, order_id,
	            json_pack("{s:s, s:s, s:I, s:I, s:s}", "orderId", order_id, "productId",
	                      items[sh->index].product_id, "requested", (json_int_t)sh->requested,
	                      "available", (json_int_t)sh->available, "reason", reason));
}

/* OrderCreated: reserve every item or none. */
static int on_created(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev,
                      const char *order_id, struct touched *t, char *reason, size_t len)
{
	struct inv_counts stock[INV_MAX_ITEMS];
	struct inv_shortage sh;
	enum inv_res_status status;
	json_t *lines = NULL;
	int64_t total;
	size_t i;
	int rc;

	rc = inv_items_parse(json_object_get(ev->data, "items"), t->items, INV_MAX_ITEMS, &t->n,
	                     reason, len);
	if (rc)
		return rc;
	rc = inv_reservation_lock(conn, order_id, &status);
	if (rc)
		return rc;
	if (inv_on_created(status) == INV_ACT_IGNORE) {
		t->n = 0;
		return SVC_IGNORED; /* decided before, or released before it arrived */
	}
	rc = inv_stock_lock(conn, t->items, t->n, stock);
	if (rc)
		return rc;
	if (inv_reserve_decide(t->items, stock, t->n, &sh)) {
		t->n = 0;
		return shortage(ctx, conn, ev, order_id, t->items, &sh);
	}
	if (inv_items_total(t->items, t->n, &total)) {
		snprintf(reason, len, "order total overflows");
		return SVC_EPERMANENT;
	}
	lines = json_array();
	for (i = 0; i < t->n && !rc; i++) {
		rc = inv_counts_reserve(&stock[i], t->items[i].quantity);
		if (!rc)
			rc = inv_stock_write(conn, t->items[i].product_id, &stock[i]);
		json_array_append_new(
		        lines, json_pack("{s:s, s:I, s:I}", "productId", t->items[i].product_id,
		                         "quantity", (json_int_t)t->items[i].quantity, "unitPrice",
		                         (json_int_t)t->items[i].unit_price));
	}
	if (!rc)
		rc = inv_reservation_insert(conn, order_id, INV_RES_RESERVED, NULL);
	if (!rc)
		rc = inv_reservation_add_lines(conn, order_id, t->items, t->n);
	if (!rc) {
		rc = emit(ctx, conn, ev, EV_INVENTORY_RESERVED, order_id,
		          json_pack("{s:s, s:O, s:I}", "orderId", order_id, "items", lines,
		                    "totalAmount", (json_int_t)total));
		svc_info("order %s: reserved %zu products, total %lld", order_id, t->n,
		         (long long)total);
	}
	json_decref(lines);
	return rc;
}

/* Moves the order's reserved stock back to available (or, with commit, to
 * sold) and records `next` on the reservation. */
static int settle(MYSQL *conn, const char *order_id, bool commit, enum inv_res_status next,
                  const char *why, struct touched *t, char *reason, size_t len)
{
	struct inv_counts stock[INV_MAX_ITEMS];
	size_t i;
	int rc;

	rc = inv_reservation_lines(conn, order_id, t->items, INV_MAX_ITEMS, &t->n);
	if (!rc && t->n)
		rc = inv_stock_lock(conn, t->items, t->n, stock);
	for (i = 0; i < t->n && !rc; i++) {
		if (!stock[i].found)
			rc = SVC_EPERMANENT;
		else if (commit)
			rc = inv_counts_commit(&stock[i], t->items[i].quantity);
		else
			rc = inv_counts_release(&stock[i], t->items[i].quantity);
		if (rc) { /* the invariant is broken: never write a negative count */
			snprintf(reason, len, "product %s cannot %s %lld units",
			         t->items[i].product_id, commit ? "sell" : "release",
			         (long long)t->items[i].quantity);
			svc_error("order %s: %s", order_id, reason);
			return SVC_EPERMANENT;
		}
		rc = inv_stock_write(conn, t->items[i].product_id, &stock[i]);
	}
	if (!rc)
		rc = inv_reservation_set(conn, order_id, next, why);
	return rc;
}

/* ReleaseInventory: give back what is reserved; always answer InventoryReleased. */
static int on_release(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev,
                      const char *order_id, struct touched *t, char *reason, size_t len)
{
	const char *why = json_string_value(json_object_get(ev->data, "reason"));
	enum inv_res_status status;
	int rc;

	if (!why || !*why)
		why = "released";
	rc = inv_reservation_lock(conn, order_id, &status);
	if (rc)
		return rc;
	switch (inv_on_release(status)) {
	case INV_ACT_GIVE_BACK:
		rc = settle(conn, order_id, false, INV_RES_RELEASED, why, t, reason, len);
		break;
	case INV_ACT_TOMBSTONE:
		rc = inv_reservation_insert(conn, order_id, INV_RES_RELEASED, why);
		break;
	case INV_ACT_ACK:
		break;
	default:
		svc_error("order %s: ReleaseInventory after the stock was sold; ignored", order_id);
		return SVC_IGNORED;
	}
	if (!rc)
		rc = emit(ctx, conn, ev, EV_INVENTORY_RELEASED, order_id,
		          json_pack("{s:s, s:s}", "orderId", order_id, "reason", why));
	return rc;
}

/* OrderConfirmed commits the reservation; OrderCancelled gives it back silently. */
static int on_settled(MYSQL *conn, const struct svc_event *ev, const char *order_id,
                      struct touched *t, char *reason, size_t len)
{
	bool confirmed = !strcmp(ev->type, EV_ORDER_CONFIRMED);
	enum inv_res_status status;
	enum inv_action act;
	int rc = inv_reservation_lock(conn, order_id, &status);

	if (rc)
		return rc;
	act = confirmed ? inv_on_confirmed(status) : inv_on_cancelled(status);
	if (act == INV_ACT_IGNORE)
		return SVC_IGNORED;
	return settle(conn, order_id, confirmed, confirmed ? INV_RES_COMMITTED : INV_RES_RELEASED,
	              confirmed ? NULL : "order cancelled", t, reason, len);
}

static int prepare(struct svc_ctx *ctx, const struct svc_event *ev, void **scratch, char *reason,
                   size_t len)
{
	(void)ctx;
	(void)ev;
	(void)reason;
	(void)len;
	*scratch = calloc(1, sizeof(struct touched));
	return *scratch ? 0 : SVC_ETRANSIENT;
}

static int apply(struct svc_ctx *ctx, MYSQL *conn, const struct svc_event *ev, void *scratch,
                 char *reason, size_t len)
{
	struct touched *t = scratch;
	const char *order_id;

	if (!t) {
		snprintf(reason, len, "no scratch state");
		return SVC_ETRANSIENT;
	}
	t->n = 0;
	if (svc_event_str(ev, "orderId", &order_id, reason, len))
		return SVC_EPERMANENT;
	if (!svc_uuid_valid(order_id)) {
		snprintf(reason, len, "orderId is not a UUID");
		return SVC_EPERMANENT;
	}
	if (!strcmp(ev->type, EV_ORDER_CREATED))
		return on_created(ctx, conn, ev, order_id, t, reason, len);
	if (!strcmp(ev->type, CMD_RELEASE_INVENTORY))
		return on_release(ctx, conn, ev, order_id, t, reason, len);
	if (!strcmp(ev->type, EV_ORDER_CONFIRMED) || !strcmp(ev->type, EV_ORDER_CANCELLED))
		return on_settled(conn, ev, order_id, t, reason, len);
	snprintf(reason, len, "unknown event type %s", ev->type);
	return SVC_EPERMANENT;
}

static void committed(struct svc_ctx *ctx, const struct svc_event *ev, void *scratch)
{
	struct touched *t = scratch;

	(void)ev;
	svc_outbox_wake();
	if (t)
		inv_cache_refresh(ctx, t->items, t->n);
}

const struct svc_consumer_ops inv_consumer_ops = {
        .prepare = prepare,
        .apply = apply,
        .committed = committed,
        .scratch_free = free,
        /* prepare() only allocates the list of touched products */
        .prepare_is_local = true,
};
