/* The verified-token cache's counters (svc/auth.h), read at every scrape. */
#include "svc/auth.h"
#include "svc/prom.h"

void svc_auth_collect_metrics(struct svc_prom *r, void *auth)
{
	struct svc_prom_metric *m = svc_prom_counter(
	        r, "svc_auth_token_cache_total",
	        "Bearer tokens looked up among those verified lately (JWT_CACHE_SLOTS): found "
	        "(hit) or verified in full (miss).",
	        "result");
	uint64_t hits, misses;

	svc_auth_cache_counts(auth, &hits, &misses);
	svc_prom_set(svc_prom_at(m, "hit"), (int64_t)hits);
	svc_prom_set(svc_prom_at(m, "miss"), (int64_t)misses);
}
