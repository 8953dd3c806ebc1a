/*
 * The wire format of inbound delivery (svc/consumer.h), pure: building the
 * POST /internal/events body and reading the per-message answers.
 */
#ifndef SC_DELIVERY_H
#define SC_DELIVERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * The JSON item of one message, {"topic","partition","offset","key","value"}
 * (new reference), or NULL when it cannot be represented as JSON text (key or
 * payload not valid UTF-8, no payload): such a message is rejected without
 * asking the service, with the reason in `reason`.
 */
json_t *sc_delivery_item(const struct sc_delivery_msg *m, char *reason, size_t reasonlen);

/*
 * Reads a 200 response body into `out[0..n)`. "ok", "duplicate", "ignored"
 * are DONE, "rejected" REJECTED (reason copied), "retry" and anything unknown
 * RETRY. 0, or SVC_EPERMANENT when the body is not JSON or does not hold
 * exactly n results (the caller then treats the whole batch as retry).
 */
int sc_delivery_parse(const char *body, size_t len, struct sc_delivery_result *out, size_t n);

#endif
