/*
 * The delivery workers of inbound delivery (inbound.h): each takes a ready
 * partition, POSTs its oldest messages to the service behind the breaker,
 * stores the offsets of what is finished, dead-letters what is rejected and
 * retries the rest (retry.h decides how).
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/backoff.h"
#include "resilience/breaker.h"
#include "resilience/classify.h"
#include "resilience/sidecar/batch.h"
#include "resilience/sidecar/delivery.h"
#include "resilience/sidecar/dlq.h"
#include "resilience/sidecar/inbound_internal.h"
#include "resilience/sidecar/outcome.h"
#include "resilience/sidecar/partq.h"
#include "resilience/sidecar/retry.h"
#include "svc/clock.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"

/* Past the cap, still remind at warn level every this many attempts. */
#define SC_RETRY_REMIND_EVERY 50
/* A worker's waits (backoff, open breaker) look at stop and revocation this often. */
#define SC_WAIT_SLICE_MS 100

static struct sc_delivery_msg msg_view(const struct sc_inbound *in, const rd_kafka_message_t *m)
{
	struct sc_delivery_msg v = {
	        .topic = in->kafka->topic_name(m->rkt),
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
	        rd_kafka_topic_partition_list_add(l, in->kafka->topic_name(m->rkt), m->partition);

	tp->offset = m->offset + 1;
	rd_kafka_resp_err_t err = in->kafka->offsets_store(in->rk, l);
	if (err)
		/* Typically the partition was revoked meanwhile: its new owner
		 * redelivers, and the service answers "duplicate". */
		svc_info("offset store %s[%" PRId32 "]@%" PRId64 ": %s", tp->topic, tp->partition,
		         tp->offset, rd_kafka_err2str(tp->err ? tp->err : err));
	rd_kafka_topic_partition_list_destroy(l);
}

static int dead_letter(struct sc_worker *w, size_t i, const char *reason)
{
	const rd_kafka_message_t *m = w->msgs[i];
	struct sc_dlq_record r = {
	        .source_topic = w->in->kafka->topic_name(m->rkt),
	        .source_partition = m->partition,
	        .source_offset = m->offset,
	        .key = m->key,
	        .keylen = m->key_len,
	        .payload = m->payload,
	        .len = m->len,
	        .reason = reason,
	        .attempts = w->attempts[i],
	};
	rd_kafka_headers_t *hdrs = NULL;

	/* keep the event id, so a re-drive can be recognised as the same event,
	 * and a re-driven message's DLQ entry, so it stays one entry */
	if (w->in->kafka->message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		sc_dlq_record_carry(&r, hdrs);
	int rc = sc_dlq_send(&w->in->dlq, &r);
	if (rc == 0)
		atomic_fetch_add(&w->in->metrics->dead_lettered, 1);
	return rc;
}

/*
 * Adds msgs[from, to) to the request body, as many as fit its byte cap (at
 * least one), and fills their results: "rejected" for a message that cannot
 * be represented as JSON, "retry" (until answered) for the others. Returns the
 * end of the range it covers; *nsent is how many of them are in the body.
 */
static size_t build_body(struct sc_worker *w, size_t from, size_t to, size_t *nsent)
{
	size_t end = from;

	*nsent = 0;
	sc_batch_reset(&w->batch);
	for (; end < to; end++) {
		struct sc_delivery_msg v = msg_view(w->in, w->msgs[end]);
		struct sc_delivery_result *r = &w->results[end];
		int rc = sc_batch_add_msg(&w->batch, &v, r->reason, sizeof(r->reason));
		if (rc == SVC_EPERMANENT) {
			r->verdict = SC_VERDICT_REJECTED;
			continue;
		}
		if (rc == SC_BATCH_FULL)
			break;
		r->verdict = SC_VERDICT_RETRY;
		if (rc != 0) {
			/* out of memory: send what is there, or retry this one later */
			snprintf(r->reason, sizeof(r->reason), "out of memory");
			if (*nsent == 0)
				end++;
			break;
		}
		snprintf(r->reason, sizeof(r->reason), "not answered");
		w->sent[(*nsent)++] = end;
	}
	return end;
}

/*
 * Sends msgs[from, to), or the part of it that fits DELIVERY_BATCH_BYTES, in
 * one POST and fills results over the range covered, whose end it returns.
 * *status is the HTTP status (0: no response; 200 also when nothing needed
 * sending), *nsent how many messages the request held.
 */
static size_t deliver(struct sc_worker *w, size_t from, size_t to, long *status, size_t *nsent)
{
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	struct sc_inbound *in = w->in;
	struct svc_httpc_response res = {0};
	size_t end = build_body(w, from, to, nsent), len = 0;
	const char *body = NULL;

	*status = 200;
	if (*nsent == 0)
		goto out;
	body = sc_batch_body(&w->batch, &len);
	if (!body) {
		*status = 0;
		goto out;
	}
	atomic_fetch_add(&in->metrics->delivery_batches, 1);
	if (svc_httpc_request("POST", in->url, headers, body, len, in->cfg->delivery_timeout_ms,
	                      &res) != 0) {
		*status = 0;
		goto out;
	}
	*status = res.status;
	if (res.status != 200)
		goto out;
	if (sc_delivery_parse(res.body, res.body_len, w->answers, *nsent) != 0) {
		svc_error("POST %s: malformed answer for %zu message(s); will resend", in->url,
		          *nsent);
		goto out;
	}
	for (size_t j = 0; j < *nsent; j++)
		w->results[w->sent[j]] = w->answers[j];
out:
	/* a batch too large for the service is split, not counted against its messages */
	if (!(*status == 413 && *nsent > 1))
		for (size_t j = 0; j < *nsent; j++)
			w->attempts[w->sent[j]]++;
	svc_httpc_response_release(&res);
	return end;
}

/*
 * Acts on the verdicts of [*done, to) in order, advancing *done past every
 * finished message and stopping at the first "retry". SVC_ETRANSIENT when a
 * dead letter could not be written before stop.
 */
static int apply_verdicts(struct sc_worker *w, size_t *done, size_t to)
{
	for (; *done < to; (*done)++) {
		size_t i = *done;
		struct sc_delivery_result *r = &w->results[i];
		if (r->verdict == SC_VERDICT_RETRY)
			break;
		if (r->verdict == SC_VERDICT_REJECTED) {
			if (dead_letter(w, i, r->reason) != 0)
				return SVC_ETRANSIENT;
		} else {
			atomic_fetch_add(&w->in->metrics->delivered, 1);
		}
		store_offset(w->in, w->msgs[i]);
	}
	return 0;
}

/* True when the worker must give its batch up: stop, or its partition is
 * being revoked (the new owner will deliver the rest). */
static bool must_quit(struct sc_worker *w)
{
	bool revoked;

	if (sc_stop_requested(w->in->stop))
		return true;
	pthread_mutex_lock(&w->in->lock);
	revoked = w->q->revoked;
	pthread_mutex_unlock(&w->in->lock);
	return revoked;
}

/* Sleeps up to ms; true when the worker must quit (must_quit) meanwhile. */
static bool worker_wait_ms(struct sc_worker *w, uint64_t ms)
{
	uint64_t end = svc_mono_ms() + ms;

	for (;;) {
		uint64_t now = svc_mono_ms();
		if (must_quit(w))
			return true;
		if (now >= end)
			return false;
		uint64_t slice = end - now < SC_WAIT_SLICE_MS ? end - now : SC_WAIT_SLICE_MS;
		if (sc_stop_wait_ms(w->in->stop, slice))
			return true;
	}
}

/* The backoff's nominal (un-jittered) delay for `attempt`. */
static uint64_t nominal_delay(const struct rs_backoff *b, unsigned attempt)
{
	uint64_t d = b->base_ms;

	for (unsigned k = 0; k < attempt && d < b->max_ms; k++)
		d *= 2;
	return d < b->max_ms ? d : b->max_ms;
}

/* Sleeps before resending; true when the worker must quit meanwhile. */
static bool backoff_wait(struct sc_worker *w, unsigned attempt, size_t left, long status)
{
	struct sc_inbound *in = w->in;
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
	        "delivery to %s: %s[%" PRId32 "]: %zu message(s) to retry (%s), attempt %u, "
	        "next in %" PRIu64 " ms",
	        in->url, w->q->topic, w->q->partition, left, why, attempt + 1, delay);
	return worker_wait_ms(w, delay);
}

/* Waits while the service breaker holds deliveries back: no delivery, no
 * dead letter, the batch kept as it is. Once a probe is admitted the caller
 * must deliver and record. True when the worker must quit. */
static bool breaker_wait(struct sc_worker *w)
{
	while (!rs_breaker_allow(w->in->breaker, svc_mono_ms()))
		if (worker_wait_ms(w, SC_WAIT_SLICE_MS))
			return true;
	return false;
}

/* deliver() behind the breaker: records the outcome of the range it covered. */
static size_t deliver_guarded(struct sc_worker *w, size_t from, size_t to, long *status,
                              size_t *nsent)
{
	struct sc_inbound *in = w->in;
	uint64_t start = svc_mono_ms();
	char why[sizeof(in->last_error)];
	size_t end = deliver(w, from, to, status, nsent);
	bool failed = sc_delivery_failed(*status, w->results + from, end - from, why, sizeof(why));

	rs_breaker_record(in->breaker, svc_mono_ms(), !failed, svc_mono_ms() - start);
	if (failed) {
		pthread_mutex_lock(&in->status_lock);
		snprintf(in->last_error, sizeof(in->last_error), "%s", why);
		pthread_mutex_unlock(&in->status_lock);
	}
	return end;
}

/* Delivers msgs[first, first + n), the messages of w->q, until all are
 * finished or the worker must quit. Returns how many are finished (their
 * offsets stored). What follows each attempt is sc_retry_decide()'s (retry.h). */
static size_t process_batch(struct sc_worker *w, size_t first, size_t n)
{
	struct sc_inbound *in = w->in;
	size_t done = first, last = first + n, limit = n;
	unsigned attempt = 0, permanent = 0;
	bool split = false; /* the service answered 413: limit is what fits */

	for (size_t i = first; i < last; i++)
		w->attempts[i] = 0;
	while (done < last && !must_quit(w)) {
		size_t before = done, nsent, end;
		enum sc_retry_action act;
		long status;

		if (breaker_wait(w))
			break;
		end = deliver_guarded(w, done, done + limit < last ? done + limit : last, &status,
		                      &nsent);
		if (apply_verdicts(w, &done, end) != 0)
			break;
		act = sc_retry_decide(
		        &(struct sc_retry_attempt){
		                .verdict = done < end ? w->results[done].verdict : SC_VERDICT_DONE,
		                .status = status,
		                .class = rs_classify_http(status),
		                .nsent = nsent,
		                .left = end - done,
		                .refused = permanent,
		        },
		        (unsigned)in->cfg->retry_max_attempts);
		if (act == SC_RETRY_NEXT) {
			/* narrowed for another 4xx: grow back; after a 413 the
			 * service's body limit stays what it is */
			if (!split)
				limit = limit < n / 2 ? limit * 2 : n;
			attempt = permanent = 0;
			continue;
		}
		if (done > before)
			attempt = 0;
		if (act == SC_RETRY_SPLIT) {
			/* too large for the service: resend at once, in halves */
			limit = sc_batch_shrink(nsent);
			split = true;
			atomic_fetch_add(&in->metrics->delivery_split, 1);
			svc_info("delivery to %s: HTTP 413 for %zu message(s); sending %zu at a "
			         "time",
			         in->url, nsent, limit);
			continue;
		}
		if (act == SC_RETRY_NARROW || act == SC_RETRY_DEAD_LETTER) {
			/* The service will not take this batch as it is: narrow it to
			 * the first message, and give that one up after enough tries. */
			limit = 1;
			++permanent;
			if (act == SC_RETRY_DEAD_LETTER) {
				char reason[128];
				snprintf(reason, sizeof(reason),
				         "service answered HTTP %ld %u times", status, permanent);
				if (dead_letter(w, done, reason) != 0)
					break;
				store_offset(in, w->msgs[done++]);
				attempt = permanent = 0;
				continue;
			}
		} else {
			permanent = 0;
		}
		atomic_fetch_add(&in->metrics->retried, end - done);
		if (backoff_wait(w, attempt, end - done, status))
			break;
		if (attempt < 63)
			attempt++;
	}
	return done - first;
}

/* True when a partition held for a combined delivery is being revoked. */
static bool any_revoked(struct sc_worker *w)
{
	bool revoked = false;

	pthread_mutex_lock(&w->in->lock);
	for (size_t k = 0; k < w->nheld; k++)
		revoked = revoked || w->held[k].q->revoked;
	pthread_mutex_unlock(&w->in->lock);
	return revoked;
}

/*
 * One POST for the messages of every held partition, msgs[0, n): at low
 * rates each partition has a message or two, and a request (with its
 * transaction and commit in the service) per partition is what an event
 * costs. Each partition's finished prefix is settled here; what follows its
 * first unfinished message is delivered alone (process_batch(), which
 * retries, narrows and backs off as for a single partition).
 */
static void deliver_together(struct sc_worker *w, size_t n)
{
	struct sc_inbound *in = w->in;
	size_t nsent, end;
	long status;

	for (size_t i = 0; i < n; i++)
		w->attempts[i] = 0;
	if (sc_stop_requested(in->stop) || any_revoked(w) ||
	    !rs_breaker_allow(in->breaker, svc_mono_ms()))
		return;
	atomic_fetch_add(&in->metrics->delivery_combined, 1);
	end = deliver_guarded(w, 0, n, &status, &nsent);
	for (size_t k = 0; k < w->nheld; k++) {
		struct sc_held *h = &w->held[k];
		size_t done = h->first,
		       last = h->first + h->count < end ? h->first + h->count : end;
		int rc = done < last ? apply_verdicts(w, &done, last) : 0;
		h->done = done - h->first;
		if (rc != 0)
			break; /* a dead letter not written before stop */
	}
}

/* Takes the next ready partition and its oldest messages, blocking until
 * there is one, then more ready partitions (up to DELIVERY_COMBINE_PARTITIONS)
 * while the batch has room. How many messages; 0 on stop (nothing held). */
static size_t take_batch(struct sc_worker *w)
{
	struct sc_inbound *in = w->in;
	struct sc_partq *q = NULL;
	size_t n = 0;

	w->nheld = 0;
	pthread_mutex_lock(&in->lock);
	while (!sc_stop_requested(in->stop) && !(q = sc_partq_next(&in->parts)))
		pthread_cond_wait(&in->work, &in->lock);
	while (q) {
		if (w->nheld > 0 && q->solo) {
			/* not to be combined: back in line for a worker of its own */
			sc_partq_done(&in->parts, q, 0);
			pthread_cond_signal(&in->work);
			break;
		}
		size_t k = sc_partq_peek(q, (void **)w->msgs + n, in->cap - n);
		w->held[w->nheld++] = (struct sc_held){.q = q, .first = n, .count = k};
		n += k;
		if (q->solo || n >= in->cap || w->nheld >= in->combine)
			break;
		q = sc_partq_next(&in->parts);
	}
	/* more than this batch waits: the next worker's turn */
	if (w->nheld > 0 && in->parts.ready_head)
		pthread_cond_signal(&in->work);
	pthread_mutex_unlock(&in->lock);
	return n;
}

/* Lets go of every held partition but held[keep] (none when keep >= nheld):
 * the finished messages of each are freed; one with messages left is
 * delivered alone from then on (solo) until a delivery of its own finishes
 * them. held[keep], if any, becomes held[0]. */
static void release_held(struct sc_worker *w, size_t keep)
{
	struct sc_inbound *in = w->in;

	pthread_mutex_lock(&in->lock);
	for (size_t k = 0; k < w->nheld; k++) {
		struct sc_held *h = &w->held[k];
		if (k == keep)
			continue;
		h->q->solo = h->done < h->count;
		sc_partq_done(&in->parts, h->q, h->done);
	}
	if (keep < w->nheld) {
		w->held[0] = w->held[keep];
		w->nheld = 1;
	} else {
		w->nheld = 0;
	}
	sc__inbound_publish_queued(in);
	pthread_cond_broadcast(&in->idle);
	if (in->parts.ready_head)
		pthread_cond_signal(&in->work);
	pthread_mutex_unlock(&in->lock);
}

void *sc__inbound_worker_main(void *arg)
{
	struct sc_worker *w = arg;

	for (;;) {
		size_t n = take_batch(w);
		if (!w->nheld)
			break;
		atomic_fetch_add(&w->in->metrics->delivery_inflight, n);
		if (w->nheld > 1)
			deliver_together(w, n);
		/* the first partition with messages left is finished here, with
		 * retries and backoff; the others go back at once, to be taken
		 * alone, so that one which needs retries holds up no other */
		size_t keep = 0;
		while (keep < w->nheld && w->held[keep].done == w->held[keep].count)
			keep++;
		if (w->nheld > 1)
			release_held(w, keep);
		if (w->nheld == 1) {
			struct sc_held *h = &w->held[0];
			w->q = h->q;
			h->done += process_batch(w, h->first + h->done, h->count - h->done);
			w->q = NULL;
		}
		atomic_fetch_sub(&w->in->metrics->delivery_inflight, n);
		release_held(w, SIZE_MAX);
	}
	return NULL;
}
