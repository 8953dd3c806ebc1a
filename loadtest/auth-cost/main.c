/*
 * auth-cost: what verifying a bearer token costs a request (make bench-auth).
 *
 *   auth-cost [--seconds S] [--out FILE]
 *
 * Verifies one customer token (HS256, as the services do: svc_auth_verify,
 * libjwt) over and over for S seconds (default 3) on one thread, twice: in
 * full every time (JWT_CACHE_SLOTS=0), then as the services do, with the
 * verified-token cache (the token decoded and its signature checked once,
 * then only its exp and nbf). Prints the time per verification of each, what
 * that is at 1000 requests/s (a share of one core), and the CPU it ran on;
 * the same lines go to FILE (default build/bench/auth-cost.txt).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc/auth.h"
#include "svc/clock.h"

#define KEY "auth-cost-key-auth-cost-key-auth-cost"

/* "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], *colon;

	snprintf(out, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) != 0 || !(colon = strchr(line, ':')))
			continue;
		snprintf(out, len, "%s", colon + 2);
		out[strcspn(out, "\n")] = '\0';
		break;
	}
	if (f)
		fclose(f);
}

/* Verifies `header` for `seconds`; the time per verification (us), or a
 * negative value when it does not verify. */
static double measure(const struct svc_auth *auth, const char *header, double seconds, long *n)
{
	struct svc_principal who;
	char why[160];
	double t0 = svc_mono_s(), elapsed;

	*n = 0;
	do {
		for (int i = 0; i < 1000; i++, (*n)++)
			if (svc_auth_verify(auth, header, time(NULL), &who, why, sizeof(why)) !=
			    0) {
				fprintf(stderr, "auth-cost: the token does not verify: %s\n", why);
				return -1;
			}
		elapsed = svc_mono_s() - t0;
	} while (elapsed < seconds);
	return elapsed * 1e6 / (double)*n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"seconds", required_argument, NULL, 's'},
	        {"out", required_argument, NULL, 'o'},
	        {NULL, 0, NULL, 0},
	};
	const char *out_path = "build/bench/auth-cost.txt";
	double seconds = 3, full, cached;
	struct svc_auth *auth = svc_auth_new_hs256(KEY, strlen(KEY));
	char header[SVC_AUTH_TOKEN_MAX + 16], cpu[128], report[768];
	char *token;
	long n_full = 0, n_cached = 0;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			seconds = atof(optarg);
		else if (c == 'o')
			out_path = optarg;
		else
			return 2;
	}
	token = svc_auth_mint_hs256(KEY, strlen(KEY), "U000000001", SVC_ROLE_CUSTOMER, time(NULL),
	                            3600);
	if (!auth || !token || seconds <= 0)
		return 1;
	snprintf(header, sizeof(header), "Bearer %s", token);
	svc_auth_set_cache(auth, 0);
	full = measure(auth, header, seconds, &n_full);
	svc_auth_set_cache(auth, 32768);
	cached = full < 0 ? -1 : measure(auth, header, seconds, &n_cached);
	if (cached < 0)
		return 1;
	cpu_model(cpu, sizeof(cpu));
	snprintf(report, sizeof(report),
	         "auth-cost: %ld full verifications: %.1f us per token (HS256, libjwt)\n"
	         "auth-cost: %ld verifications of a remembered token: %.2f us per token\n"
	         "auth-cost: at 1000 requests/s that is %.2f %% of one core in full, %.3f %% "
	         "remembered\n"
	         "auth-cost: CPU %s\n",
	         n_full, full, n_cached, cached, full * 1000.0 / 1e6 * 100.0,
	         cached * 1000.0 / 1e6 * 100.0, cpu);
	fputs(report, stdout);
	f = fopen(out_path, "w");
	if (f) {
		fputs(report, f);
		fclose(f);
	}
	free(token);
	svc_auth_free(auth);
	return 0;
}
