/*
 * POST /egress-batch/<route> (see egress.h): the requests of one call are
 * read into items, run together by sc_egress_run and answered in order,
 * each as sc_egress_item_reply would have answered it alone.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress.h"
#include "svc/buf.h"
#include "svc/error.h"
#include "svc/json.h"
#include "svc/validate.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

/* The method as one of `methods` (a static string), or NULL. */
static const char *known_method(const char *m)
{
	for (size_t i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(m, methods[i]))
			return methods[i];
	return NULL;
}

/*
 * A path is sent as the caller wrote it, so it must not climb out of the
 * route ("." or ".." segments, also percent-encoded ones, which upstream
 * servers decode) nor carry what would break the request line.
 */
static bool path_valid(const char *path)
{
	size_t plen = strcspn(path, "?");
	char *copy;
	bool ok;

	for (const char *s = path; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '#' || *s == '\\')
			return false;
	for (size_t i = 0; i + 3 <= plen; i++)
		if (path[i] == '%' && path[i + 1] == '2' &&
		    (path[i + 2] == 'e' || path[i + 2] == 'E'))
			return false;
	copy = strndup(path, plen);
	if (!copy)
		return false;
	ok = !sc_egress_has_dot_segment(copy);
	free(copy);
	return ok;
}

/* Sets p for the request at `index`; returns SVC_EPERMANENT. */
static int invalid(struct svc_problem *p, size_t index, const char *field, const char *detail)
{
	p->status = 400;
	snprintf(p->field, sizeof(p->field), "requests[%zu]%s%s", index, field[0] ? "." : "",
	         field);
	snprintf(p->detail, sizeof(p->detail), "%s", detail);
	return SVC_EPERMANENT;
}

/* The value of header `name` in the object h, its name matched without
 * case; NULL when absent. *bad when it is there but not a string. */
static const char *header_value(json_t *h, const char *name, bool *bad)
{
	const char *key;
	json_t *v;

	json_object_foreach(h, key, v)
	{
		if (strcasecmp(key, name) != 0)
			continue;
		if (!json_is_string(v))
			*bad = true;
		return json_string_value(v);
	}
	return NULL;
}

/* Reads requests[index] into it. 0, SVC_EPERMANENT (p says why) or SVC_ENOMEM
 * (the item is then released by the caller). */
static int item_read(const struct sc_egress *eg, const struct sc_route *r, json_t *j, size_t index,
                     struct sc_egress_item *it, struct svc_problem *p)
{
	const char *values[SC_EGRESS_NFORWARDED] = {0};
	json_t *headers, *body;
	const char *path;
	struct svc_buf url;
	bool bad = false;

	if (!json_is_object(j))
		return invalid(p, index, "", "must be an object");
	it->method = known_method(json_string_value(json_object_get(j, "method")));
	if (!it->method)
		return invalid(p, index, "method", "must be GET, HEAD, POST, PUT, PATCH or DELETE");
	path = json_string_value(json_object_get(j, "path"));
	if (!path)
		return invalid(p, index, "path", "must be a string");
	while (*path == '/')
		path++; /* the route's URL ends without one */
	if (!path_valid(path))
		return invalid(p, index, "path",
		               "no '.' or '..' segment, blank, control byte, '\\' or '#'");
	headers = json_object_get(j, "headers");
	if (headers && !json_is_object(headers))
		return invalid(p, index, "headers", "must be an object of strings");
	for (size_t i = 0; headers && i < SC_EGRESS_NFORWARDED; i++)
		values[i] = header_value(headers, sc_egress_forwarded[i], &bad);
	if (bad)
		return invalid(p, index, "headers", "must be an object of strings");
	body = json_object_get(j, "body");
	if (body && !json_is_string(body))
		return invalid(p, index, "body", "must be a string");
	it->body = json_string_value(body);
	it->body_len = body ? json_string_length(body) : 0;
	it->max_attempts = sc_egress_max_attempts(eg, it->method, values[2] != NULL);

	svc_buf_init(&url);
	svc_buf_adds(&url, sc_egress_route_url(r));
	svc_buf_adds(&url, "/");
	svc_buf_adds(&url, path);
	it->url = svc_buf_take(&url);
	if (!it->url || sc_egress_item_headers(it, values) != 0)
		return SVC_ENOMEM;
	return 0;
}

/* {"status", "attempts", "contentType", "body", "breaker"?} for one finished
 * item: what sc_egress_handle would have answered for it. NULL on OOM. */
static json_t *item_answer(const struct sc_route *r, const struct sc_egress_item *it)
{
	struct svc_http_response one = {0};
	json_t *o = json_object(), *body;

	sc_egress_item_reply(r, it, &one);
	body = json_stringn(one.body ? one.body : "", one.body_len);
	if (!body) { /* not UTF-8: JSON cannot carry it as text */
		svc_http_response_release(&one);
		svc_http_reply_problem(&one, 502, "Bad upstream response", NULL,
		                       "the upstream's body is not UTF-8 text");
		body = json_stringn(one.body ? one.body : "", one.body_len);
	}
	json_object_set_new(o, "status", json_integer(one.status));
	json_object_set_new(o, "attempts", json_integer(it->attempts));
	json_object_set_new(o, "contentType",
	                    json_string(one.content_type ? one.content_type : ""));
	json_object_set_new(o, "body", body ? body : json_string(""));
	if (it->attempts == 0)
		json_object_set_new(o, "breaker", json_string("open"));
	svc_http_response_release(&one);
	return o;
}

int sc_egress_batch_read(const struct sc_egress *eg, const struct sc_route *r, const char *body,
                         size_t len, struct sc_egress_item **out, size_t *nout,
                         struct svc_problem *p)
{
	json_t *doc = svc_json_loadb(body ? body : "", len, 0, NULL);
	json_t *list = json_object_get(doc, "requests");
	struct sc_egress_item *items;
	size_t n;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > SC_EGRESS_BATCH_MAX) {
		p->status = 400;
		snprintf(p->field, sizeof(p->field), "requests");
		snprintf(p->detail, sizeof(p->detail),
		         "the body must be {\"requests\": [...]} with 1 to %d requests",
		         SC_EGRESS_BATCH_MAX);
		json_decref(doc);
		return SVC_EPERMANENT;
	}
	n = json_array_size(list);
	items = calloc(n, sizeof(*items));
	if (!items) {
		json_decref(doc);
		return SVC_ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = item_read(eg, r, json_array_get(list, i), i, &items[i], p);
	if (rc == 0) {
		/* the items point into the document: it lives as long as they do */
		items[0].doc = doc;
		*out = items;
		*nout = n;
		return 0;
	}
	sc_egress_batch_free(items, n);
	json_decref(doc);
	return rc;
}

void sc_egress_batch_free(struct sc_egress_item *items, size_t n)
{
	json_t *doc = n ? items[0].doc : NULL;

	for (size_t i = 0; i < n; i++)
		sc_egress_item_release(&items[i]);
	free(items);
	json_decref(doc);
}

void sc_egress_batch_handle(struct sc_egress *eg, const char *route,
                            const struct svc_http_request *req, struct svc_http_response *res)
{
	struct sc_route *r = sc_egress_route(eg, route);
	struct svc_problem p = {0};
	struct sc_egress_item *items = NULL;
	json_t *answers;
	size_t n = 0;
	int rc;

	if (!r) {
		svc_http_reply_problem(res, 404, "Unknown egress route", NULL,
		                       "no egress route named '%s'", route ? route : "");
		return;
	}
	rc = sc_egress_batch_read(eg, r, req->body, req->body_len, &items, &n, &p);
	if (rc == SVC_EPERMANENT) {
		svc_http_reply_invalid(res, &p);
		return;
	}
	if (rc) {
		svc_http_reply_problem(res, 500, "Out of memory", NULL, "egress batch not sent");
		return;
	}
	sc_egress_run(eg, r, items, n);
	answers = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(answers, item_answer(r, &items[i]));
	svc_http_reply_json(res, 200, json_pack("{s:o}", "responses", answers));
	sc_egress_batch_free(items, n);
}
