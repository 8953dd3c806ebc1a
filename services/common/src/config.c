/* Configuration from environment variables (see svc/config.h). */
#include "svc/config.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "svc/log.h"

const char *svc_env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v && *v) ? v : def;
}

long svc_env_long(const char *name, long def, long min, long max)
{
	const char *v = svc_env_str(name, NULL);
	char *end = NULL;
	long n;

	if (!v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
		svc_warn("config: %s=\"%s\" is not an integer in [%ld, %ld]; using %ld", name, v,
		         min, max, def);
		return def;
	}
	return n;
}

bool svc_env_bool(const char *name, bool def)
{
	const char *v = svc_env_str(name, NULL);

	if (!v)
		return def;
	if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		return true;
	/* Any other set value is false, as documented; an odd one is worth a line. */
	if (strcasecmp(v, "0") && strcasecmp(v, "false") && strcasecmp(v, "no") &&
	    strcasecmp(v, "off"))
		svc_warn("config: %s=\"%s\" is not a boolean; taken as false", name, v);
	return false;
}
