/* The librdkafka configuration every sidecar client starts from (see kafkaconf.h). */
#include "resilience/sidecar/kafkaconf.h"

#include <string.h>
#include <strings.h>

#include "svc/error.h"
#include "svc/log.h"

#define SC_KAFKA_DEFAULT_MECHANISM "SCRAM-SHA-512"

bool sc_kafka_client_uses_sasl(const struct sc_kafka_client *k)
{
	return k->security_protocol && strncasecmp(k->security_protocol, "SASL_", 5) == 0;
}

const char *sc_kafka_client_mechanism(const struct sc_kafka_client *k)
{
	return k->sasl_mechanism && k->sasl_mechanism[0] ? k->sasl_mechanism
	                                                 : SC_KAFKA_DEFAULT_MECHANISM;
}

int sc_kafka_conf_set(rd_kafka_conf_t *conf, const char *who, const char *name, const char *value)
{
	char err[256];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
		return 0;
	svc_error("%s config %s=%s: %s", who, name, value, err);
	return SVC_EPERMANENT;
}

/* sc_kafka_conf_set for the password: the log line leaves the value out. */
static int set_secret(rd_kafka_conf_t *conf, const char *who, const char *name, const char *value)
{
	char err[256];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
		return 0;
	svc_error("%s config %s: %s", who, name, err);
	return SVC_EPERMANENT;
}

/* PLAIN and SCRAM-* authenticate with a username and a password. */
static bool needs_password(const char *mechanism)
{
	return strcasecmp(mechanism, "PLAIN") == 0 || strncasecmp(mechanism, "SCRAM-", 6) == 0;
}

static int set_sasl(rd_kafka_conf_t *conf, const struct sc_kafka_client *k, const char *who)
{
	const char *mechanism = sc_kafka_client_mechanism(k);

	if (sc_kafka_conf_set(conf, who, "sasl.mechanism", mechanism))
		return SVC_EPERMANENT;
	if (!needs_password(mechanism))
		return 0;
	if (!k->sasl_username || !k->sasl_username[0] || !k->sasl_password[0]) {
		svc_error("%s: security protocol %s with %s needs KAFKA_SASL_USERNAME and "
		          "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)",
		          who, k->security_protocol, mechanism);
		return SVC_EPERMANENT;
	}
	if (sc_kafka_conf_set(conf, who, "sasl.username", k->sasl_username) ||
	    set_secret(conf, who, "sasl.password", k->sasl_password))
		return SVC_EPERMANENT;
	return 0;
}

rd_kafka_conf_t *sc_kafka_conf_new(const struct sc_kafka_client *k, const char *client_id,
                                   const char *who)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (!conf) {
		svc_error("%s: out of memory", who);
		return NULL;
	}
	/* Back quickly after a broker restart (docs/chaos.md, kafka-kill): a
	 * connection to the address of a broker pod that is gone gets no answer
	 * at all, which librdkafka waits out for 30 s by default
	 * (socket.connection.setup.timeout.ms), and its reconnects back off to 10 s
	 * apart (reconnect.backoff.max.ms). */
	if (sc_kafka_conf_set(conf, who, "bootstrap.servers", k->brokers) ||
	    (client_id && sc_kafka_conf_set(conf, who, "client.id", client_id)) ||
	    sc_kafka_conf_set(conf, who, "socket.connection.setup.timeout.ms", "5000") ||
	    sc_kafka_conf_set(conf, who, "reconnect.backoff.max.ms", "1000"))
		goto fail_conf;
	if (k->security_protocol && k->security_protocol[0] &&
	    sc_kafka_conf_set(conf, who, "security.protocol", k->security_protocol))
		goto fail_conf;
	if (sc_kafka_client_uses_sasl(k) && set_sasl(conf, k, who))
		goto fail_conf;
	return conf;

fail_conf:
	rd_kafka_conf_destroy(conf);
	return NULL;
}
