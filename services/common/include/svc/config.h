/*
 * Configuration from environment variables with defaults. Reads only; safe
 * from any thread as long as nothing changes the environment meanwhile.
 */
#ifndef SVC_CONFIG_H
#define SVC_CONFIG_H

#include <stdbool.h>

/* Value of `name`, or `def` when unset or empty. Never NULL unless def is NULL. */
const char *svc_env_str(const char *name, const char *def);
/* Integer value of `name`; `def` when unset. An unparsable or out-of-range
 * value [min, max] is logged and `def` is used. */
long svc_env_long(const char *name, long def, long min, long max);
/* "1", "true", "yes", "on" (any case) are true; unset gives `def`. */
bool svc_env_bool(const char *name, bool def);

#endif
