#include "svc/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "svc/error.h"

bool svc_id_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '@' ||
		          c == '-';
		if (!ok || n >= SVC_ID_MAX)
			return false;
	}
	return n > 0;
}

/* the name in parentheses: validate.h makes it a macro for clang's analyzer */
int(svc_problem_set)(struct svc_problem *p, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	p->status = status;
	snprintf(p->field, sizeof(p->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	return SVC_EPERMANENT;
}
