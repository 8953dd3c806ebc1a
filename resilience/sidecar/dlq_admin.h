/*
 * Listing and re-driving the service's dead letters (DLQ_TOPIC, <service>.dlq),
 * over the sidecar's HTTP server (admin.h) and the `sidecar dlq` command.
 *
 *   GET  /dlq?limit=100        the newest `limit` entries (1..10000), newest last:
 *        {"topic":"order.dlq","count":n,"entries":[{"partition","offset","key",
 *         "orderId","reason","sourceTopic","sourcePartition","sourceOffset",
 *         "timestamp","attempts","eventId","redriven":bool,"entryId",
 *         "redrives","payload":"..."}]}
 *        An entry re-driven and dead-lettered again is one entry: its newest
 *        copy (where a re-drive starts from), "attempts" counting every
 *        round, "redrives" how often, "entryId" its first position
 *        ("<topic>/<partition>/<offset>"). ?copies=true lists every copy.
 *   POST /dlq/redrive {"partition":p,"offset":o}
 *        re-drives that entry: 200 {"topic","partition","offset","sourceTopic",
 *        "eventId","status":"redriven"}; 404 no such entry, 409 already
 *        re-driven (or no database configured), 422 not re-drivable (no or
 *        foreign source topic), 503 Kafka or the database unavailable.
 *   POST /dlq/redrive {"all":true}
 *        re-drives every entry not re-driven yet, oldest first per partition:
 *        200 {"topic","redriven":n,"alreadyRedriven":n,"entries":[{"partition",
 *        "offset","sourceTopic"}],"failed":[{"partition","offset","reason"}]};
 *        503 when Kafka or the database failed midway (what was re-driven
 *        before stays re-driven; run it again).
 *
 * Reading: a short-lived consumer per request that assign()s the DLQ's
 * partitions from their start (for a listing, from high watermark - limit)
 * up to the high watermarks of when it began (dlq_reader.h). It commits
 * nothing and joins no group, so it disturbs no one.
 *
 * Re-drive: the entry's original key and payload are produced to its
 * dlq-source-topic with headers dlq-redriven-from "<dlq topic>/<partition>/
 * <offset>" and event-id (the original event id, from the header or the
 * payload), and the acknowledgement is awaited. The service consumes it like
 * any message; its inbox makes it exactly-once: an event processed meanwhile
 * is answered "duplicate", and one that is still bad is dead-lettered again
 * as a new copy of the same entry (headers dlq-entry, dlq-redrives,
 * dlq-attempts-before: dlq_entry.h, dlq.h), listed as that one entry.
 *
 * Which entries were re-driven survives restarts: one row per re-driven entry
 * in the service database's table dlq_redrives (dlq_topic, dlq_partition,
 * dlq_offset, ...), written in the transaction that waits for the Kafka
 * acknowledgement (dlq_redrive.h). Without a database (no DB_NAME) entries
 * are listed, all as not re-driven, and re-drive is refused (409).
 *
 * Environment, besides the sidecar's own (config.h): DLQ_ADMIN_TIMEOUT_MS
 * (10000) for a listing or a single re-drive, DLQ_REDRIVE_ALL_TIMEOUT_MS
 * (300000) for re-driving everything.
 */
#ifndef SC_DLQ_ADMIN_H
#define SC_DLQ_ADMIN_H

#include <jansson.h>

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/dlq_entry.h"
#include "resilience/sidecar/producer.h"
#include "svc/db.h"
#include "svc/http.h"
#include "svc/validate.h"

/* Caller-embedded; the pointers are borrowed and must outlive it. */
struct sc_dlq_admin {
	const struct sc_config *cfg;
	struct sc_producer *producer;
	struct svc_db *db; /* NULL: list only */
	long timeout_ms;
	long all_timeout_ms;
	char client_id[160];
};

/* Fills `a`; reads DLQ_ADMIN_TIMEOUT_MS and DLQ_REDRIVE_ALL_TIMEOUT_MS. */
void sc_dlq_admin_init(struct sc_dlq_admin *a, const struct sc_config *cfg,
                       struct sc_producer *producer, struct svc_db *db);

/* The GET /dlq document in *out (caller owns), every copy listed when
 * `copies`, else one entry per dead letter. 0, or an error code with *p
 * saying what to answer (404, 500, 503). */
int sc_dlq_admin_list(struct sc_dlq_admin *a, long limit, bool copies, json_t **out,
                      struct svc_problem *p);

/* Performs a re-drive request; the 200 document in *out (caller owns). 0, or
 * an error code with *p saying what to answer (as above). */
int sc_dlq_admin_redrive(struct sc_dlq_admin *a, const struct sc_dlq_redrive_request *req,
                         json_t **out, struct svc_problem *p);

/* The HTTP handlers of GET /dlq and POST /dlq/redrive, for admin.c. */
void sc_dlq_admin_http_list(struct sc_dlq_admin *a, const struct svc_http_request *req,
                            struct svc_http_response *res);
void sc_dlq_admin_http_redrive(struct sc_dlq_admin *a, const struct svc_http_request *req,
                               struct svc_http_response *res);

/*
 * `sidecar dlq list [--limit N]` and `sidecar dlq redrive --all |
 * --partition P --offset O`, configured from the environment like the
 * running sidecar. argv starts after "dlq". Prints the JSON document (or
 * {"status","detail"} on failure) on stdout. Returns the exit code: 0 done,
 * 1 failed, 2 bad arguments.
 */
int sc_dlq_admin_main(int argc, char **argv);

#endif
