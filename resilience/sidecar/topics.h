/*
 * `sidecar create-topics`: creates every topic of svc/events.h and the four
 * DLQ topics (<service>.dlq) with the librdkafka admin API. A topic that
 * already exists counts as created, so it can run on every deployment.
 */
#ifndef SC_TOPICS_H
#define SC_TOPICS_H

/*
 * argv: [--partitions N] [--replication R] [--brokers LIST] [extra-topic...]
 * (defaults 6, 1, KAFKA_BROKERS). Extra topics are created alongside the
 * standard ones (handy for tests). Returns the process exit code: 0 when
 * every topic exists afterwards, 1 otherwise, 2 on bad arguments.
 */
int sc_topics_main(int argc, char **argv);

#endif
