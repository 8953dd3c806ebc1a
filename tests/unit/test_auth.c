/*
 * Bearer tokens (svc/auth.h), the per-route access check and the JSON media
 * type test (svc/http.h), and per-client rate limits (svc/ratelimit.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>

#include "svc/auth.h"
#include "svc/buf.h"
#include "svc/error.h"
#include "svc/http.h"
#include "svc/prom.h"
#include "svc/ratelimit.h"

#define NOW    1800000000L
#define SECRET "0123456789abcdef0123456789abcdef-test"

static struct svc_auth *auth;

/* An RSA key pair for the RS256 tests only (made with openssl genrsa 2048). */
static const char rsa_private_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDiyK8U6tucU+mS\n"
        "SPkQCwjP/u8+aivh7Zj3wGKB4KvAM8uzfLG/ZUmRsmYsk4GFWLzNFlYXMJ8PHpwe\n"
        "Y9HAn8g1N+oaFqWa7TF9OBVJB81e9H2eYjBwALixu1iDJb5y635reEWwVHhcwoub\n"
        "ZgXnkSpXKGy10+ozGnACQiRYTsFXRc8zm0qNDYARSG/FyAmABrkOXM4geKAsz+BH\n"
        "/r1PQOMqrwg5S72B5OY0lX4p2UfmBMgctc9WxxDxAfFQ29zHWEKA8PCf3T8GOk8y\n"
        "aI2I5QBugpnyNv2/lrNKHwUSgcjWE3czwcJ4oJNsUpZNxLwgcIo7bzPBDMvWbVCi\n"
        "1FH1gHbdAgMBAAECggEAAf2m7C3bzq4yFKwrxtRSsinU5Y6Y9HnTtoi0UcQDjffM\n"
        "QKtAbMCpArhIbieoEWAEF+uIr6r5jh7scUqUw3wsU4i6Wg9HG7YEtLNLYf7JZxGs\n"
        "1qHgH284u3wlOdEkmOfB38J3CFS9gHtTFzzS5/267RrbJug0HBOOBPwlkUKGo4WF\n"
        "c4zOjp2AL8bwyBhKPGSe4yiyTGjzjP9BphMUiUUVvcnOT++FJqITHYgxPqaFSSBc\n"
        "wwbuGBjfVpuWlvWUiScv5ZYJtgU64zLwccpO56n3qFy1ehlqWlRWGk2qtMgGQXcq\n"
        "r2swq31tHi6yX2a4Z+UyzDxyhWUdDKfWt/CHODi5mwKBgQDw9W2AO7HMGMWV+PDh\n"
        "uwzwG+nzJwv+PqZMZZPTDyW4W5DCdy2MCk2W9DZLRHmKZ8Q8qmQU1qCuUSG/RIQM\n"
        "zvlsbZJMYqHMA77lsWX8PkCIOzXIj4wJwxNfjltrwVjQL+hAXP2rSw0WYLJ3E5l9\n"
        "tyS5NkI/4T0DdvutUgmxArts8wKBgQDw8L135CcaQEwSrhXZp/68pYhQVrJJukR5\n"
        "V6BX3GYeoPY4hi6eYF9VvKpBbW/zC/hjRC3qQx90y9bYGjksGMY/5c81Ws7/h+OD\n"
        "EY28ht8aYydE66podblR87sPLTJhTX4DTjxLYcwX6F+JRM6Nmuy6re7dp8la+OMp\n"
        "Xuu6e9NA7wKBgQCmuBmgrSzy23zyrID2nnZwN9AidjTdIDnuCCZE1Wky6t/5PX6d\n"
        "M4/Fz4k1gNZbhjqIAxkmNe6NTgN8lIqNVjPL6vBbu67ZOwo9YQYAho4d9GHdOD0b\n"
        "kAb6icQFhYzO1ybqSa0WdOJERnmU3FHKYwqcv8cM7epKWGwA2w9rk0ldMwKBgQCu\n"
        "pcKhMidJ9wttivTZtdWHxvF9UqqfmL5juqnGpkL7tq9jn5gRQ0g3rK85B+vbIHUm\n"
        "91fU9FzL26nbMX75wOeLj7hYM3/SaBz5d/LmklkMFo1zfuQiHht8FREl2hwnvfU2\n"
        "zjIUbkpzlgQSS2bx7DfmxYdc8m+ZWsnGxkBXB8TEzwKBgEXMuJWGjgPT7T75SIw+\n"
        "4AQfoNqAsOU6i6ssz8M7mEz35ZF7pt1Wmv95ibJGOWPftPkWiSvweKX43N9sSwwd\n"
        "nqc6YGqB8MVsSjDX1FcDJUaroVGDihKjWv/SGBcRAk5da2qGd7uRCWmbjr3YRiAo\n"
        "VVcmi7sEsK0MPEOtRjKvxkBx\n"
        "-----END PRIVATE KEY-----\n";

static const char rsa_public_pem[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4sivFOrbnFPpkkj5EAsI\n"
        "z/7vPmor4e2Y98BigeCrwDPLs3yxv2VJkbJmLJOBhVi8zRZWFzCfDx6cHmPRwJ/I\n"
        "NTfqGhalmu0xfTgVSQfNXvR9nmIwcAC4sbtYgyW+cut+a3hFsFR4XMKLm2YF55Eq\n"
        "VyhstdPqMxpwAkIkWE7BV0XPM5tKjQ2AEUhvxcgJgAa5DlzOIHigLM/gR/69T0Dj\n"
        "Kq8IOUu9geTmNJV+KdlH5gTIHLXPVscQ8QHxUNvcx1hCgPDwn90/BjpPMmiNiOUA\n"
        "boKZ8jb9v5azSh8FEoHI1hN3M8HCeKCTbFKWTcS8IHCKO28zwQzL1m1QotRR9YB2\n"
        "3QIDAQAB\n"
        "-----END PUBLIC KEY-----\n";

static int setup(void **state)
{
	(void)state;
	auth = svc_auth_new_hs256(SECRET, strlen(SECRET));
	return auth ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	svc_auth_free(auth);
	return 0;
}

/* "Bearer <token>" in a static buffer. */
static const char *bearer(const char *token)
{
	static char buf[SVC_AUTH_TOKEN_MAX + 16];

	snprintf(buf, sizeof(buf), "Bearer %s", token);
	return buf;
}

/* A token with the grants of `claims_json`, signed with `alg` and `key`. */
static char *sign(jwt_alg_t alg, const char *key, const char *claims_json)
{
	jwt_t *jwt = NULL;
	char *out = NULL;

	if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, claims_json) == 0 &&
	    jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0) == 0)
		out = jwt_encode_str(jwt);
	jwt_free(jwt);
	return out;
}

/* A customer token of `sub`, signed HS256 with SECRET, valid from NOW + 300
 * to NOW + 600 (exp and nbf set). */
static char *not_yet_valid(const char *sub)
{
	char claims[256];

	snprintf(claims, sizeof(claims),
	         "{\"sub\":\"%s\",\"roles\":[\"customer\"],\"exp\":%ld,\"nbf\":%ld}", sub,
	         NOW + 600, NOW + 300);
	return sign(JWT_ALG_HS256, SECRET, claims);
}

/* svc_auth_verify's verdict on `token`: 0 or SVC_EPERMANENT. */
static int verify(const char *token, struct svc_principal *who)
{
	char why[160] = "";

	return svc_auth_verify(auth, bearer(token), NOW, who, why, sizeof(why));
}

static void test_minted_token_verifies_with_subject_and_roles(void **state)
{
	struct svc_principal who;
	char *t = svc_auth_mint_hs256(SECRET, strlen(SECRET), "alice", SVC_ROLE_CUSTOMER, NOW, 60);

	(void)state;
	assert_non_null(t);
	assert_int_equal(verify(t, &who), 0);
	assert_string_equal(who.subject, "alice");
	assert_int_equal(who.roles, SVC_ROLE_CUSTOMER);
	assert_true(svc_principal_owns(&who, "alice"));
	assert_false(svc_principal_owns(&who, "bob"));
	free(t);
	t = svc_auth_mint_hs256(SECRET, strlen(SECRET), "ops", SVC_ROLE_ADMIN | SVC_ROLE_CUSTOMER,
	                        NOW, 60);
	assert_int_equal(verify(t, &who), 0);
	assert_int_equal(who.roles, SVC_ROLE_ADMIN | SVC_ROLE_CUSTOMER);
	assert_true(svc_principal_owns(&who, "bob")); /* an admin owns everything */
	free(t);
}

static void test_expired_and_not_yet_valid_tokens_are_refused(void **state)
{
	struct svc_principal who;
	char *t;

	(void)state;
	/* expired beyond the 30 s leeway */
	t = svc_auth_mint_hs256(SECRET, strlen(SECRET), "alice", SVC_ROLE_CUSTOMER, NOW - 100, 60);
	assert_int_equal(verify(t, &who), SVC_EPERMANENT);
	assert_string_equal(who.subject, "");
	free(t);
	/* within the leeway: still good */
	t = svc_auth_mint_hs256(SECRET, strlen(SECRET), "alice", SVC_ROLE_CUSTOMER, NOW - 70, 60);
	assert_int_equal(verify(t, &who), 0);
	free(t);
	t = not_yet_valid("alice");
	assert_non_null(t);
	assert_int_equal(verify(t, &who), SVC_EPERMANENT);
	free(t);
	/* no exp at all */
	t = sign(JWT_ALG_HS256, SECRET, "{\"sub\":\"alice\",\"roles\":[\"customer\"]}");
	assert_int_equal(verify(t, &who), SVC_EPERMANENT);
	free(t);
}

static void test_wrong_signatures_and_algorithms_are_refused(void **state)
{
	struct svc_principal who;
	char claims[256], *t, *dot;
	char none[1024];

	(void)state;
	snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"roles\":[\"admin\"],\"exp\":%ld}",
	         NOW + 600);
	t = sign(JWT_ALG_HS256, "another-secret-another-secret-another", claims);
	assert_int_equal(verify(t, &who), SVC_EPERMANENT);
	free(t);
	t = sign(JWT_ALG_HS512, SECRET, claims); /* right key, other algorithm */
	assert_int_equal(verify(t, &who), SVC_EPERMANENT);
	free(t);
	/* alg "none": the good token's payload with a none header and no signature */
	t = sign(JWT_ALG_HS256, SECRET, claims);
	assert_int_equal(verify(t, &who), 0);
	dot = strchr(t, '.');
	assert_non_null(dot);
	*strrchr(t, '.') = '\0';
	snprintf(none, sizeof(none), "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0%s.", dot);
	assert_int_equal(verify(none, &who), SVC_EPERMANENT);
	snprintf(none, sizeof(none), "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0%s", dot);
	assert_int_equal(verify(none, &who), SVC_EPERMANENT);
	free(t);
}

static void test_malformed_headers_and_claims_are_refused(void **state)
{
	/* the empty segments ("Bearer ...", ".e30.x", "e30..x") overflowed a heap
	 * buffer in libjwt 1.10 before svc_auth_verify refused them itself */
	static const char *const bad_headers[] = {
	        "",           "Bearer",         "Bearer ",          "Basic YWxpY2U6c2VjcmV0",
	        "Bearer a.b", "Bearer a.b.c.d", "Bearer a b.c.d",   "Bearer e30.e30.",
	        "Bearer ...", "bearer x.y.z",   "Bearer x.y.z\nX:", NULL,
	        "Bearer ..x", "Bearer .e30.x",  "Bearer e30..x",
	};
	/* exp 1800000600 is NOW + 600: only the named flaw makes each bad */
	static const char *const bad_claims[] = {
	        "{\"sub\":\"alice\",\"roles\":\"admin\",\"exp\":1800000600}",    /* not an array */
	        "{\"sub\":\"alice\",\"roles\":[\"root\"],\"exp\":1800000600}",   /* unknown role */
	        "{\"sub\":\"alice\",\"roles\":[1],\"exp\":1800000600}",          /* not strings */
	        "{\"roles\":[\"customer\"],\"exp\":1800000600}",                 /* no subject */
	        "{\"sub\":\"a b\",\"roles\":[\"customer\"],\"exp\":1800000600}", /* not an id */
	        "{\"sub\":\"alice\",\"roles\":[\"customer\"],\"exp\":\"1800000600\"}",
	};
	struct svc_principal who;
	char why[160], *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		assert_int_equal(svc_auth_verify(auth, bad_headers[i], NOW, &who, why, sizeof(why)),
		                 SVC_EPERMANENT);
		assert_true(why[0] != '\0');
	}
	for (i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
		t = sign(JWT_ALG_HS256, SECRET, bad_claims[i]);
		assert_non_null(t);
		assert_int_equal(verify(t, &who), SVC_EPERMANENT);
		free(t);
	}
	assert_null(svc_auth_new_hs256("short", 5)); /* HS256 keys of 32 bytes or more */
}

static void test_route_access_gives_401_403_or_the_principal(void **state)
{
	struct svc_principal who;
	char why[160], *cust, *adm;

	(void)state;
	cust = svc_auth_mint_hs256(SECRET, strlen(SECRET), "alice", SVC_ROLE_CUSTOMER, NOW, 60);
	adm = svc_auth_mint_hs256(SECRET, strlen(SECRET), "ops", SVC_ROLE_ADMIN, NOW, 60);
	assert_int_equal(
	        svc_http_authorize(auth, SVC_HTTP_PUBLIC, NULL, false, NOW, &who, why, sizeof(why)),
	        0);
	assert_int_equal(
	        svc_http_authorize(auth, SVC_HTTP_LOCAL, NULL, true, NOW, &who, why, sizeof(why)),
	        0);
	assert_int_equal(svc_http_authorize(auth, SVC_HTTP_LOCAL, bearer(adm), false, NOW, &who,
	                                    why, sizeof(why)),
	                 403); /* a token does not make a remote caller local */
	assert_int_equal(svc_http_authorize(auth, SVC_HTTP_CUSTOMER, NULL, true, NOW, &who, why,
	                                    sizeof(why)),
	                 401);
	assert_int_equal(svc_http_authorize(auth, SVC_HTTP_CUSTOMER, bearer(cust), false, NOW, &who,
	                                    why, sizeof(why)),
	                 0);
	assert_string_equal(who.subject, "alice");
	assert_int_equal(svc_http_authorize(auth, SVC_HTTP_ADMIN, bearer(cust), false, NOW, &who,
	                                    why, sizeof(why)),
	                 403);
	assert_string_equal(who.subject, ""); /* refused: no principal left behind */
	assert_int_equal(svc_http_authorize(auth, SVC_HTTP_ADMIN, bearer(adm), false, NOW, &who,
	                                    why, sizeof(why)),
	                 0);
	assert_int_equal(svc_http_authorize(auth, SVC_HTTP_CUSTOMER, bearer(adm), false, NOW, &who,
	                                    why, sizeof(why)),
	                 0); /* admins may do what customers do */
	assert_int_equal(svc_http_authorize(NULL, SVC_HTTP_ADMIN, bearer(adm), false, NOW, &who,
	                                    why, sizeof(why)),
	                 401);
	free(cust);
	free(adm);
}

/* RS256: the public key from JWT_PUBLIC_KEY_FILE verifies tokens the private
 * key signed; an HS256 token whose HMAC key is the public PEM (the classic
 * algorithm confusion) is refused, as is an RS256 token with other claims
 * spliced in. */
static void test_rs256_with_a_public_key_file(void **state)
{
	char path[] = "/tmp/test_auth_pubXXXXXX", *t, claims[256];
	struct svc_auth *rs;
	struct svc_principal who;
	char why[160];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rsa_public_pem, strlen(rsa_public_pem)),
	                 (ssize_t)strlen(rsa_public_pem));
	close(fd);
	setenv("JWT_PUBLIC_KEY_FILE", path, 1);
	unsetenv("JWT_SECRET");
	rs = svc_auth_from_env();
	unsetenv("JWT_PUBLIC_KEY_FILE");
	unlink(path);
	assert_non_null(rs);
	snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"roles\":[\"customer\"],\"exp\":%ld}",
	         NOW + 600);
	t = sign(JWT_ALG_RS256, rsa_private_pem, claims);
	assert_non_null(t);
	assert_int_equal(svc_auth_verify(rs, bearer(t), NOW, &who, why, sizeof(why)), 0);
	assert_string_equal(who.subject, "alice");
	free(t);
	t = sign(JWT_ALG_HS256, rsa_public_pem, claims); /* HMAC keyed with the public key */
	assert_non_null(t);
	assert_int_equal(svc_auth_verify(rs, bearer(t), NOW, &who, why, sizeof(why)),
	                 SVC_EPERMANENT);
	free(t);
	t = sign(JWT_ALG_HS256, SECRET, claims); /* and HS256 tokens at all */
	assert_int_equal(svc_auth_verify(rs, bearer(t), NOW, &who, why, sizeof(why)),
	                 SVC_EPERMANENT);
	free(t);
	svc_auth_free(rs);
	/* both keys, or neither: no verifier */
	setenv("JWT_SECRET", SECRET, 1);
	setenv("JWT_PUBLIC_KEY_FILE", "/nonexistent.pem", 1);
	assert_null(svc_auth_from_env());
	unsetenv("JWT_PUBLIC_KEY_FILE");
	unsetenv("JWT_SECRET");
	assert_null(svc_auth_from_env());
}

static void test_json_media_types(void **state)
{
	(void)state;
	assert_true(svc_http_is_json_type("application/json"));
	assert_true(svc_http_is_json_type("Application/JSON; charset=utf-8"));
	assert_true(svc_http_is_json_type("application/merge-patch+json"));
	assert_true(svc_http_is_json_type("application/json ;charset=utf-8"));
	assert_false(svc_http_is_json_type(NULL));
	assert_false(svc_http_is_json_type(""));
	assert_false(svc_http_is_json_type("text/plain"));
	assert_false(svc_http_is_json_type("application/x-www-form-urlencoded"));
	assert_false(svc_http_is_json_type("multipart/form-data; boundary=x"));
	assert_false(svc_http_is_json_type("application/jsonp"));
	assert_false(svc_http_is_json_type("application/+json"));
	assert_false(svc_http_is_json_type("text/json"));
}

static void test_rate_limit_allows_a_burst_then_says_when(void **state)
{
	struct svc_ratelimit *rl = svc_ratelimit_new(2.0, 3.0, 1024);
	int i;

	(void)state;
	assert_non_null(rl);
	for (i = 0; i < 3; i++)
		assert_int_equal(svc_ratelimit_take(rl, "alice", 1000), 0);
	assert_int_equal(svc_ratelimit_take(rl, "alice", 1000), 1); /* 0.5 s to a token: 1 */
	assert_int_equal(svc_ratelimit_take(rl, "bob", 1000), 0);   /* a bucket each */
	assert_int_equal(svc_ratelimit_take(rl, "alice", 1500), 0); /* refilled 1 */
	assert_int_equal(svc_ratelimit_take(rl, "alice", 1500), 1);
	assert_int_equal(svc_ratelimit_take(rl, "alice", 60000), 0); /* full again, capped */
	assert_int_equal(svc_ratelimit_take(rl, "alice", 60000), 0);
	assert_int_equal(svc_ratelimit_take(rl, "alice", 60000), 0);
	assert_int_equal(svc_ratelimit_take(rl, "alice", 60000), 1);
	svc_ratelimit_free(rl);
	assert_null(svc_ratelimit_new(0, 10, 16)); /* no limit */
	assert_int_equal(svc_ratelimit_take(NULL, "alice", -1), 0);
}

/* A token verified once is remembered: it keeps verifying without being
 * decoded again, but never past its exp, never before its nbf, and only
 * when the token presented is the same to the last byte. */
static void test_remembered_tokens_keep_their_time_limits(void **state)
{
	struct svc_principal who;
	char why[160], *t, *forged;
	size_t len;

	(void)state;
	t = svc_auth_mint_hs256(SECRET, strlen(SECRET), "alice", SVC_ROLE_CUSTOMER, NOW, 60);
	assert_int_equal(verify(t, &who), 0);
	assert_int_equal(verify(t, &who), 0); /* from the cache */
	assert_string_equal(who.subject, "alice");
	assert_int_equal(who.roles, SVC_ROLE_CUSTOMER);
	/* past exp + leeway: refused, cached or not */
	assert_int_equal(svc_auth_verify(auth, bearer(t), NOW + 91, &who, why, sizeof(why)),
	                 SVC_EPERMANENT);
	assert_string_equal(why, "the token has expired");
	assert_string_equal(who.subject, "");
	assert_int_equal(svc_auth_verify(auth, bearer(t), NOW + 89, &who, why, sizeof(why)), 0);
	/* the same token with its signature's last character changed */
	forged = strdup(t);
	assert_non_null(forged);
	len = strlen(forged);
	forged[len - 1] = forged[len - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(forged, &who), SVC_EPERMANENT);
	assert_int_equal(verify(t, &who), 0);
	free(forged);
	free(t);
	/* not valid yet: refused before and after it was once accepted */
	t = not_yet_valid("bob");
	assert_non_null(t);
	assert_int_equal(svc_auth_verify(auth, bearer(t), NOW + 300, &who, why, sizeof(why)), 0);
	assert_string_equal(who.subject, "bob");
	/* NOW: before nbf - leeway */
	assert_int_equal(svc_auth_verify(auth, bearer(t), NOW, &who, why, sizeof(why)),
	                 SVC_EPERMANENT);
	assert_string_equal(why, "the token is not valid yet (nbf)");
	assert_string_equal(who.subject, "");
	free(t);
}

/* Hits and misses of the cache since `h0`/`m0`. */
static void cache_delta(uint64_t h0, uint64_t m0, uint64_t *dh, uint64_t *dm)
{
	uint64_t h, m;

	svc_auth_cache_counts(auth, &h, &m);
	*dh = h - h0;
	*dm = m - m0;
}

/* /metrics shows the cache's counts (svc_auth_collect_metrics). */
static void expect_scraped(unsigned hits, unsigned misses)
{
	struct svc_prom *r = svc_prom_new();
	struct svc_buf out;
	char line[96];

	assert_non_null(r);
	svc_buf_init(&out);
	assert_int_equal(svc_prom_on_collect(r, svc_auth_collect_metrics, auth), 0);
	assert_int_equal(svc_prom_render(r, &out), 0);
	assert_false(out.failed);
	assert_non_null(out.data); /* nothing rendered: a metric could not be made */
	snprintf(line, sizeof(line), "svc_auth_token_cache_total{result=\"hit\"} %u\n", hits);
	assert_non_null(strstr(out.data, line));
	snprintf(line, sizeof(line), "svc_auth_token_cache_total{result=\"miss\"} %u\n", misses);
	assert_non_null(strstr(out.data, line));
	svc_buf_release(&out);
	svc_prom_free(r);
}

/* The cache holds two tokens per set: in a cache of one set, two clients'
 * tokens both stay remembered, and a third pushes out the one used less
 * recently. Every lookup is counted (svc_auth_token_cache_total). */
static void test_cache_keeps_two_tokens_per_set_and_forgets_the_least_recent(void **state)
{
	struct svc_principal who;
	char *a, *b, *c;
	uint64_t h0, m0, dh, dm;

	(void)state;
	svc_auth_set_cache(auth, 1); /* rounded up: one set of two */
	a = svc_auth_mint_hs256(SECRET, strlen(SECRET), "alice", SVC_ROLE_CUSTOMER, NOW, 60);
	b = svc_auth_mint_hs256(SECRET, strlen(SECRET), "bob", SVC_ROLE_CUSTOMER, NOW, 60);
	c = svc_auth_mint_hs256(SECRET, strlen(SECRET), "carol", SVC_ROLE_ADMIN, NOW, 60);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	svc_auth_cache_counts(auth, &h0, &m0);
	assert_int_equal(h0 + m0, 0); /* a new cache counts from 0 */

	assert_int_equal(verify(a, &who), 0);
	assert_int_equal(verify(b, &who), 0);
	cache_delta(h0, m0, &dh, &dm);
	assert_int_equal(dh, 0);
	assert_int_equal(dm, 2);
	assert_int_equal(verify(a, &who), 0);
	assert_string_equal(who.subject, "alice");
	assert_int_equal(verify(b, &who), 0);
	assert_string_equal(who.subject, "bob");
	cache_delta(h0, m0, &dh, &dm);
	assert_int_equal(dh, 2); /* both remembered */
	assert_int_equal(dm, 2);

	/* b was used last: carol's token takes alice's place */
	assert_int_equal(verify(c, &who), 0);
	assert_int_equal(verify(b, &who), 0);
	assert_int_equal(verify(c, &who), 0);
	assert_string_equal(who.subject, "carol");
	assert_int_equal(who.roles, SVC_ROLE_ADMIN);
	cache_delta(h0, m0, &dh, &dm);
	assert_int_equal(dh, 4);
	assert_int_equal(dm, 3);
	assert_int_equal(verify(a, &who), 0); /* verified in full again */
	assert_string_equal(who.subject, "alice");
	cache_delta(h0, m0, &dh, &dm);
	assert_int_equal(dh, 4);
	assert_int_equal(dm, 4);
	expect_scraped(4, 4);

	/* no cache: nothing counted, every token verified in full */
	svc_auth_set_cache(auth, 0);
	assert_int_equal(verify(a, &who), 0);
	svc_auth_cache_counts(auth, &dh, &dm);
	assert_int_equal(dh + dm, 0);
	svc_auth_set_cache(auth, 32768);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_minted_token_verifies_with_subject_and_roles),
	        cmocka_unit_test(test_expired_and_not_yet_valid_tokens_are_refused),
	        cmocka_unit_test(test_remembered_tokens_keep_their_time_limits),
	        cmocka_unit_test(test_cache_keeps_two_tokens_per_set_and_forgets_the_least_recent),
	        cmocka_unit_test(test_wrong_signatures_and_algorithms_are_refused),
	        cmocka_unit_test(test_malformed_headers_and_claims_are_refused),
	        cmocka_unit_test(test_route_access_gives_401_403_or_the_principal),
	        cmocka_unit_test(test_rs256_with_a_public_key_file),
	        cmocka_unit_test(test_json_media_types),
	        cmocka_unit_test(test_rate_limit_allows_a_burst_then_says_when),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
