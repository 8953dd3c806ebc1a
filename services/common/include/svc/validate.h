/*
 * Request validation helpers shared by the services' APIs (pure: no I/O).
 */
#ifndef SVC_VALIDATE_H
#define SVC_VALIDATE_H

#include <stdbool.h>

#define SVC_ID_MAX 64

/* User and product ids: 1..SVC_ID_MAX characters of [A-Za-z0-9._:@-]. */
bool svc_id_valid(const char *s);

/* What is wrong with a request, for a problem+json reply naming the field. */
struct svc_problem {
	int status;     /* 400: missing or mistyped; 422: a value outside its rules */
	char field[48]; /* e.g. "items[1].quantity"; "" when no single field */
	char detail[160];
};

/* Fills *p (detail is printf-formatted); returns SVC_EPERMANENT so that a
 * validator can `return svc_problem_set(...)`. */
int svc_problem_set(struct svc_problem *p, int status, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
#ifdef __clang_analyzer__
#include "svc/error.h"
/* clang's analyzer sees one file at a time: it would assume the call can
 * return 0 and follow a validator past its refusal. */
#define svc_problem_set(...) (svc_problem_set(__VA_ARGS__), SVC_EPERMANENT)
#endif

#endif
