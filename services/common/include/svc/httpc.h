/*
 * Outbound HTTP with libcurl. Each thread keeps its own easy handle, so
 * connections are reused (keep-alive) without locking.
 */
#ifndef SVC_HTTPC_H
#define SVC_HTTPC_H

#include <stddef.h>

/* The most of a response body read (HTTPC_MAX_RESPONSE overrides): a larger
 * answer fails the request as if none had come (SVC_ETRANSIENT). */
#define SVC_HTTPC_MAX_RESPONSE_DEFAULT (8L * 1024 * 1024)

struct svc_httpc_response {
	long status; /* HTTP status, 0 when no response arrived */
	char *body;  /* malloc'd, NUL-terminated; owned by the response */
	size_t body_len;
	char *content_type; /* malloc'd Content-Type of the response, or NULL */
	double elapsed_ms;
	int timed_out; /* no answer within the timeout (SVC_ETRANSIENT) */
};

/*
 * Performs one request. `headers` is a NULL-terminated array of "Name: value"
 * strings, or NULL. `body` may be NULL for no body.
 * Returns 0 when a response arrived, whatever its status (read out->status);
 * SVC_ETRANSIENT when none did (connect refused, timeout, reset);
 * SVC_EPERMANENT for a malformed URL. Release `out` in every case.
 */
int svc_httpc_request(const char *method, const char *url, const char *const *headers,
                      const char *body, size_t body_len, long timeout_ms,
                      struct svc_httpc_response *out);
/*
 * Requests that run at the same time on one thread (no thread each): fill
 * the inputs, svc_httpc_start() each, then take them back as they finish
 * with svc_httpc_next_done(). The thread's connections are kept between
 * calls, as svc_httpc_request keeps its own. A call and its inputs must
 * stay valid until it is returned; release c->resp after.
 */
struct svc_httpc_call {
	/* in */
	const char *method;
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value", or NULL */
	const char *body;           /* NULL for none */
	size_t body_len;
	long timeout_ms;
	size_t max_response; /* the most of the answer read; 0 or more: HTTPC_MAX_RESPONSE */
	/* out, once returned: as svc_httpc_request's result and `out` */
	int rc;
	struct svc_httpc_response resp;
	/* the transfer's own */
	void *priv;
	void *priv_h;
};

/* Starts c on this thread. 0; or, when it cannot start (malformed URL, no
 * memory), its result code, also in c->rc: it is then over, not returned by
 * svc_httpc_next_done. */
int svc_httpc_start(struct svc_httpc_call *c);
/* Waits up to timeout_ms for a call this thread started to finish and
 * returns it (c->rc and c->resp filled); NULL when none finished in time or
 * none is running. */
struct svc_httpc_call *svc_httpc_next_done(long timeout_ms);

/* Frees what svc_httpc_request put in `res`; accepts a zeroed one. */
void svc_httpc_response_release(struct svc_httpc_response *res);

/* Call once at start-up (curl_global_init; reads HTTPC_MAX_RESPONSE) before
 * threads exist. */
int svc_httpc_global_init(void);

#endif
