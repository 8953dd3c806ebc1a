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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc/buf.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

/* Set once by svc_httpc_global_init (HTTPC_MAX_RESPONSE). */
static size_t max_response = SVC_HTTPC_MAX_RESPONSE_DEFAULT;

static pthread_key_t handle_key;
static pthread_once_t handle_key_once = PTHREAD_ONCE_INIT;
static int handle_key_failed;

static void handle_destroy(void *h)
{
	curl_easy_cleanup(h);
}

static void handle_key_create(void)
{
	handle_key_failed = pthread_key_create(&handle_key, handle_destroy) != 0;
}

/* This thread's easy handle, created on first use; NULL on failure. */
static CURL *thread_handle(void)
{
	CURL *h;

	pthread_once(&handle_key_once, handle_key_create);
	if (handle_key_failed)
		return NULL;
	h = pthread_getspecific(handle_key);
	if (h)
		return h;
	h = curl_easy_init();
	if (h && pthread_setspecific(handle_key, h) != 0) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	return h;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct svc_buf *b = userdata;
	size_t len = size * nmemb;

	/* A short count makes curl fail the transfer with CURLE_WRITE_ERROR:
	 * an answer over the cap is never read whole into memory. */
	if (len > max_response - b->len) {
		svc_warn("httpc: a response passed %zu bytes; dropped", max_response);
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

int svc_httpc_request(const char *method, const char *url, const char *const *headers,
                      const char *body, size_t body_len, long timeout_ms,
                      struct svc_httpc_response *out)
{
	struct curl_slist *list = NULL, *grown;
	struct svc_buf resp;
	double total_s = 0;
	CURL *h;
	CURLcode rc;
	int ret = SVC_ETRANSIENT;
	bool has_type = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	svc_buf_init(&resp);
	/* curl would guess a scheme for "host/path"; we want it said. */
	if (!method || !url || !strstr(url, "://"))
		return SVC_EPERMANENT;
	h = thread_handle();
	if (!h)
		goto release;
	curl_easy_reset(h);
	/* An empty Expect: stops curl waiting for "100 Continue" on larger bodies. */
	grown = curl_slist_append(list, "Expect:");
	for (i = 0; grown && headers && headers[i]; i++) {
		list = grown;
		grown = curl_slist_append(list, headers[i]);
		has_type = has_type || !strncasecmp(headers[i], "Content-Type:", 13);
	}
	/* Bodies here are JSON unless the caller says otherwise (curl would
	 * announce a form). */
	if (grown && body && !has_type) {
		list = grown;
		grown = curl_slist_append(list, "Content-Type: application/json");
	}
	if (!grown)
		goto release;
	list = grown;

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_response);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    set_method(h, method, body, body_len) != 0) {
		ret = SVC_EPERMANENT;
		goto release;
	}

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total_s);
	out->elapsed_ms = total_s * 1000.0;
	if (rc != CURLE_OK) {
		ret = curl_error_is_permanent(rc) ? SVC_EPERMANENT : SVC_ETRANSIENT;
		svc_debug("httpc: %s %s: %s", method, url, curl_easy_strerror(rc));
		goto release;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	{
		char *ct = NULL;
		if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			out->content_type = strdup(ct);
	}
	out->body_len = resp.len;
	out->body = svc_buf_take(&resp);
	ret = out->body ? 0 : SVC_ETRANSIENT;
	if (!out->body)
		out->status = 0;
release:
	/* The handle must not keep pointers to what is freed here. */
	if (h)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);
	svc_buf_release(&resp);
	return ret;
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
