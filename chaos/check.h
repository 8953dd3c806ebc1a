/*
 * "Nothing lost": the invariants every chaos scenario ends with, evaluated
 * on what the runner read back from the services once the system was
 * quiet (pure: no I/O).
 *
 *   terminal   every accepted order exists and is CONFIRMED or CANCELLED,
 *              within the saga's deadlines plus 30 s of its creation
 *   outcome    no order priced above the gateway's decline threshold is
 *              CONFIRMED
 *   stock      per product: initial = available + reserved + sold, none
 *              negative, nothing left reserved; and, when the outcome of
 *              every request is known, sold = the CONFIRMED quantities
 *   money      a CONFIRMED order has one capture of exactly its total; a
 *              CANCELLED one keeps no money (no payment, declined, voided
 *              or refunded in full) and none is still REQUESTED;
 *              captured - refunded = the totals of the CONFIRMED orders
 *   notified   every terminal order has a notification
 *   dlq        every dead letter of these orders, or dead-lettered since
 *              the scenario began, has a reason the scenario explains
 */
#ifndef CHAOS_CHECK_H
#define CHAOS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos/orders.h"

enum chaos_inv {
	CHAOS_INV_TERMINAL,
	CHAOS_INV_OUTCOME,
	CHAOS_INV_STOCK,
	CHAOS_INV_MONEY,
	CHAOS_INV_NOTIFIED,
	CHAOS_INV_DLQ,
	CHAOS_INV_COUNT
};

#define CHAOS_INV_EXAMPLES 3

struct chaos_inv_result {
	long violations;
	char examples[CHAOS_INV_EXAMPLES][200];
};

struct chaos_check_input {
	const struct chaos_order *orders;
	size_t norders;
	const struct chaos_product *products;
	size_t nproducts;
	const struct chaos_dlq_entry *dlq; /* only the entries that concern the scenario */
	size_t ndlq;
	int64_t terminal_bound_ms; /* created -> terminal at most */
	bool sold_exact;           /* every request's outcome is known */
	const char *dlq_allow;     /* '|'-separated reason substrings; NULL or "": none */
};

struct chaos_verdict {
	struct chaos_inv_result inv[CHAOS_INV_COUNT];
	long lost;         /* accepted orders not found */
	long not_terminal; /* found, not CONFIRMED/CANCELLED */
	long late;         /* terminal later than the bound */
	int64_t captured_net, confirmed_totals;
};

/* Evaluates every invariant into *out. */
void chaos_check(const struct chaos_check_input *in, struct chaos_verdict *out);

/* True when no invariant is violated. */
bool chaos_verdict_ok(const struct chaos_verdict *v);

/* "terminal", "outcome", ... */
const char *chaos_inv_name(enum chaos_inv i);

/* True when `reason` contains one of the '|'-separated substrings of
 * `allow` (none when allow is NULL or ""). */
bool chaos_reason_allowed(const char *reason, const char *allow);

#endif
