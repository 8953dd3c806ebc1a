/*
 * The console's configuration, from the environment:
 *   CONSOLE_SIDECARS   name=url,... the sidecars whose /metrics and /dlq the
 *                      console reads (default the local stack's:
 *                      order=http://127.0.0.1:9081,payment=...:9082,
 *                      inventory=...:9083,notification=...:9084)
 *   CONSOLE_ORDER_URL  the order service, for its /metrics (http://127.0.0.1:8081)
 *   CONSOLE_GROUPS     consumer groups whose lag is shown
 *                      (order-service,inventory-service,payment-service,
 *                      notification-service)
 *   CONSOLE_STATIC_DIR the page's files (services/console/static)
 *   CONSOLE_HTTP_TIMEOUT_MS  each call to a sidecar or the service (2000)
 *   CONSOLE_SAMPLE_MS  how often the order service's metrics are read (1000)
 *   KAFKA_BROKERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*: as the sidecar's
 *   DB_*: order_db, read only (the chart and the local stack give the
 *   console a user with SELECT only)
 */
#ifndef CONSOLE_CONFIG_H
#define CONSOLE_CONFIG_H

#include <stddef.h>

#include "resilience/sidecar/kafkaconf.h"

#define CONSOLE_SIDECARS_MAX 8
#define CONSOLE_GROUPS_MAX   8
#define CONSOLE_NAME_MAX     64
#define CONSOLE_URL_MAX      256

struct console_target {
	char name[CONSOLE_NAME_MAX];
	char url[CONSOLE_URL_MAX];
};

struct console_config {
	struct console_target sidecars[CONSOLE_SIDECARS_MAX];
	size_t nsidecars;
	char groups[CONSOLE_GROUPS_MAX][CONSOLE_NAME_MAX];
	size_t ngroups;
	const char *order_url;
	const char *static_dir;
	long http_timeout_ms;
	long sample_ms;
	struct sc_kafka_client kafka;
};

/* Fills `cfg` from the environment. 0, or SVC_EPERMANENT (logged) when
 * CONSOLE_SIDECARS or CONSOLE_GROUPS cannot be read. */
int console_config_load(struct console_config *cfg);

/*
 * Parses "name=url,name=url" into at most `max` targets: names of
 * [a-z0-9-] (1..63), URLs http:// or https:// (< CONSOLE_URL_MAX bytes).
 * Returns how many, or -1 on a malformed entry or more than `max`. Pure.
 */
int console_targets_parse(const char *spec, struct console_target *out, size_t max);

/* The target named `name`, or NULL. */
const struct console_target *console_config_sidecar(const struct console_config *cfg,
                                                    const char *name);

#endif
