/*
 * Shared between the inbox's files in libsvc (consumer.c: the endpoint and
 * the one-by-one path; consumer_batch.c: many events in one transaction).
 * Not for services.
 */
#ifndef SVC_CONSUMER_INTERNAL_H
#define SVC_CONSUMER_INTERNAL_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/buf.h"
#include "svc/consumer.h"
#include "svc/event.h"
#include "svc/service.h"

/* Events slower than this are logged at warn level (latency target: 1 s). */
#define SVC__SLOW_EVENT_MS 1000

/* The processed_messages INSERT up to VALUES (the defer head of claims). */
extern const char svc__inbox_insert[];
/* Appends the processed_messages values of `ev`, read where `from` says, to `b`. */
void svc__inbox_claim_tuple(struct svc_buf *b, MYSQL *conn, const struct svc_event *ev,
                            const struct svc_inbox_from *from);

/* Decodes one message of a delivery into *ev and *from (its topic, partition
 * and offset): 0 or SVC_EPERMANENT (reason set). Release ev in either case. */
int svc__consumer_decode(json_t *msg, struct svc_event *ev, struct svc_inbox_from *from,
                         char *reason, size_t reasonlen);
/* Whether a decoded event goes on: 0; SVC_IGNORED when the consumer has no
 * use for its type (ops->accepts); SVC_EPERMANENT (reason set) when it is
 * older than the inbox remembers (ctx->inbox_keep_ms, svc/inbox_retention.h). */
int svc__consumer_admit(struct svc_ctx *ctx, const struct svc_event *ev, char *reason,
                        size_t reasonlen);
/* Logs one outcome (failures and slow events at warn level); gives a
 * failure without a reason one. */
void svc__consumer_log_outcome(const struct svc_event *ev, const char *topic, int ret, char *reason,
                               size_t reasonlen, int64_t elapsed_ms);
/* The answer's "status" for an outcome code ("ok", "retry", ...); static. */
const char *svc__consumer_status_name(int code);
/* An answer: counted into ctx->events and appended to `results`. 0 or -1
 * (out of memory). */
int svc__consumer_answer(struct svc_ctx *ctx, json_t *results, int code, const char *reason);

/*
 * Handles `count` messages from messages[first] one by one, each in its own
 * transaction, and appends their answers. After the first "retry" (or when
 * *stopped already) the rest are answered "retry" unseen. 0 or -1 (out of
 * memory).
 */
int svc__consumer_handle_singly(struct svc_ctx *ctx, json_t *messages, size_t first, size_t count,
                                json_t *results, bool *stopped, bool *any_committed);
/*
 * Handles *countp messages from messages[first] together (fewer when an
 * outside prepare() needs it: *countp is then lowered) and appends their
 * answers; a transaction that fails hands them to
 * svc__consumer_handle_singly(). 0 or -1 (out of memory).
 */
int svc__consumer_handle_together(struct svc_ctx *ctx, json_t *messages, size_t first,
                                  size_t *countp, json_t *results, bool *stopped,
                                  bool *any_committed);

#endif
