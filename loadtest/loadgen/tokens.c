/* The users' bearer tokens, signed once and cached (see tokens.h). */
#include "loadtest/loadgen/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadtest/loadgen/stats.h"
#include "svc/auth.h"

int lt_tokens_init(struct lt_tokens *t, const void *key, size_t len, long ttl_s)
{
	memset(t, 0, sizeof(*t));
	if (len < 32 || ttl_s <= LT_TOKEN_RENEW_S)
		return -1;
	t->key = malloc(len);
	t->slots = calloc(LT_TOKEN_SLOTS, sizeof(*t->slots));
	if (!t->key || !t->slots) {
		lt_tokens_release(t);
		return -1;
	}
	memcpy(t->key, key, len);
	t->key_len = len;
	t->ttl_s = ttl_s;
	return 0;
}

void lt_tokens_release(struct lt_tokens *t)
{
	for (size_t i = 0; t->slots && i < LT_TOKEN_SLOTS; i++)
		free(t->slots[i].header);
	free(t->slots);
	if (t->key)
		memset(t->key, 0, t->key_len);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

/* Signs the token of `user` into `e`. 0 or -1 (`e` left as it was). */
static int mint(struct lt_tokens *t, struct lt_token *e, long user, time_t now)
{
	static const char prefix[] = "Authorization: Bearer ";
	char subject[24], *token, *header = NULL;
	int64_t t0 = lt_now_us();
	size_t n = 0;

	snprintf(subject, sizeof(subject), "U%09ld", user);
	token = svc_auth_mint_hs256(t->key, t->key_len, subject, SVC_ROLE_CUSTOMER, now, t->ttl_s);
	if (token)
		n = sizeof(prefix) - 1 + strlen(token);
	if (n > 0 && n < LT_AUTH_MAX && (header = malloc(n + 1)))
		snprintf(header, n + 1, "%s%s", prefix, token);
	free(token);
	t->mint_us += lt_now_us() - t0;
	if (!header)
		return -1;
	t->minted++;
	free(e->header);
	e->header = header;
	e->len = n;
	e->user = user;
	e->exp = now + t->ttl_s;
	return 0;
}

const char *lt_tokens_header(struct lt_tokens *t, long user, time_t now, size_t *len)
{
	struct lt_token *e = &t->slots[(unsigned long)user & (LT_TOKEN_SLOTS - 1)];

	if ((e->user != user || e->exp - now <= LT_TOKEN_RENEW_S) && mint(t, e, user, now) != 0)
		return NULL;
	*len = e->len;
	return e->header;
}

int lt_tokens_fill(struct lt_tokens *t, long users, time_t now)
{
	size_t len;

	for (long u = 1; u <= users && u <= LT_TOKEN_SLOTS; u++)
		if (!lt_tokens_header(t, u, now, &len))
			return -1;
	return 0;
}
