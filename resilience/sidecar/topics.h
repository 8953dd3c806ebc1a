/*
 * `sidecar create-topics`: creates the saga's topics with the librdkafka admin
 * API, then waits until the topics the sidecar subscribes to exist. A topic
 * that already exists counts as created, so it can run on every deployment.
 *
 * Configured from the environment like the sidecar (config.h: KAFKA_BROKERS
 * and the KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* of kafkaconf.h), plus:
 *   CREATE_TOPICS      the topics to create, comma-separated; default every
 *                      topic of svc/events.h and the four DLQ topics
 *                      (<service>.dlq). With Kafka ACLs a service creates only
 *                      the topics it produces (the chart sets this).
 *   SUBSCRIBE_TOPICS   the topics to wait for (default none): those the
 *                      service's sidecar consumes, created by their producers.
 *   TOPIC_PARTITIONS   partitions of a new topic (6)
 *   TOPIC_REPLICATION  its replication factor (1)
 */
#ifndef SC_TOPICS_H
#define SC_TOPICS_H

/*
 * argv: [--partitions N] [--replication R] [--brokers LIST] [--wait SECONDS]
 * [extra-topic...]: the first three override TOPIC_PARTITIONS,
 * TOPIC_REPLICATION and KAFKA_BROKERS; extra topics are created alongside
 * CREATE_TOPICS (handy for tests). --wait retries every 2 s for up to SECONDS
 * while the broker cannot be reached or refuses, or a topic to wait for is
 * missing. Returns the process exit code: 0 when every topic to create exists
 * afterwards and every topic to wait for exists, 1 otherwise, 2 on bad
 * arguments.
 */
int sc_topics_main(int argc, char **argv);

#endif
