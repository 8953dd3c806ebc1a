/* Bearer tokens verified with libjwt (see svc/auth.h). */
#include "svc/auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
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

struct svc_auth {
	jwt_alg_t alg; /* JWT_ALG_HS256 or JWT_ALG_RS256 */
	unsigned char *key;
	size_t key_len;
	char *issuer; /* NULL: not checked */
	long leeway_s;
};

static const struct {
	const char *name;
	unsigned bit;
} roles[] = {
        {"customer", SVC_ROLE_CUSTOMER},
        {"admin", SVC_ROLE_ADMIN},
};

static struct svc_auth *auth_new(jwt_alg_t alg, const void *key, size_t len)
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
	return a;
}

struct svc_auth *svc_auth_new_hs256(const void *key, size_t len)
{
	return len >= AUTH_MIN_SECRET ? auth_new(JWT_ALG_HS256, key, len) : NULL;
}

void svc_auth_free(struct svc_auth *auth)
{
	if (!auth)
		return;
	if (auth->key)
		memset(auth->key, 0, auth->key_len);
	free(auth->key);
	free(auth->issuer);
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
	size_t len = 0;

	if ((secret != NULL) == (key_file != NULL)) {
		svc_error("auth: set exactly one of JWT_SECRET (HS256) and JWT_PUBLIC_KEY_FILE "
		          "(RS256); clients need tokens (make token)");
		return NULL;
	}
	if (secret) {
		a = svc_auth_new_hs256(secret, strlen(secret));
		if (!a)
			svc_error("auth: JWT_SECRET must be at least %d bytes", AUTH_MIN_SECRET);
	} else {
		pem = read_key_file(key_file, &len);
		if (!pem)
			svc_error("auth: cannot read the PEM key JWT_PUBLIC_KEY_FILE=%s", key_file);
		else
			a = auth_new(JWT_ALG_RS256, pem, len);
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

/* Checks the claims (a JSON object) at `now`; fills *out. */
static int check_claims(const struct svc_auth *auth, const json_t *claims, time_t now,
                        struct svc_principal *out, char *why, size_t whylen)
{
	const json_t *exp = json_object_get(claims, "exp");
	const json_t *nbf = json_object_get(claims, "nbf");
	const json_t *iss = json_object_get(claims, "iss");
	const char *sub = json_string_value(json_object_get(claims, "sub"));

	if (!json_is_number(exp))
		return refuse(why, whylen, "the token has no expiry (exp)");
	if (json_number_value(exp) + (double)auth->leeway_s <= (double)now)
		return refuse(why, whylen, "the token has expired");
	if (nbf && !json_is_number(nbf))
		return refuse(why, whylen, "the token's nbf is not a number");
	if (nbf && json_number_value(nbf) - (double)auth->leeway_s > (double)now)
		return refuse(why, whylen, "the token is not valid yet (nbf)");
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
	int rc;

	memset(out, 0, sizeof(*out));
	if (!authorization)
		return refuse(why, whylen,
		              "a bearer token is required (Authorization: Bearer ...)");
	if (!token)
		return refuse(why, whylen, "the Authorization header is not a bearer token");
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
	rc = check_claims(auth, claims, now, out, why, whylen);
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
