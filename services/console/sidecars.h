/*
 * What the console asks the sidecars (CONSOLE_SIDECARS) over HTTP:
 * their metrics (breaker states, dead-letter counts; public) and their
 * dead-letter queues (GET /dlq, POST /dlq/redrive: admin routes, called
 * with the console caller's own bearer token, so the sidecar decides).
 */
#ifndef CONSOLE_SIDECARS_H
#define CONSOLE_SIDECARS_H

#include <jansson.h>

#include "services/console/config.h"
#include "svc/http.h"

/* [{"service","up":bool,"breakers":[{"route","state":"closed|half-open|open"}],
 *   "deadLettered":{"relay":n,"delivery":n}}], one per sidecar, read from
 * each one's GET /metrics (saga_breaker_state, saga_dlq_messages_total).
 * New reference; NULL on OOM. */
json_t *console_sidecars_status(const struct console_config *cfg);

/* Fills `out` (an array) with what one sidecar's /metrics text says, as
 * above, for sidecar `name`. Pure; exposed for tests. */
int console_sidecar_status_parse(const char *name, const char *text, size_t len, json_t *out);

/* [{"service","topic","entries":[...as the sidecar lists them...]} or
 *  {"service","status":http status or 0,"error":"..."}], one per sidecar:
 * its GET /dlq?limit=`limit` with `authorization` (the caller's header
 * value, may be NULL). New reference; NULL on OOM. */
json_t *console_sidecars_dlq(const struct console_config *cfg, const char *authorization,
                             long limit);

/* Forwards a re-drive request body to sidecar `t`'s POST /dlq/redrive with
 * `authorization`, and answers `res` with the sidecar's status and body
 * (502 problem when it did not answer). */
void console_sidecar_redrive(const struct console_config *cfg, const struct console_target *t,
                             const char *authorization, const char *body, size_t len,
                             struct svc_http_response *res);

#endif
