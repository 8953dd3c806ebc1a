/*
 * The calls the sidecar makes to a Kafka client, as a table of function
 * pointers, the way Redis keeps ae.c over ae_epoll.c: sc_kafka_librdkafka is
 * librdkafka itself; the unit tests give a client a fake broker's table
 * (tests/unit/fake_kafka.h) through struct sc_kafka_client's `ops`.
 *
 * Each entry has the contract of the librdkafka function of the same name
 * (rdkafka.h) unless said otherwise. What is pure data stays librdkafka's own
 * and is called directly: configurations (rd_kafka_conf_*), headers
 * (rd_kafka_header*), partition lists (rd_kafka_topic_partition_list_*),
 * errors (rd_kafka_err2str, rd_kafka_error_*). A table may hand out objects
 * of its own as rd_kafka_t *, rd_kafka_topic_t * and rd_kafka_message_t * and
 * fill struct rd_kafka_metadata itself: the sidecar reads only the public
 * fields of messages and metadata, and frees every such object through the
 * table that made it. Outside the table, on librdkafka always: the admin
 * request of `sidecar create-topics` (topics.c) and the console's clients
 * (services/console/kafka.c).
 */
#ifndef SC_KAFKA_H
#define SC_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "resilience/sidecar/kafkaconf.h"

typedef void (*sc_kafka_dr_msg_cb)(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);
typedef void (*sc_kafka_error_cb)(rd_kafka_t *rk, int err, const char *reason, void *opaque);
typedef void (*sc_kafka_log_cb)(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
typedef void (*sc_kafka_rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                      rd_kafka_topic_partition_list_t *parts, void *opaque);

struct sc_kafka_ops {
	/* ---- clients: thread-safe as librdkafka's, except where noted ---- */
	/* rd_kafka_new: on success the client owns `conf`, else the caller does. */
	rd_kafka_t *(*new_client)(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
	                          size_t errlen);
	void (*destroy)(rd_kafka_t *rk);
	/* Callbacks and opaque of a configuration, before new_client. */
	void (*conf_set_dr_msg_cb)(rd_kafka_conf_t *conf, sc_kafka_dr_msg_cb cb);
	void (*conf_set_error_cb)(rd_kafka_conf_t *conf, sc_kafka_error_cb cb);
	void (*conf_set_log_cb)(rd_kafka_conf_t *conf, sc_kafka_log_cb cb);
	void (*conf_set_rebalance_cb)(rd_kafka_conf_t *conf, sc_kafka_rebalance_cb cb);
	void (*conf_set_opaque)(rd_kafka_conf_t *conf, void *opaque);

	/* ---- producing ---- */
	/* rd_kafka_producev of one copied message (RD_KAFKA_MSG_F_COPY) to any
	 * partition, `opaque` its delivery report's msg->_private. On success the
	 * client owns `hdrs` (may be NULL), else the caller does. */
	rd_kafka_resp_err_t (*produce)(rd_kafka_t *rk, const char *topic, const void *key,
	                               size_t keylen, const void *payload, size_t len,
	                               rd_kafka_headers_t *hdrs, void *opaque);
	/* Serves the delivery reports (and other callbacks). */
	int (*poll)(rd_kafka_t *rk, int timeout_ms);
	rd_kafka_resp_err_t (*flush)(rd_kafka_t *rk, int timeout_ms);
	int (*outq_len)(rd_kafka_t *rk);
	rd_kafka_resp_err_t (*fatal_error)(rd_kafka_t *rk, char *errstr, size_t errlen);

	/* ---- metadata and offsets ---- */
	/* *md is freed with metadata_destroy. */
	rd_kafka_resp_err_t (*metadata)(rd_kafka_t *rk, int all_topics, rd_kafka_topic_t *only,
	                                const struct rd_kafka_metadata **md, int timeout_ms);
	void (*metadata_destroy)(const struct rd_kafka_metadata *md);
	rd_kafka_topic_t *(*topic_new)(rd_kafka_t *rk, const char *topic,
	                               rd_kafka_topic_conf_t *conf);
	void (*topic_destroy)(rd_kafka_topic_t *rkt);
	/* The name of a topic handle, also of a message's rkt. */
	const char *(*topic_name)(const rd_kafka_topic_t *rkt);
	rd_kafka_resp_err_t (*query_watermark_offsets)(rd_kafka_t *rk, const char *topic,
	                                               int32_t partition, int64_t *low,
	                                               int64_t *high, int timeout_ms);
	rd_kafka_resp_err_t (*committed)(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
	                                 int timeout_ms);
	/* Each element's .offset is a timestamp on the way in (or
	 * RD_KAFKA_OFFSET_END / _BEGINNING) and an offset on the way out, with
	 * its own .err: one ListOffsets request per leader broker. */
	rd_kafka_resp_err_t (*offsets_for_times)(rd_kafka_t *rk,
	                                         rd_kafka_topic_partition_list_t *parts,
	                                         int timeout_ms);

	/* ---- consuming ---- */
	rd_kafka_resp_err_t (*poll_set_consumer)(rd_kafka_t *rk);
	rd_kafka_resp_err_t (*subscribe)(rd_kafka_t *rk,
	                                 const rd_kafka_topic_partition_list_t *topics);
	/* A message (message_destroy frees it) or NULL after timeout_ms; runs
	 * the rebalance callback on the calling thread. */
	rd_kafka_message_t *(*consumer_poll)(rd_kafka_t *rk, int timeout_ms);
	rd_kafka_resp_err_t (*consumer_close)(rd_kafka_t *rk);
	const char *(*rebalance_protocol)(rd_kafka_t *rk);
	rd_kafka_resp_err_t (*assign)(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts);
	rd_kafka_error_t *(*incremental_assign)(rd_kafka_t *rk,
	                                        const rd_kafka_topic_partition_list_t *parts);
	rd_kafka_error_t *(*incremental_unassign)(rd_kafka_t *rk,
	                                          const rd_kafka_topic_partition_list_t *parts);
	rd_kafka_resp_err_t (*pause_partitions)(rd_kafka_t *rk,
	                                        rd_kafka_topic_partition_list_t *parts);
	rd_kafka_resp_err_t (*resume_partitions)(rd_kafka_t *rk,
	                                         rd_kafka_topic_partition_list_t *parts);
	rd_kafka_error_t *(*seek_partitions)(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
	                                     int timeout_ms);
	rd_kafka_resp_err_t (*offsets_store)(rd_kafka_t *rk,
	                                     rd_kafka_topic_partition_list_t *offsets);

	/* ---- consumed messages ---- */
	void (*message_destroy)(rd_kafka_message_t *m);
	/* *hdrs is borrowed from `m`. */
	rd_kafka_resp_err_t (*message_headers)(const rd_kafka_message_t *m,
	                                       rd_kafka_headers_t **hdrs);
	int64_t (*message_timestamp)(const rd_kafka_message_t *m,
	                             rd_kafka_timestamp_type_t *tstype);
};

/* librdkafka. */
extern const struct sc_kafka_ops sc_kafka_librdkafka;

/* The table of `k`: k->ops, librdkafka's when that is NULL (or k is). */
const struct sc_kafka_ops *sc_kafka_ops_of(const struct sc_kafka_client *k);

/*
 * The log end offsets (high watermarks) of the partitions of `parts` into
 * high[i], and, when `low` is not NULL, their log start offsets into low[i]
 * (i indexes parts->elems): one ListOffsets request per leader broker for
 * the ends and one for the starts, where query_watermark_offsets() makes two
 * per partition. A lag monitor that reads a few dozen partitions every
 * second would otherwise be the broker's busiest client at low rates
 * (docs/benchmarks.md, seventeenth round). A partition whose offset was not
 * read gets -1; the return is the error of the request itself (no partition
 * read then).
 */
rd_kafka_resp_err_t sc_kafka_watermarks(const struct sc_kafka_ops *ops, rd_kafka_t *rk,
                                        const rd_kafka_topic_partition_list_t *parts, int64_t *low,
                                        int64_t *high, int timeout_ms);

/*
 * Each partition's lag behind a group: `committed` holds the group's
 * committed offsets (rd_kafka_committed), and lag[i] gets the log end minus
 * elems[i].offset, or minus the log start where nothing is committed yet;
 * end[i] gets the log end. The ends come in one request
 * (sc_kafka_watermarks) and the starts in a second only when some
 * partition has nothing committed. Where the offsets were not read, lag[i]
 * is SC_KAFKA_UNREAD and end[i] -1; the return is the error of a request
 * itself.
 */
#define SC_KAFKA_UNREAD INT64_MIN
rd_kafka_resp_err_t sc_kafka_lags(const struct sc_kafka_ops *ops, rd_kafka_t *rk,
                                  const rd_kafka_topic_partition_list_t *committed, int64_t *lag,
                                  int64_t *end, int timeout_ms);

#endif
