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
 * Writes JSON (--out, default stdout): totals, the HTTP latency summary, one
 * row per second (arrivals, ok, errors, dropped, in flight, latency of the
 * requests sent in that second) and the orderId of every accepted order.
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
#include <unistd.h>

#include "loadtest/loadgen/picker.h"
#include "loadtest/loadgen/stats.h"

#define ID_LEN 36

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
	CURLM *multi;
	struct curl_slist *headers;
	struct slot *slots;
	long *free_slots; /* stack of free slot numbers */
	long nfree;
	struct record *records;
	struct second *seconds;
	long total, nseconds, inflight;
	long ok, errors, dropped, transport_errors;
	long by_code[CURL_LAST]; /* transport failures per libcurl result */
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

/* the JSON body of request i: one to --items lines */
static void make_body(struct run *r, struct slot *s)
{
	int n = snprintf(s->body, sizeof(s->body), "{\"userId\":\"U%09ld\",\"items\":[",
	                 lt_picker_user(&r->picker));
	for (long i = 0; i < r->o.items && n > 0 && (size_t)n < sizeof(s->body); i++)
		n += snprintf(s->body + n, sizeof(s->body) - (size_t)n,
		              "%s{\"productId\":\"P%09ld\",\"quantity\":%ld}", i ? "," : "",
		              lt_picker_product(&r->picker), lt_picker_range(&r->picker, 1, 2));
	if (n > 0 && (size_t)n < sizeof(s->body))
		snprintf(s->body + n, sizeof(s->body) - (size_t)n, "]}");
}

static void start_request(struct run *r, long index, int64_t now)
{
	long k = r->free_slots[--r->nfree];
	struct slot *s = &r->slots[k];

	s->index = index;
	s->start_us = now;
	s->resp_len = 0;
	make_body(r, s);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_multi_add_handle(r->multi, s->easy);
	r->inflight++;
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
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	r->headers = curl_slist_append(r->headers, "Expect:");
	r->slots = calloc((size_t)n, sizeof(*r->slots));
	r->free_slots = calloc((size_t)n, sizeof(*r->free_slots));
	r->records = calloc((size_t)r->total, sizeof(*r->records));
	r->seconds = calloc((size_t)r->nseconds, sizeof(*r->seconds));
	if (!r->multi || !r->headers || !r->slots || !r->free_slots || !r->records || !r->seconds)
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
		if (!e)
			return -1;
		curl_easy_setopt(e, CURLOPT_URL, r->o.url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
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
	}
	if (r->multi)
		curl_multi_cleanup(r->multi);
	if (r->epfd >= 0)
		close(r->epfd);
	curl_slist_free_all(r->headers);
	free(r->slots);
	free(r->free_slots);
	free(r->records);
	free(r->seconds);
	lt_picker_release(&r->picker);
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
				start_request(r, next, now);
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
	        elapsed_us / 1e6, "cpu_s",
	        (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	        "achieved_rate", r->o.duration ? (double)r->ok / (double)r->o.duration : 0.0,
	        "http_latency", latency_json(r, 0, r->total, buf), "transport_errors_by_cause",
	        codes, "per_second", secs, "orders", orders);
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
	        "               [--drain S] [--seed X] [--out FILE]\n");
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
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (lt_picker_init(&r.picker, r.o.products, r.o.users, r.o.zipf, (uint64_t)r.o.seed) ||
	    setup(&r)) {
		fprintf(stderr, "loadgen: out of memory\n");
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
	fprintf(stderr, "loadgen: %ld scheduled, %ld ok, %ld errors, %ld dropped, %ld unfinished\n",
	        r.total, r.ok, r.errors, r.dropped, r.inflight);
	rc = 0;
out:
	json_decref(doc);
	teardown(&r);
	curl_global_cleanup();
	return rc;
}
