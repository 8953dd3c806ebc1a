/*
 * A chaos scenario: what is killed, how, how often, and the load and the
 * targets around it. One file per scenario under chaos/scenarios/, named
 * after it, in lines of `key = value` (`#` starts a comment line):
 *
 *   description      one line for the report
 *   selector         label selector of the target pods (the runner adds
 *                    app.kubernetes.io/instance=<release>)        required
 *   action           delete | delete-now | kill-container          required
 *                    delete: graceful (the pod's grace period, or `grace`);
 *                    delete-now: gracePeriodSeconds 0; kill-container: the
 *                    container `container` is killed, the pod is kept
 *   container        kill-container: the container's name
 *   signal           kill-container: KILL (default) or TERM
 *   grace            delete: grace period in s (default: the pod's own)
 *   mode             one (default) | all | N% (of the Ready target pods,
 *                    rounded up, at least one)
 *   interval         s between kills; 0 (default): a single kill
 *   duration         s during which a kill is made every `interval`
 *   baseline         s of load before the first kill (20)
 *   observe          s of load after the last kill (40)
 *   rate             orders per second, all along (25)
 *   decline_every    every Nth order is priced above the gateway's decline
 *                    threshold, so it ends CANCELLED by design (4)
 *   recovery_target  s: the recovery time the scenario must stay under (30)
 *   settle           s allowed for money and stock to settle once every
 *                    order is terminal (60)
 *   dlq_allow        `|`-separated reason substrings of dead letters that
 *                    this scenario explains (none)
 */
#ifndef CHAOS_SCENARIO_H
#define CHAOS_SCENARIO_H

#include <stddef.h>

#define CHAOS_NAME_MAX 64
#define CHAOS_TEXT_MAX 256

enum chaos_mode { CHAOS_MODE_ONE, CHAOS_MODE_ALL, CHAOS_MODE_PERCENT };

enum chaos_action {
	CHAOS_ACTION_DELETE,
	CHAOS_ACTION_DELETE_NOW,
	CHAOS_ACTION_KILL_CONTAINER,
};

struct chaos_scenario {
	char name[CHAOS_NAME_MAX];
	char description[CHAOS_TEXT_MAX];
	char selector[CHAOS_TEXT_MAX];
	char container[CHAOS_NAME_MAX];
	char signal[16];
	enum chaos_action action;
	enum chaos_mode mode;
	int percent;       /* CHAOS_MODE_PERCENT: 1..100 */
	long grace_s;      /* -1: the pod's own */
	long interval_s;   /* 0: one kill */
	long duration_s;   /* with interval_s > 0 */
	long baseline_s;   /* >= 5 */
	long observe_s;    /* >= 10 */
	double rate;       /* > 0 */
	int decline_every; /* 0: none declined; else >= 2 */
	long target_s;
	long settle_s;
	char dlq_allow[CHAOS_TEXT_MAX];
};

/* The defaults above, with `name` (truncated to CHAOS_NAME_MAX - 1). */
void chaos_scenario_init(struct chaos_scenario *s, const char *name);

/*
 * Reads `text` (the file's contents) over the defaults already in `s`.
 * 0, or SVC_EPERMANENT with "line N: ..." in err[errlen] for an unknown key,
 * a repeated key, a malformed or out-of-range value, or a missing or
 * contradictory setting (kill-container without a container, interval
 * without duration, ...).
 */
int chaos_scenario_parse(struct chaos_scenario *s, const char *text, char *err, size_t errlen);

/* chaos_scenario_init with the file's base name, then chaos_scenario_parse
 * of its contents. SVC_ENOTFOUND when it cannot be read. */
int chaos_scenario_load(struct chaos_scenario *s, const char *path, char *err, size_t errlen);

/* How many kills the scenario makes: 1, or one every interval_s while
 * less than duration_s has passed since the first. */
size_t chaos_scenario_kills(const struct chaos_scenario *s);

/* When kill k (0-based) is made, in s from the start of the load. */
long chaos_scenario_kill_at_s(const struct chaos_scenario *s, size_t k);

/* How long the load runs in all: baseline, the kills, observe. */
long chaos_scenario_load_s(const struct chaos_scenario *s);

/* "delete", "delete-now", "kill-container". */
const char *chaos_action_name(enum chaos_action a);

/* The mode as written in a scenario file ("one", "all", "50%") into buf. */
void chaos_mode_format(const struct chaos_scenario *s, char *buf, size_t len);

#endif
