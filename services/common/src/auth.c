/* Bearer tokens verified with libjwt (see svc/auth.h). */
#include "svc/auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/validate.h"

#define AUTH_MIN_SECRET     32
#define AUTH_KEY_FILE_MAX   (64 * 1024)
#define AUTH_LEEWAY_DEFAULT 30
#define AUTH_CACHE_DEFAULT  32768 /* slots */
#define AUTH_CACHE_MAX      65536
#define AUTH_CACHE_LOCKS    64

/*
 * Tokens verified lately (JWT_CACHE_SLOTS): a client sends the same token
 * with every request until it expires, and a full verification (decode, two
 * JSON parses, the signature) is most of what authorizing a request costs.
 * A slot holds a token that passed every check with this key, and what
 * depends on the clock: exp and nbf are checked again on every hit, so a
 * cached token is never accepted longer than it would be without the cache.
 * Only accepted tokens are kept; a token is found only when the one
 * presented is byte for byte the same (compared in constant time), so the
 * cache never accepts a token the full check would refuse. Two-way set
 * associative by a hash of the token: a newcomer takes an empty slot of its
 * set, else the one used less recently, so two busy clients whose tokens
 * hash alike do not keep pushing each other out.
 */
struct auth_cached {
	char *token; /* NULL: empty */
	size_t len;
	double exp;
	double nbf; /* -INFINITY: none */
	struct svc_principal who;
};

struct auth_cache {
	size_t sets;               /* a power of two; set s is slot[2s] and slot[2s + 1] */
	struct auth_cached *slot;  /* 2 * sets */
	unsigned char *recent;     /* per set: the way (0, 1) used last */
	atomic_uint_fast64_t hits; /* lookups that found the token */
	atomic_uint_fast64_t misses;
	pthread_mutex_t locks[AUTH_CACHE_LOCKS]; /* set s: locks[s % AUTH_CACHE_LOCKS] */
};

struct svc_auth {
	jwt_alg_t alg; /* JWT_ALG_HS256 or JWT_ALG_RS256 */
	unsigned char *key;
	size_t key_len;
	char *issuer; /* NULL: not checked */
	long leeway_s;
	struct auth_cache *cache; /* NULL: every token is verified in full */
};

static const struct {
	const char *name;
	unsigned bit;
} roles[] = {
        {"customer", SVC_ROLE_CUSTOMER},
        {"admin", SVC_ROLE_ADMIN},
};

static void cache_free(struct auth_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < 2 * c->sets; i++)
		free(c->slot[i].token);
	for (size_t i = 0; i < AUTH_CACHE_LOCKS; i++)
		pthread_mutex_destroy(&c->locks[i]);
	free(c->slot);
	free(c->recent);
	free(c);
}

/* A cache of at least `slots` slots (rounded up to a power of two, at
 * least one set of two); NULL for 0 or when out of memory. */
static struct auth_cache *cache_new(size_t slots)
{
	struct auth_cache *c;
	size_t n = 2, locks = 0;

	if (slots == 0)
		return NULL;
	while (n < slots)
		n <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->slot = calloc(n, sizeof(*c->slot))) ||
	    !(c->recent = calloc(n / 2, sizeof(*c->recent)))) {
		if (c)
			free(c->slot);
		free(c);
		return NULL;
	}
	c->sets = n / 2;
	atomic_init(&c->hits, 0);
	atomic_init(&c->misses, 0);
	while (locks < AUTH_CACHE_LOCKS && pthread_mutex_init(&c->locks[locks], NULL) == 0)
		locks++;
	if (locks < AUTH_CACHE_LOCKS) {
		while (locks > 0)
			pthread_mutex_destroy(&c->locks[--locks]);
		free(c->recent);
		free(c->slot);
		free(c);
		return NULL;
	}
	return c;
}

/* FNV-1a: picks the set (not a secret: a token is found only by itself). */
static size_t token_hash(const char *t, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)t[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* Equal bytes, in a time that does not depend on where they differ. */
static bool same_bytes(const char *a, const char *b, size_t len)
{
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Whether the time claims `exp` and `nbf` allow the token at `now`; the
 * reason when not. */
static const char *time_refusal(const struct svc_auth *auth, double exp, double nbf, time_t now)
{
	if (exp + (double)auth->leeway_s <= (double)now)
		return "the token has expired";
	if (nbf - (double)auth->leeway_s > (double)now)
		return "the token is not valid yet (nbf)";
	return NULL;
}

/* The way (0, 1) of set `s` that holds `token`; -1: neither. Under the
 * set's lock. */
static int cache_way(const struct auth_cache *c, size_t s, const char *token, size_t len)
{
	for (int w = 0; w < 2; w++) {
		const struct auth_cached *e = &c->slot[2 * s + (size_t)w];

		if (e->token && e->len == len && same_bytes(e->token, token, len))
			return w;
	}
	return -1;
}

/* 1: `token` is cached and its time claims allow it at `now` (*out filled);
 * 0: not cached; -1: cached, refused now (why filled). */
static int cache_lookup(const struct svc_auth *auth, const char *token, size_t len, time_t now,
                        struct svc_principal *out, char *why, size_t whylen)
{
	struct auth_cache *c = auth->cache;
	size_t s = token_hash(token, len) & (c->sets - 1);
	pthread_mutex_t *lock = &c->locks[s % AUTH_CACHE_LOCKS];
	const char *refusal = NULL;
	int w;

	pthread_mutex_lock(lock);
	w = cache_way(c, s, token, len);
	if (w >= 0) {
		const struct auth_cached *e = &c->slot[2 * s + (size_t)w];

		c->recent[s] = (unsigned char)w;
		refusal = time_refusal(auth, e->exp, e->nbf, now);
		if (!refusal)
			*out = e->who;
	}
	pthread_mutex_unlock(lock);
	atomic_fetch_add_explicit(w >= 0 ? &c->hits : &c->misses, 1, memory_order_relaxed);
	if (refusal) {
		snprintf(why, whylen, "%s", refusal);
		return -1;
	}
	return w >= 0;
}

/* Keeps `token`, which passed every check, with its time claims: in its own
 * slot when another thread kept it meanwhile, else in an empty way of its
 * set, else in place of the way used less recently. */
static void cache_store(const struct svc_auth *auth, const char *token, size_t len, double exp,
                        double nbf, const struct svc_principal *who)
{
	struct auth_cache *c = auth->cache;
	size_t s = token_hash(token, len) & (c->sets - 1);
	pthread_mutex_t *lock = &c->locks[s % AUTH_CACHE_LOCKS];
	char *copy = malloc(len);
	struct auth_cached *e;
	char *old;
	int w;

	if (!copy)
		return;
	memcpy(copy, token, len);
	pthread_mutex_lock(lock);
	w = cache_way(c, s, token, len);
	if (w < 0)
		w = !c->slot[2 * s].token ? 0 : !c->slot[2 * s + 1].token ? 1 : !c->recent[s];
	e = &c->slot[2 * s + (size_t)w];
	old = e->token;
	*e = (struct auth_cached){.token = copy, .len = len, .exp = exp, .nbf = nbf, .who = *who};
	c->recent[s] = (unsigned char)w;
	pthread_mutex_unlock(lock);
	free(old);
}

/* An auth for `alg` with `key` (copied), remembering up to `slots` tokens. */
static struct svc_auth *auth_new(jwt_alg_t alg, const void *key, size_t len, size_t slots)
{
	struct svc_auth *a = calloc(1, sizeof(*a));

	if (!a || !(a->key = malloc(len + 1))) {
		free(a);
		return NULL;
	}
	memcpy(a->key, key, len);
	a->key[len] = '\0';
	a->key_len = len;
	a->alg = alg;
	a->leeway_s = AUTH_LEEWAY_DEFAULT;
	a->cache = cache_new(slots); /* none when out of memory: no harm */
	return a;
}

/* HS256 with `key`: NULL when shorter than AUTH_MIN_SECRET. */
static struct svc_auth *hs256_new(const void *key, size_t len, size_t slots)
{
	return len >= AUTH_MIN_SECRET ? auth_new(JWT_ALG_HS256, key, len, slots) : NULL;
}

struct svc_auth *svc_auth_new_hs256(const void *key, size_t len)
{
	return hs256_new(key, len, AUTH_CACHE_DEFAULT);
}

void svc_auth_set_cache(struct svc_auth *auth, size_t slots)
{
	cache_free(auth->cache);
	auth->cache = cache_new(slots < AUTH_CACHE_MAX ? slots : AUTH_CACHE_MAX);
}

void svc_auth_cache_counts(const struct svc_auth *auth, uint64_t *hits, uint64_t *misses)
{
	const struct auth_cache *c = auth ? auth->cache : NULL;

	*hits = c ? atomic_load_explicit(&c->hits, memory_order_relaxed) : 0;
	*misses = c ? atomic_load_explicit(&c->misses, memory_order_relaxed) : 0;
}

void svc_auth_free(struct svc_auth *auth)
{
	if (!auth)
		return;
	if (auth->key)
		memset(auth->key, 0, auth->key_len);
	free(auth->key);
	free(auth->issuer);
	cache_free(auth->cache);
	free(auth);
}

/* The whole of a small file (the PEM key), NUL-terminated; NULL on error. */
static char *read_key_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(AUTH_KEY_FILE_MAX + 1);
	n = buf ? fread(buf, 1, AUTH_KEY_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!buf || n == 0 || n > AUTH_KEY_FILE_MAX) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct svc_auth *svc_auth_from_env(void)
{
	const char *secret = svc_env_str("JWT_SECRET", NULL);
	const char *key_file = svc_env_str("JWT_PUBLIC_KEY_FILE", NULL);
	const char *issuer = svc_env_str("JWT_ISSUER", NULL);
	struct svc_auth *a = NULL;
	char *pem;
	size_t len = 0, slots;

	if ((secret != NULL) == (key_file != NULL)) {
		svc_error("auth: set exactly one of JWT_SECRET (HS256) and JWT_PUBLIC_KEY_FILE "
		          "(RS256); clients need tokens (make token)");
		return NULL;
	}
	slots = (size_t)svc_env_long("JWT_CACHE_SLOTS", AUTH_CACHE_DEFAULT, 0, AUTH_CACHE_MAX);
	if (secret) {
		a = hs256_new(secret, strlen(secret), slots);
		if (!a)
			svc_error("auth: JWT_SECRET must be at least %d bytes", AUTH_MIN_SECRET);
	} else {
		pem = read_key_file(key_file, &len);
		if (!pem)
			svc_error("auth: cannot read the PEM key JWT_PUBLIC_KEY_FILE=%s", key_file);
		else
			a = auth_new(JWT_ALG_RS256, pem, len, slots);
		free(pem);
	}
	if (!a)
		return NULL;
	a->leeway_s = svc_env_long("JWT_LEEWAY_S", AUTH_LEEWAY_DEFAULT, 0, 3600);
	if (issuer && !(a->issuer = strdup(issuer))) {
		svc_auth_free(a);
		return NULL;
	}
	svc_info("auth: bearer tokens signed %s%s%s", jwt_alg_str(a->alg), issuer ? " by " : "",
	         issuer ? issuer : "");
	return a;
}

static int refuse(char *why, size_t whylen, const char *reason)
{
	snprintf(why, whylen, "%s", reason);
	return SVC_EPERMANENT;
}

/* The token of "Bearer <token>": base64url segments and dots only. */
static const char *bearer_token(const char *authorization)
{
	const char *t;
	size_t n;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	t = authorization + 7;
	while (*t == ' ')
		t++;
	n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");
	return n > 0 && t[n] == '\0' && n <= SVC_AUTH_TOKEN_MAX ? t : NULL;
}

/* A compact JWS: three base64url segments (bearer_token checked the alphabet),
 * none empty. libjwt 1.10 (Debian 12) writes past a zero-byte buffer when the
 * header segment is empty ("Bearer ..."), so such a token never reaches it. */
static bool jws_shaped(const char *token)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;

	return dot1 && dot2 && dot1 > token && dot2 > dot1 + 1 && dot2[1] != '\0' &&
	       !strchr(dot2 + 1, '.');
}

/* enum svc_role bits of a "roles" claim; 0 when it is not an array of
 * strings naming at least one known role. */
static unsigned roles_of(const json_t *claim)
{
	unsigned bits = 0;
	const json_t *v;
	size_t i, k;

	if (!json_is_array(claim))
		return 0;
	json_array_foreach(claim, i, v)
	{
		if (!json_is_string(v))
			return 0;
		for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
			if (!strcmp(json_string_value(v), roles[k].name))
				bits |= roles[k].bit;
	}
	return bits;
}

/* Checks the claims (a JSON object) at `now`; fills *out, and *exp_out and
 * *nbf_out (-INFINITY when absent) with the time claims. */
static int check_claims(const struct svc_auth *auth, const json_t *claims, time_t now,
                        struct svc_principal *out, double *exp_out, double *nbf_out, char *why,
                        size_t whylen)
{
	const json_t *exp = json_object_get(claims, "exp");
	const json_t *nbf = json_object_get(claims, "nbf");
	const json_t *iss = json_object_get(claims, "iss");
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *refusal;

	if (!json_is_number(exp))
		return refuse(why, whylen, "the token has no expiry (exp)");
	if (nbf && !json_is_number(nbf))
		return refuse(why, whylen, "the token's nbf is not a number");
	*exp_out = json_number_value(exp);
	*nbf_out = nbf ? json_number_value(nbf) : -INFINITY;
	refusal = time_refusal(auth, *exp_out, *nbf_out, now);
	if (refusal)
		return refuse(why, whylen, refusal);
	if (auth->issuer && (!json_is_string(iss) || strcmp(json_string_value(iss), auth->issuer)))
		return refuse(why, whylen, "the token's issuer is not trusted");
	if (!sub || !svc_id_valid(sub))
		return refuse(why, whylen, "the token's subject (sub) is missing or not an id");
	out->roles = roles_of(json_object_get(claims, "roles"));
	if (out->roles == 0)
		return refuse(why, whylen, "the token names no known role (roles)");
	snprintf(out->subject, sizeof(out->subject), "%s", sub);
	return 0;
}

int svc_auth_verify(const struct svc_auth *auth, const char *authorization, time_t now,
                    struct svc_principal *out, char *why, size_t whylen)
{
	const char *token = bearer_token(authorization);
	jwt_t *jwt = NULL;
	char *grants = NULL;
	json_t *claims = NULL;
	double exp = 0, nbf = -INFINITY;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!authorization)
		return refuse(why, whylen,
		              "a bearer token is required (Authorization: Bearer ...)");
	if (!token)
		return refuse(why, whylen, "the Authorization header is not a bearer token");
	len = strlen(token);
	if (auth->cache) {
		rc = cache_lookup(auth, token, len, now, out, why, whylen);
		if (rc != 0)
			return rc > 0 ? 0 : SVC_EPERMANENT;
	}
	if (!jws_shaped(token) || jwt_decode(&jwt, token, auth->key, (int)auth->key_len) != 0 ||
	    !jwt) {
		rc = refuse(why, whylen, "the token is malformed or its signature does not verify");
		goto release;
	}
	/* libjwt takes the algorithm from the token: insist on ours, so that
	 * "none" or HS256-signed-with-the-public-key never pass. */
	if (jwt_get_alg(jwt) != auth->alg) {
		rc = refuse(why, whylen, "the token is not signed with the expected algorithm");
		goto release;
	}
	grants = jwt_get_grants_json(jwt, NULL);
	claims = grants ? json_loads(grants, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(claims)) {
		rc = refuse(why, whylen, "the token's claims are not a JSON object");
		goto release;
	}
	rc = check_claims(auth, claims, now, out, &exp, &nbf, why, whylen);
	if (rc == 0 && auth->cache)
		cache_store(auth, token, len, exp, nbf, out);
release:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	json_decref(claims);
	free(grants);
	jwt_free(jwt);
	return rc;
}

char *svc_auth_mint_hs256(const void *key, size_t len, const char *subject, unsigned bits,
                          time_t now, long ttl_s)
{
	json_t *names = json_array(), *obj = NULL;
	char *roles_json = NULL, *token = NULL;
	jwt_t *jwt = NULL;
	size_t k;

	for (k = 0; names && k < sizeof(roles) / sizeof(roles[0]); k++)
		if (bits & roles[k].bit)
			json_array_append_new(names, json_string(roles[k].name));
	obj = names ? json_pack("{s:O}", "roles", names) : NULL;
	roles_json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	if (!roles_json || len < AUTH_MIN_SECRET || jwt_new(&jwt) != 0 ||
	    jwt_add_grant(jwt, "sub", subject) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)now + ttl_s) != 0 ||
	    jwt_add_grants_json(jwt, roles_json) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)len) != 0)
		goto release;
	token = jwt_encode_str(jwt);
release:
	jwt_free(jwt);
	free(roles_json);
	json_decref(obj);
	json_decref(names);
	return token;
}

const char *svc_auth_signing_secret(const char *prog)
{
	const char *secret = svc_env_str("JWT_SECRET", NULL);

	if (secret && strlen(secret) >= AUTH_MIN_SECRET)
		return secret;
	fprintf(stderr,
	        "%s: JWT_SECRET is %s: set it to the HS256 key the services verify bearer "
	        "tokens with (at least %d bytes)\n",
	        prog, secret ? "too short" : "not set", AUTH_MIN_SECRET);
	return NULL;
}

bool svc_principal_owns(const struct svc_principal *p, const char *owner)
{
	if (p->roles & SVC_ROLE_ADMIN)
		return true;
	return owner && p->subject[0] && !strcmp(p->subject, owner);
}
