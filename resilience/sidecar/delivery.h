/*
 * The wire format of inbound delivery (svc/consumer.h), pure: building the
 * POST /internal/events body and reading the per-message answers.
 */
#ifndef SC_DELIVERY_H
#define SC_DELIVERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/buf.h"

struct sc_delivery_msg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *key; /* may be NULL (sent as "") */
	size_t keylen;
	const char *value; /* raw payload, may be NULL */
	size_t len;
};

enum sc_verdict {
	SC_VERDICT_DONE,     /* ok, duplicate or ignored: store the offset */
	SC_VERDICT_REJECTED, /* never processable: dead-letter, then store */
	SC_VERDICT_RETRY,    /* transient: send again later, in order */
};

struct sc_delivery_result {
	enum sc_verdict verdict;
	char reason[256];
};

/* Values nested deeper than this go as a JSON string (see below). */
#define SC_DELIVERY_VALUE_DEPTH 32

/*
 * Appends the JSON item of one message to `out`:
 *   {"topic":..,"partition":..,"offset":..,"key":..,"value":..}
 * The value is the payload as it is when it is a JSON object that passes
 * svc_json_object_valid() (at most SC_DELIVERY_VALUE_DEPTH deep and
 * SVC_EVENT_MAX_BYTES long), so the service parses it once; any other
 * payload goes as a JSON string, which the service parses on its own and
 * answers "rejected" (with the reason) when it is no event.
 * 0; SVC_EPERMANENT when the message cannot be represented as JSON text
 * (key or payload not valid UTF-8, no payload), with the reason in `reason`
 * and nothing appended: such a message is rejected without asking the
 * service; SVC_ENOMEM (`out` is failed, svc/buf.h).
 */
int sc_delivery_item_add(struct svc_buf *out, const struct sc_delivery_msg *m, char *reason,
                         size_t reasonlen);

/*
 * Reads a 200 response body into `out[0..n)`. "ok", "duplicate", "ignored"
 * are DONE, "rejected" REJECTED (reason copied), "retry" and anything unknown
 * RETRY. 0, or SVC_EPERMANENT when the body is not JSON or does not hold
 * exactly n results (the caller then treats the whole batch as retry).
 */
int sc_delivery_parse(const char *body, size_t len, struct sc_delivery_result *out, size_t n);

#endif
