/* A fake Kafka broker behind struct sc_kafka_ops (fake_kafka.h). */
#include "fake_kafka.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/clock.h"

/* The operations, by their entry names in struct sc_kafka_ops. */
enum op {
	OP_NEW_CLIENT,
	OP_DESTROY,
	OP_PRODUCE,
	OP_POLL,
	OP_FLUSH,
	OP_METADATA,
	OP_TOPIC_NEW,
	OP_QUERY_WATERMARK_OFFSETS,
	OP_COMMITTED,
	OP_OFFSETS_FOR_TIMES,
	OP_SUBSCRIBE,
	OP_CONSUMER_POLL,
	OP_CONSUMER_CLOSE,
	OP_ASSIGN,
	OP_INCREMENTAL_ASSIGN,
	OP_INCREMENTAL_UNASSIGN,
	OP_PAUSE_PARTITIONS,
	OP_RESUME_PARTITIONS,
	OP_SEEK_PARTITIONS,
	OP_OFFSETS_STORE,
	OP_MESSAGE_DESTROY,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
        "new_client",
        "destroy",
        "produce",
        "poll",
        "flush",
        "metadata",
        "topic_new",
        "query_watermark_offsets",
        "committed",
        "offsets_for_times",
        "subscribe",
        "consumer_poll",
        "consumer_close",
        "assign",
        "incremental_assign",
        "incremental_unassign",
        "pause_partitions",
        "resume_partitions",
        "seek_partitions",
        "offsets_store",
        "message_destroy",
};

struct fk_logmsg {
	char *key, *payload;
	rd_kafka_headers_t *hdrs;
	int64_t timestamp_ms;
};

struct fk_part {
	int64_t low;
	struct fk_logmsg *log; /* offset i is log[i] */
	size_t nlog, cap;
	int64_t committed, stored, seeked;
	bool paused;
};

struct fk_topic {
	char *name;
	bool exists; /* a topic handle (topic_new) does not make it exist */
	struct fk_part *parts;
	int32_t nparts;
};

/* One assigned partition of a consumer. */
struct fk_assigned {
	struct fk_topic *t;
	int32_t partition;
	int64_t position;
	bool eof; /* report the end once (explicit offsets only) */
};

struct fk_client {
	rd_kafka_type_t type;
	sc_kafka_dr_msg_cb dr;
	sc_kafka_rebalance_cb rebalance;
	void *opaque;
	struct fk_assigned *assigned;
	size_t nassigned;
};

/* Callbacks set on a configuration not yet made into a client. */
struct fk_conf {
	const rd_kafka_conf_t *conf;
	sc_kafka_dr_msg_cb dr;
	sc_kafka_rebalance_cb rebalance;
	void *opaque;
};

enum fk_event_kind { EV_MESSAGE, EV_ERROR, EV_REBALANCE };

struct fk_event {
	enum fk_event_kind kind;
	rd_kafka_resp_err_t err;
	struct fk_topic *t;
	int32_t partition;
	int64_t offset;
	char *key, *payload;
	rd_kafka_headers_t *hdrs;
	struct fk_event *next;
};

/* A message handed out by consumer_poll; m is first, so the cast works. */
struct fk_message {
	rd_kafka_message_t m;
	rd_kafka_headers_t *hdrs;
	int64_t timestamp_ms;
};

/* A delivery report waiting for poll or flush. */
struct fk_report {
	struct fk_client *c;
	size_t produced; /* index into produced */
	void *opaque;
};

struct fake_kafka {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct fk_topic **topics;
	size_t ntopics;
	struct fk_conf confs[16];
	unsigned clients;
	int brokers;
	rd_kafka_resp_err_t fatal;
	char protocol[16];
	unsigned calls[OP_COUNT];
	rd_kafka_resp_err_t fail_err[OP_COUNT];
	int fail_times[OP_COUNT];
	unsigned fail_skip[OP_COUNT];     /* calls that go through before the failures */
	rd_kafka_resp_err_t *report_errs; /* queued delivery report errors */
	size_t nreport_errs;
	bool hold;
	struct fk_report *reports;
	size_t nreports;
	struct fake_kafka_produced *produced;
	size_t nproduced;
	struct fk_event *script, *script_tail;
	size_t nscript;
	char subscription[512];
};

static struct fake_kafka *current;

static void *must(void *p)
{
	if (!p) {
		fprintf(stderr, "fake_kafka: out of memory\n");
		abort();
	}
	return p;
}

static char *dup_or_null(const char *s)
{
	return s ? must(strdup(s)) : NULL;
}

/* Counts a call of `op` and returns the failure injected for it, if any.
 * Caller holds mu. */
static rd_kafka_resp_err_t enter(struct fake_kafka *fk, enum op op)
{
	fk->calls[op]++;
	if (fk->fail_times[op] == 0)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	if (fk->fail_skip[op] > 0) {
		fk->fail_skip[op]--;
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	}
	if (fk->fail_times[op] > 0)
		fk->fail_times[op]--;
	return fk->fail_err[op];
}

static rd_kafka_resp_err_t enter_locked(enum op op)
{
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, op);
	pthread_mutex_unlock(&current->mu);
	return err;
}

/* ---- topics ------------------------------------------------------------------- */

/* The topic named `name`, created (not existing yet) on first use. Caller holds mu. */
static struct fk_topic *topic_of(struct fake_kafka *fk, const char *name)
{
	for (size_t i = 0; i < fk->ntopics; i++)
		if (strcmp(fk->topics[i]->name, name) == 0)
			return fk->topics[i];
	fk->topics = must(realloc(fk->topics, (fk->ntopics + 1) * sizeof(*fk->topics)));
	struct fk_topic *t = must(calloc(1, sizeof(*t)));
	t->name = must(strdup(name));
	fk->topics[fk->ntopics++] = t;
	return t;
}

/* Makes `t` exist with at least `n` partitions. Caller holds mu. */
static void topic_grow(struct fk_topic *t, int32_t n)
{
	t->exists = true;
	if (n <= t->nparts)
		return;
	t->parts = must(realloc(t->parts, (size_t)n * sizeof(*t->parts)));
	for (int32_t p = t->nparts; p < n; p++)
		t->parts[p] = (struct fk_part){
		        .committed = RD_KAFKA_OFFSET_INVALID, .stored = -1, .seeked = -1};
	t->nparts = n;
}

static struct fk_part *part_of(struct fake_kafka *fk, const char *topic, int32_t partition)
{
	struct fk_topic *t = topic_of(fk, topic);

	topic_grow(t, partition + 1);
	return &t->parts[partition];
}

static int64_t log_append(struct fk_part *pt, char *key, char *payload, rd_kafka_headers_t *hdrs,
                          int64_t ts)
{
	if (pt->nlog == pt->cap) {
		pt->cap = pt->cap ? 2 * pt->cap : 8;
		pt->log = must(realloc(pt->log, pt->cap * sizeof(*pt->log)));
	}
	pt->log[pt->nlog] = (struct fk_logmsg){key, payload, hdrs, ts};
	return (int64_t)pt->nlog++;
}

/* ---- set-up and inspection -------------------------------------------------- */

struct fake_kafka *fake_kafka_new(void)
{
	struct fake_kafka *fk = calloc(1, sizeof(*fk));

	if (!fk)
		return NULL;
	pthread_mutex_init(&fk->mu, NULL);
	pthread_cond_init(&fk->cond, NULL);
	fk->brokers = 1;
	snprintf(fk->protocol, sizeof(fk->protocol), "EAGER");
	current = fk;
	return fk;
}

static void event_free(struct fk_event *e)
{
	free(e->key);
	free(e->payload);
	if (e->hdrs)
		rd_kafka_headers_destroy(e->hdrs);
	free(e);
}

void fake_kafka_free(struct fake_kafka *fk)
{
	if (!fk)
		return;
	for (size_t i = 0; i < fk->ntopics; i++) {
		struct fk_topic *t = fk->topics[i];
		for (int32_t p = 0; p < t->nparts; p++) {
			for (size_t j = 0; j < t->parts[p].nlog; j++) {
				free(t->parts[p].log[j].key);
				free(t->parts[p].log[j].payload);
				if (t->parts[p].log[j].hdrs)
					rd_kafka_headers_destroy(t->parts[p].log[j].hdrs);
			}
			free(t->parts[p].log);
		}
		free(t->parts);
		free(t->name);
		free(t);
	}
	free(fk->topics);
	for (size_t i = 0; i < fk->nproduced; i++) {
		free(fk->produced[i].topic);
		free(fk->produced[i].key);
		free(fk->produced[i].payload);
		if (fk->produced[i].hdrs)
			rd_kafka_headers_destroy(fk->produced[i].hdrs);
	}
	free(fk->produced);
	free(fk->reports);
	free(fk->report_errs);
	while (fk->script) {
		struct fk_event *e = fk->script;
		fk->script = e->next;
		event_free(e);
	}
	pthread_cond_destroy(&fk->cond);
	pthread_mutex_destroy(&fk->mu);
	if (current == fk)
		current = NULL;
	free(fk);
}

void fake_kafka_install(struct fake_kafka *fk, struct sc_kafka_client *k)
{
	current = fk;
	k->ops = &fake_kafka_ops;
}

void fake_kafka_sidecar_config(struct fake_kafka *fk, struct sc_config *cfg)
{
	cfg->kafka.brokers = "fake:9092";
	snprintf(cfg->log_name, sizeof(cfg->log_name), "test-sidecar");
	cfg->service = "test";
	snprintf(cfg->group, sizeof(cfg->group), "test-service");
	snprintf(cfg->dlq_topic, sizeof(cfg->dlq_topic), "test.dlq");
	cfg->kafka_compression = "lz4";
	cfg->kafka_linger_ms = 5;
	cfg->kafka_timeout_ms = 30000;
	cfg->kafka_fetch_wait_ms = 500;
	cfg->kafka_fetch_min_bytes = 1;
	fake_kafka_install(fk, &cfg->kafka);
}

void fake_kafka_topic(struct fake_kafka *fk, const char *topic, int32_t partitions)
{
	pthread_mutex_lock(&fk->mu);
	topic_grow(topic_of(fk, topic), partitions);
	pthread_mutex_unlock(&fk->mu);
}

int64_t fake_kafka_append(struct fake_kafka *fk, const char *topic, int32_t partition,
                          const char *key, const char *payload, rd_kafka_headers_t *hdrs,
                          int64_t timestamp_ms)
{
	pthread_mutex_lock(&fk->mu);
	int64_t off = log_append(part_of(fk, topic, partition), dup_or_null(key),
	                         dup_or_null(payload), hdrs, timestamp_ms);
	pthread_mutex_unlock(&fk->mu);
	return off;
}

void fake_kafka_set_low(struct fake_kafka *fk, const char *topic, int32_t partition, int64_t low)
{
	pthread_mutex_lock(&fk->mu);
	part_of(fk, topic, partition)->low = low;
	pthread_mutex_unlock(&fk->mu);
}

void fake_kafka_set_committed(struct fake_kafka *fk, const char *topic, int32_t partition,
                              int64_t offset)
{
	pthread_mutex_lock(&fk->mu);
	part_of(fk, topic, partition)->committed = offset;
	pthread_mutex_unlock(&fk->mu);
}

void fake_kafka_set_brokers(struct fake_kafka *fk, int n)
{
	pthread_mutex_lock(&fk->mu);
	fk->brokers = n;
	pthread_mutex_unlock(&fk->mu);
}

void fake_kafka_set_fatal(struct fake_kafka *fk, rd_kafka_resp_err_t err)
{
	pthread_mutex_lock(&fk->mu);
	fk->fatal = err;
	pthread_mutex_unlock(&fk->mu);
}

void fake_kafka_set_protocol(struct fake_kafka *fk, const char *protocol)
{
	pthread_mutex_lock(&fk->mu);
	snprintf(fk->protocol, sizeof(fk->protocol), "%s", protocol);
	pthread_mutex_unlock(&fk->mu);
}

static enum op op_named(const char *name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return (enum op)i;
	fprintf(stderr, "fake_kafka: no operation %s\n", name);
	abort();
}

void fake_kafka_fail(struct fake_kafka *fk, const char *op, rd_kafka_resp_err_t err, int times)
{
	fake_kafka_fail_after(fk, op, 0, err, times);
}

void fake_kafka_fail_after(struct fake_kafka *fk, const char *op, unsigned skip,
                           rd_kafka_resp_err_t err, int times)
{
	enum op o = op_named(op);

	pthread_mutex_lock(&fk->mu);
	fk->fail_err[o] = err;
	fk->fail_times[o] = times;
	fk->fail_skip[o] = skip;
	pthread_mutex_unlock(&fk->mu);
}

unsigned fake_kafka_calls(struct fake_kafka *fk, const char *op)
{
	enum op o = op_named(op);

	pthread_mutex_lock(&fk->mu);
	unsigned n = fk->calls[o];
	pthread_mutex_unlock(&fk->mu);
	return n;
}

void fake_kafka_report(struct fake_kafka *fk, rd_kafka_resp_err_t err)
{
	pthread_mutex_lock(&fk->mu);
	fk->report_errs =
	        must(realloc(fk->report_errs, (fk->nreport_errs + 1) * sizeof(*fk->report_errs)));
	fk->report_errs[fk->nreport_errs++] = err;
	pthread_mutex_unlock(&fk->mu);
}

void fake_kafka_hold_reports(struct fake_kafka *fk, bool hold)
{
	pthread_mutex_lock(&fk->mu);
	fk->hold = hold;
	pthread_cond_broadcast(&fk->cond);
	pthread_mutex_unlock(&fk->mu);
}

size_t fake_kafka_produced_count(struct fake_kafka *fk)
{
	pthread_mutex_lock(&fk->mu);
	size_t n = fk->nproduced;
	pthread_mutex_unlock(&fk->mu);
	return n;
}

const struct fake_kafka_produced *fake_kafka_produced(struct fake_kafka *fk, size_t i)
{
	pthread_mutex_lock(&fk->mu);
	const struct fake_kafka_produced *p = i < fk->nproduced ? &fk->produced[i] : NULL;
	pthread_mutex_unlock(&fk->mu);
	return p;
}

/* Whether produced message `p` went to `topic` with `payload` (NULL: any). */
static bool produced_is(const struct fake_kafka_produced *p, const char *topic, const char *payload)
{
	return strcmp(p->topic, topic) == 0 &&
	       (!payload || (p->payload && strcmp(p->payload, payload) == 0));
}

long fake_kafka_find(struct fake_kafka *fk, const char *topic, const char *payload, size_t from)
{
	long found = -1;

	pthread_mutex_lock(&fk->mu);
	for (size_t i = from; i < fk->nproduced && found < 0; i++)
		if (produced_is(&fk->produced[i], topic, payload))
			found = (long)i;
	pthread_mutex_unlock(&fk->mu);
	return found;
}

size_t fake_kafka_count(struct fake_kafka *fk, const char *topic, const char *payload)
{
	size_t n = 0;

	pthread_mutex_lock(&fk->mu);
	for (size_t i = 0; i < fk->nproduced; i++)
		n += produced_is(&fk->produced[i], topic, payload);
	pthread_mutex_unlock(&fk->mu);
	return n;
}

const char *fake_kafka_header(const struct fake_kafka_produced *p, const char *name, char *buf,
                              size_t len)
{
	const void *value = NULL;
	size_t size = 0;

	if (!p || !p->hdrs ||
	    rd_kafka_header_get_last(p->hdrs, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (size >= len)
		size = len - 1;
	if (size)
		memcpy(buf, value, size);
	buf[size] = '\0';
	return buf;
}

static void script_add(struct fake_kafka *fk, struct fk_event *e)
{
	pthread_mutex_lock(&fk->mu);
	if (e->kind != EV_ERROR)
		e->t = topic_of(fk, (const char *)e->t);
	if (fk->script_tail)
		fk->script_tail->next = e;
	else
		fk->script = e;
	fk->script_tail = e;
	fk->nscript++;
	pthread_cond_broadcast(&fk->cond);
	pthread_mutex_unlock(&fk->mu);
}

void fake_kafka_push_message(struct fake_kafka *fk, const char *topic, int32_t partition,
                             int64_t offset, const char *key, const char *payload,
                             rd_kafka_headers_t *hdrs)
{
	struct fk_event *e = must(calloc(1, sizeof(*e)));

	e->kind = EV_MESSAGE;
	e->t = (struct fk_topic *)(void *)topic; /* resolved by script_add */
	e->partition = partition;
	e->offset = offset;
	e->key = dup_or_null(key);
	e->payload = dup_or_null(payload);
	e->hdrs = hdrs;
	script_add(fk, e);
}

void fake_kafka_push_error(struct fake_kafka *fk, rd_kafka_resp_err_t err)
{
	struct fk_event *e = must(calloc(1, sizeof(*e)));

	e->kind = EV_ERROR;
	e->err = err;
	script_add(fk, e);
}

void fake_kafka_push_rebalance(struct fake_kafka *fk, rd_kafka_resp_err_t err, const char *topic,
                               int32_t partition)
{
	struct fk_event *e = must(calloc(1, sizeof(*e)));

	e->kind = EV_REBALANCE;
	e->err = err;
	e->t = (struct fk_topic *)(void *)topic;
	e->partition = partition;
	script_add(fk, e);
}

size_t fake_kafka_script_left(struct fake_kafka *fk)
{
	pthread_mutex_lock(&fk->mu);
	size_t n = fk->nscript;
	pthread_mutex_unlock(&fk->mu);
	return n;
}

int64_t fake_kafka_stored(struct fake_kafka *fk, const char *topic, int32_t partition)
{
	pthread_mutex_lock(&fk->mu);
	int64_t v = part_of(fk, topic, partition)->stored;
	pthread_mutex_unlock(&fk->mu);
	return v;
}

bool fake_kafka_paused(struct fake_kafka *fk, const char *topic, int32_t partition)
{
	pthread_mutex_lock(&fk->mu);
	bool v = part_of(fk, topic, partition)->paused;
	pthread_mutex_unlock(&fk->mu);
	return v;
}

int64_t fake_kafka_seeked(struct fake_kafka *fk, const char *topic, int32_t partition)
{
	pthread_mutex_lock(&fk->mu);
	int64_t v = part_of(fk, topic, partition)->seeked;
	pthread_mutex_unlock(&fk->mu);
	return v;
}

unsigned fake_kafka_clients(struct fake_kafka *fk)
{
	if (!fk)
		return 0;
	pthread_mutex_lock(&fk->mu);
	unsigned n = fk->clients;
	pthread_mutex_unlock(&fk->mu);
	return n;
}

const char *fake_kafka_subscription(struct fake_kafka *fk)
{
	return fk->subscription;
}

/* ---- the table: clients -------------------------------------------------------- */

/* The pending callbacks of `conf`, made on first use. Caller holds mu. */
static struct fk_conf *conf_of(const rd_kafka_conf_t *conf)
{
	struct fk_conf *free_slot = NULL;

	for (size_t i = 0; i < sizeof(current->confs) / sizeof(current->confs[0]); i++) {
		if (current->confs[i].conf == conf)
			return &current->confs[i];
		if (!current->confs[i].conf && !free_slot)
			free_slot = &current->confs[i];
	}
	struct fk_conf *slot = must(free_slot); /* more configurations than the fake holds */
	slot->conf = conf;
	return slot;
}

static void fk_conf_set_dr_msg_cb(rd_kafka_conf_t *conf, sc_kafka_dr_msg_cb cb)
{
	pthread_mutex_lock(&current->mu);
	conf_of(conf)->dr = cb;
	pthread_mutex_unlock(&current->mu);
}

static void fk_conf_set_error_cb(rd_kafka_conf_t *conf, sc_kafka_error_cb cb)
{
	(void)conf;
	(void)cb; /* the fake reports no client errors */
}

static void fk_conf_set_log_cb(rd_kafka_conf_t *conf, sc_kafka_log_cb cb)
{
	(void)conf;
	(void)cb;
}

static void fk_conf_set_rebalance_cb(rd_kafka_conf_t *conf, sc_kafka_rebalance_cb cb)
{
	pthread_mutex_lock(&current->mu);
	conf_of(conf)->rebalance = cb;
	pthread_mutex_unlock(&current->mu);
}

static void fk_conf_set_opaque(rd_kafka_conf_t *conf, void *opaque)
{
	pthread_mutex_lock(&current->mu);
	conf_of(conf)->opaque = opaque;
	pthread_mutex_unlock(&current->mu);
}

static struct fk_client *client_of(rd_kafka_t *rk)
{
	return (struct fk_client *)(void *)rk;
}

static rd_kafka_t *fk_new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
                                 size_t errlen)
{
	struct fake_kafka *fk = current;

	pthread_mutex_lock(&fk->mu);
	struct fk_conf *cc = conf_of(conf);
	struct fk_conf saved = *cc;
	*cc = (struct fk_conf){0};
	if (enter(fk, OP_NEW_CLIENT)) {
		pthread_mutex_unlock(&fk->mu);
		snprintf(errstr, errlen, "fake: client refused");
		return NULL;
	}
	fk->clients++;
	pthread_mutex_unlock(&fk->mu);
	struct fk_client *c = must(calloc(1, sizeof(*c)));
	c->type = type;
	c->dr = saved.dr;
	c->rebalance = saved.rebalance;
	c->opaque = saved.opaque;
	rd_kafka_conf_destroy(conf); /* the client's now */
	return (rd_kafka_t *)(void *)c;
}

static void fk_destroy(rd_kafka_t *rk)
{
	struct fk_client *c = client_of(rk);

	pthread_mutex_lock(&current->mu);
	enter(current, OP_DESTROY);
	current->clients--;
	/* reports still waiting for this client are dropped */
	size_t kept = 0;
	for (size_t i = 0; i < current->nreports; i++)
		if (current->reports[i].c != c)
			current->reports[kept++] = current->reports[i];
	current->nreports = kept;
	pthread_mutex_unlock(&current->mu);
	free(c->assigned);
	free(c);
}

static rd_kafka_resp_err_t fk_fatal_error(rd_kafka_t *rk, char *errstr, size_t errlen)
{
	(void)rk;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = current->fatal;
	pthread_mutex_unlock(&current->mu);
	if (err)
		snprintf(errstr, errlen, "fake fatal error");
	return err;
}

/* ---- the table: producing ------------------------------------------------------ */

static rd_kafka_resp_err_t fk_produce(rd_kafka_t *rk, const char *topic, const void *key,
                                      size_t keylen, const void *payload, size_t len,
                                      rd_kafka_headers_t *hdrs, void *opaque)
{
	struct fake_kafka *fk = current;
	struct fake_kafka_produced p = {0};

	pthread_mutex_lock(&fk->mu);
	rd_kafka_resp_err_t err = enter(fk, OP_PRODUCE);
	if (err) {
		pthread_mutex_unlock(&fk->mu);
		return err;
	}
	p.topic = must(strdup(topic));
	if (key) {
		p.key = must(malloc(keylen + 1));
		memcpy(p.key, key, keylen);
		((char *)p.key)[keylen] = '\0';
		p.keylen = keylen;
	}
	if (payload) {
		p.payload = must(malloc(len + 1));
		memcpy(p.payload, payload, len);
		((char *)p.payload)[len] = '\0';
		p.len = len;
	}
	p.hdrs = hdrs;
	fk->produced = must(realloc(fk->produced, (fk->nproduced + 1) * sizeof(*fk->produced)));
	fk->produced[fk->nproduced] = p;
	fk->reports = must(realloc(fk->reports, (fk->nreports + 1) * sizeof(*fk->reports)));
	fk->reports[fk->nreports++] =
	        (struct fk_report){.c = client_of(rk), .produced = fk->nproduced, .opaque = opaque};
	fk->nproduced++;
	pthread_cond_broadcast(&fk->cond);
	pthread_mutex_unlock(&fk->mu);
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Serves the waiting reports of `c` (all of them unless held): how many. */
static int serve_reports(struct fk_client *c)
{
	struct fake_kafka *fk = current;
	int served = 0;

	for (;;) {
		pthread_mutex_lock(&fk->mu);
		size_t i = 0;
		while (i < fk->nreports && fk->reports[i].c != c)
			i++;
		if (fk->hold || i == fk->nreports) {
			pthread_mutex_unlock(&fk->mu);
			return served;
		}
		struct fk_report r = fk->reports[i];
		for (size_t j = i + 1; j < fk->nreports; j++)
			fk->reports[j - 1] = fk->reports[j];
		fk->nreports--;
		rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
		if (fk->nreport_errs > 0) {
			err = fk->report_errs[0];
			for (size_t j = 1; j < fk->nreport_errs; j++)
				fk->report_errs[j - 1] = fk->report_errs[j];
			fk->nreport_errs--;
		}
		struct fake_kafka_produced *p = &fk->produced[r.produced];
		struct fk_topic *t = topic_of(fk, p->topic);
		rd_kafka_message_t m = {
		        .err = err,
		        .rkt = (rd_kafka_topic_t *)(void *)t,
		        .partition = 0,
		        .payload = p->payload,
		        .len = p->len,
		        .key = p->key,
		        .key_len = p->keylen,
		        .offset = -1,
		        ._private = r.opaque,
		};
		if (!err) {
			topic_grow(t, 1);
			m.offset = log_append(&t->parts[0], dup_or_null(p->key),
			                      dup_or_null(p->payload),
			                      p->hdrs ? rd_kafka_headers_copy(p->hdrs) : NULL, 0);
		}
		p->reported = true;
		p->error = err;
		pthread_mutex_unlock(&fk->mu);
		if (c->dr)
			c->dr((rd_kafka_t *)(void *)c, &m, c->opaque);
		served++;
	}
}

/* Milliseconds from now to `end` (monotonic), 0 once it passed. */
static int ms_left(uint64_t end)
{
	uint64_t now = svc_mono_ms();

	return now >= end ? 0 : (int)(end - now);
}

/* Waits up to ms for something to change (a produce, a script, a release). */
static void wait_a_little(int ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	if (ms > 20)
		ms = 20;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&current->mu);
	pthread_cond_timedwait(&current->cond, &current->mu, &ts);
	pthread_mutex_unlock(&current->mu);
}

static int fk_poll(rd_kafka_t *rk, int timeout_ms)
{
	enter_locked(OP_POLL);
	int n = serve_reports(client_of(rk));
	if (n == 0) {
		wait_a_little(timeout_ms);
		n = serve_reports(client_of(rk));
	}
	return n;
}

static int pending_of(struct fk_client *c)
{
	int n = 0;

	pthread_mutex_lock(&current->mu);
	for (size_t i = 0; i < current->nreports; i++)
		n += current->reports[i].c == c;
	pthread_mutex_unlock(&current->mu);
	return n;
}

static rd_kafka_resp_err_t fk_flush(rd_kafka_t *rk, int timeout_ms)
{
	uint64_t end = svc_mono_ms() + (uint64_t)timeout_ms;
	rd_kafka_resp_err_t err = enter_locked(OP_FLUSH);

	if (err)
		return err;
	for (;;) {
		serve_reports(client_of(rk));
		if (pending_of(client_of(rk)) == 0)
			return RD_KAFKA_RESP_ERR_NO_ERROR;
		if (svc_mono_ms() >= end)
			return RD_KAFKA_RESP_ERR__TIMED_OUT;
		wait_a_little(10);
	}
}

static int fk_outq_len(rd_kafka_t *rk)
{
	return pending_of(client_of(rk));
}

/* ---- the table: metadata and offsets ---------------------------------------- */

static void fill_topic(struct rd_kafka_metadata_topic *mt, const struct fk_topic *t)
{
	mt->topic = must(strdup(t->name));
	if (!t->exists) {
		mt->err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		return;
	}
	mt->partition_cnt = t->nparts;
	mt->partitions = must(calloc((size_t)t->nparts + 1, sizeof(*mt->partitions)));
	for (int32_t p = 0; p < t->nparts; p++)
		mt->partitions[p].id = p;
}

static rd_kafka_resp_err_t fk_metadata(rd_kafka_t *rk, int all_topics, rd_kafka_topic_t *only,
                                       const struct rd_kafka_metadata **mdp, int timeout_ms)
{
	struct fake_kafka *fk = current;
	struct rd_kafka_metadata *md;

	(void)rk;
	(void)timeout_ms;
	pthread_mutex_lock(&fk->mu);
	rd_kafka_resp_err_t err = enter(fk, OP_METADATA);
	if (err) {
		pthread_mutex_unlock(&fk->mu);
		return err;
	}
	md = must(calloc(1, sizeof(*md)));
	md->broker_cnt = fk->brokers;
	md->brokers = must(calloc((size_t)fk->brokers + 1, sizeof(*md->brokers)));
	for (int i = 0; i < fk->brokers; i++) {
		md->brokers[i].id = i;
		md->brokers[i].host = must(strdup("fake"));
		md->brokers[i].port = 9092;
	}
	md->topics = must(calloc(fk->ntopics + 1, sizeof(*md->topics)));
	if (only) {
		fill_topic(&md->topics[md->topic_cnt++], (struct fk_topic *)(void *)only);
	} else if (all_topics) {
		for (size_t i = 0; i < fk->ntopics; i++)
			if (fk->topics[i]->exists)
				fill_topic(&md->topics[md->topic_cnt++], fk->topics[i]);
	}
	pthread_mutex_unlock(&fk->mu);
	*mdp = md;
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static void fk_metadata_destroy(const struct rd_kafka_metadata *md)
{
	for (int i = 0; i < md->broker_cnt; i++)
		free(md->brokers[i].host);
	free(md->brokers);
	for (int i = 0; i < md->topic_cnt; i++) {
		free(md->topics[i].topic);
		free(md->topics[i].partitions);
	}
	free(md->topics);
	free((void *)md);
}

static rd_kafka_topic_t *fk_topic_new(rd_kafka_t *rk, const char *topic,
                                      rd_kafka_topic_conf_t *conf)
{
	(void)rk;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_TOPIC_NEW);
	struct fk_topic *t = err ? NULL : topic_of(current, topic);
	pthread_mutex_unlock(&current->mu);
	if (conf)
		rd_kafka_topic_conf_destroy(conf);
	return (rd_kafka_topic_t *)(void *)t;
}

static void fk_topic_destroy(rd_kafka_topic_t *rkt)
{
	(void)rkt; /* topics live as long as the fake */
}

static const char *fk_topic_name(const rd_kafka_topic_t *rkt)
{
	return ((const struct fk_topic *)(const void *)rkt)->name;
}

/* The partition, or NULL when the topic or partition does not exist. Caller holds mu. */
static struct fk_part *find_part(struct fake_kafka *fk, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < fk->ntopics; i++)
		if (strcmp(fk->topics[i]->name, topic) == 0)
			return fk->topics[i]->exists && partition >= 0 &&
			                       partition < fk->topics[i]->nparts
			               ? &fk->topics[i]->parts[partition]
			               : NULL;
	return NULL;
}

static rd_kafka_resp_err_t fk_query_watermark_offsets(rd_kafka_t *rk, const char *topic,
                                                      int32_t partition, int64_t *low,
                                                      int64_t *high, int timeout_ms)
{
	(void)rk;
	(void)timeout_ms;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_QUERY_WATERMARK_OFFSETS);
	struct fk_part *pt = err ? NULL : find_part(current, topic, partition);
	if (!err && !pt)
		err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
	if (pt) {
		*high = (int64_t)pt->nlog;
		*low = pt->low < *high ? pt->low : *high;
	}
	pthread_mutex_unlock(&current->mu);
	return err;
}

/* Only the log end and start can be asked for (RD_KAFKA_OFFSET_END,
 * _BEGINNING): the fake keeps no timestamps to search. */
static rd_kafka_resp_err_t
fk_offsets_for_times(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int timeout_ms)
{
	(void)rk;
	(void)timeout_ms;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_OFFSETS_FOR_TIMES);
	for (int i = 0; !err && i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &parts->elems[i];
		struct fk_part *pt = find_part(current, tp->topic, tp->partition);
		int64_t high = pt ? (int64_t)pt->nlog : -1;

		tp->err = RD_KAFKA_RESP_ERR_NO_ERROR;
		if (!pt)
			tp->err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		else if (tp->offset == RD_KAFKA_OFFSET_END)
			tp->offset = high;
		else if (tp->offset == RD_KAFKA_OFFSET_BEGINNING)
			tp->offset = pt->low < high ? pt->low : high;
		else
			tp->err = RD_KAFKA_RESP_ERR__INVALID_ARG;
		if (tp->err)
			tp->offset = RD_KAFKA_OFFSET_INVALID;
	}
	pthread_mutex_unlock(&current->mu);
	return err;
}

static rd_kafka_resp_err_t fk_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                                        int timeout_ms)
{
	(void)rk;
	(void)timeout_ms;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_COMMITTED);
	for (int i = 0; !err && i < parts->cnt; i++) {
		struct fk_part *pt =
		        find_part(current, parts->elems[i].topic, parts->elems[i].partition);
		parts->elems[i].offset = pt ? pt->committed : RD_KAFKA_OFFSET_INVALID;
	}
	pthread_mutex_unlock(&current->mu);
	return err;
}

/* ---- the table: consuming ------------------------------------------------------ */

static rd_kafka_resp_err_t fk_poll_set_consumer(rd_kafka_t *rk)
{
	(void)rk;
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t fk_subscribe(rd_kafka_t *rk,
                                        const rd_kafka_topic_partition_list_t *topics)
{
	(void)rk;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_SUBSCRIBE);
	if (!err) {
		current->subscription[0] = '\0';
		for (int i = 0; i < topics->cnt; i++) {
			size_t n = strlen(current->subscription);
			snprintf(current->subscription + n, sizeof(current->subscription) - n,
			         "%s%s", i ? "," : "", topics->elems[i].topic);
		}
	}
	pthread_mutex_unlock(&current->mu);
	return err;
}

static rd_kafka_message_t *message_new(rd_kafka_resp_err_t err, struct fk_topic *t,
                                       int32_t partition, int64_t offset, const char *key,
                                       const char *payload, const rd_kafka_headers_t *hdrs,
                                       int64_t ts)
{
	struct fk_message *fm = must(calloc(1, sizeof(*fm)));

	fm->m.err = err;
	fm->m.rkt = (rd_kafka_topic_t *)(void *)t;
	fm->m.partition = partition;
	fm->m.offset = offset;
	if (key) {
		fm->m.key = must(strdup(key));
		fm->m.key_len = strlen(key);
	}
	if (payload) {
		fm->m.payload = must(strdup(payload));
		fm->m.len = strlen(payload);
	}
	fm->hdrs = hdrs ? rd_kafka_headers_copy(hdrs) : NULL;
	fm->timestamp_ms = ts;
	return &fm->m;
}

/* The next message of an assigned partition's log, or its end. Caller holds mu. */
static rd_kafka_message_t *from_log(struct fk_client *c)
{
	for (size_t i = 0; i < c->nassigned; i++) {
		struct fk_assigned *a = &c->assigned[i];
		if (a->partition >= a->t->nparts)
			continue;
		struct fk_part *pt = &a->t->parts[a->partition];
		if (a->position < pt->low)
			a->position = pt->low;
		if (a->position < (int64_t)pt->nlog) {
			const struct fk_logmsg *l = &pt->log[a->position];
			return message_new(RD_KAFKA_RESP_ERR_NO_ERROR, a->t, a->partition,
			                   a->position++, l->key, l->payload, l->hdrs,
			                   l->timestamp_ms);
		}
		if (a->eof) {
			a->eof = false;
			return message_new(RD_KAFKA_RESP_ERR__PARTITION_EOF, a->t, a->partition,
			                   a->position, NULL, NULL, NULL, -1);
		}
	}
	return NULL;
}

static rd_kafka_message_t *fk_consumer_poll(rd_kafka_t *rk, int timeout_ms)
{
	struct fake_kafka *fk = current;
	struct fk_client *c = client_of(rk);
	uint64_t end = svc_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		pthread_mutex_lock(&fk->mu);
		if (enter(fk, OP_CONSUMER_POLL)) {
			/* an injected failure: nothing arrives */
			pthread_mutex_unlock(&fk->mu);
			wait_a_little(ms_left(end));
			if (svc_mono_ms() >= end)
				return NULL;
			continue;
		}
		struct fk_event *e = fk->script;
		if (e) {
			fk->script = e->next;
			if (!fk->script)
				fk->script_tail = NULL;
			fk->nscript--;
		}
		rd_kafka_message_t *m = e ? NULL : from_log(c);
		pthread_mutex_unlock(&fk->mu);
		if (m)
			return m;
		if (e && e->kind == EV_REBALANCE) {
			rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
			rd_kafka_topic_partition_list_add(l, e->t->name, e->partition);
			if (c->rebalance)
				c->rebalance(rk, e->err, l, c->opaque);
			rd_kafka_topic_partition_list_destroy(l);
			event_free(e);
			return NULL;
		}
		if (e) {
			m = message_new(e->err, e->t, e->partition, e->offset, e->key, e->payload,
			                e->hdrs, -1);
			event_free(e);
			return m;
		}
		if (svc_mono_ms() >= end)
			return NULL;
		wait_a_little(ms_left(end));
	}
}

static rd_kafka_resp_err_t fk_consumer_close(rd_kafka_t *rk)
{
	(void)rk;
	return enter_locked(OP_CONSUMER_CLOSE);
}

static const char *fk_rebalance_protocol(rd_kafka_t *rk)
{
	(void)rk;
	return current->protocol;
}

/* Adds (or, with remove, takes away) the partitions of `parts` to c's
 * assignment. Caller holds mu. */
static void assignment_change(struct fk_client *c, const rd_kafka_topic_partition_list_t *parts,
                              bool remove)
{
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &parts->elems[i];
		size_t j = 0;
		while (j < c->nassigned && !(strcmp(c->assigned[j].t->name, tp->topic) == 0 &&
		                             c->assigned[j].partition == tp->partition))
			j++;
		if (remove) {
			if (j < c->nassigned)
				c->assigned[j] = c->assigned[--c->nassigned];
			continue;
		}
		if (j == c->nassigned) {
			c->assigned = must(
			        realloc(c->assigned, (c->nassigned + 1) * sizeof(*c->assigned)));
			c->nassigned++;
		}
		c->assigned[j] = (struct fk_assigned){
		        .t = topic_of(current, tp->topic),
		        .partition = tp->partition,
		        .position = tp->offset >= 0 ? tp->offset : 0,
		        .eof = tp->offset >= 0,
		};
	}
}

static rd_kafka_resp_err_t fk_assign(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts)
{
	struct fk_client *c = client_of(rk);

	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_ASSIGN);
	if (!err) {
		c->nassigned = 0;
		if (parts)
			assignment_change(c, parts, false);
	}
	pthread_cond_broadcast(&current->cond);
	pthread_mutex_unlock(&current->mu);
	return err;
}

static rd_kafka_error_t *incremental(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts,
                                     enum op op)
{
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, op);
	if (!err)
		assignment_change(client_of(rk), parts, op == OP_INCREMENTAL_UNASSIGN);
	pthread_mutex_unlock(&current->mu);
	return err ? rd_kafka_error_new(err, "fake: %s refused", op_names[op]) : NULL;
}

static rd_kafka_error_t *fk_incremental_assign(rd_kafka_t *rk,
                                               const rd_kafka_topic_partition_list_t *parts)
{
	return incremental(rk, parts, OP_INCREMENTAL_ASSIGN);
}

static rd_kafka_error_t *fk_incremental_unassign(rd_kafka_t *rk,
                                                 const rd_kafka_topic_partition_list_t *parts)
{
	return incremental(rk, parts, OP_INCREMENTAL_UNASSIGN);
}

static rd_kafka_resp_err_t pause_resume(rd_kafka_topic_partition_list_t *parts, enum op op)
{
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, op);
	for (int i = 0; !err && i < parts->cnt; i++) {
		part_of(current, parts->elems[i].topic, parts->elems[i].partition)->paused =
		        op == OP_PAUSE_PARTITIONS;
		parts->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
	}
	pthread_mutex_unlock(&current->mu);
	return err;
}

static rd_kafka_resp_err_t fk_pause_partitions(rd_kafka_t *rk,
                                               rd_kafka_topic_partition_list_t *parts)
{
	(void)rk;
	return pause_resume(parts, OP_PAUSE_PARTITIONS);
}

static rd_kafka_resp_err_t fk_resume_partitions(rd_kafka_t *rk,
                                                rd_kafka_topic_partition_list_t *parts)
{
	(void)rk;
	return pause_resume(parts, OP_RESUME_PARTITIONS);
}

static rd_kafka_error_t *fk_seek_partitions(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                                            int timeout_ms)
{
	(void)rk;
	(void)timeout_ms;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_SEEK_PARTITIONS);
	for (int i = 0; !err && i < parts->cnt; i++)
		part_of(current, parts->elems[i].topic, parts->elems[i].partition)->seeked =
		        parts->elems[i].offset;
	pthread_mutex_unlock(&current->mu);
	return err ? rd_kafka_error_new(err, "fake: seek refused") : NULL;
}

static rd_kafka_resp_err_t fk_offsets_store(rd_kafka_t *rk,
                                            rd_kafka_topic_partition_list_t *offsets)
{
	(void)rk;
	pthread_mutex_lock(&current->mu);
	rd_kafka_resp_err_t err = enter(current, OP_OFFSETS_STORE);
	for (int i = 0; !err && i < offsets->cnt; i++)
		part_of(current, offsets->elems[i].topic, offsets->elems[i].partition)->stored =
		        offsets->elems[i].offset;
	pthread_mutex_unlock(&current->mu);
	return err;
}

/* ---- the table: consumed messages --------------------------------------------- */

static void fk_message_destroy(rd_kafka_message_t *m)
{
	struct fk_message *fm = (struct fk_message *)(void *)m;

	enter_locked(OP_MESSAGE_DESTROY);
	free(fm->m.key);
	free(fm->m.payload);
	if (fm->hdrs)
		rd_kafka_headers_destroy(fm->hdrs);
	free(fm);
}

static rd_kafka_resp_err_t fk_message_headers(const rd_kafka_message_t *m,
                                              rd_kafka_headers_t **hdrs)
{
	const struct fk_message *fm = (const struct fk_message *)(const void *)m;

	*hdrs = fm->hdrs;
	return fm->hdrs ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__NOENT;
}

static int64_t fk_message_timestamp(const rd_kafka_message_t *m, rd_kafka_timestamp_type_t *tstype)
{
	const struct fk_message *fm = (const struct fk_message *)(const void *)m;

	*tstype = fm->timestamp_ms >= 0 ? RD_KAFKA_TIMESTAMP_CREATE_TIME
	                                : RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
	return fm->timestamp_ms;
}

const struct sc_kafka_ops fake_kafka_ops = {
        .new_client = fk_new_client,
        .destroy = fk_destroy,
        .conf_set_dr_msg_cb = fk_conf_set_dr_msg_cb,
        .conf_set_error_cb = fk_conf_set_error_cb,
        .conf_set_log_cb = fk_conf_set_log_cb,
        .conf_set_rebalance_cb = fk_conf_set_rebalance_cb,
        .conf_set_opaque = fk_conf_set_opaque,
        .produce = fk_produce,
        .poll = fk_poll,
        .flush = fk_flush,
        .outq_len = fk_outq_len,
        .fatal_error = fk_fatal_error,
        .metadata = fk_metadata,
        .metadata_destroy = fk_metadata_destroy,
        .topic_new = fk_topic_new,
        .topic_destroy = fk_topic_destroy,
        .topic_name = fk_topic_name,
        .query_watermark_offsets = fk_query_watermark_offsets,
        .committed = fk_committed,
        .offsets_for_times = fk_offsets_for_times,
        .poll_set_consumer = fk_poll_set_consumer,
        .subscribe = fk_subscribe,
        .consumer_poll = fk_consumer_poll,
        .consumer_close = fk_consumer_close,
        .rebalance_protocol = fk_rebalance_protocol,
        .assign = fk_assign,
        .incremental_assign = fk_incremental_assign,
        .incremental_unassign = fk_incremental_unassign,
        .pause_partitions = fk_pause_partitions,
        .resume_partitions = fk_resume_partitions,
        .seek_partitions = fk_seek_partitions,
        .offsets_store = fk_offsets_store,
        .message_destroy = fk_message_destroy,
        .message_headers = fk_message_headers,
        .message_timestamp = fk_message_timestamp,
};
