/* The outbox relay thread: outbox_messages -> Kafka, then the rows go. */
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
#include "svc/buf.h"
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
	int wake_fd; /* -1 when there is no wake socket */
	char select_sql[256];
	pthread_t thread;
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

/* Waits for a wake-up datagram, OUTBOX_POLL_MS or stop, then drains the
 * socket (many wake-ups make one round). */
static void wait_wake(struct sc_relay *r)
{
	uint64_t deadline = sc_monotonic_ms() + (uint64_t)r->cfg->outbox_poll_ms;

	if (r->wake_fd < 0) {
		sc_stop_wait_ms(r->stop, (uint64_t)r->cfg->outbox_poll_ms);
		return;
	}
	for (;;) {
		uint64_t now = sc_monotonic_ms();
		if (now >= deadline || sc_stop_requested(r->stop))
			break;
		uint64_t left = deadline - now;
		struct pollfd pfd = {.fd = r->wake_fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(left < SC_WAIT_SLICE_MS ? left : SC_WAIT_SLICE_MS)) > 0)
			break;
	}
	char buf[64];
	while (recv(r->wake_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
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

/* Produces one selected row; its outcome lands in *ack. */
static void produce_row(struct sc_relay *r, MYSQL_ROW row, const unsigned long *lens,
                        struct sc_ack *ack)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);

	if (hdrs) {
		rd_kafka_header_add(hdrs, "event-id", -1, row[1] ? row[1] : "", -1);
		rd_kafka_header_add(hdrs, "event-type", -1, row[4] ? row[4] : "", -1);
	}
	if (!row[2] || !row[2][0]) {
		svc_error("relay: outbox row %s has no topic", row[0] ? row[0] : "?");
		if (hdrs)
			rd_kafka_headers_destroy(hdrs);
		ack->err = RD_KAFKA_RESP_ERR__INVALID_ARG;
		return;
	}
	sc_producer_send(r->producer, row[2], row[3], row[3] ? lens[3] : 0, row[5],
	                 row[5] ? lens[5] : 0, hdrs, ack);
}

/*
 * One transaction: select a batch of rows, produce them, wait for the
 * acknowledgements, delete the acknowledged ones. *nrows = rows selected,
 * *nfailed = rows left unsent. 0, SVC_ETRANSIENT or SVC_EPERMANENT.
 */
static int relay_batch(struct sc_relay *r, size_t *nrows, size_t *nfailed)
{
	MYSQL *conn = NULL;
	MYSQL_RES *res = NULL;
	struct sc_ack *acks = NULL;
	int64_t *ids = NULL;
	struct sc_ack_group group;
	struct svc_buf sql;
	size_t n = 0, acked = 0;
	int rc;

	*nrows = *nfailed = 0;
	svc_buf_init(&sql);
	conn = svc_db_acquire(r->db);
	if (!conn) {
		rc = SVC_ETRANSIENT;
		goto out;
	}
	/* READ COMMITTED: the pool's sessions are (main.c); at REPEATABLE READ
	 * the claiming scan's gap locks would block every outbox INSERT. */
	rc = svc_db_begin(conn);
	if (rc)
		goto out_release;
	rc = svc_db_query(conn, r->select_sql, &res);
	if (rc)
		goto out_rollback;
	n = (size_t)mysql_num_rows(res);
	if (n == 0) {
		rc = svc_db_commit(conn);
		goto out_release;
	}

	uint64_t started = sc_monotonic_ms();
	rc = SVC_ENOMEM;
	acks = calloc(n, sizeof(*acks));
	ids = calloc(n, sizeof(*ids));
	if (!acks || !ids || sc_ack_group_init(&group) != 0)
		goto out_rollback;
	atomic_store(&r->metrics->relay_inflight, n);
	for (size_t i = 0; i < n; i++) {
		acks[i].group = &group;
		acks[i].err = RD_KAFKA_RESP_ERR__INVALID_ARG; /* until produced */
	}
	MYSQL_ROW row;
	for (size_t i = 0; i < n && (row = mysql_fetch_row(res)); i++) {
		if (!parse_id(row[0], &ids[i]))
			continue; /* cannot mark it: do not send it either */
		produce_row(r, row, mysql_fetch_lengths(res), &acks[i]);
	}
	sc_ack_group_wait(&group);
	sc_ack_group_release(&group);
	atomic_store(&r->metrics->relay_inflight, 0);

	svc_buf_adds(&sql, "DELETE FROM outbox_messages WHERE id IN (");
	for (size_t i = 0; i < n; i++) {
		if (acks[i].err) {
			svc_warn("relay: outbox row %" PRId64 " not sent: %s", ids[i],
			         rd_kafka_err2str(acks[i].err));
			continue;
		}
		svc_buf_addf(&sql, "%s%" PRId64, acked ? "," : "", ids[i]);
		acked++;
	}
	svc_buf_adds(&sql, ")");
	if (sql.failed)
		goto out_rollback;
	if (acked > 0) {
		rc = svc_db_exec(conn, svc_buf_str(&sql));
		if (rc)
			goto out_rollback;
	}
	rc = svc_db_commit(conn);
	if (rc)
		goto out_release; /* the rows stay: resent (consumers deduplicate) */
	*nfailed = n - acked;
	atomic_fetch_add(&r->metrics->relayed, acked);
	atomic_fetch_add(&r->metrics->relay_failures, n - acked);
	atomic_fetch_add(&r->metrics->relay_batches, 1);
	atomic_store(&r->metrics->relay_last_ms, sc_monotonic_ms() - started);
	svc_debug("relay: %zu row(s) sent, %zu failed", acked, n - acked);
	goto out_release;

out_rollback:
	svc_db_rollback(conn);
out_release:
	svc_db_release(r->db, conn, rc == SVC_ETRANSIENT);
out:
	*nrows = n;
	if (rc && n > *nfailed)
		*nfailed = n;
	if (res)
		mysql_free_result(res);
	free(acks);
	free(ids);
	svc_buf_release(&sql);
	return rc;
}

/* Batches until one comes back short. 0, or non-zero when something failed
 * (the caller backs off). */
static int relay_drain(struct sc_relay *r)
{
	for (;;) {
		size_t nrows, nfailed;
		int rc = relay_batch(r, &nrows, &nfailed);
		if (rc)
			return rc;
		if (nfailed > 0)
			return SVC_ETRANSIENT;
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
			uint64_t delay = rs_backoff_delay_ms(&r->backoff, attempt, rs_random());
			svc_warn("relay: round failed; retry in %" PRIu64 " ms", delay);
			if (attempt < 63)
				attempt++;
			if (sc_stop_wait_ms(r->stop, delay))
				break;
			continue;
		}
		attempt = 0;
		wait_wake(r);
	}
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
