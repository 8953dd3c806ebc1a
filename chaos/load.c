/*
 * The open-model order load of a chaos scenario (see load.h).
 */
#include "chaos/load.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/clock.h"
#include "svc/event.h"
#include "svc/log.h"

#define RESP_MAX    2048
#define BODY_MAX    256
#define WAIT_MAX_MS 100

struct slot {
	CURL *easy;
	struct curl_slist *headers;
	size_t record; /* index into records */
	int64_t start_us;
	char body[BODY_MAX];
	char resp[RESP_MAX];
	size_t resp_len;
	bool busy;
};

struct chaos_load {
	struct chaos_load_config cfg;
	pthread_t thread;
	bool running; /* the thread was started and not joined yet */
	atomic_bool stop;
	CURLM *multi;
	struct slot *slots;
	size_t inflight;
	struct chaos_request *records;
	size_t nrecords, cap;
	int64_t t0_ms, t0_us;
};

size_t chaos_load_product(size_t i, size_t nproducts, int decline_every)
{
	size_t d = decline_every > 0 ? (size_t)decline_every : 0;

	if (nproducts == 0)
		return 0;
	if (d == 0 || nproducts == 1)
		return i % nproducts;
	if (i % d == d - 1)
		return nproducts - 1;
	return (i - i / d) % (nproducts - 1);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct slot *s = userdata;
	size_t n = size * nmemb, room = RESP_MAX - 1 - s->resp_len;

	memcpy(s->resp + s->resp_len, data, n < room ? n : room);
	s->resp_len += n < room ? n : room;
	return n;
}

/* a new record for request i; NULL when out of memory */
static struct chaos_request *new_record(struct chaos_load *l, size_t i, int64_t at_us)
{
	struct chaos_request *r;

	if (l->nrecords == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4096;
		struct chaos_request *grown = realloc(l->records, ncap * sizeof(*grown));

		if (!grown)
			return NULL;
		l->records = grown;
		l->cap = ncap;
	}
	r = &l->records[l->nrecords++];
	memset(r, 0, sizeof(*r));
	r->sent_ms = l->t0_ms + (at_us - l->t0_us) / 1000;
	r->latency_ms = -1;
	r->status = CHAOS_STATUS_DROPPED;
	r->product = (uint16_t)chaos_load_product(i, l->cfg.nproducts, l->cfg.decline_every);
	return r;
}

/* Sends request i in a free slot, or records it as dropped. */
static void start(struct chaos_load *l, size_t i, int64_t now_us)
{
	const struct chaos_load_config *c = &l->cfg;
	struct chaos_request *r = new_record(l, i, now_us);
	struct curl_slist *h = NULL;
	struct slot *s = NULL;
	char key[160];

	if (!r)
		return;
	for (size_t k = 0; k < c->max_inflight && !s; k++)
		if (!l->slots[k].busy)
			s = &l->slots[k];
	if (!s)
		return; /* dropped */
	snprintf(key, sizeof(key), "Idempotency-Key: %s-%zu", c->key_prefix, i);
	h = curl_slist_append(NULL, "Content-Type: application/json");
	h = h ? curl_slist_append(h, "Expect:") : NULL;
	h = h ? curl_slist_append(h, c->auth[i % c->nusers]) : NULL;
	h = h ? curl_slist_append(h, key) : NULL;
	if (!h) {
		r->status = 0; /* could not be sent: counted as no answer */
		r->latency_ms = 0;
		return;
	}
	curl_slist_free_all(s->headers);
	s->headers = h;
	snprintf(s->body, sizeof(s->body), "{\"items\":[{\"productId\":\"%s\",\"quantity\":1}]}",
	         c->products[r->product]);
	s->record = l->nrecords - 1;
	s->start_us = now_us;
	s->resp_len = 0;
	s->busy = true;
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_multi_add_handle(l->multi, s->easy);
	l->inflight++;
}

static void finish(struct chaos_load *l, CURL *easy, CURLcode result)
{
	struct slot *s = NULL;
	struct chaos_request *r;
	long status = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
	r = &l->records[s->record];
	r->latency_ms = (int32_t)(((int64_t)svc_mono_us() - s->start_us) / 1000);
	if (result == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	r->status = (int16_t)status;
	if (status >= 200 && status <= 299) {
		json_t *doc = json_loadb(s->resp, s->resp_len, 0, NULL);
		const char *id = json_string_value(json_object_get(doc, "orderId"));

		if (id && strlen(id) < sizeof(r->order_id))
			memcpy(r->order_id, id, strlen(id) + 1);
		json_decref(doc);
	}
	curl_multi_remove_handle(l->multi, easy);
	s->busy = false;
	l->inflight--;
}

static void *run(void *arg)
{
	struct chaos_load *l = arg;
	double period_us = 1e6 / l->cfg.rate;
	size_t next = 0;
	int running;

	for (;;) {
		int64_t now = (int64_t)svc_mono_us(), due;
		bool stopping = atomic_load(&l->stop);
		CURLMsg *msg;
		int left;
		long wait_ms = WAIT_MAX_MS;

		while (!stopping && l->t0_us + (int64_t)((double)next * period_us) <= now)
			start(l, next++, now);
		curl_multi_perform(l->multi, &running);
		while ((msg = curl_multi_info_read(l->multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				finish(l, msg->easy_handle, msg->data.result);
		if (stopping && l->inflight == 0)
			break;
		if (!stopping) {
			due = l->t0_us + (int64_t)((double)next * period_us) -
			      (int64_t)svc_mono_us();
			wait_ms = due <= 0                   ? 0
			          : due / 1000 < WAIT_MAX_MS ? (long)(due / 1000)
			                                     : WAIT_MAX_MS;
		}
		curl_multi_poll(l->multi, NULL, 0, (int)wait_ms, NULL);
	}
	return NULL;
}

struct chaos_load *chaos_load_start(const struct chaos_load_config *cfg)
{
	struct chaos_load *l = calloc(1, sizeof(*l));
	size_t k;

	if (!l || cfg->rate <= 0 || cfg->nusers == 0 || cfg->nproducts == 0 ||
	    cfg->max_inflight == 0)
		goto fail;
	l->cfg = *cfg;
	atomic_init(&l->stop, false);
	l->multi = curl_multi_init();
	l->slots = calloc(cfg->max_inflight, sizeof(*l->slots));
	if (!l->multi || !l->slots)
		goto fail;
	for (k = 0; k < cfg->max_inflight; k++) {
		struct slot *s = &l->slots[k];

		s->easy = curl_easy_init();
		if (!s->easy)
			goto fail;
		curl_easy_setopt(s->easy, CURLOPT_URL, cfg->url);
		curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
		curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
		curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS,
		                 cfg->timeout_ms < 3000 ? cfg->timeout_ms : 3000L);
		curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, 1L);
	}
	l->t0_ms = svc_now_ms();
	l->t0_us = (int64_t)svc_mono_us();
	if (pthread_create(&l->thread, NULL, run, l) != 0)
		goto fail;
	l->running = true;
	return l;
fail:
	svc_error("load: cannot start");
	chaos_load_free(l);
	return NULL;
}

void chaos_load_stop(struct chaos_load *l)
{
	if (!l || !l->running)
		return;
	atomic_store(&l->stop, true);
	curl_multi_wakeup(l->multi);
	pthread_join(l->thread, NULL);
	l->running = false;
}

const struct chaos_request *chaos_load_requests(const struct chaos_load *l, size_t *n)
{
	*n = l->nrecords;
	return l->records;
}

int64_t chaos_load_started_ms(const struct chaos_load *l)
{
	return l->t0_ms;
}

void chaos_load_free(struct chaos_load *l)
{
	if (!l)
		return;
	chaos_load_stop(l);
	for (size_t k = 0; l->slots && k < l->cfg.max_inflight; k++) {
		if (l->slots[k].easy && l->slots[k].busy)
			curl_multi_remove_handle(l->multi, l->slots[k].easy);
		if (l->slots[k].easy)
			curl_easy_cleanup(l->slots[k].easy);
		curl_slist_free_all(l->slots[k].headers);
	}
	free(l->slots);
	if (l->multi)
		curl_multi_cleanup(l->multi);
	free(l->records);
	free(l);
}
