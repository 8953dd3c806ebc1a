/* A one-shot, assign()-based read of a DLQ topic up to its high watermarks. */
#include "resilience/sidecar/dlq_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "resilience/sidecar/kafka.h"
#include "resilience/sidecar/kafkaconf.h"
#include "resilience/sidecar/stop.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/log.h"

#define SC_DLQ_POLL_MS 100

/* What one read tracks per partition of the topic. */
struct part {
	int64_t start, end; /* [start, end) is read; start == end: nothing to read */
	bool done;
};

struct reader {
	const struct sc_dlq_reader_config *cfg;
	const struct sc_kafka_ops *kafka;
	rd_kafka_t *rk;
	uint64_t deadline;
	struct part *parts;
	int32_t nparts;
};

/* Milliseconds left until the deadline, at least 1 (librdkafka: 0 = no wait). */
static int time_left(const struct reader *r)
{
	uint64_t now = svc_mono_ms();

	return now >= r->deadline ? 1 : (int)(r->deadline - now);
}

/* librdkafka's own log lines, at debug level: a reader lives for one request,
 * and its teardown cuts connections still being set up (the group
 * coordinator's SASL handshake), which librdkafka logs as errors. What goes
 * wrong in a read comes back as its result code; the sidecar's long-lived
 * producer and consumer log connection and authentication failures. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	svc_debug("dlq reader: librdkafka %s: %s", fac, buf);
}

/* A consumer that can only assign(): a group id is needed for
 * rd_kafka_consumer_poll(), but nothing joins the group or commits to it. */
static rd_kafka_t *consumer_new(const struct sc_kafka_ops *kafka,
                                const struct sc_dlq_reader_config *cfg)
{
	static const char who[] = "dlq reader";
	rd_kafka_conf_t *conf = sc_kafka_conf_new(cfg->kafka, cfg->client_id, who);
	char group[300], err[512];
	rd_kafka_t *rk;

	if (!conf)
		return NULL;
	snprintf(group, sizeof(group), "%s-reader", cfg->client_id);
	if (sc_kafka_conf_set(conf, who, "group.id", group) ||
	    sc_kafka_conf_set(conf, who, "enable.auto.commit", "false") ||
	    sc_kafka_conf_set(conf, who, "enable.auto.offset.store", "false") ||
	    sc_kafka_conf_set(conf, who, "enable.partition.eof", "true") ||
	    sc_kafka_conf_set(conf, who, "fetch.wait.max.ms", "50")) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	kafka->conf_set_log_cb(conf, on_log);
	rk = kafka->new_client(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		svc_error("dlq reader: %s", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	kafka->poll_set_consumer(rk);
	return rk;
}

/* The topic's partition count into r->nparts. 0, SVC_ENOTFOUND, SVC_ETRANSIENT. */
static int partition_count(struct reader *r)
{
	rd_kafka_topic_t *rkt = r->kafka->topic_new(r->rk, r->cfg->topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int rc = SVC_ETRANSIENT;

	if (!rkt)
		return SVC_ENOMEM;
	rd_kafka_resp_err_t err = r->kafka->metadata(r->rk, 0, rkt, &md, time_left(r));
	if (err) {
		svc_warn("dlq reader: metadata of %s: %s", r->cfg->topic, rd_kafka_err2str(err));
		goto out;
	}
	if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0) {
		rc = md->topic_cnt == 1 &&
		                     md->topics[0].err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE
		             ? SVC_ETRANSIENT
		             : SVC_ENOTFOUND;
		goto out;
	}
	r->nparts = md->topics[0].partition_cnt;
	rc = 0;
out:
	if (md)
		r->kafka->metadata_destroy(md);
	r->kafka->topic_destroy(rkt);
	return rc;
}

/* Sets [start, end) of partition p from its watermarks and the window. */
static int plan_partition(struct reader *r, const struct sc_dlq_window *w, int32_t p)
{
	int64_t low = 0, high = 0;
	struct part *pt = &r->parts[p];
	rd_kafka_resp_err_t err;

	err = r->kafka->query_watermark_offsets(r->rk, r->cfg->topic, p, &low, &high, time_left(r));
	if (err) {
		svc_warn("dlq reader: watermarks of %s[%" PRId32 "]: %s", r->cfg->topic, p,
		         rd_kafka_err2str(err));
		return SVC_ETRANSIENT;
	}
	pt->start = low;
	pt->end = high;
	if (w->offset >= 0) {
		if (w->offset < low || w->offset >= high)
			return SVC_ENOTFOUND;
		pt->start = w->offset;
		pt->end = w->offset + 1;
	} else if (w->tail > 0 && high - low > w->tail) {
		pt->start = high - w->tail;
	}
	pt->done = pt->start >= pt->end;
	return 0;
}

/* Plans every selected partition and assigns the ones with something to read.
 * Returns 0 and the number assigned in *pending, or an error code. */
static int assign(struct reader *r, const struct sc_dlq_window *w, int32_t *pending)
{
	rd_kafka_topic_partition_list_t *list = NULL;
	int rc;

	*pending = 0;
	if (w->partition >= r->nparts)
		return SVC_ENOTFOUND;
	r->parts = calloc((size_t)r->nparts, sizeof(*r->parts));
	list = rd_kafka_topic_partition_list_new(r->nparts);
	if (!r->parts || !list) {
		rc = SVC_ENOMEM;
		goto out;
	}
	for (int32_t p = 0; p < r->nparts; p++) {
		r->parts[p].done = true;
		if (w->partition >= 0 && p != w->partition)
			continue;
		rc = plan_partition(r, w, p);
		if (rc != 0)
			goto out;
		if (r->parts[p].done)
			continue;
		rd_kafka_topic_partition_list_add(list, r->cfg->topic, p)->offset =
		        r->parts[p].start;
		(*pending)++;
	}
	rc = 0;
	if (*pending > 0) {
		rd_kafka_resp_err_t err = r->kafka->assign(r->rk, list);
		if (err) {
			svc_warn("dlq reader: assign %s: %s", r->cfg->topic, rd_kafka_err2str(err));
			rc = SVC_ETRANSIENT;
		}
	}
out:
	if (list)
		rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

static struct sc_dlq_message message_view(const struct reader *r, const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t tstype;
	rd_kafka_headers_t *hdrs = NULL;
	struct sc_dlq_message v = {
	        .partition = m->partition,
	        .offset = m->offset,
	        .timestamp_ms = r->kafka->message_timestamp(m, &tstype),
	        .key = m->key,
	        .keylen = m->key_len,
	        .payload = m->payload,
	        .len = m->len,
	};

	if (r->kafka->message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		v.hdrs = hdrs;
	return v;
}

/* Marks partition p finished. */
static void finish(struct reader *r, int32_t p, int32_t *pending)
{
	if (p >= 0 && p < r->nparts && !r->parts[p].done) {
		r->parts[p].done = true;
		(*pending)--;
	}
}

/* Polls until every assigned partition reached its end. */
static int consume(struct reader *r, int32_t pending, sc_dlq_visit_fn visit, void *arg)
{
	while (pending > 0) {
		if (svc_mono_ms() >= r->deadline) {
			svc_warn("dlq reader: %s not read to its end within %ld ms", r->cfg->topic,
			         r->cfg->timeout_ms);
			return SVC_ETRANSIENT;
		}
		rd_kafka_message_t *m = r->kafka->consumer_poll(r->rk, SC_DLQ_POLL_MS);
		if (!m)
			continue;
		int32_t p = m->partition;
		int rc = 0;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			finish(r, p, &pending);
		} else if (m->err) {
			svc_warn("dlq reader: %s", rd_kafka_message_errstr(m));
		} else if (p >= 0 && p < r->nparts && !r->parts[p].done) {
			if (m->offset < r->parts[p].end) {
				struct sc_dlq_message v = message_view(r, m);
				rc = visit(arg, &v);
			}
			if (m->offset + 1 >= r->parts[p].end)
				finish(r, p, &pending);
		}
		r->kafka->message_destroy(m);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int sc_dlq_read(const struct sc_dlq_reader_config *cfg, const struct sc_dlq_window *w,
                sc_dlq_visit_fn visit, void *arg)
{
	struct reader r = {
	        .cfg = cfg,
	        .kafka = sc_kafka_ops_of(cfg->kafka),
	        .deadline = svc_mono_ms() + (uint64_t)cfg->timeout_ms,
	};
	int32_t pending = 0;
	int rc = SVC_ENOMEM;

	r.rk = consumer_new(r.kafka, cfg);
	if (!r.rk)
		goto out;
	rc = partition_count(&r);
	if (rc == 0)
		rc = assign(&r, w, &pending);
	if (rc == 0)
		rc = consume(&r, pending, visit, arg);
	r.kafka->consumer_close(r.rk);
	r.kafka->destroy(r.rk);
out:
	free(r.parts);
	return rc;
}
