/*
 * Runs one chaos scenario against the deployed system, from inside the
 * cluster: steady load through the order Service, the kills of the
 * scenario, the pods watched until they are back, then (once the system is
 * quiet) every order, payment, notification, product and dead letter read
 * back and the invariants of check.h evaluated. The outcome is one JSON
 * document (result.h describes it).
 *
 * Configuration from the environment (chaos_config_from_env):
 *   RELEASE            the Helm release (saga): its pods carry
 *                      app.kubernetes.io/instance=<release>
 *   ORDER_URL, INVENTORY_URL, PAYMENT_URL, NOTIFICATION_URL, GATEWAY_URL
 *                      the Services (default http://<release>-order:8081, ...)
 *   JWT_SECRET         the services' HS256 key (>= 32 bytes): the runner
 *                      signs an admin token and one per simulated customer
 *   CHAOS_IMAGE        the image of the ephemeral container that kills one
 *                      container (kill-container): this image
 *   CHAOS_RUN_ID       prefix of product ids, user ids and idempotency keys
 *                      (default: the start time)
 *   CHAOS_USERS        simulated customers (50)
 *   CHAOS_HTTP_TIMEOUT_MS  per request (5000)
 *   CHAOS_CHECK_THREADS    parallel reads when checking (8)
 *   CHAOS_POLL_MS      pod polling period (250)
 *   CHAOS_READY_TIMEOUT_S  how long pods may take to be back (300)
 *   HOSTNAME           this pod's name: never a victim
 */
#ifndef CHAOS_RUNNER_H
#define CHAOS_RUNNER_H

#include <jansson.h>
#include <stddef.h>

#include "chaos/api.h"
#include "chaos/kube.h"
#include "chaos/scenario.h"

struct chaos_config {
	const char *release;
	struct chaos_api api;
	char *admin_auth; /* owned: api.admin_auth points here */
	const char *jwt_secret;
	size_t jwt_len;
	const char *image;
	const char *self;
	char run_id[32];
	long users;
	unsigned check_threads;
	long poll_ms;
	long ready_timeout_s;
};

/* 0, or SVC_EPERMANENT (logged) when JWT_SECRET is missing or short, or an
 * admin token cannot be signed. Release with chaos_config_release. */
int chaos_config_from_env(struct chaos_config *c);
void chaos_config_release(struct chaos_config *c);

/*
 * Runs scenario s. Returns 0 with *result (caller owns) whether or not the
 * scenario passed (read its "verdict"); SVC_EPERMANENT / SVC_ETRANSIENT,
 * logged, when it could not be run at all (no target pod, the system not
 * answering during set-up).
 */
int chaos_run(const struct chaos_scenario *s, const struct chaos_config *cfg,
              struct chaos_kube *kube, json_t **result);

#endif
