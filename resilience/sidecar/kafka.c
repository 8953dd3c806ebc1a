/* The librdkafka table of struct sc_kafka_ops (kafka.h). */
#include "resilience/sidecar/kafka.h"

#include <stdbool.h>

/* The entries whose librdkafka signature differs from the table's. */

static rd_kafka_resp_err_t produce(rd_kafka_t *rk, const char *topic, const void *key,
                                   size_t keylen, const void *payload, size_t len,
                                   rd_kafka_headers_t *hdrs, void *opaque)
{
	return rd_kafka_producev(
	        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	        RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)payload, len),
	        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

static rd_kafka_resp_err_t assign(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts)
{
	return rd_kafka_assign(rk, parts);
}

/* rd_kafka_message_headers takes a non-const message; it only reads it. */
static rd_kafka_resp_err_t message_headers(const rd_kafka_message_t *m, rd_kafka_headers_t **hdrs)
{
	return rd_kafka_message_headers(m, hdrs);
}

const struct sc_kafka_ops sc_kafka_librdkafka = {
        .new_client = rd_kafka_new,
        .destroy = rd_kafka_destroy,
        .conf_set_dr_msg_cb = rd_kafka_conf_set_dr_msg_cb,
        .conf_set_error_cb = rd_kafka_conf_set_error_cb,
        .conf_set_log_cb = rd_kafka_conf_set_log_cb,
        .conf_set_rebalance_cb = rd_kafka_conf_set_rebalance_cb,
        .conf_set_opaque = rd_kafka_conf_set_opaque,
        .produce = produce,
        .poll = rd_kafka_poll,
        .flush = rd_kafka_flush,
        .outq_len = rd_kafka_outq_len,
        .fatal_error = rd_kafka_fatal_error,
        .metadata = rd_kafka_metadata,
        .metadata_destroy = rd_kafka_metadata_destroy,
        .topic_new = rd_kafka_topic_new,
        .topic_destroy = rd_kafka_topic_destroy,
        .topic_name = rd_kafka_topic_name,
        .query_watermark_offsets = rd_kafka_query_watermark_offsets,
        .committed = rd_kafka_committed,
        .offsets_for_times = rd_kafka_offsets_for_times,
        .poll_set_consumer = rd_kafka_poll_set_consumer,
        .subscribe = rd_kafka_subscribe,
        .consumer_poll = rd_kafka_consumer_poll,
        .consumer_close = rd_kafka_consumer_close,
        .rebalance_protocol = rd_kafka_rebalance_protocol,
        .assign = assign,
        .incremental_assign = rd_kafka_incremental_assign,
        .incremental_unassign = rd_kafka_incremental_unassign,
        .pause_partitions = rd_kafka_pause_partitions,
        .resume_partitions = rd_kafka_resume_partitions,
        .seek_partitions = rd_kafka_seek_partitions,
        .offsets_store = rd_kafka_offsets_store,
        .message_destroy = rd_kafka_message_destroy,
        .message_headers = message_headers,
        .message_timestamp = rd_kafka_message_timestamp,
};

const struct sc_kafka_ops *sc_kafka_ops_of(const struct sc_kafka_client *k)
{
	return k && k->ops ? k->ops : &sc_kafka_librdkafka;
}

/* One ListOffsets round for `parts`: the offsets at `which` (RD_KAFKA_OFFSET_END
 * or _BEGINNING) into out[i], -1 where none came. */
static rd_kafka_resp_err_t list_offsets(const struct sc_kafka_ops *ops, rd_kafka_t *rk,
                                        const rd_kafka_topic_partition_list_t *parts, int64_t which,
                                        int64_t *out, int timeout_ms)
{
	rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(parts);
	rd_kafka_resp_err_t err;

	for (int i = 0; i < parts->cnt; i++)
		out[i] = -1;
	if (!q)
		return RD_KAFKA_RESP_ERR__FAIL;
	for (int i = 0; i < q->cnt; i++)
		q->elems[i].offset = which;
	err = ops->offsets_for_times(rk, q, timeout_ms);
	/* matched by name: the answer's order is the client's business */
	for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *a = rd_kafka_topic_partition_list_find(
		        q, parts->elems[i].topic, parts->elems[i].partition);

		if (a && a->err == RD_KAFKA_RESP_ERR_NO_ERROR && a->offset >= 0)
			out[i] = a->offset;
	}
	rd_kafka_topic_partition_list_destroy(q);
	return err;
}

rd_kafka_resp_err_t sc_kafka_watermarks(const struct sc_kafka_ops *ops, rd_kafka_t *rk,
                                        const rd_kafka_topic_partition_list_t *parts, int64_t *low,
                                        int64_t *high, int timeout_ms)
{
	rd_kafka_resp_err_t err =
	        list_offsets(ops, rk, parts, RD_KAFKA_OFFSET_END, high, timeout_ms);

	if (low && err == RD_KAFKA_RESP_ERR_NO_ERROR)
		err = list_offsets(ops, rk, parts, RD_KAFKA_OFFSET_BEGINNING, low, timeout_ms);
	else if (low)
		for (int i = 0; i < parts->cnt; i++)
			low[i] = -1;
	return err;
}

rd_kafka_resp_err_t sc_kafka_lags(const struct sc_kafka_ops *ops, rd_kafka_t *rk,
                                  const rd_kafka_topic_partition_list_t *committed, int64_t *lag,
                                  int64_t *end, int timeout_ms)
{
	bool need_low = false;
	rd_kafka_resp_err_t err;

	for (int i = 0; i < committed->cnt; i++)
		need_low |= committed->elems[i].offset < 0;
	/* lag[] holds the log starts until each is replaced by its lag */
	err = sc_kafka_watermarks(ops, rk, committed, need_low ? lag : NULL, end, timeout_ms);
	for (int i = 0; i < committed->cnt; i++) {
		int64_t at = committed->elems[i].offset;
		int64_t from = at >= 0 ? at : need_low ? lag[i] : -1;

		lag[i] = err == RD_KAFKA_RESP_ERR_NO_ERROR && end[i] >= 0 && from >= 0
		                 ? end[i] - from
		                 : SC_KAFKA_UNREAD;
	}
	return err;
}
