/*
 * How long the inbox remembers (svc/consumer.h). processed_messages gets a
 * row for every event a service consumes, about nine per order, and nothing
 * else ever deletes one: at 1000 orders/s that is 780 million rows a day.
 *
 * A claim has to outlive every redelivery of its event. Redeliveries come
 * from the consumer's last committed offset (seconds back) and from an
 * outbox relay that published a row again (seconds), but a consumer group
 * whose offsets are lost starts again from the earliest message the topic
 * still holds: Kafka's log retention back (7 days by default). So:
 *
 *   - svc_run() starts a job (svc_inbox_pruner_start) that deletes the
 *     claims processed more than keep_ms + SVC_INBOX_PRUNE_MARGIN_MS ago
 *     (INBOX_RETENTION_HOURS, default 192: Kafka's default 168 and a day),
 *     every INBOX_PRUNE_INTERVAL_MS (10 s), INBOX_PRUNE_BATCH (1000) rows
 *     per statement, again at once while a statement deleted a full batch;
 *   - the consumer rejects (the sidecar dead-letters, with the reason) an
 *     event whose timestamp is more than keep_ms old: its claim may be gone,
 *     so applying it could apply it a second time. Keep the retention above
 *     the topics' log retention and the longest outage a consumer may have.
 *
 * The margin covers the difference between the producers' clocks (the
 * event's timestamp) and the database's (processed_at). Event ids are
 * UUIDv7, whose text sorts by time, so a statement reads only the oldest end
 * of the primary key (event_id below the cutoff's prefix) and deletes there
 * only what processed_at also says is old: an id of another kind (a test's
 * random UUID) is never deleted early, at worst kept longer. The statements
 * run at READ COMMITTED: no gap locks, so they never hold up the claims of
 * new events at the other end of the key. INBOX_RETENTION_HOURS=0 keeps
 * every claim and accepts events of any age (the behaviour before).
 */
#ifndef SVC_INBOX_RETENTION_H
#define SVC_INBOX_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "svc/buf.h"
#include "svc/event.h"

#define SVC_INBOX_RETENTION_HOURS_DEFAULT 192
#define SVC_INBOX_PRUNE_INTERVAL_MS       10000
#define SVC_INBOX_PRUNE_BATCH             1000
#define SVC_INBOX_PRUNE_MARGIN_MS         (3600 * 1000LL)

struct svc_ctx;
struct svc_db;
struct svc_prom;

/* The first 13 characters ("tttttttt-tttt") of a UUIDv7 minted at
 * `cutoff_ms` (clamped to 0): every UUIDv7 of an earlier millisecond sorts
 * below it. */
void svc_inbox_cutoff_id(int64_t cutoff_ms, char out[14]);

/* Whether `ev`, handled at `now_ms`, is older than the inbox remembers
 * (keep_ms > 0 and its timestamp more than keep_ms back). */
bool svc_inbox_too_old(int64_t keep_ms, int64_t now_ms, const struct svc_event *ev);

/* Appends the statement that deletes up to `limit` claims older than
 * keep_ms + SVC_INBOX_PRUNE_MARGIN_MS at `now_ms`, oldest first. */
void svc_inbox_prune_sql(struct svc_buf *b, int64_t now_ms, int64_t keep_ms, unsigned limit);

/* One such statement in its own READ COMMITTED transaction: the rows it
 * deleted (>= 0), or SVC_ETRANSIENT / SVC_EPERMANENT / SVC_ENOMEM. */
int64_t svc_inbox_prune_once(struct svc_db *db, int64_t now_ms, int64_t keep_ms, unsigned limit);

struct svc_inbox_pruner;

/* Starts the job on ctx->db, counting what it deletes into
 * svc_inbox_pruned_rows_total of ctx->prom. NULL (logged) when it cannot
 * start. */
struct svc_inbox_pruner *svc_inbox_pruner_start(struct svc_ctx *ctx, int64_t keep_ms,
                                                long interval_ms, unsigned batch);
/* Stops it (a statement running finishes first) and frees. Accepts NULL. */
void svc_inbox_pruner_stop(struct svc_inbox_pruner *p);

#endif
