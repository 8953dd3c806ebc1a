/*
 * What the chaos runner knows of the orders it placed, the products it
 * set up and the dead letters it found, and reading each from the
 * services' JSON answers (pure: no I/O).
 */
#ifndef CHAOS_ORDERS_H
#define CHAOS_ORDERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAOS_ID_MAX     40
#define CHAOS_REASON_MAX 160

enum chaos_order_status {
	CHAOS_ORDER_MISSING, /* not found (404), or not read yet */
	CHAOS_ORDER_OPEN,    /* PENDING, PAYMENT_PENDING, COMPENSATING */
	CHAOS_ORDER_CONFIRMED,
	CHAOS_ORDER_CANCELLED,
};

struct chaos_order {
	char id[CHAOS_ID_MAX];
	unsigned product;    /* index into the scenario's products */
	bool expect_decline; /* priced above the gateway's decline threshold */
	long quantity;
	int64_t sent_ms;    /* when the runner sent POST /api/orders */
	int64_t created_ms; /* createdAt; sent_ms until read */
	int64_t done_ms;    /* when it reached CONFIRMED or CANCELLED; -1 */
	int64_t total;
	enum chaos_order_status status;
	char reason[CHAOS_REASON_MAX]; /* cancellationReason */
	/* its payment (GET /api/payments/{orderId}) */
	bool pay_found;
	char pay_status[16];
	int64_t pay_amount, pay_refunded;
	/* a notification exists for it */
	bool notified;
	/* the last read of the order / of its payment or notifications got no
	 * answer (the service down): what is known of it is older */
	bool unread, money_unread;
};

struct chaos_product {
	char id[64];
	int64_t price;
	long initial; /* the stock it was given */
	bool found;
	bool unread; /* the last read got no answer */
	long available, reserved, sold;
};

struct chaos_dlq_entry {
	char service[16];
	char order_id[CHAOS_ID_MAX];
	char reason[CHAOS_REASON_MAX];
	int64_t at_ms; /* when it was dead-lettered; -1 unknown */
};

/* "2026-11-24T20:17:04.123Z" (or without fraction, or +00:00) -> ms since
 * the epoch; -1 when it is not such a time. */
int64_t chaos_time_parse_ms(const char *iso);

/* Reads GET /api/orders/{id}'s answer into o (status, total, createdAt,
 * the time of its first CONFIRMED/CANCELLED transition, the reason).
 * 0, or SVC_EPERMANENT when the answer is not an order. */
int chaos_order_read(const json_t *doc, struct chaos_order *o);

/* Reads GET /api/payments/{orderId}'s answer (status, amount,
 * refundedAmount) into o. 0, or SVC_EPERMANENT. */
int chaos_payment_read(const json_t *doc, struct chaos_order *o);

/* Reads GET /api/inventory/{id}'s answer (available, reserved, sold) into
 * p. 0, or SVC_EPERMANENT. */
int chaos_product_read(const json_t *doc, struct chaos_product *p);

/* Appends the entries of a sidecar's GET /dlq answer to *v (*n of them,
 * *cap allocated; realloc'd), tagged with `service`. 0, SVC_EPERMANENT
 * (no entries array), SVC_ENOMEM. */
int chaos_dlq_read(const json_t *doc, const char *service, struct chaos_dlq_entry **v, size_t *n,
                   size_t *cap);

/* True when the order status is CONFIRMED or CANCELLED. */
static inline bool chaos_order_terminal(const struct chaos_order *o)
{
	return o->status == CHAOS_ORDER_CONFIRMED || o->status == CHAOS_ORDER_CANCELLED;
}

#endif
