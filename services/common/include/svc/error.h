/*
 * Result codes shared by the helper library and the services.
 *
 * Functions that do something return int: 0 on success, a negative SVC_E*
 * code on failure. Failures are classified where they arise: SVC_ETRANSIENT
 * may succeed when retried (database gone, deadlock, timeout, broker down),
 * SVC_EPERMANENT never will (bad input, unknown event type). Outcomes that are
 * not failures have positive codes (SVC_DUPLICATE, SVC_IGNORED).
 */
#ifndef SVC_ERROR_H
#define SVC_ERROR_H

enum {
	SVC_OK = 0,
	SVC_ETRANSIENT = -1, /* retry later: the cause is outside us and passes */
	SVC_EPERMANENT = -2, /* retrying cannot help: the input is wrong */
	SVC_ENOTFOUND = -3,  /* the thing asked for does not exist */
	SVC_ECONFLICT = -4,  /* state does not allow it (e.g. idempotency clash) */
	SVC_ENOMEM = -5,     /* allocation failed */
	SVC_ERANGE = -6,     /* arithmetic overflow / value out of bounds */

	SVC_DUPLICATE = 1, /* already done before: no second effect */
	SVC_IGNORED = 2,   /* nothing to do for this input (e.g. event of no interest) */
};

/* Short constant name of a code ("transient", "duplicate", ...). */
const char *svc_strerror(int code);

#endif
