/*
 * The outbox relay thread: outbox_messages -> Kafka, then the rows go.
 *
 * A relay transaction selects a batch FOR UPDATE SKIP LOCKED (another relay
 * of the same database skips it), produces it, waits for Kafka's
 * acknowledgements and deletes the acknowledged rows. While rows keep
 * coming it stays open for the next batches, up to RELAY_COMMIT_MS (100):
 * one commit (one redo-log flush) then covers the deletions of many batches.
 * Its own deleted rows are invisible to its next SELECT; rows it holds back
 * (behind an unsent message of their key) stay locked by it and come back
 * in that SELECT. A crash before the commit leaves the deleted rows in
 * place: they are sent again, and consumers deduplicate (at least once, as
 * always). RELAY_COMMIT_MS=0 commits after every batch.
 *
 * A row holds one message or a pack of a transaction's messages
 * (svc/outbox_pack.h, column `messages`); the relay sends messages, in row
 * order and in order within a row, and the per-key rules of relay_plan.h
 * apply to messages. A row goes once all its messages are acknowledged or
 * dead-lettered. When only some are, the row stays as it is and all of them
 * are sent again in a later round: a partial failure is rare (Kafka was
 * unreachable for some partitions), rewriting the row would cost an UPDATE
 * and a second encoder on the relay's side, and a resent message is only a
 * duplicate, which consumers drop by event id. A packed row that does not
 * parse is dead-lettered whole, its payload as it is, with the reason.
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
#include "svc/outbox_pack.h"
#include "svc/ratelimit.h"

#define SC_WAIT_SLICE_MS 200 /* how often a wait checks the stop flag */

struct sc_relay {
	const struct sc_config *cfg;
	struct svc_db *db;
	struct sc_producer *producer;
	struct sc_metrics *metrics;
	struct sc_stop *stop;
	struct rs_backoff backoff;
	struct sc_dlq dlq;    /* DLQ_TOPIC, for rows Kafka refuses for good */
	int wake_fd;          /* -1 when there is no wake socket */
	struct svc_rate rate; /* messages relayed per second */
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
 * socket (many wake-ups make one round). A quiet relay (fewer than
 * RELAY_LINGER_BELOW messages in the last second), once woken, waits
 * RELAY_LINGER_MS more for the rows of the commits that follow, so that one
 * round carries them all. true when woken (or stopping), false when the
 * time ran out. */
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
	if (woken && r->cfg->relay_linger_ms > 0 &&
	    svc_rate_last(&r->rate) < (unsigned)r->cfg->relay_linger_below)
		sc_stop_wait_ms(r->stop, (uint64_t)r->cfg->relay_linger_ms);
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
			svc_warn("relay: %zu sent message(s) not deleted (%s): they go again",
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
 * payload, messages; valid while the result lives) and its messages. */
struct relay_src {
	MYSQL_ROW row;
	unsigned long lens[7];
	int64_t id;      /* 0 when unparsable: never sent, never deleted */
	char *pack;      /* a packed row's payload, copied and read (owned) */
	size_t nmsg;     /* its messages in items[] (1 for a row not unpacked) */
	bool unreadable; /* its messages column is not a count: dead-lettered */
};

/* One message of a batch: a plain row, one message of a packed row, or a
 * row that cannot be unpacked (bad, dead-lettered whole), and its delivery. */
struct relay_item {
	const struct relay_src *src;
	struct svc_outbox_msg msg; /* topic NUL-terminated */
	size_t nth;                /* its place in the row, from 0 */
	const char *bad;           /* why the row cannot be unpacked, or NULL */
	struct sc_ack ack;
};

/* Names the message in logs and dead-letter reasons. */
static void item_name(const struct relay_item *it, char *buf, size_t len)
{
	if (it->src->nmsg > 1)
		snprintf(buf, len, "outbox row %" PRId64 " message %zu/%zu", it->src->id,
		         it->nth + 1, it->src->nmsg);
	else
		snprintf(buf, len, "outbox row %" PRId64, it->src->id);
}

/* Sends one message. 0 when enqueued (the report lands in ack), else the
 * send failed at once and ack->err says why. */
static int produce_item(struct sc_relay *r, struct relay_item *it)
{
	const struct svc_outbox_msg *m = &it->msg;
	rd_kafka_headers_t *hdrs;
	char name[96];

	if (it->bad || !m->topic.len) {
		item_name(it, name, sizeof(name));
		svc_error("relay: %s %s", name, it->bad ? it->bad : "has no topic");
		it->ack.err = RD_KAFKA_RESP_ERR__INVALID_ARG;
		return SVC_EPERMANENT;
	}
	hdrs = rd_kafka_headers_new(2);
	if (hdrs) {
		rd_kafka_header_add(hdrs, "event-id", -1, m->event_id.p, (ssize_t)m->event_id.len);
		rd_kafka_header_add(hdrs, "event-type", -1, m->type.p, (ssize_t)m->type.len);
	}
	return sc_producer_send(r->producer, m->topic.p, m->key.p, m->key.len, m->payload.p,
	                        m->payload.len, hdrs, &it->ack);
}

/* Sends a message Kafka refused for good (`why`), or a row that cannot be
 * unpacked (its payload as it is), to DLQ_TOPIC with the DLQ headers (dlq.h;
 * source partition and offset -1, the outbox id in the reason). When the
 * copy is refused for good too (it is too large), the payload is left out
 * and the reason says so. 0 once acknowledged. */
static int dead_letter(struct sc_relay *r, const struct relay_item *it, rd_kafka_resp_err_t why)
{
	const struct svc_outbox_msg *m = &it->msg;
	char name[96], reason[512];
	struct sc_dlq_record rec = {
	        .source_topic = m->topic.p,
	        .source_partition = -1,
	        .source_offset = -1,
	        .key = m->key.p,
	        .keylen = m->key.len,
	        .payload = m->payload.p,
	        .len = m->payload.len,
	        .reason = reason,
	        .attempts = 1,
	        .event_id = m->event_id.p,
	        .event_id_len = m->event_id.len,
	};
	int n;

	item_name(it, name, sizeof(name));
	if (it->bad)
		n = snprintf(reason, sizeof(reason), "%s cannot be read: %s", name, it->bad);
	else
		n = snprintf(reason, sizeof(reason), "%s (%s) refused by Kafka: %s", name,
		             m->type.p, m->topic.len ? rd_kafka_err2str(why) : "no topic");
	rd_kafka_resp_err_t err = sc_dlq_send_once(&r->dlq, &rec);

	if (err && sc_relay_err_permanent(err) && n > 0 && (size_t)n < sizeof(reason)) {
		snprintf(reason + n, sizeof(reason) - (size_t)n,
		         "; payload of %zu bytes left out (%s)", rec.len, rd_kafka_err2str(err));
		rec.payload = NULL;
		rec.len = 0;
		err = sc_dlq_send_once(&r->dlq, &rec);
	}
	if (err) {
		svc_warn("relay: %s not dead-lettered: %s", name, rd_kafka_err2str(err));
		return SVC_ETRANSIENT;
	}
	svc_warn("relay: %s dead-lettered to %s: %s", name, r->cfg->dlq_topic, reason);
	return 0;
}

/* Dead-letters what the plan says, one message at a time in order; a
 * message whose dead letter failed stays, and so do the later messages of its
 * key. Fills plan[] with the final decisions; returns the messages
 * dead-lettered. */
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
		bool ok = items[i].src->row && dead_letter(r, &items[i], rows[i].err) == 0;
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

/* The most messages one round takes (at least OUTBOX_BATCH): the rows
 * after that wait for the next round, so a round's memory stays bounded
 * however many messages rows hold. */
#define RELAY_ROUND_MESSAGES 4096

static size_t round_cap(const struct sc_relay *r)
{
	size_t batch = (size_t)r->cfg->outbox_batch;

	return batch > RELAY_ROUND_MESSAGES ? batch : RELAY_ROUND_MESSAGES;
}

/* How many messages the row says it holds, 0 when that is not a count in
 * [1, cap]. */
static size_t row_messages(const struct relay_src *s, size_t cap)
{
	int64_t v;

	return parse_id(s->row[6], &v) && (uint64_t)v <= cap ? (size_t)v : 0;
}

static struct svc_outbox_span cell(const struct relay_src *s, int col, const char *null)
{
	return (struct svc_outbox_span){s->row[col] ? s->row[col] : null,
	                                s->row[col] ? s->lens[col] : 0};
}

/* Fetches the rows of `res` (n at most) into srcs[] while their messages
 * fit in the round of `cap`: *nreached rows, *nmsg messages in all. The
 * first row always goes; the rows not reached wait for the next round. */
static void fetch_rows(MYSQL_RES *res, struct relay_src *srcs, size_t n, size_t cap,
                       size_t *nreached, size_t *nmsg)
{
	MYSQL_ROW row;

	*nreached = *nmsg = 0;
	for (size_t i = 0; i < n && (row = svc_db_fetch_row(res)); i++) {
		struct relay_src *s = &srcs[i];
		size_t k = 1;

		s->row = row;
		memcpy(s->lens, svc_db_fetch_lengths(res), sizeof(s->lens));
		/* Unparsable id: cannot be deleted, so not sent (held). */
		if (parse_id(row[0], &s->id)) {
			k = row_messages(s, cap);
			s->unreadable = k == 0; /* one item, dead-lettered */
		}
		s->nmsg = k ? k : 1;
		if (*nmsg > 0 && *nmsg + s->nmsg > cap)
			return;
		*nmsg += s->nmsg;
		(*nreached)++;
	}
}

/* Fills items[] (room for s->nmsg) from the fetched row `s`; a row that
 * cannot be unpacked becomes one bad item (s->nmsg 1). 0 or SVC_ENOMEM. */
static int expand_row(struct relay_src *s, struct relay_item *items)
{
	struct svc_outbox_msg *msgs = NULL;
	const char *bad = NULL;
	size_t got = 0;

	items[0] = (struct relay_item){
	        .src = s,
	        .msg = {cell(s, 1, ""), cell(s, 2, ""), cell(s, 3, NULL), cell(s, 4, ""),
	                cell(s, 5, NULL)},
	};
	if (s->unreadable) {
		items[0].bad = "its messages column is not a count the relay takes";
		return 0;
	}
	if (s->nmsg == 1)
		return 0;
	s->pack = malloc(s->lens[5] + 1);
	msgs = calloc(s->nmsg, sizeof(*msgs));
	if (!s->pack || !msgs) {
		free(msgs);
		return SVC_ENOMEM;
	}
	memcpy(s->pack, items[0].msg.payload.p ? items[0].msg.payload.p : "", s->lens[5]);
	s->pack[s->lens[5]] = '\0';
	if (svc_outbox_pack_read(s->pack, s->lens[5], s->nmsg, msgs, &got, &bad) == 0) {
		for (size_t k = 0; k < s->nmsg; k++)
			items[k] = (struct relay_item){.src = s, .msg = msgs[k], .nth = k};
	} else {
		s->nmsg = 1;
		items[0].bad = bad;
	}
	free(msgs);
	return 0;
}

/*
 * Produces the n messages of items[] (rows[] filled from them), holding the
 * messages behind an unsent one of their key, and waits for Kafka's
 * acknowledgements: rows[i].sent and rows[i].err then say how each went.
 * 0, or SVC_ENOMEM with nothing sent.
 */
static int produce_items(struct sc_relay *r, struct relay_item *items, struct sc_relay_row *rows,
                         size_t n)
{
	struct sc_ack_group group;

	if (sc_ack_group_init(&group) != 0)
		return SVC_ENOMEM;
	atomic_store(&r->metrics->relay_inflight, n);
	for (size_t i = 0; i < n; i++) {
		struct relay_item *it = &items[i];

		it->ack.group = &group;
		it->ack.err = RD_KAFKA_RESP_ERR__INVALID_ARG; /* until produced */
		rows[i].key = it->msg.key.p;
		rows[i].keylen = it->msg.key.len;
		/* Unparsable id: cannot be deleted, so not sent (held). */
		if (!it->src->id || sc_relay_held(rows, i))
			continue;
		if (produce_item(r, it) == 0)
			rows[i].sent = true;
		else
			rows[i].err = it->ack.err;
	}
	sc_ack_group_wait(&group);
	sc_ack_group_release(&group);
	for (size_t i = 0; i < n; i++)
		if (rows[i].sent)
			rows[i].err = items[i].ack.err;
	for (size_t i = 0; i < n; i++) {
		char name[96];

		if (!rows[i].err)
			continue;
		item_name(&items[i], name, sizeof(name));
		svc_warn("relay: %s not sent: %s", name, rd_kafka_err2str(rows[i].err));
	}
	return 0;
}

/* Whether the row `s`, whose messages' decisions start at plan[0], goes:
 * its id is known and every one of its messages is to be deleted. */
static bool row_goes(const struct relay_src *s, const enum sc_relay_action *plan)
{
	for (size_t k = 0; k < s->nmsg; k++)
		if (plan[k] != SC_RELAY_DELETE)
			return false;
	return s->id > 0;
}

/* Deletes, in the relay transaction, the rows of srcs[0..n) whose messages
 * (items[], in row order) plan[] all says go; *gone tells how many rows.
 * 0, SVC_ENOMEM or the statement's error. */
static int delete_rows(struct sc_relay *r, const struct relay_src *srcs, size_t n,
                       const enum sc_relay_action *plan, size_t *gone)
{
	struct svc_buf sql;
	size_t m = 0;
	int rc = 0;

	*gone = 0;
	svc_buf_init(&sql);
	svc_buf_adds(&sql, "DELETE FROM outbox_messages WHERE id IN (");
	for (size_t i = 0; i < n; i++) {
		bool go = row_goes(&srcs[i], plan + m);

		m += srcs[i].nmsg;
		if (!go)
			continue;
		svc_buf_addf(&sql, "%s%" PRId64, *gone ? "," : "", srcs[i].id);
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

/* What one batch did, in messages (rows where said). */
struct relay_count {
	size_t acked; /* acknowledged, their rows deleted */
	size_t dead;  /* dead-lettered, their rows deleted */
	size_t left;  /* not sent (or a dead letter failed): their rows stay */
	size_t again; /* sent, but their rows stay for another message: sent again */
};

static void count_items(const struct relay_src *srcs, size_t n, const struct relay_item *items,
                        const enum sc_relay_action *plan, struct relay_count *c)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		bool goes = row_goes(&srcs[i], plan + m);

		for (size_t k = 0; k < srcs[i].nmsg; k++, m++) {
			bool dead = items[m].ack.err != RD_KAFKA_RESP_ERR_NO_ERROR;

			if (plan[m] != SC_RELAY_DELETE)
				c->left++;
			else if (!goes)
				c->again++;
			else if (dead)
				c->dead++;
			else
				c->acked++;
		}
	}
}

/* Adds a batch to what the open transaction's commit makes final. */
static void count_batch(struct sc_relay *r, const struct relay_count *c, size_t gone, size_t nrows,
                        uint64_t started_ms)
{
	r->tx.relayed += c->acked;
	r->tx.dead += c->dead;
	r->tx.failed += c->left;
	r->tx.batches++;
	atomic_store(&r->metrics->relay_last_ms, svc_mono_ms() - started_ms);
	svc_debug("relay: %zu message(s) sent, %zu dead-lettered, %zu left, %zu to send again; "
	          "%zu of %zu row(s) deleted",
	          c->acked, c->dead, c->left, c->again, gone, nrows);
}

/* Whether the open transaction commits now: RELAY_COMMIT_MS are over (or
 * 0), or the relay stops. */
static bool tx_due(const struct sc_relay *r)
{
	return r->cfg->relay_commit_ms == 0 || svc_mono_ms() >= r->tx.deadline_ms ||
	       sc_stop_requested(r->stop);
}

/* What relay_batch() tells relay_drain(). */
struct relay_outcome {
	size_t rows;     /* selected */
	size_t later;    /* selected but left to the next round (its message cap) */
	size_t settled;  /* messages dead-lettered */
	size_t failed;   /* messages left unsent */
	size_t messages; /* produced */
};

/*
 * One batch, in the relay transaction (opened if none is): select rows,
 * expand them into their messages (as many as a round takes), produce those
 * (holding the messages behind an unsent one of their key), wait for the
 * acknowledgements, dead-letter the messages Kafka refused for good, delete
 * the rows whose messages all went. The transaction commits when nothing was
 * selected or its RELAY_COMMIT_MS are over; on an error it is rolled back.
 * 0, SVC_ETRANSIENT or SVC_EPERMANENT.
 */
static int relay_batch(struct sc_relay *r, struct relay_outcome *out)
{
	MYSQL_RES *res = NULL;
	struct relay_src *srcs = NULL;
	struct relay_item *items = NULL;
	struct sc_relay_row *rows = NULL;
	enum sc_relay_action *plan = NULL;
	struct relay_count count = {0};
	size_t n = 0, reached = 0, nmsg = 0, m = 0, gone = 0;
	uint64_t started;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = select_rows(r, &res, &n);
	if (rc)
		goto out;
	if (n == 0) {
		rc = tx_close(r, true);
		goto out;
	}

	started = svc_mono_ms();
	rc = SVC_ENOMEM;
	srcs = calloc(n, sizeof(*srcs));
	if (!srcs)
		goto out_rollback;
	fetch_rows(res, srcs, n, round_cap(r), &reached, &nmsg);
	items = calloc(nmsg, sizeof(*items));
	rows = calloc(nmsg, sizeof(*rows));
	plan = calloc(nmsg, sizeof(*plan));
	if (!items || !rows || !plan)
		goto out_rollback;
	for (size_t i = 0; i < reached; i++) {
		if (expand_row(&srcs[i], &items[m]) != 0)
			goto out_rollback;
		m += srcs[i].nmsg;
	}
	rc = produce_items(r, items, rows, m);
	if (rc)
		goto out_rollback;
	out->settled = settle(r, items, rows, m, plan);
	atomic_store(&r->metrics->relay_inflight, 0);
	rc = delete_rows(r, srcs, reached, plan, &gone);
	if (rc)
		goto out_rollback;
	count_items(srcs, reached, items, plan, &count);
	out->failed = count.left;
	out->later = n - reached;
	count_batch(r, &count, gone, n, started);
	if (tx_due(r))
		rc = tx_close(r, true); /* on failure the rows stay: resent */
	goto out;

out_rollback:
	tx_close(r, false);
out:
	out->rows = n;
	out->messages = m;
	if (rc && m > out->failed)
		out->failed = m;
	if (res)
		svc_db_free_result(res);
	for (size_t i = 0; srcs && i < n; i++)
		free(srcs[i].pack);
	free(srcs);
	free(items);
	free(rows);
	free(plan);
	return rc;
}

/* Batches until one comes back short. 0, or non-zero when something failed
 * (the caller backs off). Messages held behind one just dead-lettered go in
 * the next batch at once, and so do the rows a round left for the next. */
static int relay_drain(struct sc_relay *r)
{
	for (;;) {
		struct relay_outcome o;
		int rc = relay_batch(r, &o);
		svc_rate_add(&r->rate, svc_mono_ms(), (unsigned)o.messages);
		if (rc)
			return rc;
		if (o.failed > 0 && o.settled == 0)
			return SVC_ETRANSIENT;
		if (o.failed > 0 || (o.later > 0 && !sc_stop_requested(r->stop)))
			continue;
		if (o.rows < (size_t)r->cfg->outbox_batch || sc_stop_requested(r->stop))
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
	         "SELECT id, event_id, topic, msg_key, event_type, payload, messages "
	         "FROM outbox_messages "
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
