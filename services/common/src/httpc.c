/*
 * Outbound HTTP on libcurl (see svc/httpc.h). Each thread owns one easy
 * handle kept in a pthread key; curl_easy_reset() between requests keeps the
 * handle's live connections, so calls to the same host reuse them. The key's
 * destructor cleans the handle up when the thread exits.
 */
#include "svc/httpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/buf.h"
#include "svc/clock.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

/* Set once by svc_httpc_global_init (HTTPC_MAX_RESPONSE). */
static size_t max_response = SVC_HTTPC_MAX_RESPONSE_DEFAULT;

/* Easy handles kept for the next calls run together (curl_easy_reset
 * clears what a call set; an init and a cleanup per call cost more). */
#define SPARE_HANDLES 32
/* Connections the multi handle keeps open between calls. */
#define MULTI_MAX_CONNECTS 64L

/* A thread's own libcurl state, made on first use and freed when the thread
 * exits: the easy handle of svc_httpc_request, and the multi handle of the
 * calls run together, with the calls started on it. Each handle keeps its
 * connections (keep-alive). */
struct thread_curl {
	CURL *easy;
	CURLM *m;
	size_t running; /* calls started and not yet returned by svc_httpc_next_done */
	CURL *spare[SPARE_HANDLES];
	size_t nspare;
};

static pthread_key_t curl_key;
static pthread_once_t curl_key_once = PTHREAD_ONCE_INIT;
static int curl_key_failed;

static void thread_curl_destroy(void *p)
{
	struct thread_curl *tc = p;

	while (tc->nspare > 0)
		curl_easy_cleanup(tc->spare[--tc->nspare]);
	curl_multi_cleanup(tc->m);
	curl_easy_cleanup(tc->easy);
	free(tc);
}

static void curl_key_create(void)
{
	curl_key_failed = pthread_key_create(&curl_key, thread_curl_destroy) != 0;
}

/* This thread's libcurl state; NULL on failure. */
static struct thread_curl *thread_curl(void)
{
	struct thread_curl *tc;

	pthread_once(&curl_key_once, curl_key_create);
	if (curl_key_failed)
		return NULL;
	tc = pthread_getspecific(curl_key);
	if (tc)
		return tc;
	tc = calloc(1, sizeof(*tc));
	if (tc && pthread_setspecific(curl_key, tc) != 0) {
		free(tc);
		tc = NULL;
	}
	return tc;
}

/* This thread's easy handle, created on first use; NULL on failure. */
static CURL *thread_handle(void)
{
	struct thread_curl *tc = thread_curl();

	if (tc && !tc->easy)
		tc->easy = curl_easy_init();
	return tc ? tc->easy : NULL;
}

/* This thread's state with its multi handle, created on first use; NULL on
 * failure. */
static struct thread_curl *thread_multi(void)
{
	struct thread_curl *tc = thread_curl();

	if (tc && !tc->m) {
		tc->m = curl_multi_init();
		if (tc->m)
			curl_multi_setopt(tc->m, CURLMOPT_MAXCONNECTS, MULTI_MAX_CONNECTS);
	}
	return tc && tc->m ? tc : NULL;
}

/* What one request needs beside its handle: the header list, the body
 * being read and the most of it that is read. */
struct request_state {
	struct curl_slist *list;
	struct svc_buf resp;
	size_t cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct request_state *st = userdata;
	struct svc_buf *b = &st->resp;
	size_t len = size * nmemb;

	/* A short count makes curl fail the transfer with CURLE_WRITE_ERROR:
	 * an answer over the cap is never read whole into memory. */
	if (len > st->cap - b->len) {
		svc_warn("httpc: a response passed %zu bytes; dropped", st->cap);
		return 0;
	}
	return svc_buf_add(b, data, len) == 0 ? len : 0;
}

/* Curl results that no retry can fix: the URL itself is wrong. */
static bool curl_error_is_permanent(CURLcode rc)
{
	return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
	       rc == CURLE_BAD_FUNCTION_ARGUMENT;
}

/* GET/HEAD without a body; POST (with an empty body if none); anything
 * else as a custom method, with the body if one is given. */
static int set_method(CURL *h, const char *method, const char *body, size_t body_len)
{
	CURLcode rc = CURLE_OK;
	bool is_post = !strcmp(method, "POST");

	if (body || is_post) {
		rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		                      (curl_off_t)(body ? body_len : 0));
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	}
	if (rc != CURLE_OK || is_post)
		goto done;
	if (!strcmp(method, "HEAD"))
		rc = curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (!strcmp(method, "GET") && !body)
		rc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else
		rc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
done:
	return rc == CURLE_OK ? 0 : SVC_EPERMANENT;
}

/*
 * Sets `h` (reset) up for one request, shared by svc_httpc_request and the
 * calls run together (svc_httpc_start). 0, SVC_EPERMANENT for a malformed
 * request, SVC_ETRANSIENT without memory; st is for request_finish either way.
 */
static int request_setup(CURL *h, const char *method, const char *url, const char *const *headers,
                         const char *body, size_t body_len, long timeout_ms, size_t cap,
                         struct request_state *st)
{
	struct curl_slist *grown;
	bool has_type = false;
	size_t i;

	st->list = NULL;
	svc_buf_init(&st->resp);
	st->cap = cap && cap < max_response ? cap : max_response;
	/* curl would guess a scheme for "host/path"; we want it said. */
	if (!method || !url || !strstr(url, "://"))
		return SVC_EPERMANENT;
	curl_easy_reset(h);
	/* An empty Expect: stops curl waiting for "100 Continue" on larger bodies. */
	grown = curl_slist_append(NULL, "Expect:");
	for (i = 0; grown && headers && headers[i]; i++) {
		st->list = grown;
		grown = curl_slist_append(st->list, headers[i]);
		has_type = has_type || !strncasecmp(headers[i], "Content-Type:", 13);
	}
	/* Bodies here are JSON unless the caller says otherwise (curl would
	 * announce a form). */
	if (grown && body && !has_type) {
		st->list = grown;
		grown = curl_slist_append(st->list, "Content-Type: application/json");
	}
	if (!grown)
		return SVC_ETRANSIENT;
	st->list = grown;

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, st->list);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)st->cap);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    set_method(h, method, body, body_len) != 0)
		return SVC_EPERMANENT;
	return 0;
}

/* Fills `out` from the finished transfer on `h` (curl's result rc) and
 * releases st. The result code of svc_httpc_request. */
static int request_finish(CURL *h, CURLcode rc, struct request_state *st,
                          struct svc_httpc_response *out)
{
	double total_s = 0;
	char *ct = NULL;
	int ret;

	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total_s);
	out->elapsed_ms = total_s * 1000.0;
	if (rc != CURLE_OK) {
		ret = curl_error_is_permanent(rc) ? SVC_EPERMANENT : SVC_ETRANSIENT;
		out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		svc_debug("httpc: %s", curl_easy_strerror(rc));
		goto release;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		out->content_type = strdup(ct);
	out->body_len = st->resp.len;
	out->body = svc_buf_take(&st->resp);
	ret = out->body ? 0 : SVC_ETRANSIENT;
	if (!out->body)
		out->status = 0;
release:
	/* The handle must not keep pointers to what is freed here. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(st->list);
	st->list = NULL;
	svc_buf_release(&st->resp);
	return ret;
}

int svc_httpc_request(const char *method, const char *url, const char *const *headers,
                      const char *body, size_t body_len, long timeout_ms,
                      struct svc_httpc_response *out)
{
	struct request_state st = {0};
	CURL *h;
	int ret;

	memset(out, 0, sizeof(*out));
	h = thread_handle();
	if (!h)
		return SVC_ETRANSIENT;
	ret = request_setup(h, method, url, headers, body, body_len, timeout_ms, 0, &st);
	if (ret) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(st.list);
		svc_buf_release(&st.resp);
		return ret;
	}
	return request_finish(h, curl_easy_perform(h), &st, out);
}

/* ---- calls run together on one thread -------------------------------- */

/* Ends a call that will not run (or whose transfer is over): frees its
 * state, keeps its handle for the next call, sets rc. */
static void call_end(struct thread_curl *tc, struct svc_httpc_call *c, int rc)
{
	struct request_state *st = c->priv;

	if (st) {
		curl_slist_free_all(st->list);
		svc_buf_release(&st->resp);
		free(st);
	}
	if (c->priv_h && tc && tc->nspare < SPARE_HANDLES)
		tc->spare[tc->nspare++] = c->priv_h;
	else if (c->priv_h)
		curl_easy_cleanup(c->priv_h);
	c->priv = NULL;
	c->priv_h = NULL;
	c->rc = rc;
}

int svc_httpc_start(struct svc_httpc_call *c)
{
	struct thread_curl *tc = thread_multi();
	struct request_state *st;
	CURL *h;
	int rc;

	memset(&c->resp, 0, sizeof(c->resp));
	c->priv = NULL;
	c->priv_h = NULL;
	st = calloc(1, sizeof(*st));
	h = tc && tc->nspare > 0 ? tc->spare[--tc->nspare] : curl_easy_init();
	c->priv = st;
	c->priv_h = h;
	if (!tc || !st || !h) {
		call_end(tc, c, SVC_ETRANSIENT);
		return c->rc;
	}
	rc = request_setup(h, c->method, c->url, c->headers, c->body, c->body_len, c->timeout_ms,
	                   c->max_response, st);
	if (rc == 0) {
		curl_easy_setopt(h, CURLOPT_PRIVATE, c);
		if (curl_multi_add_handle(tc->m, h) != CURLM_OK)
			rc = SVC_ETRANSIENT;
	}
	if (rc) {
		call_end(tc, c, rc);
		return rc;
	}
	tc->running++;
	return 0;
}

/* The next finished transfer of tc, ended and returned; NULL if none. */
static struct svc_httpc_call *take_done(struct thread_curl *tc)
{
	struct svc_httpc_call *c = NULL;
	struct request_state *st;
	CURLMsg *msg;
	int queued;

	while ((msg = curl_multi_info_read(tc->m, &queued))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		st = c->priv;
		curl_multi_remove_handle(tc->m, msg->easy_handle);
		c->rc = request_finish(msg->easy_handle, msg->data.result, st, &c->resp);
		call_end(tc, c, c->rc);
		tc->running--;
		return c;
	}
	return NULL;
}

struct svc_httpc_call *svc_httpc_next_done(long timeout_ms)
{
	struct thread_curl *tc = thread_multi();
	uint64_t deadline;
	struct svc_httpc_call *c;
	int still;

	if (!tc || tc->running == 0)
		return NULL;
	deadline = svc_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	/* transfers the last round finished are queued already */
	c = take_done(tc);
	if (c)
		return c;
	for (;;) {
		uint64_t now;

		if (curl_multi_perform(tc->m, &still) != CURLM_OK)
			svc_warn("httpc: curl_multi_perform failed");
		c = take_done(tc);
		if (c)
			return c;
		now = svc_mono_ms();
		if (now >= deadline)
			return NULL;
		curl_multi_poll(tc->m, NULL, 0, (int)(deadline - now), NULL);
	}
}

void svc_httpc_response_release(struct svc_httpc_response *res)
{
	if (!res)
		return;
	free(res->body);
	free(res->content_type);
	memset(res, 0, sizeof(*res));
}

int svc_httpc_global_init(void)
{
	max_response = (size_t)svc_env_long("HTTPC_MAX_RESPONSE", SVC_HTTPC_MAX_RESPONSE_DEFAULT,
	                                    1024, 1L << 30);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : SVC_EPERMANENT;
}
