/* Product and user selection for generated orders (picker.h). */
#include "loadtest/loadgen/picker.h"

#include <math.h>
#include <stdlib.h>

static uint64_t next_u64(struct lt_picker *p)
{
	uint64_t x = p->state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	p->state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* uniform in [0, 1) */
static double next_unit(struct lt_picker *p)
{
	return (double)(next_u64(p) >> 11) / 9007199254740992.0;
}

int lt_picker_init(struct lt_picker *p, long products, long users, double zipf_s, uint64_t seed)
{
	double sum = 0;

	*p = (struct lt_picker){
	        .state = seed ? seed : 0x9E3779B97F4A7C15ULL, .products = products, .users = users};
	if (products < 1 || users < 1)
		return -1;
	if (zipf_s <= 0)
		return 0;
	p->cdf = malloc((size_t)products * sizeof(*p->cdf));
	if (!p->cdf)
		return -1;
	for (long k = 0; k < products; k++) {
		sum += 1.0 / pow((double)(k + 1), zipf_s);
		p->cdf[k] = sum;
	}
	for (long k = 0; k < products; k++)
		p->cdf[k] /= sum;
	return 0;
}

void lt_picker_release(struct lt_picker *p)
{
	free(p->cdf);
	p->cdf = NULL;
}

long lt_picker_range(struct lt_picker *p, long lo, long hi)
{
	return lo + (long)(next_u64(p) % (uint64_t)(hi - lo + 1));
}

long lt_picker_product(struct lt_picker *p)
{
	double u;
	long lo = 0, hi = p->products - 1;

	if (!p->cdf)
		return lt_picker_range(p, 1, p->products);
	u = next_unit(p);
	while (lo < hi) { /* first k with cdf[k] > u */
		long mid = lo + (hi - lo) / 2;
		if (p->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo + 1;
}

long lt_picker_user(struct lt_picker *p)
{
	return lt_picker_range(p, 1, p->users);
}
