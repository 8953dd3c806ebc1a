/*
 * What the outbox relay does with each row of a batch: the pure part of
 * relay.c, so that per-key order and dead-lettering are unit-tested.
 *
 * Rows of one key (msg_key, the order id) must reach Kafka in id order. A
 * row Kafka refuses for good (too large, invalid, no topic) is dead-lettered
 * to the service's DLQ topic with the reason, then deleted; a row that failed
 * for a passing cause stays and is retried. While a row of a key stays, the
 * later rows of that key are not sent (held); once it is gone they go on.
 */
#ifndef SC_RELAY_PLAN_H
#define SC_RELAY_PLAN_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

enum sc_relay_action {
	SC_RELAY_DELETE,      /* acknowledged by Kafka: the row goes */
	SC_RELAY_DEAD_LETTER, /* refused for good: to the DLQ, then the row goes */
	SC_RELAY_KEEP,        /* stays for a later round */
};

/* One row of a batch, in id order. */
struct sc_relay_row {
	const void *key; /* msg_key (borrowed); NULL or keylen 0: no order to keep */
	size_t keylen;
	/* true: handed to the producer, err is its delivery report (0 = acked).
	 * false: not in Kafka; err says why it could not be sent, or is 0 when
	 * the row was held behind an earlier row of its key. */
	bool sent;
	rd_kafka_resp_err_t err;
};

/* True when Kafka will never take the message as it is (retrying cannot
 * help): too large, invalid record, bad topic name, no topic. Pure. */
bool sc_relay_err_permanent(rd_kafka_resp_err_t err);

/* Before sending rows[i]: true when it must be held because an earlier row
 * of its key in rows[0..i) was not sent. Pure. */
bool sc_relay_held(const struct sc_relay_row *rows, size_t i);

/* Decides every row once the batch's delivery reports are in; out[n] is
 * the caller's. A sent and acknowledged row is deleted even behind a kept one
 * of its key (it is in Kafka already). Pure. */
void sc_relay_plan(const struct sc_relay_row *rows, size_t n, enum sc_relay_action *out);

#endif
