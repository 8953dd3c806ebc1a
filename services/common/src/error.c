/* Names of the SVC_* result codes, for logs and API answers. */
#include "svc/error.h"

const char *svc_strerror(int code)
{
	switch (code) {
	case SVC_OK:
		return "ok";
	case SVC_ETRANSIENT:
		return "transient";
	case SVC_EPERMANENT:
		return "permanent";
	case SVC_ENOTFOUND:
		return "not-found";
	case SVC_ECONFLICT:
		return "conflict";
	case SVC_ENOMEM:
		return "out-of-memory";
	case SVC_ERANGE:
		return "out-of-range";
	case SVC_DUPLICATE:
		return "duplicate";
	case SVC_IGNORED:
		return "ignored";
	default:
		return "unknown";
	}
}
