/* Inbound delivery: Kafka consumer -> per-partition queues -> delivery workers ->
 * POST /internal/events -> offsets / DLQ, behind the service's circuit breaker.
 * Here: the consumer, the queues and their flow control, the poll thread and
 * the lifecycle; the workers are in inbound_worker.c. */
#include "resilience/sidecar/inbound.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/backoff.h"
#include "resilience/breaker.h"
#include "resilience/sidecar/batch.h"
#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/inbound_internal.h"
#include "resilience/sidecar/kafka.h"
#include "resilience/sidecar/kafkaconf.h"
#include "resilience/sidecar/partq.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/url.h"

/* How long the poll thread waits for a message before it looks at flow
 * control and the stop flag again. */
#define SC_POLL_MS 100

/* ---- consumer set-up ------------------------------------------------------ */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	svc_warn("kafka consumer: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);

static rd_kafka_t *consumer_new(struct sc_inbound *in)
{
	static const char who[] = "kafka consumer";
	const struct sc_config *cfg = in->cfg;
	rd_kafka_conf_t *conf = sc_kafka_conf_new(&cfg->kafka, cfg->log_name, who);
	char err[512], fetch_wait[24], fetch_min[24];

	if (!conf)
		return NULL;
	snprintf(fetch_wait, sizeof(fetch_wait), "%ld", cfg->kafka_fetch_wait_ms);
	snprintf(fetch_min, sizeof(fetch_min), "%ld", cfg->kafka_fetch_min_bytes);
	if (sc_kafka_conf_set(conf, who, "group.id", cfg->group) ||
	    sc_kafka_conf_set(conf, who, "enable.auto.commit", "true") ||
	    sc_kafka_conf_set(conf, who, "auto.commit.interval.ms", "1000") ||
	    sc_kafka_conf_set(conf, who, "enable.auto.offset.store", "false") ||
	    sc_kafka_conf_set(conf, who, "auto.offset.reset", "earliest") ||
	    sc_kafka_conf_set(conf, who, "session.timeout.ms", "10000") ||
	    sc_kafka_conf_set(conf, who, "heartbeat.interval.ms", "1000") ||
	    sc_kafka_conf_set(conf, who, "max.poll.interval.ms", "600000") ||
	    sc_kafka_conf_set(conf, who, "fetch.wait.max.ms", fetch_wait) ||
	    sc_kafka_conf_set(conf, who, "fetch.min.bytes", fetch_min)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	in->kafka->conf_set_error_cb(conf, on_error);
	in->kafka->conf_set_rebalance_cb(conf, on_rebalance);
	in->kafka->conf_set_opaque(conf, in);
	rd_kafka_t *rk = in->kafka->new_client(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		svc_error("kafka consumer: %s", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	in->kafka->poll_set_consumer(rk);
	return rk;
}

/* Subscribes to the comma-separated topic list. 0 or SVC_EPERMANENT. */
static int subscribe(struct sc_inbound *in, const char *list)
{
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
	char *copy = strdup(list), *save = NULL;
	int rc = SVC_EPERMANENT;

	if (!copy)
		goto out;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		rd_kafka_topic_partition_list_add(topics, t, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = in->kafka->subscribe(in->rk, topics);
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

/* ---- partition queues (callers hold in->lock) ----------------------------- */

/* Frees a queued message (sc_partq_free_fn; arg: the struct sc_inbound). */
static void message_free(void *arg, void *item)
{
	const struct sc_inbound *in = arg;

	in->kafka->message_destroy(item);
}

void sc__inbound_publish_queued(struct sc_inbound *in)
{
	atomic_store(&in->metrics->delivery_queued, in->parts.queued);
}

/* Adds (topic, partition) to *l, created on first use. */
static void tp_list_add(rd_kafka_topic_partition_list_t **l, const struct sc_partq *q)
{
	if (!*l)
		*l = rd_kafka_topic_partition_list_new(4);
	rd_kafka_topic_partition_list_add(*l, q->topic, q->partition);
}

/* Drops the messages of a revoked partition from the poll round in progress
 * (the rebalance callback runs inside it): queued after the revocation they
 * would be delivered beside their redelivered copies. */
static void drop_polled(struct sc_inbound *in, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < in->npolled; i++) {
		rd_kafka_message_t *m = in->polled[i];
		if (m && m->partition == partition &&
		    strcmp(in->kafka->topic_name(m->rkt), topic) == 0) {
			in->kafka->message_destroy(m);
			in->polled[i] = NULL;
		}
	}
}

/* Pauses (pause = true) or resumes `list` and logs what librdkafka refused:
 * the call as a whole or single partitions. */
static void pause_resume(struct sc_inbound *in, rd_kafka_topic_partition_list_t *list, bool pause)
{
	const char *what = pause ? "pause" : "resume";
	rd_kafka_resp_err_t err = pause ? in->kafka->pause_partitions(in->rk, list)
	                                : in->kafka->resume_partitions(in->rk, list);

	if (err)
		svc_warn("inbound: %s of %d partition(s) failed: %s", what, list->cnt,
		         rd_kafka_err2str(err));
	for (int i = 0; i < list->cnt; i++)
		if (list->elems[i].err)
			svc_warn("inbound: %s %s[%" PRId32 "] failed: %s", what,
			         list->elems[i].topic, list->elems[i].partition,
			         rd_kafka_err2str(list->elems[i].err));
	rd_kafka_topic_partition_list_destroy(list);
}

/*
 * Revoked partitions (eager rebalance, or lost): no worker gets them any
 * more; waits for the workers holding them to finish (their stored offsets
 * are then committed by the unassign), and drops their queued messages. The
 * ones flow control paused are resumed: librdkafka keeps an application
 * pause across a reassignment.
 */
static void revoke(struct sc_inbound *in, const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *resume = NULL;
	uint64_t paused = 0;

	pthread_mutex_lock(&in->lock);
	for (int i = 0; i < parts->cnt; i++) {
		const char *topic = parts->elems[i].topic;
		int32_t partition = parts->elems[i].partition;
		drop_polled(in, topic, partition);
		struct sc_partq *q = sc_partq_find(&in->parts, topic, partition);
		if (!q)
			continue;
		sc_partq_revoke(&in->parts, q);
		if (q->paused)
			tp_list_add(&resume, q);
	}
	while (sc_partq_revoked_busy(&in->parts))
		pthread_cond_wait(&in->idle, &in->lock);
	sc_partq_drop_revoked(&in->parts);
	for (size_t i = 0; i < in->parts.nparts; i++)
		paused += in->parts.parts[i]->paused;
	atomic_store(&in->metrics->delivery_paused, paused);
	sc__inbound_publish_queued(in);
	pthread_mutex_unlock(&in->lock);
	if (resume)
		pause_resume(in, resume, false);
}

/* Runs on the poll thread, inside rd_kafka_consumer_poll/close. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct sc_inbound *in = opaque;
	const struct sc_kafka_ops *kafka = in->kafka;
	bool cooperative = strcmp(kafka->rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		svc_info("inbound: %d partition(s) assigned", parts->cnt);
		if (cooperative)
			error = kafka->incremental_assign(rk, parts);
		else
			aerr = kafka->assign(rk, parts);
		goto out;
	}
	if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
		svc_warn("inbound: rebalance: %s", rd_kafka_err2str(err));
	svc_info("inbound: %d partition(s) revoked", parts->cnt);
	revoke(in, parts);
	if (cooperative)
		error = kafka->incremental_unassign(rk, parts);
	else
		aerr = kafka->assign(rk, NULL);
out:
	if (error) {
		svc_warn("inbound: rebalance: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	if (aerr)
		svc_warn("inbound: rebalance: %s", rd_kafka_err2str(aerr));
}

/* Pauses the partitions whose queue is over its bound, resumes those drained
 * enough: the consumer then fetches only what the workers can take. */
static void flow_control(struct sc_inbound *in)
{
	rd_kafka_topic_partition_list_t *pause = NULL, *resume = NULL;
	uint64_t paused = 0;

	pthread_mutex_lock(&in->lock);
	for (size_t i = 0; i < in->parts.nparts; i++) {
		struct sc_partq *q = in->parts.parts[i];
		if (!q->paused && q->len > in->high) {
			q->paused = true;
			tp_list_add(&pause, q);
		} else if (q->paused && q->len <= in->low) {
			q->paused = false;
			tp_list_add(&resume, q);
		}
		paused += q->paused;
	}
	atomic_store(&in->metrics->delivery_paused, paused);
	pthread_mutex_unlock(&in->lock);
	if (pause)
		pause_resume(in, pause, true);
	if (resume)
		pause_resume(in, resume, false);
}

/* ---- the poll thread ------------------------------------------------------ */

/* Polls up to cap messages: waits SC_POLL_MS for the first, then at most
 * DELIVERY_LINGER_MS for more. Returns how many are in in->polled. */
static size_t poll_round(struct sc_inbound *in)
{
	size_t n = 0;
	uint64_t deadline = 0;

	in->npolled = 0;
	while (n < in->cap) {
		int timeout = SC_POLL_MS;
		if (n > 0) {
			uint64_t now = svc_mono_ms();
			timeout = now >= deadline ? 0 : (int)(deadline - now);
		}
		rd_kafka_message_t *m = in->kafka->consumer_poll(in->rk, timeout);
		if (!m)
			break;
		if (m->err) {
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
				svc_debug("kafka consumer: end of partition");
			else
				svc_warn("kafka consumer: %s", rd_kafka_message_errstr(m));
			in->kafka->message_destroy(m);
			if (n == 0)
				break; /* let the caller check the stop flag */
			continue;
		}
		if (n == 0)
			deadline = svc_mono_ms() + (uint64_t)in->cfg->delivery_linger_ms;
		in->polled[n++] = m;
		in->npolled = n;
	}
	return n;
}

/* Drops the polled messages of m's partition from index i on and rewinds the
 * partition to m: nothing is skipped when m could not be queued. */
static void rewind_partition(struct sc_inbound *in, size_t i, size_t n)
{
	rd_kafka_message_t *m = in->polled[i];
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_error_t *error;

	svc_error("inbound: out of memory queueing %s[%" PRId32 "]@%" PRId64 "; rewinding",
	          in->kafka->topic_name(m->rkt), m->partition, m->offset);
	rd_kafka_topic_partition_list_add(l, in->kafka->topic_name(m->rkt), m->partition)->offset =
	        m->offset;
	error = in->kafka->seek_partitions(in->rk, l, 0);
	if (error)
		rd_kafka_error_destroy(error);
	rd_kafka_topic_partition_list_destroy(l);
	for (size_t j = n; j-- > i;) {
		rd_kafka_message_t *o = in->polled[j];
		if (o && o->rkt == m->rkt && o->partition == m->partition) {
			in->kafka->message_destroy(o);
			in->polled[j] = NULL;
		}
	}
}

/* Hands the polled messages to their partitions' queues and wakes the workers. */
static void enqueue(struct sc_inbound *in, size_t n)
{
	pthread_mutex_lock(&in->lock);
	for (size_t i = 0; i < n; i++) {
		rd_kafka_message_t *m = in->polled[i];
		if (m &&
		    sc_partq_push(&in->parts, in->kafka->topic_name(m->rkt), m->partition, m) != 0)
			rewind_partition(in, i, n);
	}
	in->npolled = 0; /* the queues own them now */
	sc__inbound_publish_queued(in);
	/* one worker: it takes what it can and wakes the next if more is left
	 * (take_batch), where waking all of them had the others find nothing */
	pthread_cond_signal(&in->work);
	pthread_mutex_unlock(&in->lock);
}

static void *poll_main(void *arg)
{
	struct sc_inbound *in = arg;

	svc_info("inbound: %s (group %s) -> %s, %zu worker(s)", in->cfg->subscribe, in->cfg->group,
	         in->url, in->nworkers);
	while (!sc_stop_requested(in->stop)) {
		size_t n = poll_round(in);
		if (n > 0)
			enqueue(in, n);
		flow_control(in);
	}
	pthread_mutex_lock(&in->lock);
	pthread_cond_broadcast(&in->work);
	pthread_mutex_unlock(&in->lock);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void worker_release(struct sc_worker *w)
{
	free(w->msgs);
	free(w->attempts);
	free(w->results);
	free(w->answers);
	free(w->sent);
	free(w->held);
	sc_batch_release(&w->batch);
}

static int worker_init(struct sc_worker *w, struct sc_inbound *in)
{
	w->in = in;
	sc_batch_init(&w->batch, (size_t)in->cfg->delivery_batch_bytes);
	w->msgs = calloc(in->cap, sizeof(*w->msgs));
	w->attempts = calloc(in->cap, sizeof(*w->attempts));
	w->results = calloc(in->cap, sizeof(*w->results));
	w->answers = calloc(in->cap, sizeof(*w->answers));
	w->sent = calloc(in->cap, sizeof(*w->sent));
	w->held = calloc(in->combine, sizeof(*w->held));
	if (!w->msgs || !w->attempts || !w->results || !w->answers || !w->sent || !w->held)
		return SVC_ENOMEM;
	return 0;
}

/* Joins every thread started (stop must have been requested). */
static void join_threads(struct sc_inbound *in)
{
	if (in->thread_started)
		pthread_join(in->thread, NULL);
	in->thread_started = false;
	if (in->lock_ready) {
		/* wake workers waiting for work even if the poll thread never ran */
		pthread_mutex_lock(&in->lock);
		pthread_cond_broadcast(&in->work);
		pthread_mutex_unlock(&in->lock);
	}
	for (size_t i = 0; i < in->nworkers; i++) {
		if (in->workers[i].started)
			pthread_join(in->workers[i].thread, NULL);
		in->workers[i].started = false;
	}
}

static void inbound_destroy(struct sc_inbound *in)
{
	if (in->rk) {
		/* the queues first: closing revokes every partition (on_rebalance) */
		if (in->lock_ready) {
			pthread_mutex_lock(&in->lock);
			sc_partq_set_release(&in->parts);
			sc_partq_set_init(&in->parts, message_free, in);
			pthread_mutex_unlock(&in->lock);
		}
		rd_kafka_resp_err_t err = in->kafka->consumer_close(in->rk);
		if (err)
			svc_warn("kafka consumer close: %s", rd_kafka_err2str(err));
		in->kafka->destroy(in->rk);
	}
	for (size_t i = 0; in->workers && i < in->nworkers; i++)
		worker_release(&in->workers[i]);
	free(in->workers);
	free(in->polled);
	sc_partq_set_release(&in->parts);
	rs_breaker_free(in->breaker);
	if (in->lock_ready) {
		pthread_cond_destroy(&in->idle);
		pthread_cond_destroy(&in->work);
		pthread_mutex_destroy(&in->lock);
	}
	if (in->status_lock_ready)
		pthread_mutex_destroy(&in->status_lock);
	free(in);
}

/* The lock and its two conditions. 0 or SVC_ENOMEM. */
static int locks_init(struct sc_inbound *in)
{
	if (pthread_mutex_init(&in->status_lock, NULL) != 0)
		return SVC_ENOMEM;
	in->status_lock_ready = true;
	if (pthread_mutex_init(&in->lock, NULL) != 0)
		return SVC_ENOMEM;
	if (pthread_cond_init(&in->work, NULL) != 0) {
		pthread_mutex_destroy(&in->lock);
		return SVC_ENOMEM;
	}
	if (pthread_cond_init(&in->idle, NULL) != 0) {
		pthread_cond_destroy(&in->work);
		pthread_mutex_destroy(&in->lock);
		return SVC_ENOMEM;
	}
	in->lock_ready = true;
	return 0;
}

static int start_threads(struct sc_inbound *in)
{
	for (size_t i = 0; i < in->nworkers; i++) {
		if (pthread_create(&in->workers[i].thread, NULL, sc__inbound_worker_main,
		                   &in->workers[i]) != 0)
			return SVC_ENOMEM;
		in->workers[i].started = true;
	}
	if (pthread_create(&in->thread, NULL, poll_main, in) != 0)
		return SVC_ENOMEM;
	in->thread_started = true;
	return 0;
}

struct sc_inbound *sc_inbound_start(const struct sc_config *cfg, struct sc_producer *producer,
                                    struct sc_metrics *metrics, struct sc_stop *stop)
{
	struct sc_inbound *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->cfg = cfg;
	in->kafka = sc_kafka_ops_of(&cfg->kafka);
	in->metrics = metrics;
	in->stop = stop;
	in->backoff.base_ms = (uint32_t)cfg->retry_base_ms;
	in->backoff.max_ms = (uint32_t)cfg->retry_max_ms;
	in->dlq.producer = producer;
	in->dlq.topic = cfg->dlq_topic;
	in->dlq.service = cfg->service;
	in->dlq.stop = stop;
	in->dlq.backoff = in->backoff;
	/* Fits: sc_config_check() bounds SERVICE_URL. */
	svc_url_join(in->url, sizeof(in->url), cfg->service_url, "/internal/events");
	in->cap = (size_t)cfg->delivery_batch_max;
	in->combine = cfg->delivery_combine > 1 ? (size_t)cfg->delivery_combine : 1;
	in->high = 2 * in->cap;
	in->low = in->cap;
	sc_partq_set_init(&in->parts, message_free, in);
	in->polled = calloc(in->cap, sizeof(*in->polled));
	in->nworkers = (size_t)cfg->delivery_workers;
	in->workers = calloc(in->nworkers, sizeof(*in->workers));
	if (!in->polled || !in->workers || locks_init(in) != 0)
		goto fail;
	for (size_t i = 0; i < in->nworkers; i++)
		if (worker_init(&in->workers[i], in) != 0)
			goto fail;
	in->breaker = rs_breaker_new("service", &cfg->service_breaker);
	if (!in->breaker) {
		svc_error("inbound: invalid SERVICE_BREAKER_* settings");
		goto fail;
	}
	in->rk = consumer_new(in);
	if (!in->rk || subscribe(in, cfg->subscribe) != 0)
		goto fail;
	if (start_threads(in) != 0) {
		svc_error("inbound: cannot start the delivery threads");
		goto fail;
	}
	return in;

fail:
	if (in->thread_started || (in->workers && in->workers[0].started)) {
		sc_stop_request(stop);
		join_threads(in);
	}
	inbound_destroy(in);
	return NULL;
}

void sc_inbound_free(struct sc_inbound *in)
{
	if (!in)
		return;
	join_threads(in);
	inbound_destroy(in);
}

void sc_inbound_status(struct sc_inbound *in, json_t *details)
{
	char last_error[sizeof(in->last_error)];
	enum rs_breaker_state state;

	if (!in || !json_is_object(details))
		return;
	state = rs_breaker_state(in->breaker, svc_mono_ms());
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
