/* How long the inbox remembers: the pruning job and the age check (see
 * svc/inbox_retention.h). */
#include "svc/inbox_retention.h"

#include <stdio.h>
#include <stdlib.h>

#include "svc/db.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/periodic.h"
#include "svc/prom.h"
#include "svc/service.h"

void svc_inbox_cutoff_id(int64_t cutoff_ms, char out[14])
{
	uint64_t ms = cutoff_ms > 0 ? (uint64_t)cutoff_ms : 0;

	/* a UUIDv7 begins with its 48-bit Unix millisecond time, in hex */
	snprintf(out, 14, "%08x-%04x", (unsigned)((ms >> 16) & 0xffffffffu),
	         (unsigned)(ms & 0xffffu));
}

bool svc_inbox_too_old(int64_t keep_ms, int64_t now_ms, const struct svc_event *ev)
{
	return keep_ms > 0 && ev->timestamp_ms < now_ms - keep_ms;
}

void svc_inbox_prune_sql(struct svc_buf *b, int64_t now_ms, int64_t keep_ms, unsigned limit)
{
	int64_t age_ms = keep_ms + SVC_INBOX_PRUNE_MARGIN_MS;
	char cutoff[14];

	svc_inbox_cutoff_id(now_ms - age_ms, cutoff);
	/* the key range bounds what is read; processed_at decides */
	svc_buf_addf(b,
	             "DELETE FROM processed_messages WHERE event_id < '%s' AND processed_at < "
	             "NOW(6) - INTERVAL %lld SECOND ORDER BY event_id LIMIT %u",
	             cutoff, (long long)(age_ms / 1000), limit);
}

int64_t svc_inbox_prune_once(struct svc_db *db, int64_t now_ms, int64_t keep_ms, unsigned limit)
{
	struct svc_buf sql;
	int64_t deleted = 0;
	MYSQL *conn;
	int rc;

	svc_buf_init(&sql);
	svc_inbox_prune_sql(&sql, now_ms, keep_ms, limit);
	if (sql.failed) {
		svc_buf_release(&sql);
		return SVC_ENOMEM;
	}
	conn = svc_db_acquire(db);
	if (!conn) {
		svc_buf_release(&sql);
		return SVC_ETRANSIENT;
	}
	rc = svc_db_begin_claim(conn);
	if (rc == 0 && (rc = svc_db_exec(conn, sql.data)) == 0)
		deleted = (int64_t)svc_db_affected_rows(conn);
	if (rc == 0)
		rc = svc_db_commit(conn);
	if (rc != 0)
		svc_db_rollback(conn);
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
	svc_buf_release(&sql);
	return rc != 0 ? rc : deleted;
}

struct svc_inbox_pruner {
	struct svc_db *db;
	int64_t keep_ms;
	unsigned batch;
	struct svc_prom_series *pruned; /* NULL when metrics are off */
	struct svc_periodic *job;
};

/* svc_periodic_fn: one statement; a full batch means more are due. */
static bool prune(void *arg)
{
	struct svc_inbox_pruner *p = arg;
	int64_t n = svc_inbox_prune_once(p->db, svc_now_ms(), p->keep_ms, p->batch);

	if (n < 0) {
		svc_warn("inbox: deleting old claims failed: %s", svc_strerror((int)n));
		return false;
	}
	if (n > 0) {
		svc_prom_add(p->pruned, (uint64_t)n);
		svc_debug("inbox: %lld claims older than the retention deleted", (long long)n);
	}
	return n == (int64_t)p->batch;
}

struct svc_inbox_pruner *svc_inbox_pruner_start(struct svc_ctx *ctx, int64_t keep_ms,
                                                long interval_ms, unsigned batch)
{
	struct svc_inbox_pruner *p = calloc(1, sizeof(*p));

	if (!p) {
		svc_error("inbox: out of memory starting the retention job");
		return NULL;
	}
	p->db = ctx->db;
	p->keep_ms = keep_ms;
	p->batch = batch;
	p->pruned = svc_prom_at(svc_prom_counter(ctx->prom, "svc_inbox_pruned_rows_total",
	                                         "Inbox claims (processed_messages rows) deleted "
	                                         "for being older than INBOX_RETENTION_HOURS.",
	                                         NULL));
	p->job = svc_periodic_start("inbox retention", interval_ms, prune, p);
	if (!p->job) {
		free(p);
		return NULL;
	}
	svc_info("inbox: claims kept %lld h, pruned every %ld ms, %u per statement",
	         (long long)(keep_ms / 3600000), interval_ms, batch);
	return p;
}

void svc_inbox_pruner_stop(struct svc_inbox_pruner *p)
{
	if (!p)
		return;
	svc_periodic_stop(p->job);
	free(p);
}
