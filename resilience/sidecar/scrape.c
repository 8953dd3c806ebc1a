/* The sidecar's Prometheus metrics, set at every scrape (scrape.h). */
#include "resilience/sidecar/scrape.h"

#include <jansson.h>
#include <stdatomic.h>
#include <string.h>

#include "resilience/sidecar/inbound.h"
#include "svc/error.h"
#include "svc/prom.h"

static void set_counter(struct svc_prom *r, const char *name, const char *help,
                        atomic_uint_fast64_t *src)
{
	svc_prom_set(svc_prom_at(svc_prom_counter(r, name, help, NULL)), (int64_t)atomic_load(src));
}

static void set_gauge(struct svc_prom *r, const char *name, const char *help,
                      atomic_uint_fast64_t *src)
{
	svc_prom_set(svc_prom_at(svc_prom_gauge(r, name, help, NULL)), (int64_t)atomic_load(src));
}

static void collect_counters(struct svc_prom *r, struct sc_metrics *m)
{
	struct svc_prom_metric *dlq =
	        svc_prom_counter(r, "saga_dlq_messages_total",
	                         "Messages sent to the dead-letter topic, by stage.", "stage");

	set_counter(r, "saga_outbox_relayed_total", "Outbox messages Kafka acknowledged.",
	            &m->relayed);
	set_counter(r, "saga_outbox_relay_failed_total",
	            "Outbox messages whose produce failed (left to be relayed again).",
	            &m->relay_failures);
	svc_prom_set(svc_prom_at(dlq, "relay"), (int64_t)atomic_load(&m->relay_dead_lettered));
	svc_prom_set(svc_prom_at(dlq, "delivery"), (int64_t)atomic_load(&m->dead_lettered));
	set_counter(r, "saga_relay_batches_total", "Relay rounds that found rows.",
	            &m->relay_batches);
	set_counter(r, "saga_delivered_total", "Inbound messages the service finished.",
	            &m->delivered);
	set_counter(r, "saga_delivery_retried_total",
	            "Inbound messages delivered again after a retry answer.", &m->retried);
	set_counter(r, "saga_delivery_batches_total", "Event batches POSTed to the service.",
	            &m->delivery_batches);
	set_gauge(r, "saga_relay_inflight", "Outbox messages of the relay round under way.",
	          &m->relay_inflight);
	set_gauge(r, "saga_delivery_inflight", "Inbound messages held by delivery workers.",
	          &m->delivery_inflight);
	set_gauge(r, "saga_delivery_queued", "Inbound messages waiting in partition queues.",
	          &m->delivery_queued);
	set_gauge(r, "saga_delivery_paused_partitions",
	          "Partitions paused because their queue is full.", &m->delivery_paused);
}

int sc_scrape_breaker_value(const char *state)
{
	if (!state)
		return -1;
	if (!strcmp(state, "closed"))
		return 0;
	if (!strcmp(state, "half-open"))
		return 1;
	if (!strcmp(state, "open"))
		return 2;
	return -1;
}

/* Breakers from the status objects egress and inbound already give
 * ({"<route>": {"breaker": "closed", ...}}): no reach into either. */
static void collect_breakers(struct svc_prom *r, struct sc_scrape *s)
{
	struct svc_prom_metric *g =
	        svc_prom_gauge(r, "saga_breaker_state",
	                       "Circuit breaker state: 0 closed, 1 half-open, 2 open.", "route");
	json_t *status = json_object();
	const char *route;
	json_t *v;

	if (!status)
		return;
	if (s->egress)
		sc_egress_status(s->egress, status);
	if (s->inbound)
		sc_inbound_status(s->inbound, status); /* adds "service" */
	json_object_foreach(status, route, v)
	{
		int value =
		        sc_scrape_breaker_value(json_string_value(json_object_get(v, "breaker")));

		if (value >= 0)
			svc_prom_set(svc_prom_at(g, route), value);
	}
	json_decref(status);
}

/* Unsent outbox messages: every row is unsent (rows go once relayed) and
 * holds `messages` of them; the first SC_BACKLOG_CAP rows are counted, so a
 * huge backlog costs a bounded scan. */
static void collect_backlog(struct svc_prom *r, struct svc_db *db)
{
	static const char sql[] = "SELECT COALESCE(SUM(messages), 0) FROM "
	                          "(SELECT messages FROM outbox_messages LIMIT 1000000) t";
	MYSQL *conn = svc_db_acquire(db);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;

	_Static_assert(SC_BACKLOG_CAP == 1000000, "the LIMIT above is SC_BACKLOG_CAP");
	if (!conn || svc_db_query(conn, sql, &res) != 0) {
		svc_db_release(db, conn, conn && svc_db_error_is_transient(conn));
		return;
	}
	row = svc_db_fetch_row(res);
	if (row && row[0])
		svc_prom_set(svc_prom_at(svc_prom_gauge(r, "saga_outbox_backlog",
		                                        "Outbox messages not yet relayed to Kafka.",
		                                        NULL)),
		             svc_db_col_i64(row[0]));
	svc_db_free_result(res);
	svc_db_release(db, conn, false);
}

static void collect(struct svc_prom *r, void *arg)
{
	struct sc_scrape *s = arg;

	if (s->metrics)
		collect_counters(r, s->metrics);
	collect_breakers(r, s);
	if (s->db) {
		collect_backlog(r, s->db);
		svc_db_collect_metrics(r, s->db);
	}
}

int sc_scrape_register(struct svc_prom *r, struct sc_scrape *s)
{
	int rc = svc_prom_on_collect(r, collect, s);

	if (rc == 0 && s->lag)
		rc = svc_prom_on_collect(r, sc_lag_collect, s->lag);
	return rc == 0 ? 0 : SVC_ENOMEM;
}
