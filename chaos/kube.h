/*
 * The few Kubernetes API calls the chaos runner makes, with libcurl and
 * the pod's service account (no kubectl): list the pods of a selector,
 * delete one, add an ephemeral container to one. The Role of
 * k8s/chaos-rbac.yaml allows exactly these, in the runner's namespace.
 *
 * From the environment: KUBE_API_URL (default https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT), KUBE_TOKEN_FILE, KUBE_CA_FILE and
 * KUBE_NAMESPACE (defaults: the service account's files under
 * /var/run/secrets/kubernetes.io/serviceaccount; the namespace file). An
 * http:// URL (kubectl proxy) needs neither token nor CA.
 *
 * One handle is used by one thread at a time.
 */
#ifndef CHAOS_KUBE_H
#define CHAOS_KUBE_H

#include <jansson.h>
#include <stddef.h>

struct chaos_kube;

/* NULL, logged, when the API's address or the namespace is unknown. */
struct chaos_kube *chaos_kube_from_env(void);
void chaos_kube_free(struct chaos_kube *k);

/* The namespace every call works in; owned by k. */
const char *chaos_kube_namespace(const struct chaos_kube *k);

/*
 * GET the PodList of `selector` (a label selector). 0 with *out the
 * document (caller owns); otherwise SVC_ETRANSIENT (no answer, 5xx, 429) or
 * SVC_EPERMANENT (any other answer), with the reason in err[errlen].
 */
int chaos_kube_list_pods(struct chaos_kube *k, const char *selector, json_t **out, char *err,
                         size_t errlen);

/*
 * DELETE pod `name`, only if its uid is still `uid`, with grace period
 * grace_s (-1: the pod's own, 0: at once). 0 (also when it is already
 * gone: SVC_ENOTFOUND is returned then), else as chaos_kube_list_pods.
 */
int chaos_kube_delete_pod(struct chaos_kube *k, const char *name, const char *uid, long grace_s,
                          char *err, size_t errlen);

/*
 * Adds `container` (an EphemeralContainer object, borrowed) to pod `name`:
 * PATCH pods/{name}/ephemeralcontainers. 0, else as chaos_kube_list_pods.
 */
int chaos_kube_add_ephemeral(struct chaos_kube *k, const char *name, const json_t *container,
                             char *err, size_t errlen);

#endif
