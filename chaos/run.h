/*
 * The state of one scenario run, shared by the files that carry it out
 * (internal to the runner): runner.c (set-up, load, kills, pods),
 * verify.c (reading everything back, the invariants), result.c (the JSON).
 */
#ifndef CHAOS_RUN_H
#define CHAOS_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos/check.h"
#include "chaos/load.h"
#include "chaos/orders.h"
#include "chaos/pod.h"
#include "chaos/runner.h"
#include "svc/clock.h"
#include "svc/event.h" /* svc_now_ms: the wall clock */

/* four products that confirm, one priced to be declined */
#define CHAOS_PRODUCTS 5

struct chaos__run {
	const struct chaos_scenario *s;
	const struct chaos_config *cfg;
	struct chaos_kube *kube;
	char selector[512]; /* the release's instance label, then the scenario's */
	unsigned seed;

	/* the order service's saga deadlines (its pod's environment) */
	long inventory_ms, payment_ms, compensation_ms, scan_ms;
	int64_t bound_ms; /* created -> terminal at most: the three + a scan + 30 s */

	int64_t decline_above;
	struct chaos_product products[CHAOS_PRODUCTS];
	const char *product_ids[CHAOS_PRODUCTS];
	size_t nproducts;

	char **auth; /* "Authorization: Bearer ..." per simulated customer */
	size_t nusers;

	struct chaos_load *load;
	int64_t t0_ms; /* the load's start */
	int64_t started_ms;
	const struct chaos_request *reqs; /* owned by load */
	size_t nreqs;

	struct chaos_kill *kills;
	size_t nkills, kills_made;
	size_t ready_steady; /* Ready target pods before the first kill */

	struct chaos_order *orders; /* the accepted ones */
	size_t norders;
	struct chaos_dlq_entry *dlq;
	size_t ndlq, dlq_cap;
	struct chaos_verdict verdict;
	bool sold_exact;
	int64_t verified_ms; /* when the invariants were last evaluated */
};

/* The Ready pods' IPs per service for the sidecars' DLQ and the order pod's
 * deadlines need pod lists: the pods of `selector` (parsed, sorted). */
int chaos__list(struct chaos__run *r, const char *selector, struct chaos_pod **pods, size_t *n);

/* verify.c: the accepted orders from the load's requests, read until
 * terminal or past the bound, then the invariants until they hold or
 * settle_s passes. */
int chaos__verify(struct chaos__run *r);

/* result.c: the JSON document of the run (result.h). NULL when out of
 * memory. */
json_t *chaos__result(const struct chaos__run *r);

#endif
