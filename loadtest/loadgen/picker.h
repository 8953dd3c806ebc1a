/*
 * What each generated order buys: a product drawn from a Zipf-like or a
 * uniform distribution over the seeded catalogue (P000000001..N, the ids of
 * tests/data/datagen.h) and a user drawn uniformly from U000000001..M. Pure
 * and deterministic for a seed.
 */
#ifndef LT_PICKER_H
#define LT_PICKER_H

#include <stddef.h>
#include <stdint.h>

struct lt_picker {
	uint64_t state; /* xorshift64* state */
	long products;  /* catalogue size */
	long users;     /* user count */
	double *cdf;    /* Zipf cumulative weights (products entries), NULL = uniform */
};

/* zipf_s <= 0 selects the uniform spread. 0, or -1 on OOM/bad sizes. The
 * caller embeds the struct and releases it with lt_picker_release. */
int lt_picker_init(struct lt_picker *p, long products, long users, double zipf_s, uint64_t seed);
void lt_picker_release(struct lt_picker *p);

/* 1-based product index / user index. */
long lt_picker_product(struct lt_picker *p);
long lt_picker_user(struct lt_picker *p);
/* Uniform integer in [lo, hi]. */
long lt_picker_range(struct lt_picker *p, long lo, long hi);

#endif
