/* Re-drive of DLQ entries, recorded in dlq_redrives in the same transaction. */
#include "resilience/sidecar/dlq_redrive.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/dlq.h"
#include "svc/buf.h"
#include "svc/error.h"
#include "svc/log.h"

/* ---- marks for a listing -------------------------------------------------- */

static int by_position(const void *a, const void *b)
{
	const struct sc_dlq_entry *x = *(struct sc_dlq_entry *const *)a;
	const struct sc_dlq_entry *y = *(struct sc_dlq_entry *const *)b;

	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* SELECT the recorded positions within the entries' offset range. */
static int query_marks(MYSQL *conn, const char *dlq_topic, struct sc_dlq_entry *const *sorted,
                       size_t n, MYSQL_RES **out)
{
	struct svc_buf sql;
	int64_t lo = sorted[0]->offset, hi = sorted[0]->offset;
	int rc;

	for (size_t i = 1; i < n; i++) {
		lo = sorted[i]->offset < lo ? sorted[i]->offset : lo;
		hi = sorted[i]->offset > hi ? sorted[i]->offset : hi;
	}
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "SELECT dlq_partition, dlq_offset FROM dlq_redrives WHERE dlq_topic = ");
	svc_sql_add_str(&sql, conn, dlq_topic);
	svc_buf_addf(&sql, " AND dlq_offset BETWEEN %" PRId64 " AND %" PRId64, lo, hi);
	rc = sql.failed ? SVC_ENOMEM : svc_db_query(conn, svc_buf_str(&sql), out);
	svc_buf_release(&sql);
	return rc;
}

int sc_dlq_redrive_marks(struct svc_db *db, const char *dlq_topic, struct sc_dlq_entry *entries,
                         size_t n)
{
	struct sc_dlq_entry **sorted = NULL;
	MYSQL *conn = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		entries[i].redriven = false;
	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return SVC_ENOMEM;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &entries[i];
	qsort(sorted, n, sizeof(*sorted), by_position);
	conn = svc_db_acquire(db);
	if (!conn) {
		rc = SVC_ETRANSIENT;
		goto out_sorted;
	}
	rc = query_marks(conn, dlq_topic, sorted, n, &res);
	if (rc != 0) {
		rc = rc == SVC_ENOMEM ? rc : SVC_ETRANSIENT;
		goto out_conn;
	}
	while ((row = svc_db_fetch_row(res))) {
		struct sc_dlq_entry key = {.partition = (int32_t)svc_db_col_i64(row[0]),
		                           .offset = svc_db_col_i64(row[1])};
		struct sc_dlq_entry *kp = &key, **hit;
		hit = bsearch(&kp, sorted, n, sizeof(*sorted), by_position);
		if (hit)
			(*hit)->redriven = true;
	}
	svc_db_free_result(res);
out_conn:
	svc_db_release(db, conn, rc == SVC_ETRANSIENT);
out_sorted:
	free(sorted);
	return rc;
}

/* ---- one re-drive --------------------------------------------------------- */

/* INSERT IGNOREs the entry's row in the open transaction: 0 when this
 * transaction claimed it, SVC_DUPLICATE when it was recorded already. */
static int claim(MYSQL *conn, const char *dlq_topic, const struct sc_dlq_entry *e)
{
	struct svc_buf sql;
	int rc;

	svc_buf_init(&sql);
	svc_buf_adds(&sql, "INSERT IGNORE INTO dlq_redrives (dlq_topic, dlq_partition, dlq_offset, "
	                   "source_topic, event_id) VALUES (");
	svc_sql_add_str(&sql, conn, dlq_topic);
	svc_buf_addf(&sql, ", %" PRId32 ", %" PRId64 ", ", e->partition, e->offset);
	svc_sql_add_str(&sql, conn, e->source_topic);
	svc_buf_adds(&sql, ", ");
	svc_sql_add_str(&sql, conn, e->event_id);
	svc_buf_adds(&sql, ")");
	rc = sql.failed ? SVC_ENOMEM : svc_db_exec(conn, svc_buf_str(&sql));
	if (rc == 0 && svc_db_affected_rows(conn) == 0)
		rc = SVC_DUPLICATE;
	svc_buf_release(&sql);
	return rc;
}

/* How a refused produce is classified: a topic that does not exist or a
 * message the broker will never take is permanent, the rest passes. */
static int produce_error(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
		return SVC_EPERMANENT;
	default:
		return SVC_ETRANSIENT;
	}
}

int sc_dlq_redrive_one(struct svc_db *db, struct sc_producer *producer, const char *dlq_topic,
                       const struct sc_dlq_entry *e)
{
	MYSQL *conn = svc_db_acquire(db);
	bool broken = false;
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_resp_err_t err;
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	rc = svc_db_begin(conn);
	if (rc == 0)
		rc = claim(conn, dlq_topic, e);
	if (rc != 0) {
		broken = rc != SVC_DUPLICATE && rc != SVC_ENOMEM;
		if (broken)
			rc = SVC_ETRANSIENT; /* unreachable, or the table is missing */
		goto out_rollback;
	}
	hdrs = sc_dlq_redrive_headers(e, dlq_topic);
	if (!hdrs) {
		rc = SVC_ENOMEM;
		goto out_rollback;
	}
	err = sc_dlq_produce_wait(producer, e->source_topic, e->key, e->keylen, e->payload, e->len,
	                          hdrs);
	if (err) {
		svc_warn("re-drive of %s[%" PRId32 "]@%" PRId64 " to %s failed: %s", dlq_topic,
		         e->partition, e->offset, e->source_topic, rd_kafka_err2str(err));
		rc = produce_error(err);
		goto out_rollback;
	}
	if (svc_db_commit(conn) != 0) {
		/* Sent but not recorded: a later re-drive sends it again and the
		 * service's inbox answers "duplicate". */
		svc_warn("re-drove %s[%" PRId32 "]@%" PRId64 " but could not record it", dlq_topic,
		         e->partition, e->offset);
		broken = true;
	}
	svc_info("re-drove %s[%" PRId32 "]@%" PRId64 " to %s (event %s)", dlq_topic, e->partition,
	         e->offset, e->source_topic, e->event_id[0] ? e->event_id : "unknown");
	rc = 0;
	goto out;
out_rollback:
	svc_db_rollback(conn);
out:
	svc_db_release(db, conn, broken);
	return rc;
}
