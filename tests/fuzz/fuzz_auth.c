/*
 * Bearer tokens (svc_auth_verify) from hostile Authorization headers: the
 * header parse, libjwt's decoding and our claim checks. No input may crash;
 * one that is accepted must name a valid subject and a known role, one that
 * is refused must say why and leave no principal behind. The corpus holds a
 * token signed with the harness's key, so that mutations of a genuine token
 * (a flipped signature byte, another header, other claims) are explored.
 *
 * Input: the header value, cut at a NUL.
 */
#include "tests/fuzz/fuzz.h"

#include "svc/auth.h"

#define FUZZ_SECRET "fuzz-secret-fuzz-secret-fuzz-secret!"
#define FUZZ_NOW    1800000000L

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct svc_auth *auth;
	struct svc_principal who;
	char header[SVC_AUTH_TOKEN_MAX + 64], why[160], *token;
	size_t n = size < sizeof(header) - 1 ? size : sizeof(header) - 1;

	if (!auth)
		auth = svc_auth_new_hs256(FUZZ_SECRET, strlen(FUZZ_SECRET));
	FUZZ_CHECK(auth != NULL);
	memcpy(header, data, n);
	header[n] = '\0';
	why[0] = '\0';
	if (svc_auth_verify(auth, header, FUZZ_NOW, &who, why, sizeof(why)) == 0) {
		FUZZ_CHECK(svc_id_valid(who.subject));
		FUZZ_CHECK((who.roles & (SVC_ROLE_CUSTOMER | SVC_ROLE_ADMIN)) != 0);
		/* its claims are ones we can mint again */
		token = svc_auth_mint_hs256(FUZZ_SECRET, strlen(FUZZ_SECRET), who.subject,
		                            who.roles, FUZZ_NOW, 60);
		FUZZ_CHECK(token != NULL);
		free(token);
	} else {
		FUZZ_CHECK(why[0] != '\0');
		FUZZ_CHECK(who.subject[0] == '\0' && who.roles == 0);
	}
	return 0;
}
