/*
 * Circuit breakers (resilience/breaker.h) as the services and sidecars set
 * them up: configuration from the environment under a prefix, and state
 * changes logged once each.
 */
#ifndef SVC_BREAKER_H
#define SVC_BREAKER_H

#include "resilience/breaker.h"

/*
 * Fills `cfg` from <prefix>_WINDOW, _MIN_CALLS, _FAILURE_RATE (percent),
 * _OPEN_MS, _SLOW_MS (0 = off) and _HALF_OPEN_CALLS, each defaulting to the
 * value `cfg` holds on entry (start from rs_breaker_config_default()).
 * Out-of-range values are logged and the default kept. Sets on_change to
 * svc_breaker_log_change with `what` as its argument (`what` must outlive the
 * breaker). SVC_EPERMANENT (logged) when MIN_CALLS > WINDOW: the breaker
 * could never open.
 */
int svc_breaker_config_from_env(struct rs_breaker_config *cfg, const char *prefix,
                                const char *what);

/*
 * An rs_breaker_config.on_change callback: logs "<what> <name>: circuit
 * breaker <from> -> <to>", at warn level when it opens and info otherwise.
 * `arg` is a const char * saying what the breaker guards ("egress route"),
 * or NULL.
 */
void svc_breaker_log_change(const char *name, enum rs_breaker_state from, enum rs_breaker_state to,
                            void *arg);

#endif
