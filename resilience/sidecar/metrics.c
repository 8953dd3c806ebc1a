/* Counters of the sidecar and their JSON form for GET /metrics. */
#include "resilience/sidecar/metrics.h"

void sc_metrics_init(struct sc_metrics *m)
{
	atomic_init(&m->relayed, 0);
	atomic_init(&m->relay_failures, 0);
	atomic_init(&m->relay_dead_lettered, 0);
	atomic_init(&m->relay_batches, 0);
	atomic_init(&m->relay_inflight, 0);
	atomic_init(&m->relay_last_ms, 0);
	atomic_init(&m->delivered, 0);
	atomic_init(&m->retried, 0);
	atomic_init(&m->dead_lettered, 0);
	atomic_init(&m->delivery_inflight, 0);
	atomic_init(&m->delivery_queued, 0);
	atomic_init(&m->delivery_paused, 0);
	atomic_init(&m->delivery_batches, 0);
	atomic_init(&m->delivery_split, 0);
	atomic_init(&m->delivery_combined, 0);
}

/* Adds one counter to `obj` (a failed add leaves it out). */
static void put(json_t *obj, const char *name, atomic_uint_fast64_t *counter)
{
	json_object_set_new(obj, name, json_integer((json_int_t)atomic_load(counter)));
}

json_t *sc_metrics_json(struct sc_metrics *m)
{
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	put(obj, "relayed", &m->relayed);
	put(obj, "relay_failures", &m->relay_failures);
	put(obj, "relay_dead_lettered", &m->relay_dead_lettered);
	put(obj, "relay_batches", &m->relay_batches);
	put(obj, "relay_inflight", &m->relay_inflight);
	put(obj, "relay_last_latency_ms", &m->relay_last_ms);
	put(obj, "delivered", &m->delivered);
	put(obj, "retried", &m->retried);
	put(obj, "dead_lettered", &m->dead_lettered);
	put(obj, "delivery_inflight", &m->delivery_inflight);
	put(obj, "delivery_queued", &m->delivery_queued);
	put(obj, "delivery_paused", &m->delivery_paused);
	put(obj, "delivery_batches", &m->delivery_batches);
	put(obj, "delivery_split", &m->delivery_split);
	put(obj, "delivery_combined", &m->delivery_combined);
	return obj;
}
