/*
 * The bearer tokens of the users orders are placed for (svc/auth.h): one
 * customer token per user index (subject "U%09ld", the userId of the order's
 * body), signed HS256 with svc_auth_mint_hs256 on first use and kept in a
 * direct-mapped table of LT_TOKEN_SLOTS entries keyed by the index, so that
 * up to that many users are signed once per run and more users only re-sign
 * the ones that collide. A cached token is signed again when it is within
 * LT_TOKEN_RENEW_S of its expiry.
 */
#ifndef LT_TOKENS_H
#define LT_TOKENS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LT_TOKEN_SLOTS   65536 /* a power of two */
#define LT_TOKEN_RENEW_S 300
/* Longest "Authorization: Bearer <token>" line, NUL included. */
#define LT_AUTH_MAX 512

struct lt_token {
	long user;    /* 0: empty */
	time_t exp;   /* the token's expiry */
	char *header; /* "Authorization: Bearer <token>", malloc'd */
	size_t len;   /* strlen(header) */
};

struct lt_tokens {
	unsigned char *key; /* the HS256 key, malloc'd copy */
	size_t key_len;
	long ttl_s;
	struct lt_token *slots; /* LT_TOKEN_SLOTS of them */
	long minted;            /* tokens signed so far */
	int64_t mint_us;        /* time spent signing them */
};

/* A table signing with `key` (copied; at least 32 bytes) tokens valid for
 * `ttl_s` seconds. 0, or -1 on a short key or out of memory. The caller
 * embeds the struct and releases it with lt_tokens_release. */
int lt_tokens_init(struct lt_tokens *t, const void *key, size_t len, long ttl_s);
void lt_tokens_release(struct lt_tokens *t);

/* The Authorization header line of user `user` (>= 1) at `now` (seconds since
 * the epoch), signed on a miss; its length in *len. Borrowed from the table:
 * valid until the next call. NULL when signing fails. */
const char *lt_tokens_header(struct lt_tokens *t, long user, time_t now, size_t *len);

/* Signs the tokens of users 1..min(users, LT_TOKEN_SLOTS) ahead, so that a
 * run over that many users signs nothing while it is measured. 0 or -1. */
int lt_tokens_fill(struct lt_tokens *t, long users, time_t now);

#endif
