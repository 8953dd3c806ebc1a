/* The order service's metrics, read every second (sampler.h). */
#include "services/console/sampler.h"

#include <pthread.h>
#include <stdlib.h>

#include "svc/clock.h"
#include "svc/httpc.h"
#include "svc/log.h"
#include "svc/periodic.h"
#include "svc/url.h"

#define RATE_MS 5000
#define PCT_MS  60000

struct console_sampler {
	const struct console_config *cfg;
	char *url;
	pthread_mutex_t lock;
	struct console_window window; /* under lock */
	bool up;                      /* under lock */
	struct svc_periodic *job;
};

static bool sample(void *arg)
{
	struct console_sampler *s = arg;
	struct svc_httpc_response res = {0};
	struct console_order_reading r = {.t_ms = svc_mono_ms()};
	bool ok;

	ok = svc_httpc_request("GET", s->url, NULL, NULL, 0, s->cfg->http_timeout_ms, &res) == 0 &&
	     res.status == 200 && console_order_reading_parse(res.body, res.body_len, &r) > 0;
	pthread_mutex_lock(&s->lock);
	if (ok)
		console_window_push(&s->window, &r);
	if (ok != s->up)
		svc_info("order service metrics at %s: %s", s->url, ok ? "read" : "unreadable");
	s->up = ok;
	pthread_mutex_unlock(&s->lock);
	svc_httpc_response_release(&res);
	return false;
}

struct console_sampler *console_sampler_start(const struct console_config *cfg)
{
	struct console_sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->up = true; /* the first failure is logged */
	s->url = svc_url_join_dup(cfg->order_url, "/metrics");
	if (!s->url || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s->url);
		free(s);
		return NULL;
	}
	s->job = svc_periodic_start("order metrics sampler", cfg->sample_ms, sample, s);
	if (!s->job) {
		pthread_mutex_destroy(&s->lock);
		free(s->url);
		free(s);
		return NULL;
	}
	return s;
}

void console_sampler_stop(struct console_sampler *s)
{
	if (!s)
		return;
	svc_periodic_stop(s->job);
	pthread_mutex_destroy(&s->lock);
	free(s->url);
	free(s);
}

void console_sampler_summary(struct console_sampler *s, struct console_summary *out, bool *up)
{
	pthread_mutex_lock(&s->lock);
	console_window_summary(&s->window, RATE_MS, PCT_MS, out);
	*up = s->up;
	pthread_mutex_unlock(&s->lock);
}
