/*
 * Kubernetes API calls over libcurl (see kube.h).
 */
#include "chaos/kube.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/buf.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

#define SA_DIR          "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_TIMEOUT_MS 10000L
#define KUBE_TOKEN_MAX  16384L

struct chaos_kube {
	char *base; /* https://host:port, no trailing slash */
	char *token_file;
	char *ca_file;
	char *ns;
	CURL *h;
};

/* The contents of a small file, trailing whitespace cut; malloc'd or NULL. */
static char *read_small(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(KUBE_TOKEN_MAX + 1);
	if (buf) {
		n = fread(buf, 1, KUBE_TOKEN_MAX, f);
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
			n--;
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct chaos_kube *chaos_kube_from_env(void)
{
	struct chaos_kube *k = calloc(1, sizeof(*k));
	const char *host = svc_env_str("KUBERNETES_SERVICE_HOST", NULL);
	const char *port = svc_env_str("KUBERNETES_SERVICE_PORT", "443");
	const char *ns = svc_env_str("KUBE_NAMESPACE", NULL);
	struct svc_buf url;

	svc_buf_init(&url);
	if (!k)
		goto fail;
	if (svc_env_str("KUBE_API_URL", NULL))
		svc_buf_adds(&url, svc_env_str("KUBE_API_URL", NULL));
	else if (host)
		svc_buf_addf(&url, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		             port);
	else
		svc_buf_adds(&url, "https://kubernetes.default.svc");
	k->base = svc_buf_take(&url);
	k->token_file = dup_or_null(svc_env_str("KUBE_TOKEN_FILE", SA_DIR "/token"));
	k->ca_file = dup_or_null(svc_env_str("KUBE_CA_FILE", SA_DIR "/ca.crt"));
	k->ns = ns ? strdup(ns) : read_small(SA_DIR "/namespace");
	k->h = curl_easy_init();
	if (!k->base || !k->token_file || !k->ca_file || !k->h)
		goto fail;
	if (!k->ns || !k->ns[0]) {
		svc_error("kube: no namespace (KUBE_NAMESPACE, or %s/namespace)", SA_DIR);
		goto fail;
	}
	while (k->base[0] && k->base[strlen(k->base) - 1] == '/')
		k->base[strlen(k->base) - 1] = '\0';
	return k;
fail:
	svc_buf_release(&url);
	chaos_kube_free(k);
	return NULL;
}

void chaos_kube_free(struct chaos_kube *k)
{
	if (!k)
		return;
	if (k->h)
		curl_easy_cleanup(k->h);
	free(k->base);
	free(k->token_file);
	free(k->ca_file);
	free(k->ns);
	free(k);
}

const char *chaos_kube_namespace(const struct chaos_kube *k)
{
	return k->ns;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	return svc_buf_add(userdata, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* The "message" of a Status answer, else the start of the body. */
static void describe(const char *what, long status, const struct svc_buf *body, char *err,
                     size_t errlen)
{
	json_t *doc = json_loads(svc_buf_str(body), 0, NULL);
	const char *msg = json_string_value(json_object_get(doc, "message"));

	snprintf(err, errlen, "%s: HTTP %ld: %.200s", what, status, msg ? msg : svc_buf_str(body));
	json_decref(doc);
}

/*
 * One request of `method` to base + path with an optional JSON body of
 * `content_type`; on 2xx the answer parsed into *out (when out is not NULL).
 * Returns 0, SVC_ENOTFOUND for 404, SVC_ETRANSIENT, SVC_EPERMANENT.
 */
static int call(struct chaos_kube *k, const char *method, const char *path,
                const char *content_type, const char *body, json_t **out, char *err, size_t errlen)
{
	struct curl_slist *headers = NULL, *grown = NULL;
	struct svc_buf url, auth, ctype, resp;
	char *token = NULL;
	long status = 0;
	CURLcode cc;
	int rc = SVC_ETRANSIENT;
	bool tls = strncmp(k->base, "https://", 8) == 0;

	if (out)
		*out = NULL;
	svc_buf_init(&url);
	svc_buf_init(&auth);
	svc_buf_init(&ctype);
	svc_buf_init(&resp);
	svc_buf_addf(&url, "%s%s", k->base, path);
	/* re-read every time: projected tokens are rotated */
	token = tls ? read_small(k->token_file) : NULL;
	if (tls && !token) {
		snprintf(err, errlen, "%s %s: cannot read the token %s", method, path,
		         k->token_file);
		rc = SVC_EPERMANENT;
		goto release;
	}
	if (token)
		svc_buf_addf(&auth, "Authorization: Bearer %s", token);
	svc_buf_addf(&ctype, "Content-Type: %s", content_type ? content_type : "application/json");
	grown = curl_slist_append(NULL, "Accept: application/json");
	if (grown && token)
		grown = curl_slist_append(headers = grown, svc_buf_str(&auth));
	if (grown && body)
		grown = curl_slist_append(headers = grown, svc_buf_str(&ctype));
	if (!grown || url.failed || auth.failed || ctype.failed) {
		snprintf(err, errlen, "%s %s: out of memory", method, path);
		goto release;
	}
	headers = grown;
	curl_easy_reset(k->h);
	curl_easy_setopt(k->h, CURLOPT_URL, svc_buf_str(&url));
	curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->h, CURLOPT_TIMEOUT_MS, KUBE_TIMEOUT_MS);
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k->h, CURLOPT_WRITEDATA, &resp);
	if (tls)
		curl_easy_setopt(k->h, CURLOPT_CAINFO, k->ca_file);
	if (body)
		curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, body);
	cc = curl_easy_perform(k->h);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s %s: %s", method, path, curl_easy_strerror(cc));
		goto release;
	}
	curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 404) {
		describe(method, status, &resp, err, errlen);
		rc = SVC_ENOTFOUND;
	} else if (status < 200 || status > 299) {
		describe(method, status, &resp, err, errlen);
		rc = status >= 500 || status == 429 ? SVC_ETRANSIENT : SVC_EPERMANENT;
	} else {
		rc = 0;
		if (out) {
			*out = json_loads(svc_buf_str(&resp), 0, NULL);
			if (!*out) {
				snprintf(err, errlen, "%s %s: the answer is not JSON", method,
				         path);
				rc = SVC_EPERMANENT;
			}
		}
	}
release:
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	free(token);
	svc_buf_release(&url);
	svc_buf_release(&auth);
	svc_buf_release(&ctype);
	svc_buf_release(&resp);
	return rc;
}

int chaos_kube_list_pods(struct chaos_kube *k, const char *selector, json_t **out, char *err,
                         size_t errlen)
{
	struct svc_buf path;
	char *q = curl_easy_escape(k->h, selector, 0);
	int rc = SVC_ENOMEM;

	svc_buf_init(&path);
	if (q)
		svc_buf_addf(&path, "/api/v1/namespaces/%s/pods?labelSelector=%s", k->ns, q);
	if (q && !path.failed)
		rc = call(k, "GET", svc_buf_str(&path), NULL, NULL, out, err, errlen);
	if (rc == SVC_ENOTFOUND)
		rc = SVC_EPERMANENT;
	curl_free(q);
	svc_buf_release(&path);
	return rc;
}

int chaos_kube_delete_pod(struct chaos_kube *k, const char *name, const char *uid, long grace_s,
                          char *err, size_t errlen)
{
	struct svc_buf path;
	json_t *opts;
	char *body = NULL;
	int rc = SVC_ENOMEM;

	svc_buf_init(&path);
	svc_buf_addf(&path, "/api/v1/namespaces/%s/pods/%s", k->ns, name);
	opts = json_pack("{s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
	                 "preconditions", "uid", uid);
	if (opts && grace_s >= 0)
		json_object_set_new(opts, "gracePeriodSeconds", json_integer(grace_s));
	body = opts ? json_dumps(opts, JSON_COMPACT) : NULL;
	if (body && !path.failed)
		rc = call(k, "DELETE", svc_buf_str(&path), "application/json", body, NULL, err,
		          errlen);
	free(body);
	json_decref(opts);
	svc_buf_release(&path);
	return rc;
}

int chaos_kube_add_ephemeral(struct chaos_kube *k, const char *name, const json_t *container,
                             char *err, size_t errlen)
{
	struct svc_buf path;
	json_t *patch;
	char *body = NULL;
	int rc = SVC_ENOMEM;

	svc_buf_init(&path);
	svc_buf_addf(&path, "/api/v1/namespaces/%s/pods/%s/ephemeralcontainers", k->ns, name);
	patch = json_pack("{s:{s:[O]}}", "spec", "ephemeralContainers", container);
	body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	if (body && !path.failed)
		rc = call(k, "PATCH", svc_buf_str(&path), "application/strategic-merge-patch+json",
		          body, NULL, err, errlen);
	if (rc == SVC_ENOTFOUND)
		rc = SVC_EPERMANENT;
	free(body);
	json_decref(patch);
	svc_buf_release(&path);
	return rc;
}
