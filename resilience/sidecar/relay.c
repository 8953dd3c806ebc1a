/*
 * The outbox relay thread: outbox_messages -> Kafka, then the rows go.
 *
 * A relay transaction selects a batch FOR UPDATE SKIP LOCKED (another relay
 * of the same database skips it), produces it, waits for Kafka's
 * acknowledgements and deletes the acknowledged rows. While rows keep
 * coming it stays open for the next batches, up to RELAY_COMMIT_MS (100):
 * one commit (one redo-log flush) then covers the deletions of many batches.
 * Its own deleted rows are invisible to its next SELECT; rows it holds back
 * (behind an unsent row of their key) stay locked by it and come back in
 * that SELECT. A crash before the commit leaves the deleted rows in place:
 * they are sent again, and consumers deduplicate (at least once, as
 * always). RELAY_COMMIT_MS=0 commits after every batch.
 */
#include "resilience/sidecar/relay.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "resilience/backoff.h"
#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/relay_plan.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/log.h"

#define SC_WAIT_SLICE_MS 200 /* how often a wait checks the stop flag */

struct sc_relay {
	const struct sc_config *cfg;
	struct svc_db *db;
	struct sc_producer *producer;
	struct sc_metrics *metrics;
	struct sc_stop *stop;
	struct rs_backoff backoff;
	struct sc_dlq dlq; /* DLQ_TOPIC, for rows Kafka refuses for good */
	int wake_fd;       /* -1 when there is no wake socket */
	char select_sql[256];
	pthread_t thread;
	/* The open transaction (relay thread only): its connection (NULL when
	 * none is open), when it commits, and what its commit makes final. */
	struct {
		MYSQL *conn;
		uint64_t deadline_ms;
		size_t relayed, dead, failed, batches;
	} tx;
};

/* ---- wake socket ---------------------------------------------------------- */

static int wake_open(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (!path || !path[0])
		return -1;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		svc_error("relay: OUTBOX_WAKE_SOCKET path too long: %s", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		svc_error("relay: socket: %s", strerror(errno));
		return -1;
	}
	unlink(path); /* a stale socket from an earlier run */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		svc_error("relay: bind %s: %s (polling only)", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to timeout_ms for a wake-up datagram or stop, then drains the
 * socket (many wake-ups make one round). true when woken (or stopping),
 * false when the time ran out. */
static bool wait_wake(struct sc_relay *r, uint64_t timeout_ms)
{
	uint64_t deadline = svc_mono_ms() + timeout_ms;
	bool woken = false;

	if (r->wake_fd < 0)
		return sc_stop_wait_ms(r->stop, timeout_ms);
	for (;;) {
		uint64_t now = svc_mono_ms();
		if (sc_stop_requested(r->stop)) {
			woken = true;
			break;
		}
		if (now >= deadline)
			break;
		uint64_t left = deadline - now;
		struct pollfd pfd = {.fd = r->wake_fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(left < SC_WAIT_SLICE_MS ? left : SC_WAIT_SLICE_MS)) > 0) {
			woken = true;
			break;
		}
	}
	char buf[64];
	while (recv(r->wake_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	return woken;
}

/* ---- the relay transaction ------------------------------------------------ */

/* Opens the relay transaction unless one is open: 0 or SVC_ETRANSIENT. */
static int tx_open(struct sc_relay *r)
{
	MYSQL *conn;
	int rc;

	if (r->tx.conn)
		return 0;
	conn = svc_db_acquire(r->db);
	if (!conn)
		return SVC_ETRANSIENT;
	/* READ COMMITTED: the pool's sessions are (main.c); at REPEATABLE READ
	 * the claiming scan's gap locks would block every outbox INSERT. */
	rc = svc_db_begin(conn);
	if (rc) {
		svc_db_release(r->db, conn, true);
		return rc;
	}
	r->tx.conn = conn;
	r->tx.deadline_ms = svc_mono_ms() + (uint64_t)r->cfg->relay_commit_ms;
	return 0;
}

/* Ends the open transaction (if any): commits it (commit) or rolls it back;
 * the counters move when the deletions are final. 0 or the commit's error
 * (the rows then stay and are sent again). */
static int tx_close(struct sc_relay *r, bool commit)
{
	int rc = commit ? 0 : SVC_ETRANSIENT;

	if (!r->tx.conn)
		return 0;
	if (commit)
		rc = svc_db_commit(r->tx.conn);
	if (rc) {
		svc_db_rollback(r->tx.conn);
		if (r->tx.relayed + r->tx.dead > 0)
			svc_warn("relay: %zu sent row(s) not deleted (%s): they go again",
			         r->tx.relayed + r->tx.dead,
			         commit ? "commit failed" : "rolled back");
	} else {
		atomic_fetch_add(&r->metrics->relayed, r->tx.relayed);
		atomic_fetch_add(&r->metrics->relay_dead_lettered, r->tx.dead);
		atomic_fetch_add(&r->metrics->relay_failures, r->tx.failed);
		atomic_fetch_add(&r->metrics->relay_batches, r->tx.batches);
	}
	svc_db_release(r->db, r->tx.conn, rc == SVC_ETRANSIENT);
	memset(&r->tx, 0, sizeof(r->tx));
	return rc;
}

/* ---- one batch ------------------------------------------------------------ */

static bool parse_id(const char *s, int64_t *out)
{
	char *end = NULL;

	if (!s)
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return false;
	*out = v;
	return true;
}

/* One selected row: its columns (id, event_id, topic, msg_key, event_type,
 * payload; valid while the result lives) and its delivery. */
struct relay_item {
	MYSQL_ROW row;
	unsigned long lens[6];
	int64_t id; /* 0 when unparsable: never sent, never deleted */
	struct sc_ack ack;
};

/* Sends one selected row. 0 when enqueued (the report lands in ack), else
 * the send failed at once and ack->err says why. */
static int produce_row(struct sc_relay *r, struct relay_item *it)
{
	MYSQL_ROW row = it->row;
	rd_kafka_headers_t *hdrs;

	if (!row[2] || !row[2][0]) {
		svc_error("relay: outbox row %" PRId64 " has no topic", it->id);
		it->ack.err = RD_KAFKA_RESP_ERR__INVALID_ARG;
		return SVC_EPERMANENT;
	}
	hdrs = rd_kafka_headers_new(2);
	if (hdrs) {
		rd_kafka_header_add(hdrs, "event-id", -1, row[1] ? row[1] : "", -1);
		rd_kafka_header_add(hdrs, "event-type", -1, row[4] ? row[4] : "", -1);
	}
	return sc_producer_send(r->producer, row[2], row[3], row[3] ? it->lens[3] : 0, row[5],
	                        row[5] ? it->lens[5] : 0, hdrs, &it->ack);
}

/* Sends a row Kafka refused for good (`why`) to DLQ_TOPIC, unchanged, with
 * the DLQ headers (dlq.h; source partition and offset -1, the outbox id in
 * the reason). When the copy is refused for good too (it is too large), the
 * payload is left out and the reason says so. 0 once acknowledged. */
static int dead_letter(struct sc_relay *r, const struct relay_item *it, rd_kafka_resp_err_t why)
{
	MYSQL_ROW row = it->row;
	char reason[512];
	struct sc_dlq_record rec = {
	        .source_topic = row[2] ? row[2] : "",
	        .source_partition = -1,
	        .source_offset = -1,
	        .key = row[3],
	        .keylen = row[3] ? it->lens[3] : 0,
	        .payload = row[5],
	        .len = row[5] ? it->lens[5] : 0,
	        .reason = reason,
	        .attempts = 1,
	        .event_id = row[1],
	        .event_id_len = row[1] ? it->lens[1] : 0,
	};
	int n = snprintf(reason, sizeof(reason), "outbox row %" PRId64 " (%s) refused by Kafka: %s",
	                 it->id, row[4] ? row[4] : "",
	                 row[2] && row[2][0] ? rd_kafka_err2str(why) : "no topic");
	rd_kafka_resp_err_t err = sc_dlq_send_once(&r->dlq, &rec);

	if (err && sc_relay_err_permanent(err) && n > 0 && (size_t)n < sizeof(reason)) {
		snprintf(reason + n, sizeof(reason) - (size_t)n,
		         "; payload of %zu bytes left out (%s)", rec.len, rd_kafka_err2str(err));
		rec.payload = NULL;
		rec.len = 0;
		err = sc_dlq_send_once(&r->dlq, &rec);
	}
	if (err) {
		svc_warn("relay: outbox row %" PRId64 " not dead-lettered: %s", it->id,
		         rd_kafka_err2str(err));
		return SVC_ETRANSIENT;
	}
	svc_warn("relay: outbox row %" PRId64 " dead-lettered to %s: %s", it->id, r->cfg->dlq_topic,
	         reason);
	return 0;
}

/* Dead-letters what the plan says, one row at a time in id order; a row whose
 * dead letter failed stays, and so do the later rows of its key. Fills plan[]
 * with the final decisions; returns the rows dead-lettered. */
static size_t settle(struct sc_relay *r, struct relay_item *items, struct sc_relay_row *rows,
                     size_t n, enum sc_relay_action *plan)
{
	size_t dead = 0;

	for (;;) {
		size_t i = 0;

		sc_relay_plan(rows, n, plan);
		while (i < n && plan[i] != SC_RELAY_DEAD_LETTER)
			i++;
		if (i == n)
			return dead;
		/* a row never fetched has nothing to send: held */
		bool ok = items[i].row && dead_letter(r, &items[i], rows[i].err) == 0;
		/* From here on: gone as if acknowledged, or held. */
		rows[i].sent = ok;
		rows[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
		dead += ok;
	}
}

/* Selects the next batch in the relay transaction (opened if none is): *res
 * (the caller frees it) with its *n rows. 0, or the error: the transaction
 * is then rolled back. */
static int select_rows(struct sc_relay *r, MYSQL_RES **res, size_t *n)
{
	int rc = tx_open(r);

	*n = 0;
	if (rc)
		return rc;
	rc = svc_db_query(r->tx.conn, r->select_sql, res);
	if (rc) {
		tx_close(r, false);
		return rc;
	}
	*n = (size_t)svc_db_num_rows(*res);
	return 0;
}

/*
 * Produces the n rows of `res` (items[] and rows[] filled from them),
 * holding the rows behind an unsent one of their key, and waits for Kafka's
 * acknowledgements: rows[i].sent and rows[i].err then say how each went.
 * 0, or SVC_ENOMEM with nothing sent.
 */
static int produce_rows(struct sc_relay *r, MYSQL_RES *res, struct relay_item *items,
                        struct sc_relay_row *rows, size_t n)
{
	struct sc_ack_group group;

	if (sc_ack_group_init(&group) != 0)
		return SVC_ENOMEM;
	atomic_store(&r->metrics->relay_inflight, n);
	for (size_t i = 0; i < n; i++) {
		items[i].ack.group = &group;
		items[i].ack.err = RD_KAFKA_RESP_ERR__INVALID_ARG; /* until produced */
	}
	MYSQL_ROW row;
	for (size_t i = 0; i < n && (row = svc_db_fetch_row(res)); i++) {
		struct relay_item *it = &items[i];
		it->row = row;
		memcpy(it->lens, svc_db_fetch_lengths(res), sizeof(it->lens));
		rows[i].key = row[3];
		rows[i].keylen = row[3] ? it->lens[3] : 0;
		/* Unparsable id: cannot be deleted, so not sent (held). */
		if (!parse_id(row[0], &it->id) || sc_relay_held(rows, i))
			continue;
		if (produce_row(r, it) == 0)
			rows[i].sent = true;
		else
			rows[i].err = it->ack.err;
	}
	sc_ack_group_wait(&group);
	sc_ack_group_release(&group);
	for (size_t i = 0; i < n; i++)
		if (rows[i].sent)
			rows[i].err = items[i].ack.err;
	for (size_t i = 0; i < n; i++)
		if (rows[i].err)
			svc_warn("relay: outbox row %" PRId64 " not sent: %s", items[i].id,
			         rd_kafka_err2str(rows[i].err));
	return 0;
}

/* Deletes, in the relay transaction, the rows of items[0..n) that plan[]
 * says go; *gone tells how many. 0, SVC_ENOMEM or the statement's error. */
static int delete_rows(struct sc_relay *r, const struct relay_item *items,
                       const enum sc_relay_action *plan, size_t n, size_t *gone)
{
	struct svc_buf sql;
	int rc = 0;

	*gone = 0;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "DELETE FROM outbox_messages WHERE id IN (");
	for (size_t i = 0; i < n; i++) {
		if (plan[i] != SC_RELAY_DELETE)
			continue;
		svc_buf_addf(&sql, "%s%" PRId64, *gone ? "," : "", items[i].id);
		(*gone)++;
	}
	svc_buf_adds(&sql, ")");
	if (sql.failed)
		rc = SVC_ENOMEM;
	else if (*gone > 0)
		rc = svc_db_exec(r->tx.conn, svc_buf_str(&sql));
	svc_buf_release(&sql);
	return rc;
}

/* Adds a batch of n rows, `gone` of them deleted (`dead` of those
 * dead-lettered), to what the open transaction's commit makes final. */
static void count_batch(struct sc_relay *r, size_t n, size_t gone, size_t dead, uint64_t started_ms)
{
	size_t acked = gone - dead;

	r->tx.relayed += acked;
	r->tx.dead += dead;
	r->tx.failed += n - gone;
	r->tx.batches++;
	atomic_store(&r->metrics->relay_last_ms, svc_mono_ms() - started_ms);
	svc_debug("relay: %zu row(s) sent, %zu dead-lettered, %zu left", acked, dead, n - gone);
}

/* Whether the open transaction commits now: RELAY_COMMIT_MS are over (or
 * 0), or the relay stops. */
static bool tx_due(const struct sc_relay *r)
{
	return r->cfg->relay_commit_ms == 0 || svc_mono_ms() >= r->tx.deadline_ms ||
	       sc_stop_requested(r->stop);
}

/*
 * One batch, in the relay transaction (opened if none is): select rows,
 * produce them (holding the rows behind an unsent one of their key), wait
 * for the acknowledgements, dead-letter the rows Kafka refused for good,
 * delete the acknowledged and dead-lettered ones. The transaction commits
 * when nothing was selected or its RELAY_COMMIT_MS are over; on an error it
 * is rolled back. *nrows = rows selected, *nfailed = rows left, *ndead =
 * rows dead-lettered. 0, SVC_ETRANSIENT or SVC_EPERMANENT.
 */
static int relay_batch(struct sc_relay *r, size_t *nrows, size_t *nfailed, size_t *ndead)
{
	MYSQL_RES *res = NULL;
	struct relay_item *items = NULL;
	struct sc_relay_row *rows = NULL;
	enum sc_relay_action *plan = NULL;
	size_t n = 0, dead = 0, gone = 0;
	uint64_t started;
	int rc;

	*nrows = *nfailed = *ndead = 0;
	rc = select_rows(r, &res, &n);
	if (rc)
		goto out;
	if (n == 0) {
		rc = tx_close(r, true);
		goto out;
	}

	started = svc_mono_ms();
	rc = SVC_ENOMEM;
	items = calloc(n, sizeof(*items));
	rows = calloc(n, sizeof(*rows));
	plan = calloc(n, sizeof(*plan));
	if (!items || !rows || !plan)
		goto out_rollback;
	rc = produce_rows(r, res, items, rows, n);
	if (rc)
		goto out_rollback;
	dead = settle(r, items, rows, n, plan);
	atomic_store(&r->metrics->relay_inflight, 0);
	rc = delete_rows(r, items, plan, n, &gone);
	if (rc)
		goto out_rollback;
	*nfailed = n - gone;
	*ndead = dead;
	count_batch(r, n, gone, dead, started);
	if (tx_due(r))
		rc = tx_close(r, true); /* on failure the rows stay: resent */
	goto out;

out_rollback:
	tx_close(r, false);
out:
	*nrows = n;
	if (rc && n > *nfailed)
		*nfailed = n;
	if (res)
		svc_db_free_result(res);
	free(items);
	free(rows);
	free(plan);
	return rc;
}

/* Batches until one comes back short. 0, or non-zero when something failed
 * (the caller backs off). Rows held behind a row just dead-lettered go in the
 * next batch at once. */
static int relay_drain(struct sc_relay *r)
{
	for (;;) {
		size_t nrows, nfailed, ndead;
		int rc = relay_batch(r, &nrows, &nfailed, &ndead);
		if (rc)
			return rc;
		if (nfailed > 0 && ndead == 0)
			return SVC_ETRANSIENT;
		if (nfailed > 0)
			continue;
		if (nrows < (size_t)r->cfg->outbox_batch || sc_stop_requested(r->stop))
			return 0;
	}
}

static void *relay_main(void *arg)
{
	struct sc_relay *r = arg;
	unsigned attempt = 0;

	svc_info("relay: database %s, wake socket %s", r->cfg->db.database,
	         r->wake_fd >= 0 ? r->cfg->wake_socket : "(none)");
	while (!sc_stop_requested(r->stop)) {
		if (relay_drain(r) != 0) {
			tx_close(r, true); /* what was sent and deleted so far */
			uint64_t delay = rs_backoff_delay_ms(&r->backoff, attempt, rs_random());
			svc_warn("relay: round failed; retry in %" PRIu64 " ms", delay);
			if (attempt < 63)
				attempt++;
			if (sc_stop_wait_ms(r->stop, delay))
				break;
			continue;
		}
		attempt = 0;
		if (r->tx.conn) {
			/* More rows before the transaction's time is up go in it. */
			uint64_t now = svc_mono_ms();
			if (now < r->tx.deadline_ms && wait_wake(r, r->tx.deadline_ms - now))
				continue;
			tx_close(r, true);
		}
		wait_wake(r, (uint64_t)r->cfg->outbox_poll_ms);
	}
	tx_close(r, true);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

struct sc_relay *sc_relay_start(const struct sc_config *cfg, struct svc_db *db,
                                struct sc_producer *producer, struct sc_metrics *metrics,
                                struct sc_stop *stop)
{
	struct sc_relay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->db = db;
	r->producer = producer;
	r->metrics = metrics;
	r->stop = stop;
	r->backoff.base_ms = (uint32_t)cfg->retry_base_ms;
	r->backoff.max_ms = (uint32_t)cfg->retry_max_ms;
	r->dlq = (struct sc_dlq){.producer = producer,
	                         .topic = cfg->dlq_topic,
	                         .service = cfg->service,
	                         .stop = stop,
	                         .backoff = r->backoff};
	snprintf(r->select_sql, sizeof(r->select_sql),
	         "SELECT id, event_id, topic, msg_key, event_type, payload FROM outbox_messages "
	         "ORDER BY id LIMIT %ld FOR UPDATE SKIP LOCKED",
	         cfg->outbox_batch);
	r->wake_fd = wake_open(cfg->wake_socket);
	if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
		svc_error("relay: cannot start the relay thread");
		if (r->wake_fd >= 0)
			close(r->wake_fd);
		free(r);
		return NULL;
	}
	return r;
}

void sc_relay_free(struct sc_relay *r)
{
	if (!r)
		return;
	pthread_join(r->thread, NULL);
	if (r->wake_fd >= 0) {
		close(r->wake_fd);
		unlink(r->cfg->wake_socket);
	}
	free(r);
}
