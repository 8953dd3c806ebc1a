/* Dead-letter routing to <service>.dlq with provenance headers. */
#include "resilience/sidecar/dlq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"
#include "svc/event.h"
#include "svc/log.h"

/* Adds a NUL-terminated header value; false on failure. */
static bool add_str(rd_kafka_headers_t *h, const char *name, const char *value)
{
	return rd_kafka_header_add(h, name, -1, value ? value : "", -1) ==
	       RD_KAFKA_RESP_ERR_NO_ERROR;
}

static bool add_i64(rd_kafka_headers_t *h, const char *name, int64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, value);
	return add_str(h, name, buf);
}

/* Header `name` of `h` as a decimal in [0, INT64_MAX / 2]; 0 when absent or not one. */
static int64_t carried_i64(const rd_kafka_headers_t *h, const char *name)
{
	const void *value = NULL;
	size_t size = 0;
	char buf[24], *end = NULL;
	long long v;

	if (rd_kafka_header_get_last(h, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    !value || size == 0 || size >= sizeof(buf))
		return 0;
	memcpy(buf, value, size);
	buf[size] = '\0';
	v = strtoll(buf, &end, 10);
	return *end == '\0' && v >= 0 && v <= INT64_MAX / 2 ? (int64_t)v : 0;
}

void sc_dlq_record_carry(struct sc_dlq_record *r, const rd_kafka_headers_t *h)
{
	const void *value = NULL;
	size_t size = 0;

	if (!h)
		return;
	if (rd_kafka_header_get_last(h, "event-id", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    value) {
		r->event_id = value;
		r->event_id_len = size;
	}
	if (rd_kafka_header_get_last(h, "dlq-entry", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    value && size > 0) {
		r->entry_id = value;
		r->entry_id_len = size;
		r->attempts_before = carried_i64(h, "dlq-attempts-before");
		r->redrives = carried_i64(h, "dlq-redrives");
	}
}

rd_kafka_headers_t *sc_dlq_headers(const struct sc_dlq_record *r, const char *service,
                                   int64_t now_ms)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(11);

	if (!h)
		return NULL;
	bool ok = add_str(h, "dlq-reason", r->reason) &&
	          add_str(h, "dlq-source-topic", r->source_topic) &&
	          add_i64(h, "dlq-source-partition", r->source_partition) &&
	          add_i64(h, "dlq-source-offset", r->source_offset) &&
	          add_i64(h, "dlq-timestamp", now_ms) &&
	          add_i64(h, "dlq-attempts", (int64_t)r->attempts + r->attempts_before) &&
	          (!r->entry_id ||
	           (rd_kafka_header_add(h, "dlq-entry", -1, r->entry_id,
	                                (ssize_t)r->entry_id_len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	            add_i64(h, "dlq-redrives", r->redrives))) &&
	          add_str(h, "dlq-service", service) &&
	          rd_kafka_header_add(h, "order-id", -1, r->key ? r->key : "",
	                              r->key ? (ssize_t)r->keylen : 0) ==
	                  RD_KAFKA_RESP_ERR_NO_ERROR &&
	          (!r->event_id ||
	           rd_kafka_header_add(h, "event-id", -1, r->event_id, (ssize_t)r->event_id_len) ==
	                   RD_KAFKA_RESP_ERR_NO_ERROR);
	if (!ok) {
		rd_kafka_headers_destroy(h);
		return NULL;
	}
	return h;
}

rd_kafka_resp_err_t sc_dlq_produce_wait(struct sc_producer *producer, const char *topic,
                                        const void *key, size_t keylen, const void *payload,
                                        size_t len, rd_kafka_headers_t *hdrs)
{
	struct sc_ack_group group;
	struct sc_ack ack = {&group, RD_KAFKA_RESP_ERR_NO_ERROR};

	if (sc_ack_group_init(&group) != 0) {
		if (hdrs)
			rd_kafka_headers_destroy(hdrs);
		return RD_KAFKA_RESP_ERR__FAIL;
	}
	/* On failure the headers are freed and ack.err set; nothing to wait for. */
	sc_producer_send(producer, topic, key, key ? keylen : 0, payload, payload ? len : 0, hdrs,
	                 &ack);
	sc_ack_group_wait(&group);
	sc_ack_group_release(&group);
	return ack.err;
}

rd_kafka_resp_err_t sc_dlq_send_once(struct sc_dlq *d, const struct sc_dlq_record *r)
{
	rd_kafka_headers_t *hdrs = sc_dlq_headers(r, d->service, svc_now_ms());

	if (!hdrs)
		return RD_KAFKA_RESP_ERR__FAIL;
	return sc_dlq_produce_wait(d->producer, d->topic, r->key, r->keylen, r->payload, r->len,
	                           hdrs);
}

int sc_dlq_send(struct sc_dlq *d, const struct sc_dlq_record *r)
{
	for (unsigned attempt = 0;; attempt++) {
		rd_kafka_resp_err_t err = sc_dlq_send_once(d, r);
		if (!err) {
			svc_info("dead-lettered %s[%" PRId32 "]@%" PRId64 " to %s: %s",
			         r->source_topic, r->source_partition, r->source_offset, d->topic,
			         r->reason);
			return 0;
		}
		uint64_t delay = rs_backoff_delay_ms(&d->backoff, attempt, rs_random());
		svc_warn("dead-letter of %s[%" PRId32 "]@%" PRId64 " to %s failed (%s); retry in "
		         "%" PRIu64 " ms",
		         r->source_topic, r->source_partition, r->source_offset, d->topic,
		         rd_kafka_err2str(err), delay);
		if (sc_stop_wait_ms(d->stop, delay))
			return SVC_ETRANSIENT;
	}
}
