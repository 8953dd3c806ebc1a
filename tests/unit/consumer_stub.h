/*
 * For unit tests that drive svc_consumer_handle_batch() without a database:
 * an apply() that must never run (every event the tests send is rejected,
 * ignored or retried before a transaction). Include it after cmocka.h.
 */
#ifndef CONSUMER_STUB_H
#define CONSUMER_STUB_H

#include "svc/consumer.h"
#include "svc/error.h"

static int never_applied(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev,
                         void *scratch, char *reason, size_t reasonlen)
{
	(void)ctx;
	(void)tx;
	(void)ev;
	(void)scratch;
	(void)reason;
	(void)reasonlen;
	fail_msg("apply() must not run without a database");
	return SVC_EPERMANENT;
}

#endif
