/* Base URL + path (see svc/url.h). */
#include "svc/url.h"

#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

size_t svc_url_base_len(const char *base)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return n;
}

int svc_url_join(char *out, size_t outlen, const char *base, const char *path)
{
	size_t n = svc_url_base_len(base), plen = strlen(path);

	if (outlen == 0)
		return SVC_EPERMANENT;
	if (n + plen >= outlen) {
		out[0] = '\0';
		return SVC_EPERMANENT;
	}
	memcpy(out, base, n);
	memcpy(out + n, path, plen + 1);
	return 0;
}

char *svc_url_join_dup(const char *base, const char *path)
{
	size_t len = svc_url_base_len(base) + strlen(path) + 1;
	char *out = malloc(len);

	if (out)
		svc_url_join(out, len, base, path);
	return out;
}
