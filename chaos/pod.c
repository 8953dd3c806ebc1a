/*
 * Pods from the Kubernetes API's JSON (see pod.h).
 */
#include "chaos/pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"

static const char *str_at(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* state.terminated / lastState.terminated into c */
static void read_terminated(const json_t *term, struct chaos_container_status *c)
{
	json_t *v;

	c->exit_code = -1;
	c->signal = 0;
	if (!json_is_object(term))
		return;
	v = json_object_get(term, "exitCode");
	c->exit_code = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	v = json_object_get(term, "signal");
	c->signal = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	copy(c->reason, sizeof(c->reason), str_at(term, "reason"));
	copy(c->message, sizeof(c->message), str_at(term, "message"));
}

static void read_status(const json_t *st, bool ephemeral, struct chaos_container_status *c)
{
	const json_t *state = json_object_get(st, "state");
	const json_t *term = json_object_get(state, "terminated");

	memset(c, 0, sizeof(*c));
	copy(c->name, sizeof(c->name), str_at(st, "name"));
	c->ephemeral = ephemeral;
	c->ready = json_is_true(json_object_get(st, "ready"));
	c->running = json_is_object(json_object_get(state, "running"));
	c->restarts = (long)json_integer_value(json_object_get(st, "restartCount"));
	if (!json_is_object(term))
		term = json_object_get(json_object_get(st, "lastState"), "terminated");
	read_terminated(term, c);
}

int chaos_pod_parse(const json_t *item, struct chaos_pod *out)
{
	static const struct {
		const char *key;
		bool ephemeral;
	} lists[] = {{"initContainerStatuses", false},
	             {"containerStatuses", false},
	             {"ephemeralContainerStatuses", true}};
	const json_t *meta = json_object_get(item, "metadata");
	const json_t *status = json_object_get(item, "status");
	const json_t *cond;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	copy(out->name, sizeof(out->name), str_at(meta, "name"));
	copy(out->uid, sizeof(out->uid), str_at(meta, "uid"));
	if (!out->name[0] || !out->uid[0])
		return SVC_EPERMANENT;
	copy(out->ip, sizeof(out->ip), str_at(status, "podIP"));
	out->terminating = json_object_get(meta, "deletionTimestamp") != NULL &&
	                   !json_is_null(json_object_get(meta, "deletionTimestamp"));
	json_array_foreach(json_object_get(status, "conditions"), i, cond)
	{
		if (!strcmp(str_at(cond, "type"), "Ready"))
			out->ready = !strcmp(str_at(cond, "status"), "True");
	}
	for (j = 0; j < sizeof(lists) / sizeof(lists[0]); j++) {
		const json_t *st;

		json_array_foreach(json_object_get(status, lists[j].key), i, st)
		{
			if (out->ncontainers == CHAOS_POD_CONTAINERS)
				break;
			read_status(st, lists[j].ephemeral, &out->containers[out->ncontainers++]);
		}
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct chaos_pod *)a)->name, ((const struct chaos_pod *)b)->name);
}

int chaos_pod_list_parse(const json_t *list, struct chaos_pod **out, size_t *n)
{
	const json_t *items = json_object_get(list, "items");
	const json_t *item;
	struct chaos_pod *pods;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (!json_is_array(items))
		return SVC_EPERMANENT;
	pods = calloc(json_array_size(items) + 1, sizeof(*pods));
	if (!pods)
		return SVC_ENOMEM;
	json_array_foreach(items, i, item)
	{
		if (chaos_pod_parse(item, &pods[k]) == 0)
			k++;
	}
	qsort(pods, k, sizeof(*pods), by_name);
	*out = pods;
	*n = k;
	return 0;
}

const struct chaos_container_status *chaos_pod_container(const struct chaos_pod *p,
                                                         const char *name)
{
	for (size_t i = 0; i < p->ncontainers; i++)
		if (!p->containers[i].ephemeral && !strcmp(p->containers[i].name, name))
			return &p->containers[i];
	return NULL;
}

static bool eligible(const struct chaos_pod *p)
{
	return p->ready && !p->terminating;
}

size_t chaos_pods_ready(const struct chaos_pod *pods, size_t n)
{
	size_t ready = 0;

	for (size_t i = 0; i < n; i++)
		ready += eligible(&pods[i]);
	return ready;
}

size_t chaos_pods_pick(const struct chaos_pod *pods, size_t n, enum chaos_mode mode, int percent,
                       unsigned random, const char *exclude, size_t *picked)
{
	size_t cand[CHAOS_KILL_PODS], ncand = 0, want, i;
	bool any_ready = chaos_pods_ready(pods, n) > 0;

	/* the Ready ones; when none is, those still starting (a kill every few
	 * seconds may come before the last one's replacement is Ready) */
	for (i = 0; i < n && ncand < CHAOS_KILL_PODS; i++)
		if (!pods[i].terminating && (pods[i].ready || !any_ready) &&
		    !(exclude && !strcmp(pods[i].name, exclude)))
			cand[ncand++] = i;
	if (ncand == 0)
		return 0;
	switch (mode) {
	case CHAOS_MODE_ONE:
		picked[0] = cand[random % ncand];
		return 1;
	case CHAOS_MODE_PERCENT:
		want = (ncand * (size_t)percent + 99) / 100;
		break;
	case CHAOS_MODE_ALL:
	default:
		want = ncand;
		break;
	}
	if (want == 0)
		want = 1;
	/* a run of `want` pods starting at a random one, in name order */
	for (i = 0; i < want; i++)
		picked[i] = cand[(random + i) % ncand];
	return want;
}

static bool was_killed(const struct chaos_kill *k, const char *uid)
{
	for (size_t i = 0; i < k->npods; i++)
		if (!strcmp(k->uids[i], uid))
			return true;
	return false;
}

static const struct chaos_pod *find_uid(const struct chaos_pod *pods, size_t n, const char *uid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pods[i].uid, uid))
			return &pods[i];
	return NULL;
}

bool chaos_kill_landed(const struct chaos_kill *k, const char *container,
                       const struct chaos_pod *pods, size_t n)
{
	for (size_t i = 0; i < k->npods; i++) {
		const struct chaos_pod *p = find_uid(pods, n, k->uids[i]);
		const struct chaos_container_status *c =
		        p ? chaos_pod_container(p, container) : NULL;

		if (!c || !c->running || c->restarts > k->restarts_before[i])
			return true;
	}
	return false;
}

bool chaos_kill_recovered(const struct chaos_kill *k, const char *container,
                          const struct chaos_pod *pods, size_t n)
{
	size_t ready = 0, i;

	if (k->npods == 0)
		return false;
	if (container && *container) {
		for (i = 0; i < k->npods; i++) {
			const struct chaos_pod *p = find_uid(pods, n, k->uids[i]);
			const struct chaos_container_status *c =
			        p ? chaos_pod_container(p, container) : NULL;

			if (!c || !eligible(p) || !c->ready || c->restarts <= k->restarts_before[i])
				return false;
		}
		return true;
	}
	for (i = 0; i < n; i++)
		ready += eligible(&pods[i]) && !was_killed(k, pods[i].uid);
	return ready >= k->ready_before;
}

void chaos_container_ended(const struct chaos_container_status *c, char *buf, size_t len)
{
	if (c->exit_code < 0) {
		snprintf(buf, len, "no termination recorded");
		return;
	}
	if (c->signal)
		snprintf(buf, len, "exit %d, signal %d (%s)", c->exit_code, c->signal,
		         c->reason[0] ? c->reason : "?");
	else
		snprintf(buf, len, "exit %d (%s)", c->exit_code, c->reason[0] ? c->reason : "?");
}

long chaos_pod_env_long(const json_t *item, const char *container, const char *name, long def)
{
	const json_t *spec = json_object_get(item, "spec"), *c, *e;
	size_t i, j;

	json_array_foreach(json_object_get(spec, "containers"), i, c)
	{
		if (strcmp(str_at(c, "name"), container))
			continue;
		json_array_foreach(json_object_get(c, "env"), j, e)
		{
			const char *v = json_string_value(json_object_get(e, "value"));
			char *end;
			long n;

			if (strcmp(str_at(e, "name"), name) || !v || !*v)
				continue;
			n = strtol(v, &end, 10);
			return *end ? def : n;
		}
	}
	return def;
}
