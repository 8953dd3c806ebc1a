/*
 * saga-token: prints a bearer token for the local stack (make token).
 *
 *   saga-token --sub USER [--role customer|admin]... [--ttl SECONDS]
 *
 * Signs HS256 with JWT_SECRET (scripts/stack.sh keeps the local one in
 * run/secrets/jwt). Roles default to customer; the token lives --ttl seconds
 * (default 3600; a negative value makes an expired one, for tests).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc/auth.h"
#include "svc/validate.h"

static int usage(void)
{
	fprintf(stderr,
	        "usage: saga-token --sub USER [--role customer|admin]... [--ttl SECONDS]\n"
	        "       (JWT_SECRET in the environment: the key the services verify with)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"sub", required_argument, NULL, 's'},
	        {"role", required_argument, NULL, 'r'},
	        {"ttl", required_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	const char *secret, *sub = NULL;
	unsigned roles = 0;
	long ttl = 3600;
	char *end, *token;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sub = optarg;
			break;
		case 'r':
			if (!strcmp(optarg, "customer"))
				roles |= SVC_ROLE_CUSTOMER;
			else if (!strcmp(optarg, "admin"))
				roles |= SVC_ROLE_ADMIN;
			else
				return usage();
			break;
		case 't':
			ttl = strtol(optarg, &end, 10);
			if (end == optarg || *end)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (!sub || optind != argc)
		return usage();
	secret = svc_auth_signing_secret("saga-token");
	if (!svc_id_valid(sub)) {
		fprintf(stderr, "saga-token: the subject must be 1..%d of [A-Za-z0-9._:@-]\n",
		        SVC_ID_MAX);
		return 2;
	}
	if (!secret)
		return 2;
	token = svc_auth_mint_hs256(secret, strlen(secret), sub, roles ? roles : SVC_ROLE_CUSTOMER,
	                            time(NULL), ttl);
	if (!token) {
		fprintf(stderr, "saga-token: cannot sign the token\n");
		return 1;
	}
	printf("%s\n", token);
	free(token);
	return 0;
}
