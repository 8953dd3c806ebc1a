/*
 * The resilience sidecar: one generic process beside each service that owns
 * its Kafka traffic (outbox relay, inbound delivery, DLQ routing) and its
 * outbound HTTP calls (egress proxy). Configured from the environment
 * (config.h).
 *
 *   sidecar                 run until SIGTERM/SIGINT
 *   sidecar create-topics   create the saga's topics (topics.h)
 *   sidecar dlq list|redrive list or re-drive dead letters (dlq_admin.h)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "resilience/sidecar/admin.h"
#include "resilience/sidecar/config.h"
#include "resilience/sidecar/dlq_admin.h"
#include "resilience/sidecar/egress.h"
#include "resilience/sidecar/inbound.h"
#include "resilience/sidecar/lag.h"
#include "resilience/sidecar/metrics.h"
#include "resilience/sidecar/producer.h"
#include "resilience/sidecar/relay.h"
#include "resilience/sidecar/scrape.h"
#include "resilience/sidecar/stop.h"
#include "resilience/sidecar/topics.h"
#include "svc/db.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/prom.h"

static const char usage[] = "usage: sidecar [create-topics [--partitions N] [--replication R] "
                            "[--brokers LIST] [--wait S] [topic...]]\n"
                            "       sidecar dlq list [--limit N]\n"
                            "       sidecar dlq redrive --all | --partition P --offset O\n";

/* Blocks the signals every thread would otherwise receive; main waits for
 * TERM/INT with sigwait, and a closed peer never kills the process. */
static void block_signals(sigset_t *wait_set)
{
	sigset_t all;

	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sigemptyset(wait_set);
	sigaddset(wait_set, SIGTERM);
	sigaddset(wait_set, SIGINT);
}

static int run(void)
{
	static struct sc_config cfg; /* outlives every thread */
	struct sc_metrics metrics;
	struct sc_stop stop;
	struct sc_producer *producer = NULL;
	struct sc_egress *egress = NULL;
	struct svc_db *db = NULL;
	struct sc_relay *relay = NULL;
	struct sc_inbound *inbound = NULL;
	struct sc_admin *admin = NULL;
	struct svc_prom *prom = NULL;
	struct sc_scrape scrape = {.metrics = &metrics};
	sigset_t wait_set;
	int sig = 0, rc = 1;

	block_signals(&wait_set);
	sc_config_from_env(&cfg);
	svc_log_init(cfg.log_name);
	if (sc_config_check(&cfg) != 0)
		return 1;
	sc_metrics_init(&metrics);
	if (svc_httpc_global_init() != 0 || sc_stop_init(&stop) != 0) {
		svc_error("start-up failed");
		return 1;
	}
	egress = sc_egress_new(cfg.egress_routes);
	if (!egress)
		goto out;
	producer = sc_producer_new(&cfg);
	if (!producer)
		goto out;
	if (sc_config_has_relay(&cfg)) {
		cfg.db.read_committed = true; /* the relay claims rows (svc/db.h) */
		db = svc_db_open(&cfg.db);
		if (!db)
			goto out;
		relay = sc_relay_start(&cfg, db, producer, &metrics, &stop);
		if (!relay)
			goto out;
	}
	if (sc_config_has_inbound(&cfg)) {
		inbound = sc_inbound_start(&cfg, producer, &metrics, &stop);
		if (!inbound)
			goto out;
	}
	/* Metrics are not worth failing the start for: without memory for
	 * them, every svc_prom call does nothing. */
	prom = svc_prom_new();
	scrape.egress = egress;
	scrape.inbound = inbound;
	scrape.db = db;
	scrape.lag = sc_lag_new(&cfg);
	if (sc_scrape_register(prom, &scrape) != 0)
		svc_warn("no memory for the metrics read at scrape time");
	admin = sc_admin_start(&cfg, producer, db, egress, inbound, &metrics, prom);
	if (!admin)
		goto out;
	svc_info("started: relay %s, inbound %s, DLQ %s", relay ? "on" : "off",
	         inbound ? cfg.subscribe : "off", cfg.dlq_topic);

	sigwait(&wait_set, &sig);
	svc_info("signal %d: stopping", sig);
	rc = 0;
out:
	/* Order matters: the HTTP server goes first, before the objects its
	 * handlers use; then the consumer closes (committing stored offsets)
	 * and the relay finishes its round while the producer still delivers. */
	sc_stop_request(&stop);
	sc_admin_free(admin);
	svc_prom_free(prom); /* no scrape left: the server is gone */
	sc_lag_free(scrape.lag);
	sc_inbound_free(inbound);
	sc_relay_free(relay);
	sc_producer_free(producer);
	sc_egress_free(egress);
	svc_db_free(db);
	sc_stop_release(&stop);
	if (rc)
		svc_error("start-up failed");
	else
		svc_info("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return run();
	if (strcmp(argv[1], "create-topics") == 0) {
		svc_log_init("sidecar");
		return sc_topics_main(argc - 2, argv + 2);
	}
	if (strcmp(argv[1], "dlq") == 0)
		return sc_dlq_admin_main(argc - 2, argv + 2);
	fputs(usage, stderr);
	return 2;
}
