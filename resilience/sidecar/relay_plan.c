/* The relay's per-row decisions (see relay_plan.h). */
#include "resilience/sidecar/relay_plan.h"

#include <string.h>

bool sc_relay_err_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_INVALID_MSG:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
		return true;
	default:
		return false;
	}
}

static bool same_key(const struct sc_relay_row *a, const struct sc_relay_row *b)
{
	return a->key && a->keylen > 0 && a->keylen == b->keylen &&
	       memcmp(a->key, b->key, a->keylen) == 0;
}

bool sc_relay_held(const struct sc_relay_row *rows, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!rows[j].sent && same_key(&rows[i], &rows[j]))
			return true;
	return false;
}

/* True when an earlier row of rows[i]'s key stays. */
static bool key_kept(const struct sc_relay_row *rows, const enum sc_relay_action *out, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (out[j] == SC_RELAY_KEEP && same_key(&rows[i], &rows[j]))
			return true;
	return false;
}

void sc_relay_plan(const struct sc_relay_row *rows, size_t n, enum sc_relay_action *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct sc_relay_row *r = &rows[i];

		if (r->sent && r->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			out[i] = SC_RELAY_DELETE;
		else if (r->err == RD_KAFKA_RESP_ERR_NO_ERROR || key_kept(rows, out, i))
			out[i] = SC_RELAY_KEEP; /* held, or its key waits for an earlier row */
		else if (sc_relay_err_permanent(r->err))
			out[i] = SC_RELAY_DEAD_LETTER;
		else
			out[i] = SC_RELAY_KEEP;
	}
}
