/* The sidecars' metrics and dead-letter queues, over HTTP (sidecars.h). */
#include "services/console/sidecars.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "services/console/promtext.h"
#include "svc/httpc.h"
#include "svc/url.h"

#define AUTH_HEADER_MAX 8192

struct status_state {
	json_t *breakers;
	json_t *dead;
};

static const char *breaker_name(double v)
{
	if (v >= 2)
		return "open";
	return v >= 1 ? "half-open" : "closed";
}

static int on_sample(const struct console_prom_sample *s, void *arg)
{
	struct status_state *st = arg;
	const char *label;

	if (!isfinite(s->value))
		return 0;
	if (!strcmp(s->name, "saga_breaker_state") && (label = console_prom_label(s, "route")))
		json_array_append_new(st->breakers, json_pack("{s:s, s:s}", "route", label, "state",
		                                              breaker_name(s->value)));
	else if (!strcmp(s->name, "saga_dlq_messages_total") &&
	         (label = console_prom_label(s, "stage")))
		json_object_set_new(st->dead, label, json_integer((json_int_t)s->value));
	return 0;
}

int console_sidecar_status_parse(const char *name, const char *text, size_t len, json_t *out)
{
	struct status_state st = {.breakers = json_array(), .dead = json_object()};
	json_t *item;

	if (!st.breakers || !st.dead) {
		json_decref(st.breakers);
		json_decref(st.dead);
		return -1;
	}
	console_prom_parse(text, len, on_sample, &st, NULL);
	item = json_pack("{s:s, s:b, s:o, s:o}", "service", name, "up", 1, "breakers", st.breakers,
	                 "deadLettered", st.dead);
	return item ? json_array_append_new(out, item) : -1;
}

/* "Authorization: <value>" into buf, as a header list; NULL when none. */
static const char *const *auth_headers(const char *authorization, char *buf, size_t size,
                                       const char *list[3])
{
	int n;

	list[0] = "Accept: application/json";
	list[1] = NULL;
	list[2] = NULL;
	if (!authorization)
		return list;
	n = snprintf(buf, size, "Authorization: %s", authorization);
	if (n > 0 && (size_t)n < size)
		list[1] = buf;
	return list;
}

/* GET base + path; 0 when an answer came (res filled), else SVC_* code. */
static int get(const struct console_config *cfg, const struct console_target *t, const char *path,
               const char *authorization, struct svc_httpc_response *res)
{
	char url[CONSOLE_URL_MAX + 64], auth[AUTH_HEADER_MAX];
	const char *list[3];

	if (svc_url_join(url, sizeof(url), t->url, path) != 0)
		return -1;
	return svc_httpc_request("GET", url, auth_headers(authorization, auth, sizeof(auth), list),
	                         NULL, 0, cfg->http_timeout_ms, res);
}

json_t *console_sidecars_status(const struct console_config *cfg)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < cfg->nsidecars; i++) {
		const struct console_target *t = &cfg->sidecars[i];
		struct svc_httpc_response res = {0};

		if (get(cfg, t, "/metrics", NULL, &res) != 0 || res.status != 200 ||
		    console_sidecar_status_parse(t->name, res.body, res.body_len, out) != 0)
			json_array_append_new(out, json_pack("{s:s, s:b, s:[], s:{}}", "service",
			                                     t->name, "up", 0, "breakers",
			                                     "deadLettered"));
		svc_httpc_response_release(&res);
	}
	return out;
}

/* One sidecar's listing, or what went wrong. */
static json_t *dlq_of(const struct console_config *cfg, const struct console_target *t,
                      const char *authorization, long limit)
{
	struct svc_httpc_response res = {0};
	json_t *doc = NULL, *item;
	char path[64];

	snprintf(path, sizeof(path), "/dlq?limit=%ld", limit);
	if (get(cfg, t, path, authorization, &res) == 0 && res.body)
		doc = json_loadb(res.body, res.body_len, 0, NULL);
	if (res.status == 200 && json_is_array(json_object_get(doc, "entries"))) {
		item = json_pack("{s:s, s:O, s:O}", "service", t->name, "topic",
		                 json_object_get(doc, "topic"), "entries",
		                 json_object_get(doc, "entries"));
	} else {
		const char *detail = json_string_value(json_object_get(doc, "detail"));

		item = json_pack("{s:s, s:i, s:s}", "service", t->name, "status", (int)res.status,
		                 "error",
		                 detail       ? detail
		                 : res.status ? "unexpected answer"
		                              : "no answer");
	}
	json_decref(doc);
	svc_httpc_response_release(&res);
	return item;
}

json_t *console_sidecars_dlq(const struct console_config *cfg, const char *authorization,
                             long limit)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < cfg->nsidecars; i++)
		json_array_append_new(out, dlq_of(cfg, &cfg->sidecars[i], authorization, limit));
	return out;
}

void console_sidecar_redrive(const struct console_config *cfg, const struct console_target *t,
                             const char *authorization, const char *body, size_t len,
                             struct svc_http_response *res)
{
	struct svc_httpc_response out = {0};
	char url[CONSOLE_URL_MAX + 64], auth[AUTH_HEADER_MAX];
	const char *list[4];

	auth_headers(authorization, auth, sizeof(auth), list);
	list[list[1] ? 2 : 1] = "Content-Type: application/json";
	list[3] = NULL;
	if (svc_url_join(url, sizeof(url), t->url, "/dlq/redrive") != 0 ||
	    svc_httpc_request("POST", url, list, body, len, cfg->http_timeout_ms * 5, &out) != 0 ||
	    out.status < 100 || out.status > 599) {
		svc_http_reply_problem(res, 502, NULL, NULL, "the %s sidecar did not answer",
		                       t->name);
	} else {
		svc_http_reply_raw(res, (int)out.status,
		                   out.status < 300 ? "application/json"
		                                    : "application/problem+json",
		                   out.body ? out.body : "", out.body_len);
	}
	svc_httpc_response_release(&out);
}
