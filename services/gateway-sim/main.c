/*
 * gateway-sim: the virtual payment gateway the Payment service charges
 * through its sidecar. No database: answers live in memory (store.c), kept
 * across restarts in GATEWAY_LEDGER_FILE when set (an append-only journal,
 * replayed at start; GATEWAY_LEDGER_FSYNC=1 syncs each line).
 * Behaviour: GATEWAY_LATENCY_MS, GATEWAY_DECLINE_RATE, GATEWAY_DECLINE_ABOVE,
 * GATEWAY_FAIL_RATE, or POST /admin/config at run time (an admin token:
 * JWT_SECRET or JWT_PUBLIC_KEY_FILE, svc/auth.h). A charge holds an HTTP
 * thread for GATEWAY_LATENCY_MS, so slow charges can take all HTTP_THREADS:
 * GATEWAY_ADMIN_PORT (0: none) serves /admin/config and health on a
 * listener of its own that charges never reach.
 */
#include <signal.h>
#include <stdlib.h>

#include "services/gateway-sim/api.h"
#include "svc/auth.h"
#include "svc/config.h"
#include "svc/http.h"
#include "svc/log.h"

int main(void)
{
	struct svc_http_server_config hc = {0}, ac = {0};
	struct svc_http_server *srv = NULL, *admin = NULL;
	struct svc_auth *auth = NULL;
	struct gw_app app;
	sigset_t sigs;
	int sig = 0, rc = EXIT_FAILURE;

	svc_log_init("gateway-sim");
	if (gw_app_init(&app)) {
		svc_error("cannot start: out of memory, or the ledger cannot be used");
		return EXIT_FAILURE;
	}
	/* Block the stop signals before any thread exists, so all inherit the
	 * mask and sigwait below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	hc.bind_addr = svc_env_str("HTTP_BIND", NULL);
	hc.port = (unsigned)svc_env_long("HTTP_PORT", 8089, 1, 65535);
	hc.threads = (unsigned)svc_env_long("HTTP_THREADS", 8, 1, 256);
	hc.max_body = (size_t)svc_env_long("HTTP_MAX_BODY", 65536, 1024, 16 * 1024 * 1024);
	hc.auth = auth = svc_auth_from_env(); /* /admin/config is an admin's */
	if (!auth)
		goto release;
	srv = svc_http_server_start(&hc, gw_routes, gw_nroutes, &app);
	if (!srv)
		goto release;
	ac = hc;
	ac.port = (unsigned)svc_env_long("GATEWAY_ADMIN_PORT", 0, 0, 65535);
	ac.threads = 1;
	if (ac.port &&
	    !(admin = svc_http_server_start(&ac, gw_admin_routes, gw_admin_nroutes, &app)))
		goto release;
	svc_info("listening on port %u, admin port %u (latency %ld ms, decline above %lld, "
	         "decline rate %.2f)",
	         hc.port, ac.port, app.cfg.latency_ms, (long long)app.cfg.decline_above,
	         app.cfg.decline_rate);
	sigwait(&sigs, &sig);
	svc_info("signal %d: stopping", sig);
	rc = EXIT_SUCCESS;
release:
	svc_http_server_free(admin);
	svc_http_server_free(srv);
	svc_auth_free(auth);
	gw_app_release(&app);
	return rc;
}
