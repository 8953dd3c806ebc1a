/*
 * The transactional outbox, service side (svc/outbox.h): the rows of the
 * caller's transaction (one per event, or one pack of its events when it
 * defers) and a best-effort wake-up datagram to the sidecar.
 */
#include "svc/outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "outbox_internal.h"
#include "svc/buf.h"
#include "svc/config.h"
#include "svc/db.h"
#include "svc/defer.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/outbox_pack.h"

static const char OUTBOX_INSERT[] = "INSERT INTO outbox_messages (event_id, topic, msg_key, "
                                    "event_type, payload, messages, created_at) VALUES ";

/* Appends a plain row's values for one message to `sql`; *cols (may be
 * NULL) gets the length before the payload. 0 or SVC_ENOMEM. */
static int plain_row(struct svc_buf *sql, MYSQL *conn, const char *topic, const char *key,
                     const struct svc_event *ev, const char *payload, size_t *cols)
{
	svc_buf_adds(sql, "(");
	svc_sql_add_str(sql, conn, ev->id);
	svc_buf_adds(sql, ", ");
	svc_sql_add_str(sql, conn, topic);
	svc_buf_adds(sql, ", ");
	svc_sql_add_str(sql, conn, key);
	svc_buf_adds(sql, ", ");
	svc_sql_add_str(sql, conn, ev->type);
	svc_buf_adds(sql, ", ");
	if (cols)
		*cols = sql->len;
	svc_sql_add_str(sql, conn, payload);
	return svc_buf_adds(sql, ", 1, NOW(6))") ? SVC_ENOMEM : 0;
}

static void pack_reset(struct svc_tx_pack *p)
{
	svc_buf_release(&p->msgs);
	svc_buf_release(&p->first);
	p->first_cols = 0;
	p->n = 0;
}

void svc__outbox_discard(struct svc_tx *tx)
{
	pack_reset(&tx->pack);
}

int svc__outbox_flush(struct svc_tx *tx)
{
	struct svc_tx_pack *p = &tx->pack;
	struct svc_buf sql;
	int rc;

	if (p->n == 0)
		return 0;
	if (p->n == 1) {
		rc = svc_defer_insert(tx, OUTBOX_INSERT, p->first.data, p->first.len);
		pack_reset(p);
		return rc;
	}
	/* The first message's columns say what the row is about (for a
	 * human); the relay reads the pack. */
	svc_buf_init(&sql);
	svc_buf_add(&sql, p->first.data, p->first_cols);
	svc_sql_add_str(&sql, tx->conn, svc_buf_str(&p->msgs));
	svc_buf_addf(&sql, ", %zu, NOW(6))", p->n);
	rc = sql.failed || p->msgs.failed ? SVC_ENOMEM
	                                  : svc_defer_insert(tx, OUTBOX_INSERT, sql.data, sql.len);
	svc_buf_release(&sql);
	pack_reset(p);
	return rc;
}

/* Adds one message to the pack of the deferring `tx`; a full pack goes to
 * a row first. 0, SVC_ENOMEM or the statement's error. */
static int pack_add(struct svc_tx *tx, const char *topic, const char *key,
                    const struct svc_event *ev, const char *payload)
{
	struct svc_tx_pack *p = &tx->pack;
	const struct svc_outbox_msg m = {
	        .event_id = {ev->id, strlen(ev->id)},
	        .topic = {topic, strlen(topic)},
	        .key = {key, strlen(key)},
	        .type = {ev->type, strlen(ev->type)},
	        .payload = {payload, strlen(payload)},
	};
	int rc;

	if (p->n == SVC_OUTBOX_PACK_MESSAGES ||
	    (p->n > 0 && p->msgs.len + svc_outbox_pack_size(&m) > SVC_OUTBOX_PACK_BYTES)) {
		rc = svc__outbox_flush(tx);
		if (rc)
			return rc;
	}
	if (p->n == 0 && plain_row(&p->first, tx->conn, topic, key, ev, payload, &p->first_cols))
		return SVC_ENOMEM;
	if (svc_outbox_pack_add(&p->msgs, &m))
		return SVC_ENOMEM;
	p->n++;
	return 0;
}

int svc_outbox_add(struct svc_tx *tx, const char *topic, const char *key,
                   const struct svc_event *ev)
{
	MYSQL *conn = tx ? tx->conn : NULL;
	struct svc_buf sql;
	char *payload = NULL;
	int rc = SVC_EPERMANENT;

	svc_buf_init(&sql);
	if (!conn || !topic || !*topic || !key || !*key || !ev || !ev->id[0] || !ev->type[0])
		goto out;
	payload = svc_event_encode(ev);
	if (!payload) {
		rc = SVC_ENOMEM;
		goto out;
	}
	/* Consumers refuse bigger events: fail here, not after the commit. */
	if (strlen(payload) > SVC_EVENT_MAX_BYTES) {
		svc_error("outbox: %s %s is larger than %d bytes", ev->type, ev->id,
		          SVC_EVENT_MAX_BYTES);
		goto free_payload;
	}
	/* A deferring transaction's events become one row at the flush. */
	if (tx->deferring)
		rc = pack_add(tx, topic, key, ev, payload);
	else if (plain_row(&sql, conn, topic, key, ev, payload, NULL) != 0)
		rc = SVC_ENOMEM;
	else
		rc = svc_defer_insert(tx, OUTBOX_INSERT, sql.data, sql.len);

free_payload:
	free(payload);
out:
	svc_buf_release(&sql);
	return rc;
}

int svc_outbox_emit(struct svc_tx *tx, const char *topic, const char *type, const char *order_id,
                    const char *source, const char *causation_id, json_t *data)
{
	struct svc_event ev;
	int rc;

	rc = svc_event_init(&ev, type, order_id, source, causation_id, data);
	if (rc) {
		svc_error("outbox: cannot build %s for %s: %s", type ? type : "(null)",
		          order_id ? order_id : "(null)", svc_strerror(rc));
		return rc;
	}
	rc = svc_outbox_add(tx, topic, order_id, &ev);
	svc_event_release(&ev);
	return rc;
}

/* The wake socket and the sidecar's address, set up once per process. */
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static int wake_fd = -1;
static struct sockaddr_un wake_addr;
static socklen_t wake_addrlen;

static void wake_init(void)
{
	const char *path = svc_env_str("OUTBOX_WAKE_SOCKET", NULL);
	size_t len;

	if (!path)
		return;
	len = strlen(path);
	if (len >= sizeof(wake_addr.sun_path)) {
		svc_warn("outbox: OUTBOX_WAKE_SOCKET path too long; relying on the sidecar's poll");
		return;
	}
	wake_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (wake_fd < 0) {
		svc_warn("outbox: wake socket: %s; relying on the sidecar's poll", strerror(errno));
		return;
	}
	wake_addr.sun_family = AF_UNIX;
	memcpy(wake_addr.sun_path, path, len + 1);
	wake_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

void svc_outbox_wake(void)
{
	static const char ping = 'w';

	pthread_once(&wake_once, wake_init);
	if (wake_fd < 0)
		return;
	/* EAGAIN (sidecar's queue full: it is awake anyway), ENOENT or
	 * ECONNREFUSED (sidecar not running) all only delay relaying until the
	 * sidecar's fallback poll. */
	if (sendto(wake_fd, &ping, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&wake_addr,
	           wake_addrlen) < 0 &&
	    errno != EAGAIN && errno != ENOENT && errno != ECONNREFUSED)
		svc_debug("outbox: wake: %s", strerror(errno));
}
