/* The sidecar's shared librdkafka configuration (kafkaconf.h) and its environment (config.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "resilience/sidecar/config.h"
#include "resilience/sidecar/kafkaconf.h"

static const char *const vars[] = {
        "KAFKA_BROKERS",       "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD",     "KAFKA_SASL_PASSWORD_FILE",
};

static int clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

/* The value of `name` in conf, into buf; "" when unset. */
static const char *get(rd_kafka_conf_t *conf, const char *name, char *buf, size_t size)
{
	size_t n = size;

	if (rd_kafka_conf_get(conf, name, buf, &n) != RD_KAFKA_CONF_OK)
		buf[0] = '\0';
	return buf;
}

static struct sc_kafka_client sasl_client(const char *password)
{
	struct sc_kafka_client k = {
	        .brokers = "saga-kafka:9092",
	        .security_protocol = "SASL_PLAINTEXT",
	        .sasl_username = "order",
	};

	snprintf(k.sasl_password, sizeof(k.sasl_password), "%s", password);
	return k;
}

static void test_kafka_conf_plaintext_sets_brokers_and_no_sasl(void **state)
{
	struct sc_kafka_client k = {.brokers = "127.0.0.1:9092"};
	char buf[256];

	(void)state;
	rd_kafka_conf_t *conf = sc_kafka_conf_new(&k, "order-sidecar", "test");
	assert_non_null(conf);
	assert_string_equal(get(conf, "bootstrap.servers", buf, sizeof(buf)), "127.0.0.1:9092");
	assert_string_equal(get(conf, "client.id", buf, sizeof(buf)), "order-sidecar");
	assert_string_equal(get(conf, "security.protocol", buf, sizeof(buf)), "plaintext");
	assert_string_equal(get(conf, "sasl.username", buf, sizeof(buf)), "");
	assert_false(sc_kafka_client_uses_sasl(&k));
	rd_kafka_conf_destroy(conf);
}

static void test_kafka_conf_sasl_defaults_to_scram_sha_512(void **state)
{
	struct sc_kafka_client k = sasl_client("s3cret");
	char buf[256];

	(void)state;
	rd_kafka_conf_t *conf = sc_kafka_conf_new(&k, NULL, "test");
	assert_non_null(conf);
	assert_true(sc_kafka_client_uses_sasl(&k));
	assert_string_equal(get(conf, "security.protocol", buf, sizeof(buf)), "sasl_plaintext");
	assert_string_equal(get(conf, "sasl.mechanisms", buf, sizeof(buf)), "SCRAM-SHA-512");
	assert_string_equal(get(conf, "sasl.username", buf, sizeof(buf)), "order");
	assert_string_equal(get(conf, "sasl.password", buf, sizeof(buf)), "s3cret");
	rd_kafka_conf_destroy(conf);
}

static void test_kafka_conf_explicit_mechanism_wins(void **state)
{
	struct sc_kafka_client k = sasl_client("s3cret");
	char buf[256];

	(void)state;
	k.sasl_mechanism = "SCRAM-SHA-256";
	rd_kafka_conf_t *conf = sc_kafka_conf_new(&k, NULL, "test");
	assert_non_null(conf);
	assert_string_equal(get(conf, "sasl.mechanisms", buf, sizeof(buf)), "SCRAM-SHA-256");
	rd_kafka_conf_destroy(conf);
}

static void test_kafka_conf_sasl_without_password_is_refused(void **state)
{
	struct sc_kafka_client k = sasl_client("");

	(void)state;
	assert_null(sc_kafka_conf_new(&k, NULL, "test"));
	k = sasl_client("s3cret");
	k.sasl_username = "";
	assert_null(sc_kafka_conf_new(&k, NULL, "test"));
}

static void test_kafka_conf_refused_value_gives_null(void **state)
{
	struct sc_kafka_client k = {.brokers = "b:9092", .security_protocol = "CARRIER_PIGEON"};

	(void)state;
	assert_null(sc_kafka_conf_new(&k, NULL, "test"));
}

static void test_config_defaults_to_plaintext_localhost(void **state)
{
	static struct sc_config cfg;

	(void)state;
	sc_config_from_env(&cfg);
	assert_string_equal(cfg.kafka.brokers, "127.0.0.1:9092");
	assert_string_equal(cfg.kafka.security_protocol, "PLAINTEXT");
	assert_false(sc_kafka_client_uses_sasl(&cfg.kafka));
	assert_string_equal(cfg.kafka.sasl_password, "");
}

static void test_config_reads_sasl_settings(void **state)
{
	static struct sc_config cfg;

	(void)state;
	setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", 1);
	setenv("KAFKA_SASL_USERNAME", "payment", 1);
	setenv("KAFKA_SASL_PASSWORD", "pw-from-env", 1);
	sc_config_from_env(&cfg);
	assert_string_equal(cfg.kafka.sasl_mechanism, "SCRAM-SHA-512");
	assert_string_equal(cfg.kafka.sasl_username, "payment");
	assert_string_equal(cfg.kafka.sasl_password, "pw-from-env");
}

static void test_config_reads_password_file_first_line(void **state)
{
	static struct sc_config cfg;
	char path[] = "/tmp/test_kafkaconf_XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "pw-from-file\n", 13), 13);
	close(fd);
	setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", 1);
	setenv("KAFKA_SASL_USERNAME", "payment", 1);
	setenv("KAFKA_SASL_PASSWORD_FILE", path, 1);
	sc_config_from_env(&cfg);
	assert_string_equal(cfg.kafka.sasl_password, "pw-from-file");
	/* KAFKA_SASL_PASSWORD wins over the file */
	setenv("KAFKA_SASL_PASSWORD", "pw-from-env", 1);
	sc_config_from_env(&cfg);
	assert_string_equal(cfg.kafka.sasl_password, "pw-from-env");
	unlink(path);
}

static void test_config_unreadable_password_file_leaves_it_empty(void **state)
{
	static struct sc_config cfg;

	(void)state;
	setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", 1);
	setenv("KAFKA_SASL_USERNAME", "payment", 1);
	setenv("KAFKA_SASL_PASSWORD_FILE", "/nonexistent/kafka-password", 1);
	sc_config_from_env(&cfg);
	assert_string_equal(cfg.kafka.sasl_password, "");
	assert_null(sc_kafka_conf_new(&cfg.kafka, NULL, "test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_kafka_conf_plaintext_sets_brokers_and_no_sasl,
	                               clear_env),
	        cmocka_unit_test_setup(test_kafka_conf_sasl_defaults_to_scram_sha_512, clear_env),
	        cmocka_unit_test_setup(test_kafka_conf_explicit_mechanism_wins, clear_env),
	        cmocka_unit_test_setup(test_kafka_conf_sasl_without_password_is_refused, clear_env),
	        cmocka_unit_test_setup(test_kafka_conf_refused_value_gives_null, clear_env),
	        cmocka_unit_test_setup(test_config_defaults_to_plaintext_localhost, clear_env),
	        cmocka_unit_test_setup(test_config_reads_sasl_settings, clear_env),
	        cmocka_unit_test_setup(test_config_reads_password_file_first_line, clear_env),
	        cmocka_unit_test_setup(test_config_unreadable_password_file_leaves_it_empty,
	                               clear_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
