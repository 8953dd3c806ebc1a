/*
 * The sidecar's configuration, read once from the environment at start-up.
 * scripts/stack.sh and the Helm chart set the names they need, with the same
 * spelling; every other one keeps its default below.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stdbool.h>

#include "resilience/breaker.h"
#include "resilience/sidecar/kafkaconf.h"
#include "svc/db.h"

struct sc_config {
	const char *service;     /* SERVICE_NAME: "order", ... */
	char log_name[80];       /* "<service>-sidecar" */
	unsigned port;           /* SIDECAR_PORT (9081) */
	const char *service_url; /* SERVICE_URL (http://127.0.0.1:8081) */
	/* KAFKA_BROKERS (127.0.0.1:9092), KAFKA_SECURITY_PROTOCOL (PLAINTEXT),
	 * KAFKA_SASL_MECHANISM (SCRAM-SHA-512 with SASL_*), KAFKA_SASL_USERNAME,
	 * KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE (kafkaconf.h) */
	struct sc_kafka_client kafka;
	const char *subscribe;         /* SUBSCRIBE_TOPICS: comma list, "" = no inbound */
	char group[128];               /* CONSUMER_GROUP (<service>-service) */
	char dlq_topic[128];           /* DLQ_TOPIC (<service>.dlq) */
	struct svc_db_config db;       /* DB_*; database "" = no relay */
	const char *wake_socket;       /* OUTBOX_WAKE_SOCKET, "" = poll only */
	long outbox_poll_ms;           /* OUTBOX_POLL_MS (1000) */
	long outbox_batch;             /* OUTBOX_BATCH (500) */
	long relay_commit_ms;          /* RELAY_COMMIT_MS (100): a relay transaction's life */
	long relay_linger_ms;          /* RELAY_LINGER_MS (25): a quiet relay's wait after a wake */
	long relay_linger_below;       /* RELAY_LINGER_BELOW (1000): quiet = fewer messages/s */
	long kafka_linger_ms;          /* KAFKA_LINGER_MS (5) */
	const char *kafka_compression; /* KAFKA_COMPRESSION (lz4): compression.type */
	long kafka_fetch_wait_ms;      /* KAFKA_FETCH_WAIT_MS (100): fetch.wait.max.ms */
	long kafka_fetch_min_bytes;    /* KAFKA_FETCH_MIN_BYTES (65536): fetch.min.bytes */
	long kafka_timeout_ms;         /* KAFKA_MESSAGE_TIMEOUT_MS (30000): produce gives up */
	long delivery_batch_max;       /* DELIVERY_BATCH_MAX (200): messages per POST */
	long delivery_batch_bytes;     /* DELIVERY_BATCH_BYTES (512 KiB): body bytes per POST */
	long delivery_workers;         /* DELIVERY_WORKERS (6): partitions delivered at once */
	long delivery_linger_ms;       /* DELIVERY_LINGER_MS (20): poll for more after the first */
	long delivery_combine;         /* DELIVERY_COMBINE_PARTITIONS (16): ready partitions
	                                  one request may carry (1: one per request) */
	long delivery_timeout_ms;      /* DELIVERY_TIMEOUT_MS (30000) */
	long retry_base_ms;            /* RETRY_BASE_MS (100) */
	long retry_max_ms;             /* RETRY_MAX_MS (5000) */
	long retry_max_attempts;       /* RETRY_MAX_ATTEMPTS (10): see inbound.h */
	/* SERVICE_BREAKER_WINDOW (10), _MIN_CALLS (5), _FAILURE_RATE (50),
	 * _OPEN_MS (5000), _SLOW_MS (0 = off), _HALF_OPEN_CALLS (1): the breaker
	 * around deliveries to the service (inbound.h). */
	struct rs_breaker_config service_breaker;
	const char *egress_routes; /* EGRESS_ROUTES, "" = none */
};

/* Fills `cfg` from the environment; strings point into the environment. A
 * Kafka password file that cannot be read is logged (by name) and leaves the
 * password empty, which sc_kafka_conf_new() then refuses. */
void sc_config_from_env(struct sc_config *cfg);

/* The longest SERVICE_URL accepted; the sidecar appends its paths to it in
 * buffers of SC_URL_MAX + 32 bytes. */
#define SC_URL_MAX 480

/* Refuses, with a log line naming the variable, a configuration whose
 * strings would not fit where they are kept (SERVICE_URL over SC_URL_MAX,
 * CONSUMER_GROUP or DLQ_TOPIC over their buffers): 0 or SVC_EPERMANENT. */
int sc_config_check(const struct sc_config *cfg);

/* True when the outbox relay runs (a database is configured). */
bool sc_config_has_relay(const struct sc_config *cfg);
/* True when inbound delivery runs (topics to subscribe to). */
bool sc_config_has_inbound(const struct sc_config *cfg);

/* Fills `k` from KAFKA_BROKERS and the security settings (kafkaconf.h), as
 * the sidecar's own configuration does; the strings point into the
 * environment. Also for other programs that reach Kafka (the console). */
void sc_kafka_client_from_env(struct sc_kafka_client *k);

#endif
