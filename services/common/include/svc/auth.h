/*
 * Who is calling: bearer tokens (JWT) verified with libjwt, and the
 * principal a request carries once its token is verified.
 *
 * Keys (svc_auth_from_env):
 *   JWT_SECRET           HS256 shared secret, at least 32 bytes
 *   JWT_PUBLIC_KEY_FILE  RS256: PEM public key (instead of JWT_SECRET)
 *   JWT_ISSUER           when set, the "iss" claim must equal it
 *   JWT_LEEWAY_S         clock skew allowed on exp/nbf (default 30)
 *   JWT_CACHE_SLOTS      tokens remembered as verified (default 32768; 0:
 *                        none): a token seen again is not decoded and its
 *                        signature not checked again, only its exp and nbf
 * Exactly one of JWT_SECRET and JWT_PUBLIC_KEY_FILE.
 *
 * A token is accepted when its header names the configured algorithm (never
 * "none", never HS256 when the key is RSA), its signature verifies, "exp"
 * is a number in the future, "nbf" (if any) is not in the future, "sub" is a
 * non-empty string of at most SVC_AUTH_SUBJECT_MAX - 1 printable characters,
 * and "roles" is an array of strings naming known roles ("customer",
 * "admin"; unknown ones are ignored) with at least one known.
 */
#ifndef SVC_AUTH_H
#define SVC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SVC_AUTH_SUBJECT_MAX 128
/* Longest Authorization header value looked at; longer ones are refused. */
#define SVC_AUTH_TOKEN_MAX 4096

enum svc_role {
	SVC_ROLE_CUSTOMER = 1u << 0,
	SVC_ROLE_ADMIN = 1u << 1,
};

/* The caller of one request. Anonymous: subject "" and roles 0. */
struct svc_principal {
	char subject[SVC_AUTH_SUBJECT_MAX];
	unsigned roles; /* enum svc_role bits */
};

struct svc_auth;

/* From the environment (above). NULL, logged, when the keys are missing,
 * both given, too short or unreadable. */
struct svc_auth *svc_auth_from_env(void);
/* HS256 with `key` (copied); NULL when shorter than 32 bytes. For tests and
 * tools. */
struct svc_auth *svc_auth_new_hs256(const void *key, size_t len);
void svc_auth_free(struct svc_auth *auth);
/* Remembers up to `slots` verified tokens (rounded up to a power of two, at
 * least 2, in sets of two; 0: none; JWT_CACHE_SLOTS above), forgetting those
 * remembered so far. Not while another thread verifies with `auth`. */
void svc_auth_set_cache(struct svc_auth *auth, size_t slots);
/* Lookups of the cache so far: tokens found (*hits) and not found (*misses,
 * each then verified in full); both 0 without a cache. */
void svc_auth_cache_counts(const struct svc_auth *auth, uint64_t *hits, uint64_t *misses);
/* svc_prom_on_collect() function (svc/prom.h) for `auth` (a struct svc_auth):
 * svc_auth_token_cache_total{result="hit|miss"}. */
struct svc_prom;
void svc_auth_collect_metrics(struct svc_prom *r, void *auth);

/*
 * Verifies an Authorization header value ("Bearer <token>") at time `now`
 * (seconds since the epoch). 0 with *out filled, or SVC_EPERMANENT with a
 * short reason in why[whylen] (no token text in it: reasons are logged and
 * returned to the client).
 */
int svc_auth_verify(const struct svc_auth *auth, const char *authorization, time_t now,
                    struct svc_principal *out, char *why, size_t whylen);

/*
 * Mints a token for `subject` with `roles` (enum svc_role bits) valid from
 * `now` for `ttl_s` seconds, signed with the HS256 secret `key`. malloc'd
 * string (free()), NULL on failure. For the token tool, the load generator
 * and tests: services only verify.
 */
char *svc_auth_mint_hs256(const void *key, size_t len, const char *subject, unsigned roles,
                          time_t now, long ttl_s);

/* JWT_SECRET for a program that signs tokens (the token tool, the load
 * generator, the smoke test): the value when it is at least 32 bytes, else
 * NULL after telling stderr, as "<prog>: ...", what is wrong. */
const char *svc_auth_signing_secret(const char *prog);

/* True when `p` has any of `roles` (enum svc_role bits). */
static inline bool svc_principal_has(const struct svc_principal *p, unsigned roles)
{
	return (p->roles & roles) != 0;
}

/* True when `p` may see what belongs to `owner`: its own, or an admin. */
bool svc_principal_owns(const struct svc_principal *p, const char *owner);

#endif
