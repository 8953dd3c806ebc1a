/*
 * loadgen: an open-model HTTP load generator for POST /api/orders.
 *
 *   loadgen --rate R --duration S [--url URL] [--products N] [--users N]
 *           [--zipf S|0] [--items K] [--max-inflight C] [--timeout-ms T]
 *           [--drain S] [--seed X] [--out FILE]
 *
 * Request i is started at t0 + i/R whatever happened to the ones before it
 * (constant arrival rate, like k6's constant-arrival-rate executor): when the
 * system slows down, requests in flight grow instead, up to --max-inflight;
 * an arrival that finds the cap reached is counted as dropped, never delayed.
 * One thread drives all connections through the libcurl multi socket
 * interface and epoll (keep-alive, one connection per concurrent request):
 * a wake-up costs what its ready sockets need, not a pass over every
 * connection in flight, so the generator's own CPU does not grow with the
 * system's latency.
 *
 * Orders are placed by their users: each request carries the bearer token of
 * the customer its body names (svc/auth.h), signed HS256 with JWT_SECRET
 * (required; the key the services verify with). Tokens live a day (or the
 * run plus an hour, if longer) and are cached per user (tokens.h); those of
 * the first 65536 users are signed before the clock starts, and the time
 * that took is printed, so that the run measures the system, not the
 * signing.
 *
 * Writes JSON (--out, default stdout): totals, the HTTP latency summary, the
 * count of each HTTP status, the tokens signed, one row per second
 * (arrivals, ok, errors, dropped, in flight, latency of the requests sent in
 * that second) and the orderId of every accepted order.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "loadtest/loadgen/picker.h"
#include "loadtest/loadgen/stats.h"
#include "loadtest/loadgen/tokens.h"
#include "svc/auth.h"

#define ID_LEN     36
#define STATUS_MAX 600
/* Token lifetime: a day, or the run plus this much when that is longer. */
#define TOKEN_TTL_S     86400L
#define TOKEN_TTL_SLACK 3600L

struct options {
	long rate, duration, products, users, items, max_inflight, timeout_ms, drain;
	double zipf;
	long seed;
	const char *url;
	const char *out;
};

/* one in-flight request */
struct slot {
	CURL *easy;
	long index; /* request number */
	int64_t start_us;
	/* the slot's request headers (curl_slist_append'ed): Content-Type,
	 * Expect and last Authorization, whose LT_AUTH_MAX-byte text `auth` is
	 * overwritten with the user's line before each request */
	struct curl_slist *headers;
	char *auth;
	char body[1024];
	char resp[2048];
	size_t resp_len;
};

/* the outcome of request i */
struct record {
	int32_t latency_us; /* -1: dropped or never finished */
	int16_t status;     /* HTTP status, 0 = transport failure */
	char order_id[ID_LEN + 1];
};

struct second {
	long sent, ok, errors, dropped, inflight_max;
};

struct run {
	struct options o;
	struct lt_picker picker;
	struct lt_tokens tokens;
	long minted_ahead; /* tokens signed before the clock started */
	CURLM *multi;
	struct slot *slots;
	long *free_slots; /* stack of free slot numbers */
	long nfree;
	struct record *records;
	struct second *seconds;
	long total, nseconds, inflight;
	long ok, errors, dropped, transport_errors, token_errors;
	long by_code[CURL_LAST];    /* transport failures per libcurl result */
	long by_status[STATUS_MAX]; /* answers per HTTP status */
	int64_t t0;
	int64_t t0_wall_ms; /* t0 on the wall clock, to line up with database times */
	int epfd;           /* the sockets libcurl wants watched */
	int64_t timer_us;   /* when libcurl wants its timeout action; -1: never */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct slot *s = userdata;
	size_t n = size * nmemb, room = sizeof(s->resp) - 1 - s->resp_len;

	memcpy(s->resp + s->resp_len, data, n < room ? n : room);
	s->resp_len += n < room ? n : room;
	return n;
}

static long second_of(const struct run *r, int64_t t_us)
{
	long s = (long)((t_us - r->t0) / 1000000);
	return s < 0 ? 0 : s >= r->nseconds ? r->nseconds - 1 : s;
}

/* the JSON body of a request of `user`: one to --items lines */
static void make_body(struct run *r, struct slot *s, long user)
{
	int n = snprintf(s->body, sizeof(s->body), "{\"userId\":\"U%09ld\",\"items\":[", user);
	for (long i = 0; i < r->o.items && n > 0 && (size_t)n < sizeof(s->body); i++)
		n += snprintf(s->body + n, sizeof(s->body) - (size_t)n,
		              "%s{\"productId\":\"P%09ld\",\"quantity\":%ld}", i ? "," : "",
		              lt_picker_product(&r->picker), lt_picker_range(&r->picker, 1, 2));
	if (n > 0 && (size_t)n < sizeof(s->body))
		snprintf(s->body + n, sizeof(s->body) - (size_t)n, "]}");
}

/* Starts request `index` in a free slot; false (nothing started) when its
 * user's token cannot be signed. */
static bool start_request(struct run *r, long index, int64_t now)
{
	long k = r->free_slots[r->nfree - 1], user = lt_picker_user(&r->picker);
	struct slot *s = &r->slots[k];
	const char *auth;
	size_t len;

	auth = lt_tokens_header(&r->tokens, user, time(NULL), &len);
	if (!auth)
		return false;
	r->nfree--;
	memcpy(s->auth, auth, len + 1);
	s->index = index;
	s->start_us = now;
	s->resp_len = 0;
	make_body(r, s, user);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_multi_add_handle(r->multi, s->easy);
	r->inflight++;
	return true;
}

static void finish_request(struct run *r, CURL *easy, CURLcode result)
{
	struct slot *s = NULL;
	struct record *rec;
	long status = 0, k;
	json_t *doc = NULL;
	const char *id = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
	k = s - r->slots;
	rec = &r->records[s->index];
	rec->latency_us = (int32_t)(lt_now_us() - s->start_us);
	if (result == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	else
		r->transport_errors++;
	if (result != CURLE_OK && result < CURL_LAST)
		r->by_code[result]++;
	rec->status = (int16_t)status;
	if (status > 0 && status < STATUS_MAX)
		r->by_status[status]++;
	if (status == 202) {
		doc = json_loadb(s->resp, s->resp_len, 0, NULL);
		id = json_string_value(json_object_get(doc, "orderId"));
	}
	if (id && strlen(id) == ID_LEN) {
		memcpy(rec->order_id, id, ID_LEN + 1);
		r->ok++;
		r->seconds[second_of(r, s->start_us)].ok++;
	} else {
		r->errors++;
		r->seconds[second_of(r, s->start_us)].errors++;
	}
	json_decref(doc);
	curl_multi_remove_handle(r->multi, easy);
	r->free_slots[r->nfree++] = k;
	r->inflight--;
}

static void harvest(struct run *r)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(r->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish_request(r, m->easy_handle, m->data.result);
}

/* CURLMOPT_SOCKETFUNCTION: keeps the epoll set in step with what libcurl
 * wants watched on `fd`. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct run *r = userp;
	struct epoll_event ev = {.data.fd = fd};

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
		curl_multi_assign(r->multi, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (socketp ? epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) != 0
	            : epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
	                      epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
		fprintf(stderr, "loadgen: epoll_ctl on socket %d failed\n", (int)fd);
	curl_multi_assign(r->multi, fd, r);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: when to run libcurl's timeout action next. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct run *r = userp;

	(void)multi;
	r->timer_us = timeout_ms < 0 ? -1 : lt_now_us() + (int64_t)timeout_ms * 1000;
	return 0;
}

/* The slot's header list, its Authorization line a placeholder of
 * LT_AUTH_MAX - 1 bytes (the room each request's line is copied into). */
static int slot_headers(struct slot *s)
{
	char placeholder[LT_AUTH_MAX];
	const char *const lines[] = {"Content-Type: application/json", "Expect:", placeholder};
	struct curl_slist *grown, *last;

	memset(placeholder, 'x', sizeof(placeholder) - 1);
	placeholder[sizeof(placeholder) - 1] = '\0';
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		grown = curl_slist_append(s->headers, lines[i]);
		if (!grown)
			return -1;
		s->headers = grown;
	}
	for (last = s->headers; last->next; last = last->next)
		;
	s->auth = last->data;
	return 0;
}

static int setup(struct run *r)
{
	long n = r->o.max_inflight;

	r->total = r->o.rate * r->o.duration;
	r->nseconds = r->o.duration + r->o.drain + 1;
	r->multi = curl_multi_init();
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->timer_us = -1;
	if (r->epfd < 0)
		return -1;
	r->slots = calloc((size_t)n, sizeof(*r->slots));
	r->free_slots = calloc((size_t)n, sizeof(*r->free_slots));
	r->records = calloc((size_t)r->total, sizeof(*r->records));
	r->seconds = calloc((size_t)r->nseconds, sizeof(*r->seconds));
	if (!r->multi || !r->slots || !r->free_slots || !r->records || !r->seconds)
		return -1;
	curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, n);
	curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
	curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
	for (long i = 0; i < r->total; i++)
		r->records[i].latency_us = -1;
	for (long i = 0; i < n; i++) {
		CURL *e = curl_easy_init();
		if (!e || slot_headers(&r->slots[i]) != 0) {
			curl_easy_cleanup(e);
			return -1;
		}
		curl_easy_setopt(e, CURLOPT_URL, r->o.url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slots[i].headers);
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->o.timeout_ms);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->slots[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&r->slots[i]);
		r->slots[i].easy = e;
		r->free_slots[r->nfree++] = i;
	}
	return 0;
}

static void teardown(struct run *r)
{
	for (long i = 0; r->slots && i < r->o.max_inflight; i++) {
		if (r->slots[i].easy) {
			curl_multi_remove_handle(r->multi, r->slots[i].easy);
			curl_easy_cleanup(r->slots[i].easy);
		}
		curl_slist_free_all(r->slots[i].headers);
	}
	if (r->multi)
		curl_multi_cleanup(r->multi);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r->slots);
	free(r->free_slots);
	free(r->records);
	free(r->seconds);
	lt_picker_release(&r->picker);
	lt_tokens_release(&r->tokens);
}

static void progress(const struct run *r, long sec, long next)
{
	fprintf(stderr, "loadgen: t=%lds sent=%ld ok=%ld errors=%ld dropped=%ld inflight=%ld\n",
	        sec + 1, next, r->ok, r->errors, r->dropped, r->inflight);
}

/* Waits for socket events until `until_us` (or libcurl's timer, if sooner)
 * and hands what happened to libcurl. */
static void wait_and_act(struct run *r, int64_t until_us)
{
	struct epoll_event evs[256];
	int64_t now = lt_now_us(), wait_us = until_us - now;
	int running = 0, n;

	if (r->timer_us >= 0 && r->timer_us - now < wait_us)
		wait_us = r->timer_us - now;
	n = epoll_wait(r->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])),
	               wait_us > 0 ? (int)((wait_us + 999) / 1000) : 0);
	for (int i = 0; i < n; i++) {
		int flags = (evs[i].events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
		            (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
		            (evs[i].events & EPOLLERR ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(r->multi, evs[i].data.fd, flags, &running);
	}
	if (r->timer_us >= 0 && lt_now_us() >= r->timer_us) {
		r->timer_us = -1;
		curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

/* The arrival loop: starts what is due, drives the transfers, then drains. */
static void drive(struct run *r)
{
	long next = 0, reported = -1;
	int64_t end_us = (int64_t)(r->o.duration + r->o.drain) * 1000000;

	r->t0 = lt_now_us();
	r->t0_wall_ms = lt_wall_ms();
	while (next < r->total || r->inflight > 0) {
		int64_t now = lt_now_us(), el = now - r->t0;
		long due = (long)(el * r->o.rate / 1000000) + 1, sec = second_of(r, now);

		if (el > end_us)
			break;
		if (due > r->total)
			due = r->total;
		for (; next < due; next++) {
			struct second *s =
			        &r->seconds[second_of(r, r->t0 + next * 1000000 / r->o.rate)];
			s->sent++;
			if (r->nfree > 0) {
				if (!start_request(r, next, now)) {
					r->token_errors++;
					r->errors++;
					s->errors++;
				}
			} else {
				r->dropped++;
				s->dropped++;
			}
		}
		if (r->inflight > r->seconds[sec].inflight_max)
			r->seconds[sec].inflight_max = r->inflight;
		/* until the next arrival is due (or 10 ms while draining) */
		wait_and_act(r, next < r->total ? r->t0 + next * 1000000 / r->o.rate
		                                : lt_now_us() + 10000);
		harvest(r);
		if (sec != reported) {
			if (reported >= 0)
				progress(r, reported, next);
			reported = sec;
		}
	}
}

static json_t *summary_json(const struct lt_summary *s)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)s->count, "avg_ms",
	                 s->avg, "p50_ms", s->p50, "p95_ms", s->p95, "p99_ms", s->p99, "max_ms",
	                 s->max);
}

/* latency (ms) of the finished requests among records [from, to) */
static json_t *latency_json(const struct run *r, long from, long to, double *buf)
{
	size_t n = 0;
	struct lt_summary s;

	for (long i = from; i < to; i++)
		if (r->records[i].latency_us >= 0 && r->records[i].status)
			buf[n++] = r->records[i].latency_us / 1000.0;
	lt_summarize(buf, n, &s);
	return summary_json(&s);
}

/* {"202": n, "429": n, ...}: the answers per HTTP status */
static json_t *statuses_json(const struct run *r)
{
	json_t *doc = json_object();
	char name[8];

	for (int c = 0; doc && c < STATUS_MAX; c++) {
		if (!r->by_status[c])
			continue;
		snprintf(name, sizeof(name), "%d", c);
		json_object_set_new(doc, name, json_integer(r->by_status[c]));
	}
	return doc;
}

/* what signing the users' tokens cost */
static json_t *tokens_json(const struct run *r)
{
	const struct lt_tokens *t = &r->tokens;

	return json_pack("{s:I, s:I, s:I, s:f, s:I, s:I}", "minted", (json_int_t)t->minted,
	                 "minted_before_start", (json_int_t)r->minted_ahead, "minted_during_run",
	                 (json_int_t)(t->minted - r->minted_ahead), "mint_us_avg",
	                 t->minted ? (double)t->mint_us / (double)t->minted : 0.0, "cache_slots",
	                 (json_int_t)LT_TOKEN_SLOTS, "ttl_s", (json_int_t)t->ttl_s);
}

static json_t *report(const struct run *r, int64_t elapsed_us)
{
	json_t *root = NULL, *secs = json_array(), *orders = json_array(), *codes = json_object();
	double *buf = malloc((size_t)(r->total ? r->total : 1) * sizeof(double));
	long last_sec = 0;
	struct rusage ru;

	if (!secs || !orders || !codes || !buf)
		goto out;
	for (long s = 0; s < r->nseconds; s++) {
		const struct second *x = &r->seconds[s];
		long from = s * r->o.rate, to = from + r->o.rate;
		if (from > r->total)
			from = r->total;
		if (to > r->total)
			to = r->total;
		if (x->sent || x->ok || x->errors)
			last_sec = s;
		json_array_append_new(secs,
		                      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "t",
		                                (json_int_t)s, "sent", (json_int_t)x->sent, "ok",
		                                (json_int_t)x->ok, "errors", (json_int_t)x->errors,
		                                "dropped", (json_int_t)x->dropped, "inflight_max",
		                                (json_int_t)x->inflight_max, "latency",
		                                latency_json(r, from, to, buf)));
	}
	while (json_array_size(secs) > (size_t)last_sec + 1)
		json_array_remove(secs, json_array_size(secs) - 1);
	for (long i = 0; i < r->total; i++)
		if (r->records[i].order_id[0])
			json_array_append_new(orders, json_string(r->records[i].order_id));
	for (int c = 0; c < CURL_LAST; c++)
		if (r->by_code[c])
			json_object_set_new(codes, curl_easy_strerror((CURLcode)c),
			                    json_integer(r->by_code[c]));
	getrusage(RUSAGE_SELF, &ru);
	root = json_pack(
	        "{s:{s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:I}, s:I, s:I, s:I, s:I, s:I, s:I, s:f, "
	        "s:f, s:f, s:o, s:O, s:O, s:O}",
	        "config", "url", r->o.url, "rate", (json_int_t)r->o.rate, "duration_s",
	        (json_int_t)r->o.duration, "products", (json_int_t)r->o.products, "users",
	        (json_int_t)r->o.users, "zipf_s", r->o.zipf, "items", (json_int_t)r->o.items,
	        "max_inflight", (json_int_t)r->o.max_inflight, "start_ms",
	        (json_int_t)r->t0_wall_ms, "scheduled", (json_int_t)r->total, "ok",
	        (json_int_t)r->ok, "errors", (json_int_t)r->errors, "transport_errors",
	        (json_int_t)r->transport_errors, "dropped", (json_int_t)r->dropped, "elapsed_s",
	        (double)elapsed_us / 1e6, "cpu_s",
	        (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	        "achieved_rate", r->o.duration ? (double)r->ok / (double)r->o.duration : 0.0,
	        "http_latency", latency_json(r, 0, r->total, buf), "transport_errors_by_cause",
	        codes, "per_second", secs, "orders", orders);
	if (root && (json_object_set_new(root, "http_status", statuses_json(r)) ||
	             json_object_set_new(root, "tokens", tokens_json(r)) ||
	             json_object_set_new(root, "token_errors", json_integer(r->token_errors)))) {
		json_decref(root);
		root = NULL;
	}
out:
	json_decref(secs);
	json_decref(orders);
	json_decref(codes);
	free(buf);
	return root;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: loadgen --rate R --duration S [--url URL] [--products N] [--users N]\n"
	        "               [--zipf S|0] [--items K] [--max-inflight C] [--timeout-ms T]\n"
	        "               [--drain S] [--seed X] [--out FILE]\n"
	        "       (JWT_SECRET in the environment: the key the services verify tokens "
	        "with)\n");
}

/* The tokens of the users: the table, and those of the first users signed
 * now, with what that cost printed. */
static int tokens_setup(struct run *r, const char *secret)
{
	long ttl = r->o.duration + r->o.drain + TOKEN_TTL_SLACK;
	int64_t t0;

	if (lt_tokens_init(&r->tokens, secret, strlen(secret),
	                   ttl > TOKEN_TTL_S ? ttl : TOKEN_TTL_S))
		return -1;
	t0 = lt_now_us();
	if (lt_tokens_fill(&r->tokens, r->o.users, time(NULL)))
		return -1;
	r->minted_ahead = r->tokens.minted;
	fprintf(stderr,
	        "loadgen: signed %ld tokens (users 1..%ld of %ld) in %.0f ms, %.1f us each; "
	        "valid %ld s\n",
	        r->minted_ahead, r->minted_ahead, r->o.users, (double)(lt_now_us() - t0) / 1000.0,
	        r->minted_ahead ? (double)r->tokens.mint_us / (double)r->minted_ahead : 0.0,
	        r->tokens.ttl_s);
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){.rate = 100,
	                      .duration = 10,
	                      .products = 100000,
	                      .users = 10000,
	                      .items = 1,
	                      .max_inflight = 2000,
	                      .timeout_ms = 30000,
	                      .drain = 30,
	                      .zipf = 0.8,
	                      .seed = 1,
	                      .url = "http://127.0.0.1:8081/api/orders"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = !v;
		if (bad)
			;
		else if (!strcmp(a, "--rate"))
			bad = lt_parse_long(v, 1, 1000000, &o->rate);
		else if (!strcmp(a, "--duration"))
			bad = lt_parse_long(v, 1, 86400, &o->duration);
		else if (!strcmp(a, "--products"))
			bad = lt_parse_long(v, 1, 999999999, &o->products);
		else if (!strcmp(a, "--users"))
			bad = lt_parse_long(v, 1, 999999999, &o->users);
		else if (!strcmp(a, "--items"))
			bad = lt_parse_long(v, 1, 20, &o->items);
		else if (!strcmp(a, "--max-inflight"))
			bad = lt_parse_long(v, 1, 60000, &o->max_inflight);
		else if (!strcmp(a, "--timeout-ms"))
			bad = lt_parse_long(v, 1, 3600000, &o->timeout_ms);
		else if (!strcmp(a, "--drain"))
			bad = lt_parse_long(v, 0, 3600, &o->drain);
		else if (!strcmp(a, "--seed"))
			bad = lt_parse_long(v, 0, 1L << 40, &o->seed);
		else if (!strcmp(a, "--zipf"))
			bad = lt_parse_double(v, 0, 10, &o->zipf);
		else if (!strcmp(a, "--url"))
			o->url = v;
		else if (!strcmp(a, "--out"))
			o->out = v;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "loadgen: bad or unknown option %s\n", a);
			return -1;
		}
		i++;
	}
	if (o->rate * o->duration > 100000000) {
		fprintf(stderr, "loadgen: rate x duration too large\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *secret = svc_auth_signing_secret("loadgen");
	struct run r;
	json_t *doc = NULL;
	int64_t t_start;
	int rc = 1;

	memset(&r, 0, sizeof(r));
	r.epfd = -1;
	if (parse_args(argc, argv, &r.o)) {
		usage();
		return 2;
	}
	if (!secret)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (lt_picker_init(&r.picker, r.o.products, r.o.users, r.o.zipf, (uint64_t)r.o.seed) ||
	    setup(&r)) {
		fprintf(stderr, "loadgen: out of memory\n");
		goto out;
	}
	if (tokens_setup(&r, secret)) {
		fprintf(stderr, "loadgen: cannot sign the users' tokens\n");
		goto out;
	}
	t_start = lt_now_us();
	drive(&r);
	doc = report(&r, lt_now_us() - t_start);
	if (!doc) {
		fprintf(stderr, "loadgen: out of memory\n");
		goto out;
	}
	if (r.o.out ? json_dump_file(doc, r.o.out, JSON_COMPACT)
	            : json_dumpf(doc, stdout, JSON_COMPACT)) {
		fprintf(stderr, "loadgen: cannot write %s\n", r.o.out ? r.o.out : "stdout");
		goto out;
	}
	fprintf(stderr,
	        "loadgen: HTTP 202 %ld, 429 %ld, 401/403 %ld; tokens signed during the run %ld\n",
	        r.by_status[202], r.by_status[429], r.by_status[401] + r.by_status[403],
	        r.tokens.minted - r.minted_ahead);
	fprintf(stderr, "loadgen: %ld scheduled, %ld ok, %ld errors, %ld dropped, %ld unfinished\n",
	        r.total, r.ok, r.errors, r.dropped, r.inflight);
	rc = 0;
out:
	json_decref(doc);
	teardown(&r);
	curl_global_cleanup();
	return rc;
}
