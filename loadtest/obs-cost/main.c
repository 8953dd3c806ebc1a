/*
 * obs-cost: what observability costs the hot path (make bench-obs).
 *
 *   obs-cost [--n N] [--threads T]
 *
 * Times, in ns per operation: a counter increment on a kept series, a
 * series lookup by label values plus increment (what http.c and the
 * consumer do), a histogram observation, the same from T threads on one
 * series (contention), a render of a registry the size of a service's, and
 * one log line formatted as JSON and as text (written to /dev/null: the
 * formatting, not the disk). Prints one line per measure.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadtest/loadgen/stats.h"
#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/log.h"
#include "svc/prom.h"

static long n_ops = 2000000;

struct shared {
	struct svc_prom_series *counter, *hist;
};

static void report(const char *what, uint64_t start_us, long n)
{
	double ns = (double)(svc_mono_us() - start_us) * 1000.0 / (double)n;

	printf("%-44s %8.1f ns/op  (%ld ops)\n", what, ns, n);
}

static void *hammer(void *arg)
{
	struct shared *s = arg;

	for (long i = 0; i < n_ops; i++) {
		svc_prom_inc(s->counter);
		svc_prom_observe(s->hist, 0.003);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *const routes[] = {"/api/orders", "/api/orders/{orderId}", "/metrics",
	                                     "/health/ready", "/internal/events"};
	struct svc_prom *r = svc_prom_new();
	struct svc_prom_metric *req, *lat, *events;
	struct shared s;
	pthread_t th[16];
	long threads = 2;
	uint64_t t;
	int devnull;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--n") && i + 1 < argc) {
			if (lt_parse_long(argv[++i], 1000, 1000000000L, &n_ops))
				goto usage;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			if (lt_parse_long(argv[++i], 1, 16, &threads))
				goto usage;
		} else {
			goto usage;
		}
	}
	req = svc_prom_counter(r, "svc_http_requests_total", "h", "route,method,status_class");
	lat = svc_prom_histogram(r, "svc_http_request_duration_seconds", "h", "route,method", NULL,
	                         0);
	events = svc_prom_counter(r, "saga_events_total", "h", "type,outcome");
	s.counter = svc_prom_at(req, "/api/orders", "POST", "2xx");
	s.hist = svc_prom_at(lat, "/api/orders", "POST");

	t = svc_mono_us();
	for (long i = 0; i < n_ops; i++)
		svc_prom_inc(s.counter);
	report("counter inc (kept series)", t, n_ops);

	t = svc_mono_us();
	for (long i = 0; i < n_ops; i++)
		svc_prom_inc(svc_prom_at(req, routes[i % 5], "POST", "2xx"));
	report("lookup 3 labels + counter inc", t, n_ops);

	t = svc_mono_us();
	for (long i = 0; i < n_ops; i++)
		svc_prom_inc(svc_prom_at(events, "InventoryReservedEvent", "ok"));
	report("lookup event type,outcome + inc", t, n_ops);

	t = svc_mono_us();
	for (long i = 0; i < n_ops; i++)
		svc_prom_observe(s.hist, (double)(i % 1000) / 1e4);
	report("histogram observe (kept series)", t, n_ops);

	t = svc_mono_us();
	for (long i = 0; i < n_ops; i++)
		svc_prom_observe(svc_prom_at(lat, routes[i % 5], "POST"), 0.004);
	report("lookup 2 labels + histogram observe", t, n_ops);

	t = svc_mono_us();
	for (long i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, hammer, &s);
	for (long i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("%-44s %8.1f ns/op  (%ld threads, one series)\n", "contended inc + observe",
	       (double)(svc_mono_us() - t) * 1000.0 / (double)n_ops, threads);

	t = svc_mono_us();
	for (int i = 0; i < 100; i++) {
		struct svc_buf b;

		svc_buf_init(&b);
		svc_prom_render(r, &b);
		if (i == 0)
			printf("%-44s %8zu bytes\n", "render size", b.len);
		svc_buf_release(&b);
	}
	printf("%-44s %8.1f us/render\n", "render", (double)(svc_mono_us() - t) / 100.0);

	/* log lines: formatting and one write(2) to /dev/null */
	devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0 || dup2(devnull, STDERR_FILENO) < 0)
		return 1;
	for (int fmt = 0; fmt < 2; fmt++) {
		long n = n_ops / 10;

		setenv("LOG_FORMAT", fmt ? "text" : "json", 1);
		svc_log_init("order");
		svc_log_context_event("0190a1b2-0000-7000-8000-000000000001",
		                      "InventoryReservedEvent",
		                      "0190a1b2-0000-7000-8000-0000000000aa");
		t = svc_mono_us();
		for (long i = 0; i < n; i++)
			svc_info("inbox: slow event %s (%s): %lld ms",
			         "0190a1b2-0000-7000-8000-000000000001", "InventoryReservedEvent",
			         (long long)i);
		report(fmt ? "log line, text, with context" : "log line, JSON, with context", t, n);
		svc_log_context_clear();
	}
	t = svc_mono_us();
	for (long i = 0; i < n_ops; i++)
		svc_debug("skipped %ld", i);
	report("log line below the level (skipped)", t, n_ops);
	svc_prom_free(r);
	return 0;
usage:
	fprintf(stderr, "usage: obs-cost [--n N] [--threads T]\n");
	return 2;
}
