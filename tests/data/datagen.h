/*
 * Deterministic test-data rows (pure: no I/O), as tab-separated lines for
 * LOAD DATA. Row k of a kind depends only on (seed, k): any range can be
 * generated independently, and two runs with one seed produce the same bytes.
 *
 * products: product_id name price available reserved sold version
 *           "P000000001" "Product 1" 100..100000 (minor units) stock 0 0 1
 * users:    user_id email phone
 *           "U000000001" "user1@example.com" "+15550000001"
 */
#ifndef DATAGEN_H
#define DATAGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum datagen_kind { DATAGEN_PRODUCTS, DATAGEN_USERS };

struct datagen {
	enum datagen_kind kind;
	uint64_t seed;
	uint64_t first; /* index of the first row (0-based; ids are index + 1) */
	uint64_t count; /* rows to generate */
	uint64_t next;  /* rows generated so far */
	uint64_t stock; /* fixed stock per product; 0 = 10..1000 from the seed */
	bool finished;
};

void datagen_init(struct datagen *g, enum datagen_kind kind, uint64_t seed, uint64_t first,
                  uint64_t count, uint64_t stock);

/* Writes row `index` (absolute, 0-based) with its trailing newline into buf.
 * Returns its length, or 0 when it does not fit. */
size_t datagen_row(const struct datagen *g, uint64_t index, char *buf, size_t len);

/* Writes as many whole rows as fit into buf; returns the bytes written (0 at
 * the end) and adds the number of rows to *rows. */
size_t datagen_fill(struct datagen *g, char *buf, size_t len, size_t *rows);

#endif
