#include "tests/data/datagen.h"

#include <inttypes.h>
#include <stdio.h>

/* splitmix64: a fast, well-mixed hash of the row index */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void datagen_init(struct datagen *g, enum datagen_kind kind, uint64_t seed, uint64_t first,
                  uint64_t count, uint64_t stock)
{
	g->kind = kind;
	g->seed = seed;
	g->first = first;
	g->count = count;
	g->next = 0;
	g->stock = stock;
	g->finished = count == 0;
}

size_t datagen_row(const struct datagen *g, uint64_t index, char *buf, size_t len)
{
	uint64_t id = index + 1;
	uint64_t h = mix(g->seed ^ mix(index));
	int n;

	if (g->kind == DATAGEN_PRODUCTS) {
		uint64_t price = 100 + h % 99901;
		uint64_t stock = g->stock ? g->stock : 10 + (h >> 20) % 991;
		n = snprintf(buf, len,
		             "P%09" PRIu64 "\tProduct %" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		             "\t0\t0\t1\n",
		             id, id, price, stock);
	} else {
		n = snprintf(buf, len,
		             "U%09" PRIu64 "\tuser%" PRIu64 "@example.com\t+1555%07" PRIu64 "\n",
		             id, id, id % 10000000);
	}
	if (n < 0 || (size_t)n >= len)
		return 0;
	return (size_t)n;
}

size_t datagen_fill(struct datagen *g, char *buf, size_t len, size_t *rows)
{
	size_t off = 0;

	while (g->next < g->count) {
		size_t n = datagen_row(g, g->first + g->next, buf + off, len - off);
		if (n == 0)
			break;
		off += n;
		g->next++;
		(*rows)++;
	}
	if (g->next == g->count)
		g->finished = true;
	return off;
}
