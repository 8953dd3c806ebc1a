/* Sidecar configuration from the environment (see config.h for names and defaults). */
#include "resilience/sidecar/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "svc/breaker.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

/* The first line of `path` into buf (at most size - 1 bytes); "" when the
 * file cannot be read or the password does not fit, logged by name only. */
static void read_secret_file(const char *var, const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f) {
		svc_error("config: %s=%s: %s", var, path, strerror(errno));
		return;
	}
	n = fread(buf, 1, size, f);
	if (ferror(f))
		svc_error("config: %s=%s: read error", var, path);
	else if (n == size)
		svc_error("config: %s=%s: longer than %zu bytes", var, path, size - 1);
	if (ferror(f) || n == size)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0'; /* a trailing newline is not part of it */
	fclose(f);
}

void sc_kafka_client_from_env(struct sc_kafka_client *k)
{
	const char *password = svc_env_str("KAFKA_SASL_PASSWORD", NULL);
	const char *file = svc_env_str("KAFKA_SASL_PASSWORD_FILE", NULL);

	k->brokers = svc_env_str("KAFKA_BROKERS", "127.0.0.1:9092");
	k->security_protocol = svc_env_str("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT");
	k->sasl_mechanism = svc_env_str("KAFKA_SASL_MECHANISM", "");
	k->sasl_username = svc_env_str("KAFKA_SASL_USERNAME", "");
	k->sasl_password[0] = '\0';
	if (!sc_kafka_client_uses_sasl(k)) {
		if (k->sasl_username[0] || password || file)
			svc_warn("config: KAFKA_SASL_* ignored: KAFKA_SECURITY_PROTOCOL is %s",
			         k->security_protocol);
		return;
	}
	k->sasl_mechanism = sc_kafka_client_mechanism(k);
	if (password && file)
		svc_warn("config: KAFKA_SASL_PASSWORD is set: KAFKA_SASL_PASSWORD_FILE ignored");
	if (password) {
		if (strlen(password) >= sizeof(k->sasl_password))
			svc_error("config: KAFKA_SASL_PASSWORD is longer than %zu bytes",
			          sizeof(k->sasl_password) - 1);
		else
			memcpy(k->sasl_password, password, strlen(password) + 1);
	} else if (file) {
		read_secret_file("KAFKA_SASL_PASSWORD_FILE", file, k->sasl_password,
		                 sizeof(k->sasl_password));
	}
}

/* True (logged) when the environment's `name` is longer than `max` bytes. */
static bool env_too_long(const char *name, size_t max)
{
	const char *v = svc_env_str(name, "");

	if (strlen(v) <= max)
		return false;
	svc_error("config: %s is %zu bytes, longer than the %zu accepted: refused", name, strlen(v),
	          max);
	return true;
}

int sc_config_check(const struct sc_config *cfg)
{
	bool bad = env_too_long("SERVICE_URL", SC_URL_MAX);

	bad |= env_too_long("CONSUMER_GROUP", sizeof(cfg->group) - 1);
	bad |= env_too_long("DLQ_TOPIC", sizeof(cfg->dlq_topic) - 1);
	return bad ? SVC_EPERMANENT : 0;
}

void sc_config_from_env(struct sc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->service = svc_env_str("SERVICE_NAME", "order");
	snprintf(cfg->log_name, sizeof(cfg->log_name), "%s-sidecar", cfg->service);
	cfg->port = (unsigned)svc_env_long("SIDECAR_PORT", 9081, 1, 65535);
	cfg->service_url = svc_env_str("SERVICE_URL", "http://127.0.0.1:8081");
	sc_kafka_client_from_env(&cfg->kafka);
	cfg->subscribe = svc_env_str("SUBSCRIBE_TOPICS", "");

	char def[128];
	snprintf(def, sizeof(def), "%s-service", cfg->service);
	snprintf(cfg->group, sizeof(cfg->group), "%s", svc_env_str("CONSUMER_GROUP", def));
	snprintf(def, sizeof(def), "%s.dlq", cfg->service);
	snprintf(cfg->dlq_topic, sizeof(cfg->dlq_topic), "%s", svc_env_str("DLQ_TOPIC", def));

	svc_db_config_from_env(&cfg->db);
	if (!cfg->db.database)
		cfg->db.database = "";
	cfg->wake_socket = svc_env_str("OUTBOX_WAKE_SOCKET", "");
	cfg->outbox_poll_ms = svc_env_long("OUTBOX_POLL_MS", 1000, 1, 3600000);
	cfg->outbox_batch = svc_env_long("OUTBOX_BATCH", 500, 1, 100000);
	cfg->relay_commit_ms = svc_env_long("RELAY_COMMIT_MS", 100, 0, 10000);
	cfg->relay_linger_ms = svc_env_long("RELAY_LINGER_MS", 25, 0, 1000);
	cfg->relay_linger_below = svc_env_long("RELAY_LINGER_BELOW", 1000, 0, 10000000);
	cfg->kafka_linger_ms = svc_env_long("KAFKA_LINGER_MS", 5, 0, 60000);
	cfg->kafka_compression = svc_env_str("KAFKA_COMPRESSION", "lz4");
	cfg->kafka_fetch_wait_ms = svc_env_long("KAFKA_FETCH_WAIT_MS", 100, 0, 300000);
	cfg->kafka_fetch_min_bytes = svc_env_long("KAFKA_FETCH_MIN_BYTES", 65536, 1, 100000000);
	cfg->kafka_timeout_ms = svc_env_long("KAFKA_MESSAGE_TIMEOUT_MS", 30000, 1000, 3600000);
	cfg->delivery_batch_max = svc_env_long("DELIVERY_BATCH_MAX", 200, 1, 10000);
	cfg->delivery_batch_bytes =
	        svc_env_long("DELIVERY_BATCH_BYTES", 512L * 1024, 1024, 64L * 1024 * 1024);
	cfg->delivery_workers = svc_env_long("DELIVERY_WORKERS", 6, 1, 256);
	cfg->delivery_linger_ms = svc_env_long("DELIVERY_LINGER_MS", 20, 0, 60000);
	cfg->delivery_combine = svc_env_long("DELIVERY_COMBINE_PARTITIONS", 16, 1, 1024);
	cfg->delivery_timeout_ms = svc_env_long("DELIVERY_TIMEOUT_MS", 30000, 100, 3600000);
	cfg->retry_base_ms = svc_env_long("RETRY_BASE_MS", 100, 1, 3600000);
	cfg->retry_max_ms = svc_env_long("RETRY_MAX_MS", 5000, 1, 3600000);
	cfg->retry_max_attempts = svc_env_long("RETRY_MAX_ATTEMPTS", 10, 1, 1000000);
	cfg->egress_routes = svc_env_str("EGRESS_ROUTES", "");

	/* Deliveries are one at a time with backoff between failures, so a
	 * smaller window than the egress's reacts within seconds. An invalid
	 * combination is logged here and refused by sc_inbound_start(). */
	rs_breaker_config_default(&cfg->service_breaker);
	cfg->service_breaker.window = 10;
	cfg->service_breaker.min_calls = 5;
	cfg->service_breaker.half_open_calls = 1;
	svc_breaker_config_from_env(&cfg->service_breaker, "SERVICE_BREAKER", "delivery to");
}

bool sc_config_has_relay(const struct sc_config *cfg)
{
	return cfg->db.database && cfg->db.database[0] != '\0';
}

bool sc_config_has_inbound(const struct sc_config *cfg)
{
	return cfg->subscribe && strspn(cfg->subscribe, ", ") < strlen(cfg->subscribe);
}
