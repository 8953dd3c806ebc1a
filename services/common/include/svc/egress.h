/*
 * Many requests to one egress route of the sidecar in one call:
 *   POST {sidecar}/egress-batch/{route}  (resilience/sidecar/egress.h)
 * The sidecar runs them at the same time, each with its own retries under
 * the route's timeout and breaker, and answers each as a call of its own to
 * /egress/{route}/{path} would have been answered. One round trip and one
 * thread here instead of one each.
 */
#ifndef SVC_EGRESS_H
#define SVC_EGRESS_H

#include <stddef.h>

struct svc_egress_req {
	/* in */
	const char *method;          /* "POST", ... */
	const char *path;            /* below the route, e.g. "v1/charges" */
	const char *idempotency_key; /* NULL: none */
	const char *body;            /* JSON text, or NULL */
	/* out */
	long status;  /* what the sidecar answered for it; 0: no answer */
	char *answer; /* its body, malloc'd and NUL-terminated, or NULL */
	size_t answer_len;
};

/*
 * Sends reqs[0..n) (n at most SVC_EGRESS_BATCH_MAX) in one call, waiting up
 * to timeout_ms. 0 when the sidecar answered for every request (read each
 * status); SVC_ETRANSIENT when it did not (no answer, not 200, or not one
 * answer per request: every status is then 0); SVC_EPERMANENT when the
 * sidecar refused the batch itself (4xx: a bad route or request). Release
 * every req with svc_egress_req_release in every case.
 */
#define SVC_EGRESS_BATCH_MAX 256
int svc_egress_batch(const char *sidecar_url, const char *route, struct svc_egress_req *reqs,
                     size_t n, long timeout_ms);
/* Frees the answer; the inputs are the caller's. */
void svc_egress_req_release(struct svc_egress_req *req);

#endif
