/*
 * Inventory consumer (consumer.h). Events are applied to a batch's rows in
 * memory (batch.h): in a batch transaction, begin_batch() locks and loads
 * every row its events will read in a few statements (stock.h), first the
 * orders' reservation rows, then the products, each in key order, so
 * concurrent batches cannot deadlock; apply() changes that state and
 * end_batch() writes it back in a few more. An event handled alone is a batch of one, inside
 * apply(). The final state of every product a batch changed is handed to the scratch of the last
 * event that moved it and cached after the commit (committed()).
 */
#include "services/inventory/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/inventory/batch.h"
#include "services/inventory/cache.h"
#include "services/inventory/reserve.h"
#include "services/inventory/stock.h"
#include "svc/error.h"
#include "svc/events.h"
#include "svc/log.h"
#include "svc/outbox.h"
#include "svc/service.h"

/* Scratch state: the products to cache once the event's transaction committed. */
struct touched {
	struct inv_product *products;
	size_t n;
};

static void touched_free(void *scratch)
{
	struct touched *t = scratch;

	if (t)
		free(t->products);
	free(t);
}

/* Adds a copy of `p` to the products `t` caches. 0 or SVC_ENOMEM. */
static int touched_add(struct touched *t, const struct inv_product *p)
{
	struct inv_product *grown = realloc(t->products, (t->n + 1) * sizeof(*grown));

	if (!grown)
		return SVC_ENOMEM;
	t->products = grown;
	t->products[t->n++] = *p;
	return 0;
}

/* The event's orderId, a UUID: 0 or SVC_EPERMANENT (reason set). */
static int order_id_of(const struct svc_event *ev, const char **order_id, char *reason, size_t len)
{
	if (svc_event_str(ev, "orderId", order_id, reason, len))
		return SVC_EPERMANENT;
	if (!svc_uuid_valid(*order_id)) {
		snprintf(reason, len, "orderId is not a UUID");
		return SVC_EPERMANENT;
	}
	return 0;
}

/* Parses an OrderCreated event's items. */
static int items_of(const struct svc_event *ev, struct inv_item *items, size_t *n, char *reason,
                    size_t len)
{
	return inv_items_parse(json_object_get(ev->data, "items"), items, INV_MAX_ITEMS, n, reason,
	                       len);
}

/*
 * Names the products the events will move: the items of an OrderCreated
 * whose order has no reservation yet, and the lines of the orders that are
 * RESERVED (what a release or a confirmation moves). An order reserved
 * within the batch moves only products of its OrderCreated. Events whose
 * input is invalid are left out: their apply() rejects them.
 */
static int want_products(struct inv_batch *b, const struct svc_event *const *evs, size_t n)
{
	struct inv_item items[INV_MAX_ITEMS];
	struct inv_batch_order *o;
	const char *order_id;
	char reason[160];
	size_t i, j, nitems;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (strcmp(evs[i]->type, EV_ORDER_CREATED) ||
		    order_id_of(evs[i], &order_id, reason, sizeof(reason)))
			continue;
		o = inv_batch_order(b, order_id);
		if (!o || !o->loaded || o->status != INV_RES_NONE ||
		    items_of(evs[i], items, &nitems, reason, sizeof(reason)))
			continue;
		for (j = 0; j < nitems && rc == 0; j++)
			rc = inv_batch_want_product(b, items[j].product_id);
	}
	for (i = 0; i < b->norders && rc == 0; i++) {
		o = &b->orders[i];
		for (j = 0; o->status == INV_RES_RESERVED && j < o->nlines && rc == 0; j++)
			rc = inv_batch_want_product(b, o->lines[j].product_id);
	}
	return rc;
}

/* Whether the event may create its order's reservation row: an OrderCreated
 * (RESERVED or SHORTAGE) or a ReleaseInventory (a RELEASED tombstone). */
static bool may_create(const struct svc_event *ev)
{
	return !strcmp(ev->type, EV_ORDER_CREATED) || !strcmp(ev->type, CMD_RELEASE_INVENTORY);
}

/* Locks and loads the rows the events will read: orders first, then products. */
static int load(MYSQL *conn, struct inv_batch *b, const struct svc_event *const *evs, size_t n)
{
	const char *order_id;
	char reason[160];
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		if (order_id_of(evs[i], &order_id, reason, sizeof(reason)) == 0)
			rc = inv_batch_want_order(b, order_id, may_create(evs[i]));
	if (rc == 0)
		rc = inv_stock_lock_orders(conn, b);
	if (rc == 0)
		rc = want_products(b, evs, n);
	if (rc == 0)
		rc = inv_stock_lock_products(conn, b);
	return rc;
}

/* Hands the final state of each changed product to the scratch of the last
 * event that moved it, for committed(). */
static int hand_to_cache(const struct inv_batch *b)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < b->nproducts && rc == 0; i++)
		if (b->products[i].changed && b->products[i].last_tag)
			rc = touched_add(b->products[i].last_tag, &b->products[i].p);
	return rc;
}

/* Starts `b` for the events: their rows locked and loaded. On failure `b`
 * is released. */
static int batch_open(MYSQL *conn, struct inv_batch *b, const struct svc_event *const *evs,
                      size_t n)
{
	int rc;

	inv_batch_init(b);
	rc = load(conn, b, evs, n);
	if (rc)
		inv_batch_release(b);
	return rc;
}

/* Writes back what `b` changed (unless !write) and releases it. */
static int batch_close(struct svc_tx *tx, struct inv_batch *b, bool write)
{
	int rc = write ? inv_stock_write(tx, b) : 0;

	if (write && rc == 0)
		rc = hand_to_cache(b);
	inv_batch_release(b);
	return rc;
}

/* The batch's rows go in tx->batch (a struct inv_batch) until end_batch(). */
static int begin_batch(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *const *evs,
                       size_t n)
{
	struct inv_batch *b;
	int rc;

	(void)ctx;
	if (tx->batch)
		return SVC_EPERMANENT; /* one batch per transaction: cannot happen */
	b = malloc(sizeof(*b));
	if (!b)
		return SVC_ENOMEM;
	rc = batch_open(tx->conn, b, evs, n);
	if (rc) {
		free(b);
		return rc;
	}
	tx->batch = b;
	return 0;
}

static int end_batch(struct svc_ctx *ctx, struct svc_tx *tx, bool write)
{
	struct inv_batch *b = tx->batch;
	int rc;

	(void)ctx;
	if (!b)
		return SVC_EPERMANENT; /* no batch open: cannot happen */
	rc = batch_close(tx, b, write);
	free(b);
	tx->batch = NULL;
	return rc;
}

static int emit(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev,
                const char *type, const char *order_id, json_t *data)
{
	return svc_outbox_emit(tx, TOPIC_INVENTORY_EVENTS, type, order_id, ctx->svc->source, ev->id,
	                       data);
}

static int shortage(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev,
                    const struct inv_batch_order *o, const struct inv_item *items,
                    const struct inv_shortage *sh)
{
	svc_info("order %s: %s (requested %lld, available %lld)", o->order_id, o->reason,
	         (long long)sh->requested, (long long)sh->available);
	return emit(ctx, tx, ev, EV_INVENTORY_SHORTAGE, o->order_id,
	            json_pack("{s:s, s:s, s:I, s:I, s:s}", "orderId", o->order_id, "productId",
	                      items[sh->index].product_id, "requested", (json_int_t)sh->requested,
	                      "available", (json_int_t)sh->available, "reason", o->reason));
}

/* OrderCreated: reserve every item or none. */
static int on_created(struct svc_ctx *ctx, struct svc_tx *tx, struct inv_batch *b,
                      const struct svc_event *ev, struct inv_batch_order *o, struct touched *t,
                      char *reason, size_t len)
{
	struct inv_item items[INV_MAX_ITEMS];
	struct inv_shortage sh;
	json_t *lines = NULL;
	int64_t total;
	size_t i, n;
	int rc;

	rc = items_of(ev, items, &n, reason, len);
	if (rc)
		return rc;
	if (inv_on_created(o->status) == INV_ACT_IGNORE)
		return SVC_IGNORED; /* decided before, or released before it arrived */
	rc = inv_batch_reserve(b, o, items, n, &sh, t);
	if (rc == SVC_ECONFLICT)
		return shortage(ctx, tx, ev, o, items, &sh);
	if (rc == SVC_ETRANSIENT)
		snprintf(reason, len, "a product of order %s was not loaded", o->order_id);
	if (rc)
		return rc;
	if (inv_items_total(items, n, &total)) {
		snprintf(reason, len, "order total overflows");
		return SVC_EPERMANENT;
	}
	lines = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(lines,
		                      json_pack("{s:s, s:I, s:I}", "productId", items[i].product_id,
		                                "quantity", (json_int_t)items[i].quantity,
		                                "unitPrice", (json_int_t)items[i].unit_price));
	rc = emit(ctx, tx, ev, EV_INVENTORY_RESERVED, o->order_id,
	          json_pack("{s:s, s:O, s:I}", "orderId", o->order_id, "items", lines,
	                    "totalAmount", (json_int_t)total));
	if (!rc)
		svc_debug("order %s: reserved %zu products, total %lld", o->order_id, n,
		          (long long)total);
	json_decref(lines);
	return rc;
}

/* Moves the order's reserved stock back to available (or, with commit, to
 * sold) and records `next` on the reservation. */
static int settle(struct inv_batch *b, struct inv_batch_order *o, bool commit,
                  enum inv_res_status next, const char *why, struct touched *t, char *reason,
                  size_t len)
{
	int rc = inv_batch_settle(b, o, commit, next, why, t, reason, len);

	if (rc == SVC_EPERMANENT)
		svc_error("order %s: %s", o->order_id, reason);
	else if (rc == SVC_ETRANSIENT)
		snprintf(reason, len, "a product of order %s was not loaded", o->order_id);
	return rc;
}

/* ReleaseInventory: give back what is reserved; always answer InventoryReleased. */
static int on_release(struct svc_ctx *ctx, struct svc_tx *tx, struct inv_batch *b,
                      const struct svc_event *ev, struct inv_batch_order *o, struct touched *t,
                      char *reason, size_t len)
{
	const char *why = json_string_value(json_object_get(ev->data, "reason"));
	int rc = 0;

	if (!why || !*why)
		why = "released";
	switch (inv_on_release(o->status)) {
	case INV_ACT_GIVE_BACK:
		rc = settle(b, o, false, INV_RES_RELEASED, why, t, reason, len);
		break;
	case INV_ACT_TOMBSTONE:
		rc = inv_batch_order_set(o, INV_RES_RELEASED, why);
		break;
	case INV_ACT_ACK:
		break;
	default:
		svc_error("order %s: ReleaseInventory after the stock was sold; ignored",
		          o->order_id);
		return SVC_IGNORED;
	}
	if (!rc)
		rc = emit(ctx, tx, ev, EV_INVENTORY_RELEASED, o->order_id,
		          json_pack("{s:s, s:s}", "orderId", o->order_id, "reason", why));
	return rc;
}

/* OrderConfirmed commits the reservation; OrderCancelled gives it back silently. */
static int on_settled(struct inv_batch *b, const struct svc_event *ev, struct inv_batch_order *o,
                      struct touched *t, char *reason, size_t len)
{
	bool confirmed = !strcmp(ev->type, EV_ORDER_CONFIRMED);
	enum inv_action act = confirmed ? inv_on_confirmed(o->status) : inv_on_cancelled(o->status);

	if (act == INV_ACT_IGNORE)
		return SVC_IGNORED;
	return settle(b, o, confirmed, confirmed ? INV_RES_COMMITTED : INV_RES_RELEASED,
	              confirmed ? NULL : "order cancelled", t, reason, len);
}

/* Applies one event to the batch's rows. */
static int apply_to(struct svc_ctx *ctx, struct svc_tx *tx, struct inv_batch *b,
                    const struct svc_event *ev, struct touched *t, char *reason, size_t len)
{
	struct inv_batch_order *o;
	const char *order_id;

	if (order_id_of(ev, &order_id, reason, len))
		return SVC_EPERMANENT;
	o = inv_batch_order(b, order_id);
	if (!o || !o->loaded) {
		snprintf(reason, len, "order %s was not loaded", order_id);
		return SVC_ETRANSIENT;
	}
	if (!strcmp(ev->type, EV_ORDER_CREATED))
		return on_created(ctx, tx, b, ev, o, t, reason, len);
	if (!strcmp(ev->type, CMD_RELEASE_INVENTORY))
		return on_release(ctx, tx, b, ev, o, t, reason, len);
	if (!strcmp(ev->type, EV_ORDER_CONFIRMED) || !strcmp(ev->type, EV_ORDER_CANCELLED))
		return on_settled(b, ev, o, t, reason, len);
	snprintf(reason, len, "unknown event type %s", ev->type);
	return SVC_EPERMANENT;
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

static int apply(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev, void *scratch,
                 char *reason, size_t len)
{
	struct touched *t = scratch;
	struct inv_batch one;
	bool done;
	int rc, end;

	if (!t) {
		snprintf(reason, len, "no scratch state");
		return SVC_ETRANSIENT;
	}
	if (tx->batch)
		return apply_to(ctx, tx, tx->batch, ev, t, reason, len);
	/* Handled alone: a batch of one. */
	rc = batch_open(tx->conn, &one, &ev, 1);
	if (rc)
		return rc;
	rc = apply_to(ctx, tx, &one, ev, t, reason, len);
	done = rc == 0 || rc == SVC_IGNORED;
	end = batch_close(tx, &one, done);
	return done && end ? end : rc;
}

/* Products cached per Redis round trip after a commit. */
#define INV_CACHE_STORE_CHUNK 64

/* Caches the products the events changed, INV_CACHE_STORE_CHUNK per Redis
 * round trip: for a batch, those of all its events together (each product
 * is in the scratch of one event only: hand_to_cache). No svc_outbox_wake()
 * here: the inbox wakes the relay once per delivery. */
static void committed_batch(struct svc_ctx *ctx, const struct svc_event *const *evs,
                            void *const *scratch, size_t n)
{
	const struct inv_product *ps[INV_CACHE_STORE_CHUNK];
	size_t k = 0;

	(void)evs;
	for (size_t e = 0; e < n; e++) {
		const struct touched *t = scratch[e];

		for (size_t i = 0; t && i < t->n; i++) {
			ps[k++] = &t->products[i];
			if (k == INV_CACHE_STORE_CHUNK) {
				inv_cache_store_many(ctx, ps, k);
				k = 0;
			}
		}
	}
	if (k > 0)
		inv_cache_store_many(ctx, ps, k);
}

static void committed(struct svc_ctx *ctx, const struct svc_event *ev, void *scratch)
{
	void *const one[] = {scratch};

	committed_batch(ctx, &ev, one, 1);
}

const struct svc_consumer_ops inv_consumer_ops = {
        .prepare = prepare,
        .apply = apply,
        .committed = committed,
        .committed_batch = committed_batch,
        .scratch_free = touched_free,
        /* prepare() only allocates the scratch state */
        .prepare_is_local = true,
        .begin_batch = begin_batch,
        .end_batch = end_batch,
};
