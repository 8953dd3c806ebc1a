/*
 * `sidecar create-topics`: creates every topic of svc/events.h and the four
 * DLQ topics (<service>.dlq) with the librdkafka admin API. A topic that
 * already exists counts as created, so it can run on every deployment.
 */
#ifndef SC_TOPICS_H
#define SC_TOPICS_H

/*
 * argv: [--partitions N] [--replication R] [--brokers LIST] [--wait SECONDS]
 * [extra-topic...] (defaults TOPIC_PARTITIONS or 6, TOPIC_REPLICATION or 1,
 * KAFKA_BROKERS, 0). Extra topics are created alongside the standard ones
 * (handy for tests). --wait retries every 2 s for up to SECONDS while the
 * broker cannot be reached or refuses. Returns the process exit code: 0 when
 * every topic exists afterwards, 1 otherwise, 2 on bad arguments.
 */
int sc_topics_main(int argc, char **argv);

#endif
