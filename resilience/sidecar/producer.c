/* The shared idempotent producer, its poll thread and delivery acknowledgements. */
#include "resilience/sidecar/producer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "resilience/sidecar/kafka.h"
#include "resilience/sidecar/kafkaconf.h"
#include "resilience/sidecar/stop.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/log.h"

#define SC_REACH_CACHE_MS     1000
#define SC_REACH_TIMEOUT_MS   500
#define SC_QUEUE_FULL_WAIT_MS 5000
#define SC_FLUSH_MS           10000

struct sc_producer {
	const struct sc_kafka_ops *kafka;
	rd_kafka_t *rk;
	pthread_t poller;
	atomic_bool stopping;
	pthread_mutex_t reach_mu;
	uint64_t reach_checked_ms; /* 0 = never */
	bool reach_ok;
	atomic_bool fatal_logged;
};

int sc_ack_group_init(struct sc_ack_group *g)
{
	g->pending = 0;
	if (pthread_mutex_init(&g->mu, NULL) != 0)
		return SVC_ENOMEM;
	if (pthread_cond_init(&g->cond, NULL) != 0) {
		pthread_mutex_destroy(&g->mu);
		return SVC_ENOMEM;
	}
	return 0;
}

void sc_ack_group_release(struct sc_ack_group *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mu);
}

void sc_ack_group_wait(struct sc_ack_group *g)
{
	pthread_mutex_lock(&g->mu);
	while (g->pending > 0)
		pthread_cond_wait(&g->cond, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/* Delivery report: runs on the poll thread (or in flush at shutdown). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct sc_ack *ack = msg->_private;

	(void)rk;
	(void)opaque;
	if (!ack)
		return;
	struct sc_ack_group *g = ack->group;
	pthread_mutex_lock(&g->mu);
	ack->err = msg->err;
	g->pending--;
	if (g->pending == 0)
		pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	svc_warn("kafka producer: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	svc_log(level <= 3   ? SVC_LOG_ERROR
	        : level <= 5 ? SVC_LOG_WARN
	                     : SVC_LOG_DEBUG,
	        "librdkafka %s: %s", fac, buf);
}

static void *poll_main(void *arg)
{
	struct sc_producer *p = arg;

	while (!atomic_load(&p->stopping))
		p->kafka->poll(p->rk, 100);
	return NULL;
}

struct sc_producer *sc_producer_new(const struct sc_config *cfg)
{
	static const char who[] = "kafka producer";
	struct sc_producer *p = NULL;
	rd_kafka_conf_t *conf = NULL;
	char linger[32], timeout[32], err[512];

	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	p->kafka = sc_kafka_ops_of(&cfg->kafka);
	atomic_init(&p->stopping, false);
	atomic_init(&p->fatal_logged, false);
	if (pthread_mutex_init(&p->reach_mu, NULL) != 0)
		goto fail_free;
	conf = sc_kafka_conf_new(&cfg->kafka, cfg->log_name, who);
	if (!conf)
		goto fail_conf;
	snprintf(linger, sizeof(linger), "%ld", cfg->kafka_linger_ms);
	snprintf(timeout, sizeof(timeout), "%ld", cfg->kafka_timeout_ms);
	if (sc_kafka_conf_set(conf, who, "enable.idempotence", "true") ||
	    sc_kafka_conf_set(conf, who, "acks", "all") ||
	    sc_kafka_conf_set(conf, who, "compression.type", cfg->kafka_compression) ||
	    sc_kafka_conf_set(conf, who, "linger.ms", linger) ||
	    sc_kafka_conf_set(conf, who, "message.timeout.ms", timeout))
		goto fail_conf;
	p->kafka->conf_set_dr_msg_cb(conf, on_delivery);
	p->kafka->conf_set_error_cb(conf, on_error);
	p->kafka->conf_set_log_cb(conf, on_log);
	p->rk = p->kafka->new_client(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!p->rk) {
		svc_error("kafka producer: %s", err);
		goto fail_conf;
	}
	conf = NULL; /* owned by rk now */
	if (pthread_create(&p->poller, NULL, poll_main, p) != 0) {
		svc_error("kafka producer: cannot start the poll thread");
		goto fail_rk;
	}
	return p;

fail_rk:
	p->kafka->destroy(p->rk);
fail_conf:
	if (conf)
		rd_kafka_conf_destroy(conf);
	pthread_mutex_destroy(&p->reach_mu);
fail_free:
	free(p);
fail:
	return NULL;
}

void sc_producer_free(struct sc_producer *p)
{
	if (!p)
		return;
	rd_kafka_resp_err_t err = p->kafka->flush(p->rk, SC_FLUSH_MS);
	if (err)
		svc_warn("kafka producer: %d message(s) not delivered at shutdown (%s)",
		         p->kafka->outq_len(p->rk), rd_kafka_err2str(err));
	atomic_store(&p->stopping, true);
	pthread_join(p->poller, NULL);
	p->kafka->destroy(p->rk);
	pthread_mutex_destroy(&p->reach_mu);
	free(p);
}

static bool retriable_produce_error(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR__QUEUE_FULL;
}

int sc_producer_send(struct sc_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *payload, size_t len, rd_kafka_headers_t *hdrs, struct sc_ack *ack)
{
	rd_kafka_resp_err_t err;
	uint64_t deadline = svc_mono_ms() + SC_QUEUE_FULL_WAIT_MS;

	pthread_mutex_lock(&ack->group->mu);
	ack->group->pending++;
	pthread_mutex_unlock(&ack->group->mu);
	for (;;) {
		err = p->kafka->produce(p->rk, topic, key, keylen, payload, len, hdrs, ack);
		if (!retriable_produce_error(err) || svc_mono_ms() >= deadline)
			break;
		/* The local queue is full: the poll thread drains it. */
		svc_sleep_ms(10);
	}
	if (!err)
		return 0;

	/* No report will come for this one: take it out of the group. */
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	pthread_mutex_lock(&ack->group->mu);
	ack->err = err;
	ack->group->pending--;
	if (ack->group->pending == 0)
		pthread_cond_broadcast(&ack->group->cond);
	pthread_mutex_unlock(&ack->group->mu);
	svc_warn("produce to %s: %s", topic, rd_kafka_err2str(err));
	return retriable_produce_error(err) ? SVC_ETRANSIENT : SVC_EPERMANENT;
}

bool sc_producer_healthy(struct sc_producer *p)
{
	char reason[256];
	rd_kafka_resp_err_t err = p->kafka->fatal_error(p->rk, reason, sizeof(reason));

	if (!err)
		return true;
	if (!atomic_exchange(&p->fatal_logged, true))
		svc_error("kafka producer: fatal error %s: %s", rd_kafka_err2name(err), reason);
	return false;
}

bool sc_producer_reachable(struct sc_producer *p)
{
	uint64_t now = svc_mono_ms();
	bool ok;

	pthread_mutex_lock(&p->reach_mu);
	if (p->reach_checked_ms != 0 && now - p->reach_checked_ms < SC_REACH_CACHE_MS) {
		ok = p->reach_ok;
		goto out;
	}
	const struct rd_kafka_metadata *md = NULL;
	/* all_topics=0 with no topic: asks for the broker list only. */
	rd_kafka_resp_err_t err = p->kafka->metadata(p->rk, 0, NULL, &md, SC_REACH_TIMEOUT_MS);
	ok = err == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->broker_cnt > 0;
	if (md)
		p->kafka->metadata_destroy(md);
	p->reach_ok = ok;
	p->reach_checked_ms = svc_mono_ms();
out:
	pthread_mutex_unlock(&p->reach_mu);
	return ok;
}
