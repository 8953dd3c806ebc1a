/* The order service's saga metrics (metrics.h). */
#include "services/order/metrics.h"

#include <stdio.h>
#include <string.h>

#include "services/order/store.h"
#include "svc/clock.h"
#include "svc/db.h"
#include "svc/log.h"
#include "svc/prom.h"
#include "svc/service.h"

/* Seconds; a saga's steps take milliseconds, its deadlines tens of seconds. */
static const double step_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                     1,     2.5,  5,     10,   30,  60,   300};

/* Reads the waiting orders' counts into m->in_flight: one GROUP BY over the
 * status index. Unchanged when the database does not answer. */
static void read_in_flight(struct order_metrics *m)
{
	int64_t counts[ORDER_STATE_COUNT] = {0};
	char sql[256];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	MYSQL *conn;
	enum order_state s;

	snprintf(sql, sizeof(sql),
	         "SELECT status, COUNT(*) FROM orders WHERE status IN ('%s', '%s', '%s') "
	         "GROUP BY status",
	         order_state_name(ORDER_PENDING), order_state_name(ORDER_PAYMENT_PENDING),
	         order_state_name(ORDER_COMPENSATING));
	conn = svc_db_acquire(m->ctx->db);
	if (!conn || svc_db_query(conn, sql, &res) != 0) {
		svc_db_release(m->ctx->db, conn, conn && svc_db_error_is_transient(conn));
		return; /* the gauges keep their last values */
	}
	while ((row = svc_db_fetch_row(res)))
		if (order_state_parse(row[0], &s))
			counts[s] = svc_db_col_i64(row[1]);
	svc_db_free_result(res);
	svc_db_release(m->ctx->db, conn, false);
	memcpy(m->in_flight, counts, sizeof(counts));
	m->read_at = svc_mono_ms();
}

/* saga_in_flight{state}, read again when older than m->refresh_ms. */
static void collect_in_flight(struct svc_prom *r, void *arg)
{
	struct order_metrics *m = arg;
	struct svc_prom_metric *g =
	        svc_prom_gauge(r, "saga_in_flight", "Orders in each waiting saga state.", "state");

	pthread_mutex_lock(&m->lock);
	if (m->read_at == 0 || svc_mono_ms() - m->read_at >= (uint64_t)m->refresh_ms)
		read_in_flight(m);
	for (int i = 0; i < ORDER_STATE_COUNT && m->read_at; i++) /* none before a read */
		if (!order_state_is_terminal((enum order_state)i))
			svc_prom_set(svc_prom_at(g, order_state_name((enum order_state)i)),
			             m->in_flight[i]);
	pthread_mutex_unlock(&m->lock);
}

void order_metrics_init(struct order_metrics *m, struct svc_ctx *ctx, long refresh_ms)
{
	size_t nb = sizeof(step_bounds) / sizeof(step_bounds[0]);

	m->ctx = ctx;
	m->refresh_ms = refresh_ms > 0 ? refresh_ms : 0;
	m->read_at = 0;
	memset(m->in_flight, 0, sizeof(m->in_flight));
	pthread_mutex_init(&m->lock, NULL);
	m->step = svc_prom_histogram(ctx->prom, "saga_step_duration_seconds",
	                             "Time an order spent in a saga step before leaving it.",
	                             "step", step_bounds, nb);
	m->completion = svc_prom_histogram(
	        ctx->prom, "saga_completion_seconds",
	        "Time from an order's creation to its terminal state, by that state.", "outcome",
	        step_bounds, nb);
	if (ctx->prom && svc_prom_on_collect(ctx->prom, collect_in_flight, m) != 0)
		svc_warn("no memory for the saga_in_flight gauge");
}

void order_metrics_transition(const struct order_metrics *m, const struct order_row *row,
                              enum order_state next)
{
	svc_prom_observe(svc_prom_at(m->step, order_state_step(row->state)),
	                 (double)row->in_state_us / 1e6);
	if (order_state_is_terminal(next))
		svc_prom_observe(svc_prom_at(m->completion, order_state_name(next)),
		                 (double)row->age_us / 1e6);
}
