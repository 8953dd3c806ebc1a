/* Inbound delivery thread: Kafka consumer -> POST /internal/events -> offsets / DLQ,
 * behind the service's circuit breaker. */
#include "resilience/sidecar/inbound.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/backoff.h"
#include "resilience/breaker.h"
#include "resilience/classify.h"
#include "resilience/sidecar/delivery.h"
#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/outcome.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"

#define SC_POLL_MS 250
/* Past the cap, still remind at warn level every this many attempts. */
#define SC_RETRY_REMIND_EVERY 50
/* While the service breaker is open, how often to ask it for a probe. */
#define SC_BREAKER_POLL_MS 100

struct sc_inbound {
	const struct sc_config *cfg;
	rd_kafka_t *rk;
	struct sc_metrics *metrics;
	struct sc_stop *stop;
	struct sc_dlq dlq;
	struct rs_backoff backoff;
	struct rs_breaker *breaker;  /* "service": around every delivery POST */
	pthread_mutex_t status_lock; /* guards last_error */
	bool status_lock_ready;
	char last_error[320]; /* why the last failed delivery failed, "" if none */
	char url[512];
	pthread_t thread;
	bool thread_started;
	size_t cap;                         /* DELIVERY_BATCH_MAX */
	rd_kafka_message_t **msgs;          /* the batch being delivered */
	unsigned *attempts;                 /* deliveries tried, per message */
	struct sc_delivery_result *results; /* verdict per message of the batch */
	struct sc_delivery_result *answers; /* the service's answers, per sent message */
	size_t *sent;                       /* batch index of each sent message */
};

/* ---- consumer set-up ------------------------------------------------------ */

static bool conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char err[256];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
		return true;
	svc_error("kafka consumer config %s=%s: %s", name, value, err);
	return false;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	svc_warn("kafka consumer: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static rd_kafka_t *consumer_new(const struct sc_config *cfg)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];

	if (!conf_set(conf, "bootstrap.servers", cfg->brokers) ||
	    !conf_set(conf, "client.id", cfg->log_name) ||
	    !conf_set(conf, "group.id", cfg->group) ||
	    !conf_set(conf, "enable.auto.commit", "true") ||
	    !conf_set(conf, "auto.commit.interval.ms", "1000") ||
	    !conf_set(conf, "enable.auto.offset.store", "false") ||
	    !conf_set(conf, "auto.offset.reset", "earliest") ||
	    !conf_set(conf, "session.timeout.ms", "10000") ||
	    !conf_set(conf, "heartbeat.interval.ms", "1000") ||
	    !conf_set(conf, "max.poll.interval.ms", "600000")) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		svc_error("kafka consumer: %s", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

/* Subscribes to the comma-separated topic list. 0 or SVC_EPERMANENT. */
static int subscribe(rd_kafka_t *rk, const char *list)
{
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
	char *copy = strdup(list), *save = NULL;
	int rc = SVC_EPERMANENT;

	if (!copy)
		goto out;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		rd_kafka_topic_partition_list_add(topics, t, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
	if (err) {
		svc_error("kafka subscribe %s: %s", list, rd_kafka_err2str(err));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	rd_kafka_topic_partition_list_destroy(topics);
	return rc;
}

/* ---- one batch ------------------------------------------------------------ */

/* Polls up to cap messages: waits SC_POLL_MS for the first, then at most
 * DELIVERY_LINGER_MS for more. Returns how many are in in->msgs. */
static size_t poll_batch(struct sc_inbound *in)
{
	size_t n = 0;
	uint64_t deadline = 0;

	while (n < in->cap) {
		int timeout = SC_POLL_MS;
		if (n > 0) {
			uint64_t now = sc_monotonic_ms();
			timeout = now >= deadline ? 0 : (int)(deadline - now);
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(in->rk, timeout);
		if (!m)
			break;
		if (m->err) {
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
				svc_debug("kafka consumer: end of partition");
			else
				svc_warn("kafka consumer: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			if (n == 0)
				break; /* let the caller check the stop flag */
			continue;
		}
		if (n == 0)
			deadline = sc_monotonic_ms() + (uint64_t)in->cfg->delivery_linger_ms;
		in->attempts[n] = 0;
		in->msgs[n++] = m;
	}
	return n;
}

static struct sc_delivery_msg msg_view(const rd_kafka_message_t *m)
{
	struct sc_delivery_msg v = {
	        .topic = rd_kafka_topic_name(m->rkt),
	        .partition = m->partition,
	        .offset = m->offset,
	        .key = m->key,
	        .keylen = m->key_len,
	        .value = m->payload,
	        .len = m->len,
	};
	return v;
}

/* Marks a message done: its offset + 1 is stored for the next auto-commit. */
static void store_offset(struct sc_inbound *in, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_t *tp =
	        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition);

	tp->offset = m->offset + 1;
	rd_kafka_resp_err_t err = rd_kafka_offsets_store(in->rk, l);
	if (err)
		/* Typically the partition was revoked meanwhile: its new owner
		 * redelivers, and the service answers "duplicate". */
		svc_info("offset store %s[%" PRId32 "]@%" PRId64 ": %s", tp->topic, tp->partition,
		         tp->offset, rd_kafka_err2str(tp->err ? tp->err : err));
	rd_kafka_topic_partition_list_destroy(l);
}

static int dead_letter(struct sc_inbound *in, size_t i, const char *reason)
{
	const rd_kafka_message_t *m = in->msgs[i];
	struct sc_dlq_record r = {
	        .source_topic = rd_kafka_topic_name(m->rkt),
	        .source_partition = m->partition,
	        .source_offset = m->offset,
	        .key = m->key,
	        .keylen = m->key_len,
	        .payload = m->payload,
	        .len = m->len,
	        .reason = reason,
	        .attempts = in->attempts[i],
	};
	rd_kafka_headers_t *hdrs = NULL;
	const void *event_id;
	size_t event_id_len;

	/* keep the event id, so a re-drive can be recognised as the same event */
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    rd_kafka_header_get_last(hdrs, "event-id", &event_id, &event_id_len) ==
	            RD_KAFKA_RESP_ERR_NO_ERROR &&
	    event_id) {
		r.event_id = event_id;
		r.event_id_len = event_id_len;
	}
	int rc = sc_dlq_send(&in->dlq, &r);
	if (rc == 0)
		atomic_fetch_add(&in->metrics->dead_lettered, 1);
	return rc;
}

/*
 * Sends msgs[from, to) (those representable as JSON) in one POST and fills
 * in->results[from, to). *status is the HTTP status (0: no response; 200
 * also when nothing needed sending).
 */
static void deliver(struct sc_inbound *in, size_t from, size_t to, long *status)
{
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	json_t *items = json_array(), *root = NULL;
	char *body = NULL;
	size_t nsent = 0;
	struct svc_httpc_response res = {0};

	*status = 200;
	for (size_t i = from; i < to; i++) {
		struct sc_delivery_msg v = msg_view(in->msgs[i]);
		struct sc_delivery_result *r = &in->results[i];
		in->attempts[i]++;
		json_t *item = sc_delivery_item(&v, r->reason, sizeof(r->reason));
		if (!item) {
			r->verdict = SC_VERDICT_REJECTED;
			continue;
		}
		r->verdict = SC_VERDICT_RETRY;
		snprintf(r->reason, sizeof(r->reason), "not answered");
		if (json_array_append_new(items, item) == 0)
			in->sent[nsent++] = i;
	}
	if (nsent == 0)
		goto out;
	root = json_pack("{s:O}", "messages", items);
	body = root ? json_dumps(root, JSON_COMPACT) : NULL;
	if (!body) {
		*status = 0;
		goto out;
	}
	if (svc_httpc_request("POST", in->url, headers, body, strlen(body),
	                      in->cfg->delivery_timeout_ms, &res) != 0) {
		*status = 0;
		goto out;
	}
	*status = res.status;
	if (res.status != 200)
		goto out;
	if (sc_delivery_parse(res.body, res.body_len, in->answers, nsent) != 0) {
		svc_error("POST %s: malformed answer for %zu message(s); will resend", in->url,
		          nsent);
		goto out;
	}
	for (size_t j = 0; j < nsent; j++)
		in->results[in->sent[j]] = in->answers[j];
out:
	svc_httpc_response_release(&res);
	free(body);
	json_decref(root);
	json_decref(items);
}

/*
 * Acts on the verdicts of [*done, to) in order, advancing *done past every
 * finished message and stopping at the first "retry". SVC_ETRANSIENT when a
 * dead letter could not be written before stop.
 */
static int apply_verdicts(struct sc_inbound *in, size_t *done, size_t to)
{
	for (; *done < to; (*done)++) {
		size_t i = *done;
		struct sc_delivery_result *r = &in->results[i];
		if (r->verdict == SC_VERDICT_RETRY)
			break;
		if (r->verdict == SC_VERDICT_REJECTED) {
			if (dead_letter(in, i, r->reason) != 0)
				return SVC_ETRANSIENT;
		} else {
			atomic_fetch_add(&in->metrics->delivered, 1);
		}
		store_offset(in, in->msgs[i]);
	}
	return 0;
}

/* The backoff's nominal (un-jittered) delay for `attempt`. */
static uint64_t nominal_delay(const struct rs_backoff *b, unsigned attempt)
{
	uint64_t d = b->base_ms;

	for (unsigned k = 0; k < attempt && d < b->max_ms; k++)
		d *= 2;
	return d < b->max_ms ? d : b->max_ms;
}

/* Sleeps before resending; true when stop was requested meanwhile. */
static bool backoff_wait(struct sc_inbound *in, unsigned attempt, size_t left, long status)
{
	uint64_t delay = rs_backoff_delay_ms(&in->backoff, attempt, rs_random());
	bool doubled = attempt == 0 || nominal_delay(&in->backoff, attempt) >
	                                       nominal_delay(&in->backoff, attempt - 1);
	bool warn = doubled || attempt % SC_RETRY_REMIND_EVERY == 0;

	char why[32];

	if (status)
		snprintf(why, sizeof(why), "HTTP %ld", status);
	else
		snprintf(why, sizeof(why), "no response");
	svc_log(warn ? SVC_LOG_WARN : SVC_LOG_DEBUG,
	        "delivery to %s: %zu message(s) to retry (%s), attempt %u, next in %" PRIu64 " ms",
	        in->url, left, why, attempt + 1, delay);
	return sc_stop_wait_ms(in->stop, delay);
}

/* Waits while the service breaker holds deliveries back: no delivery, no
 * dead letter, the batch kept as it is (consumption pauses). Once a probe is
 * admitted the caller must deliver and record. True when stop was requested. */
static bool breaker_wait(struct sc_inbound *in)
{
	while (!rs_breaker_allow(in->breaker, sc_monotonic_ms()))
		if (sc_stop_wait_ms(in->stop, SC_BREAKER_POLL_MS))
			return true;
	return false;
}

/* deliver() behind the breaker: records the outcome of msgs[from, to). */
static void deliver_guarded(struct sc_inbound *in, size_t from, size_t to, long *status)
{
	uint64_t start = sc_monotonic_ms();
	char why[sizeof(in->last_error)];
	bool failed;

	deliver(in, from, to, status);
	failed = sc_delivery_failed(*status, in->results + from, to - from, why, sizeof(why));
	rs_breaker_record(in->breaker, sc_monotonic_ms(), !failed, sc_monotonic_ms() - start);
	if (failed) {
		pthread_mutex_lock(&in->status_lock);
		snprintf(in->last_error, sizeof(in->last_error), "%s", why);
		pthread_mutex_unlock(&in->status_lock);
	}
}

/* Delivers msgs[0, n) until all are finished or stop is requested. */
static void process_batch(struct sc_inbound *in, size_t n)
{
	size_t done = 0;
	unsigned attempt = 0, permanent = 0;
	bool single = false;

	while (done < n && !sc_stop_requested(in->stop)) {
		size_t end = single ? done + 1 : n, before = done;
		long status;

		atomic_store(&in->metrics->delivery_inflight, end - done);
		if (breaker_wait(in))
			break;
		deliver_guarded(in, done, end, &status);
		if (apply_verdicts(in, &done, end) != 0)
			break;
		if (done == end) {
			single = false;
			attempt = permanent = 0;
			continue;
		}
		if (done > before)
			attempt = 0;
		if (status != 200 && rs_classify_http(status) == RS_PERMANENT) {
			/* The service will not take this batch as it is: narrow it to
			 * the first message, and give that one up after enough tries. */
			single = true;
			if (++permanent >= (unsigned)in->cfg->retry_max_attempts &&
			    end - done == 1) {
				char reason[128];
				snprintf(reason, sizeof(reason),
				         "service answered HTTP %ld %u times", status, permanent);
				if (dead_letter(in, done, reason) != 0)
					break;
				store_offset(in, in->msgs[done++]);
				attempt = permanent = 0;
				single = false;
				continue;
			}
		} else {
			permanent = 0;
		}
		atomic_fetch_add(&in->metrics->retried, end - done);
		if (backoff_wait(in, attempt, end - done, status))
			break;
		if (attempt < 63)
			attempt++;
	}
	atomic_store(&in->metrics->delivery_inflight, 0);
}

static void *inbound_main(void *arg)
{
	struct sc_inbound *in = arg;

	svc_info("inbound: %s (group %s) -> %s", in->cfg->subscribe, in->cfg->group, in->url);
	while (!sc_stop_requested(in->stop)) {
		size_t n = poll_batch(in);
		if (n > 0)
			process_batch(in, n);
		for (size_t i = 0; i < n; i++)
			rd_kafka_message_destroy(in->msgs[i]);
	}
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void inbound_destroy(struct sc_inbound *in)
{
	if (in->rk) {
		rd_kafka_resp_err_t err = rd_kafka_consumer_close(in->rk);
		if (err)
			svc_warn("kafka consumer close: %s", rd_kafka_err2str(err));
		rd_kafka_destroy(in->rk);
	}
	free(in->msgs);
	free(in->attempts);
	free(in->results);
	free(in->answers);
	free(in->sent);
	rs_breaker_free(in->breaker);
	if (in->status_lock_ready)
		pthread_mutex_destroy(&in->status_lock);
	free(in);
}

struct sc_inbound *sc_inbound_start(const struct sc_config *cfg, struct sc_producer *producer,
                                    struct sc_metrics *metrics, struct sc_stop *stop)
{
	struct sc_inbound *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->cfg = cfg;
	in->metrics = metrics;
	in->stop = stop;
	in->backoff.base_ms = (uint32_t)cfg->retry_base_ms;
	in->backoff.max_ms = (uint32_t)cfg->retry_max_ms;
	in->dlq.producer = producer;
	in->dlq.topic = cfg->dlq_topic;
	in->dlq.service = cfg->service;
	in->dlq.stop = stop;
	in->dlq.backoff = in->backoff;
	snprintf(in->url, sizeof(in->url), "%s/internal/events", cfg->service_url);
	in->cap = (size_t)cfg->delivery_batch_max;
	in->msgs = calloc(in->cap, sizeof(*in->msgs));
	in->attempts = calloc(in->cap, sizeof(*in->attempts));
	in->results = calloc(in->cap, sizeof(*in->results));
	in->answers = calloc(in->cap, sizeof(*in->answers));
	in->sent = calloc(in->cap, sizeof(*in->sent));
	if (!in->msgs || !in->attempts || !in->results || !in->answers || !in->sent)
		goto fail;
	if (pthread_mutex_init(&in->status_lock, NULL) != 0)
		goto fail;
	in->status_lock_ready = true;
	in->breaker = rs_breaker_new("service", &cfg->service_breaker);
	if (!in->breaker) {
		svc_error("inbound: invalid SERVICE_BREAKER_* settings");
		goto fail;
	}
	in->rk = consumer_new(cfg);
	if (!in->rk || subscribe(in->rk, cfg->subscribe) != 0)
		goto fail;
	if (pthread_create(&in->thread, NULL, inbound_main, in) != 0) {
		svc_error("inbound: cannot start the delivery thread");
		goto fail;
	}
	in->thread_started = true;
	return in;

fail:
	inbound_destroy(in);
	return NULL;
}

void sc_inbound_free(struct sc_inbound *in)
{
	if (!in)
		return;
	if (in->thread_started)
		pthread_join(in->thread, NULL);
	inbound_destroy(in);
}

void sc_inbound_status(struct sc_inbound *in, json_t *details)
{
	char last_error[sizeof(in->last_error)];
	enum rs_breaker_state state;

	if (!in || !json_is_object(details))
		return;
	state = rs_breaker_state(in->breaker, sc_monotonic_ms());
	pthread_mutex_lock(&in->status_lock);
	memcpy(last_error, in->last_error, sizeof(last_error));
	pthread_mutex_unlock(&in->status_lock);
	json_object_set_new(details, "service",
	                    json_pack("{s:s, s:I, s:I, s:s?}", "breaker",
	                              rs_breaker_state_name(state), "delivered",
	                              (json_int_t)atomic_load(&in->metrics->delivered), "retried",
	                              (json_int_t)atomic_load(&in->metrics->retried), "lastError",
	                              last_error[0] ? last_error : NULL));
}
