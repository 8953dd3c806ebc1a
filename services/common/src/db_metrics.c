/* The connection pool's gauges (svc/db.h), set at every scrape. */
#include "svc/db.h"
#include "svc/prom.h"

void svc_db_collect_metrics(struct svc_prom *r, void *db)
{
	unsigned in_use = 0, size = 0;

	svc_db_pool_usage(db, &in_use, &size);
	svc_prom_set(
	        svc_prom_at(svc_prom_gauge(r, "svc_db_pool_in_use",
	                                   "Database connections borrowed from the pool.", NULL)),
	        in_use);
	svc_prom_set(svc_prom_at(svc_prom_gauge(r, "svc_db_pool_size",
	                                        "Database connections the pool may hold.", NULL)),
	             size);
}
