/*
 * Pods as the chaos runner sees them, read from the Kubernetes API's JSON
 * (pure: no I/O): which are Ready, their containers' restarts and last
 * exits, which to kill, and whether a kill has been recovered from.
 */
#ifndef CHAOS_POD_H
#define CHAOS_POD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos/scenario.h"

#define CHAOS_POD_NAME_MAX   128
#define CHAOS_POD_CONTAINERS 24
#define CHAOS_KILL_PODS      16

struct chaos_container_status {
	char name[CHAOS_NAME_MAX];
	bool ephemeral; /* an ephemeral container (the runner's own killers) */
	bool ready;
	bool running;
	long restarts;
	/* the last termination: state.terminated when the container is not
	 * running, else lastState.terminated; exit_code -1 when none */
	int exit_code;
	int signal;
	char reason[32];
	char message[256];
};

struct chaos_pod {
	char name[CHAOS_POD_NAME_MAX];
	char uid[64];
	char ip[48];
	bool ready;       /* condition Ready is True */
	bool terminating; /* metadata.deletionTimestamp is set */
	size_t ncontainers;
	/* init containers (the native sidecar), containers, then ephemeral ones */
	struct chaos_container_status containers[CHAOS_POD_CONTAINERS];
};

/* One pod (an item of a PodList). 0, or SVC_EPERMANENT when it has no
 * name or uid. Containers past CHAOS_POD_CONTAINERS are left out. */
int chaos_pod_parse(const json_t *item, struct chaos_pod *out);

/* Every item of a PodList, sorted by name: *out is malloc'd (caller
 * frees), *n its length. SVC_EPERMANENT for a document with no items
 * array, SVC_ENOMEM. */
int chaos_pod_list_parse(const json_t *list, struct chaos_pod **out, size_t *n);

/* The status of container `name`, or NULL. */
const struct chaos_container_status *chaos_pod_container(const struct chaos_pod *p,
                                                         const char *name);

/* Ready pods that are not terminating. */
size_t chaos_pods_ready(const struct chaos_pod *pods, size_t n);

/*
 * Chooses the victims among the Ready, non-terminating pods not named
 * `exclude` (NULL: none), or when none is Ready among the non-terminating
 * ones: one at random (`random` picks which), all, or `percent` of them
 * rounded up. Writes their indexes into picked (room for CHAOS_KILL_PODS)
 * and returns how many; 0 when no pod qualifies.
 */
size_t chaos_pods_pick(const struct chaos_pod *pods, size_t n, enum chaos_mode mode, int percent,
                       unsigned random, const char *exclude, size_t *picked);

/*
 * A kill, made at at_ms, and what recovery from it means: as many Ready
 * pods of the selector as before, none of them one that was deleted; or,
 * when a container was killed, that container restarted (its restart
 * count above what it was) and Ready again in every pod it was killed in,
 * with each of those pods Ready. A container kill is made by a helper that
 * takes a moment to start: its at_ms is first when it was asked for, then
 * when the container was seen down (`landed`).
 */
struct chaos_kill {
	int64_t at_ms;
	bool landed;
	size_t npods;
	char pods[CHAOS_KILL_PODS][CHAOS_POD_NAME_MAX];
	char uids[CHAOS_KILL_PODS][64];
	long restarts_before[CHAOS_KILL_PODS];
	size_t ready_before;
	int64_t ready_ms; /* -1 until recovered */
	char error[256];  /* why the kill failed ("" when it did not) */
	/* kill-container: the ephemeral container sent into each pod, how the
	 * killed container ended, and what the ephemeral one said */
	char helpers[CHAOS_KILL_PODS][CHAOS_NAME_MAX];
	char ended[200];
	char note[256];
};

/* True when the killed container is down (not running, or restarted since,
 * or its pod gone) in one of the pods it was killed in. */
bool chaos_kill_landed(const struct chaos_kill *k, const char *container,
                       const struct chaos_pod *pods, size_t n);

bool chaos_kill_recovered(const struct chaos_kill *k, const char *container,
                          const struct chaos_pod *pods, size_t n);

/* Describes the last termination of `c` ("exit 137, signal 9 (Error)")
 * into buf. */
void chaos_container_ended(const struct chaos_container_status *c, char *buf, size_t len);

/*
 * The value of environment variable `name` of container `container` in
 * the pod spec of `item` (a literal `value`, not valueFrom), parsed as a
 * whole number; `def` when absent or not a number.
 */
long chaos_pod_env_long(const json_t *item, const char *container, const char *name, long def);

#endif
