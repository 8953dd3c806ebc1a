/*
 * The part of every librdkafka configuration the sidecar shares: where the
 * brokers are and how to authenticate to them. The producer, the inbound
 * consumer, the DLQ reader and `sidecar create-topics` each start from
 * sc_kafka_conf_new() and add their own properties with sc_kafka_conf_set().
 *
 * The settings come from the environment (config.h fills them):
 *   KAFKA_BROKERS             bootstrap.servers (127.0.0.1:9092)
 *   KAFKA_SECURITY_PROTOCOL   security.protocol (PLAINTEXT; SASL_PLAINTEXT, SASL_SSL, SSL)
 *   KAFKA_SASL_MECHANISM      sasl.mechanism (SCRAM-SHA-512 with a SASL_* protocol)
 *   KAFKA_SASL_USERNAME       sasl.username
 *   KAFKA_SASL_PASSWORD       sasl.password, or KAFKA_SASL_PASSWORD_FILE: a file holding it
 *
 * The password is never logged: not here, and librdkafka redacts
 * sasl.password in its own configuration dumps.
 */
#ifndef SC_KAFKACONF_H
#define SC_KAFKACONF_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

/* Longest password kept, terminating NUL included. */
#define SC_KAFKA_SECRET_MAX 256

struct sc_kafka_ops;

/* How a client reaches Kafka. Caller-embedded; the strings are borrowed. */
struct sc_kafka_client {
	const char *brokers;                     /* bootstrap.servers */
	const char *security_protocol;           /* NULL or "": PLAINTEXT */
	const char *sasl_mechanism;              /* NULL or "": SCRAM-SHA-512 */
	const char *sasl_username;               /* needed with PLAIN and SCRAM-* */
	char sasl_password[SC_KAFKA_SECRET_MAX]; /* idem; never logged */
	const struct sc_kafka_ops *ops;          /* NULL: librdkafka (kafka.h) */
};

/* True when the security protocol authenticates with SASL (SASL_PLAINTEXT, SASL_SSL). */
bool sc_kafka_client_uses_sasl(const struct sc_kafka_client *k);

/* The SASL mechanism in use: k->sasl_mechanism, or SCRAM-SHA-512 when unset. */
const char *sc_kafka_client_mechanism(const struct sc_kafka_client *k);

/*
 * A new librdkafka configuration with bootstrap.servers, client.id (unless
 * `client_id` is NULL) and the security settings of `k`. `who` names the
 * client in log lines ("kafka producer"). Returns NULL, logged, when
 * librdkafka refuses a value or a SASL protocol with PLAIN or SCRAM lacks a
 * username or password.
 * @remark The caller owns the result: rd_kafka_new() takes it over, else
 *         rd_kafka_conf_destroy().
 */
rd_kafka_conf_t *sc_kafka_conf_new(const struct sc_kafka_client *k, const char *client_id,
                                   const char *who);

/*
 * Sets one property of `conf`. 0, or SVC_EPERMANENT when librdkafka refuses
 * it: logged with `who`, the name, the value and librdkafka's reason, so it is
 * not for secrets.
 */
int sc_kafka_conf_set(rd_kafka_conf_t *conf, const char *who, const char *name, const char *value);

#endif
