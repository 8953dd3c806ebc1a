/*
 * One chaos scenario (see runner.h): set-up, load, kills, pods watched.
 * Reading back and the invariants are in verify.c, the JSON in result.c.
 */
#include "chaos/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chaos/run.h"
#include "svc/auth.h"
#include "svc/buf.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

#define TOKEN_TTL_SLACK_S 3600L
#define PRICE_CONFIRMS    1999 /* minor units: far under any decline threshold */
#define PUT_TRIES         10
#define KILL_WAIT_MS      10000 /* how long a due kill may wait for a pod to kill */

/* "Authorization: Bearer <token>" for subject with roles, malloc'd */
static char *bearer(const struct chaos_config *c, const char *subject, unsigned roles, long ttl_s)
{
	char *token =
	        svc_auth_mint_hs256(c->jwt_secret, c->jwt_len, subject, roles, time(NULL), ttl_s);
	struct svc_buf b;

	if (!token)
		return NULL;
	svc_buf_init(&b);
	svc_buf_addf(&b, "Authorization: Bearer %s", token);
	free(token);
	return svc_buf_take(&b);
}

int chaos_config_from_env(struct chaos_config *c)
{
	static char urls[5][160];
	static const char *const names[5] = {"ORDER_URL", "INVENTORY_URL", "PAYMENT_URL",
	                                     "NOTIFICATION_URL", "GATEWAY_URL"};
	static const char *const defaults[5] = {"order:8081", "inventory:8083", "payment:8082",
	                                        "notification:8084", "gateway-sim:8089"};
	const char **fields[5];

	memset(c, 0, sizeof(*c));
	fields[0] = &c->api.order_url;
	fields[1] = &c->api.inventory_url;
	fields[2] = &c->api.payment_url;
	fields[3] = &c->api.notification_url;
	fields[4] = &c->api.gateway_url;
	c->release = svc_env_str("RELEASE", "saga");
	for (int i = 0; i < 5; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://%s-%s", c->release, defaults[i]);
		*fields[i] = svc_env_str(names[i], urls[i]);
	}
	c->api.timeout_ms = svc_env_long("CHAOS_HTTP_TIMEOUT_MS", 5000, 100, 600000);
	c->jwt_secret = svc_env_str("JWT_SECRET", NULL);
	c->jwt_len = c->jwt_secret ? strlen(c->jwt_secret) : 0;
	c->image = svc_env_str("CHAOS_IMAGE", "localhost/saga-orders/chaos:0.1.0");
	c->self = svc_env_str("HOSTNAME", NULL);
	snprintf(c->run_id, sizeof(c->run_id), "%s",
	         svc_env_str("CHAOS_RUN_ID", NULL) ? svc_env_str("CHAOS_RUN_ID", NULL) : "");
	if (!c->run_id[0])
		snprintf(c->run_id, sizeof(c->run_id), "%lx", (unsigned long)time(NULL));
	c->users = svc_env_long("CHAOS_USERS", 50, 1, 100000);
	c->check_threads = (unsigned)svc_env_long("CHAOS_CHECK_THREADS", 8, 1, 32);
	c->poll_ms = svc_env_long("CHAOS_POLL_MS", 250, 10, 10000);
	c->ready_timeout_s = svc_env_long("CHAOS_READY_TIMEOUT_S", 300, 10, 3600);
	if (c->jwt_len < 32) {
		svc_error("JWT_SECRET must be set, at least 32 bytes (the services' key)");
		return SVC_EPERMANENT;
	}
	c->admin_auth = bearer(c, "chaos-admin", SVC_ROLE_ADMIN, 7 * 86400L);
	if (!c->admin_auth) {
		svc_error("cannot sign an admin token");
		return SVC_EPERMANENT;
	}
	c->api.admin_auth = c->admin_auth;
	return 0;
}

void chaos_config_release(struct chaos_config *c)
{
	free(c->admin_auth);
	memset(c, 0, sizeof(*c));
}

int chaos__list(struct chaos__run *r, const char *selector, struct chaos_pod **pods, size_t *n)
{
	json_t *doc = NULL;
	char err[300];
	int rc = chaos_kube_list_pods(r->kube, selector, &doc, err, sizeof(err));

	*pods = NULL;
	*n = 0;
	if (rc == 0)
		rc = chaos_pod_list_parse(doc, pods, n);
	else
		svc_warn("%s", err);
	json_decref(doc);
	return rc;
}

/* The order service's step deadlines, from its pods' environment. */
static void read_deadlines(struct chaos__run *r)
{
	struct svc_buf sel;
	json_t *doc = NULL, *item;
	char err[300];
	long step = 300000;

	svc_buf_init(&sel);
	svc_buf_addf(&sel, "app.kubernetes.io/instance=%s,app.kubernetes.io/component=order",
	             r->cfg->release);
	r->scan_ms = 1000;
	if (!sel.failed &&
	    chaos_kube_list_pods(r->kube, svc_buf_str(&sel), &doc, err, sizeof(err)) == 0 &&
	    (item = json_array_get(json_object_get(doc, "items"), 0))) {
		step = chaos_pod_env_long(item, "order", "SAGA_STEP_TIMEOUT_MS", step);
		r->inventory_ms =
		        chaos_pod_env_long(item, "order", "SAGA_TIMEOUT_INVENTORY_MS", step);
		r->payment_ms = chaos_pod_env_long(item, "order", "SAGA_TIMEOUT_PAYMENT_MS", step);
		r->compensation_ms =
		        chaos_pod_env_long(item, "order", "SAGA_TIMEOUT_COMPENSATION_MS", step);
		r->scan_ms = chaos_pod_env_long(item, "order", "SAGA_SCAN_MS", 1000);
	} else {
		svc_warn("cannot read the order pods' deadlines: assuming the defaults (%ld ms)",
		         step);
		r->inventory_ms = r->payment_ms = r->compensation_ms = step;
	}
	r->bound_ms = r->inventory_ms + r->payment_ms + r->compensation_ms + r->scan_ms + 30000;
	json_decref(doc);
	svc_buf_release(&sel);
}

/* Puts the scenario's products: ample stock, one priced to be declined. */
static int setup_products(struct chaos__run *r)
{
	const struct chaos_scenario *s = r->s;
	long stock = (long)(s->rate * (double)chaos_scenario_load_s(s)) * 2 + 1000;
	char err[300];
	int rc = 0;

	if (s->decline_every > 0) {
		rc = chaos_api_decline_above(&r->cfg->api, &r->decline_above, err, sizeof(err));
		if (rc) {
			svc_error("the gateway's decline threshold: %s", err);
			return rc;
		}
	}
	r->nproducts = s->decline_every > 0 ? CHAOS_PRODUCTS : CHAOS_PRODUCTS - 1;
	for (size_t i = 0; i < r->nproducts; i++) {
		struct chaos_product *p = &r->products[i];
		bool declined = s->decline_every > 0 && i == r->nproducts - 1;

		snprintf(p->id, sizeof(p->id), "chaos-%.16s-%.24s-%u", r->cfg->run_id, s->name,
		         (unsigned)i % 10);
		p->price = declined ? r->decline_above + 1 : PRICE_CONFIRMS;
		p->initial = stock;
		r->product_ids[i] = p->id;
		for (int t = 0; t < PUT_TRIES; t++) {
			rc = chaos_api_put_product(&r->cfg->api, p->id, stock, p->price, err,
			                           sizeof(err));
			if (rc != SVC_ETRANSIENT)
				break;
			svc_sleep_ms(1000);
		}
		if (rc) {
			svc_error("%s", err);
			return rc;
		}
	}
	return 0;
}

static int mint_users(struct chaos__run *r)
{
	long ttl = chaos_scenario_load_s(r->s) + TOKEN_TTL_SLACK_S;
	char subject[96];

	r->nusers = (size_t)r->cfg->users;
	r->auth = calloc(r->nusers, sizeof(*r->auth));
	if (!r->auth)
		return SVC_ENOMEM;
	for (size_t i = 0; i < r->nusers; i++) {
		snprintf(subject, sizeof(subject), "chaos-%s-u%zu", r->cfg->run_id, i);
		r->auth[i] = bearer(r->cfg, subject, SVC_ROLE_CUSTOMER, ttl);
		if (!r->auth[i])
			return SVC_ENOMEM;
	}
	return 0;
}

/* The ephemeral container that kills container `target` of a pod. */
static json_t *killer(const struct chaos__run *r, const char *name)
{
	const struct chaos_scenario *s = r->s;
	/* a signal the target does not ignore acts at once: a second is plenty */
	json_t *cmd = json_pack("[s, s, s, s, s, s]", "/usr/local/bin/chaos", "kill-proc",
	                        "--signal", s->signal, "--wait-ms", "1000");

	if (cmd && strcmp(s->signal, "TERM") != 0) {
		json_array_append_new(cmd, json_string("--fallback"));
		json_array_append_new(cmd, json_string("TERM"));
	}
	if (!cmd)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:{s:b, s:b, s:b, s:{s:[s]}, s:{s:s}}}",
	                 "name", name, "image", r->cfg->image, "imagePullPolicy", "IfNotPresent",
	                 "targetContainerName", s->container, "command", cmd,
	                 "terminationMessagePolicy", "FallbackToLogsOnError", "securityContext",
	                 "runAsNonRoot", 1, "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem",
	                 1, "capabilities", "drop", "ALL", "seccompProfile", "type",
	                 "RuntimeDefault");
}

/* Appends text to k->error ("; " between). */
static void kill_error(struct chaos_kill *k, const char *text)
{
	size_t used = strlen(k->error);

	snprintf(k->error + used, sizeof(k->error) - used, "%s%s", used ? "; " : "", text);
}

/*
 * Kill number idx of the scenario, due since due_ms, among `pods` (the
 * target's). False when there is no pod to kill yet (a replacement not
 * created): it is tried again at the next poll, until KILL_WAIT_MS after
 * it was due.
 */
static bool kill_now(struct chaos__run *r, size_t idx, int64_t due_ms, const struct chaos_pod *pods,
                     size_t n)
{
	const struct chaos_scenario *s = r->s;
	struct chaos_kill *k = &r->kills[idx];
	size_t picked[CHAOS_KILL_PODS], m;
	char err[300] = "";

	k->ready_before = r->ready_steady;
	k->ready_ms = -1;
	k->landed = s->action != CHAOS_ACTION_KILL_CONTAINER; /* a delete acts at once */
	m = chaos_pods_pick(pods, n, s->mode, s->percent, (unsigned)rand_r(&r->seed), r->cfg->self,
	                    picked);
	k->at_ms = svc_now_ms();
	if (m == 0 && k->at_ms < due_ms + KILL_WAIT_MS)
		return false;
	if (m == 0) {
		kill_error(k, "no pod to kill");
		svc_warn("kill %zu: no pod of %s to kill", idx + 1, r->selector);
		return true;
	}
	for (size_t i = 0; i < m; i++) {
		const struct chaos_pod *p = &pods[picked[i]];
		const struct chaos_container_status *c = NULL;
		json_t *eph = NULL;
		int rc;

		snprintf(k->pods[k->npods], sizeof(k->pods[0]), "%s", p->name);
		snprintf(k->uids[k->npods], sizeof(k->uids[0]), "%s", p->uid);
		switch (s->action) {
		case CHAOS_ACTION_DELETE:
		case CHAOS_ACTION_DELETE_NOW:
			rc = chaos_kube_delete_pod(
			        r->kube, p->name, p->uid,
			        s->action == CHAOS_ACTION_DELETE_NOW ? 0 : s->grace_s, err,
			        sizeof(err));
			if (rc == SVC_ENOTFOUND)
				rc = 0; /* gone already: as good as deleted */
			break;
		case CHAOS_ACTION_KILL_CONTAINER:
		default:
			c = chaos_pod_container(p, s->container);
			k->restarts_before[k->npods] = c ? c->restarts : 0;
			snprintf(k->helpers[k->npods], sizeof(k->helpers[0]), "chaos-kill-%zu-%04x",
			         idx + 1, (unsigned)rand_r(&r->seed) & 0xffff);
			eph = killer(r, k->helpers[k->npods]);
			rc = !c    ? SVC_EPERMANENT
			     : eph ? chaos_kube_add_ephemeral(r->kube, p->name, eph, err,
			                                      sizeof(err))
			           : SVC_ENOMEM;
			if (!c)
				snprintf(err, sizeof(err), "pod %s has no container %s", p->name,
				         s->container);
			json_decref(eph);
			break;
		}
		if (rc) {
			kill_error(k, err);
			svc_error("kill %zu: %s", idx + 1, err);
			continue;
		}
		k->npods++;
		svc_info("kill %zu: %s %s%s%s", idx + 1, chaos_action_name(s->action), p->name,
		         c ? " container " : "", c ? s->container : "");
	}
	return true;
}

/* For a recovered container kill: how the container ended, what the killer said. */
static void note_container(struct chaos_kill *k, const struct chaos_pod *pods, size_t n,
                           const char *container)
{
	for (size_t i = 0; i < n; i++) {
		const struct chaos_pod *p = &pods[i];
		const struct chaos_container_status *c;

		if (strcmp(p->uid, k->uids[0]))
			continue;
		c = chaos_pod_container(p, container);
		if (c)
			chaos_container_ended(c, k->ended, sizeof(k->ended));
		for (size_t j = 0; j < p->ncontainers; j++)
			if (p->containers[j].ephemeral &&
			    !strcmp(p->containers[j].name, k->helpers[0]))
				snprintf(k->note, sizeof(k->note), "%s", p->containers[j].message);
	}
}

static bool all_recovered(const struct chaos__run *r)
{
	for (size_t i = 0; i < r->kills_made; i++)
		if (r->kills[i].npods > 0 && r->kills[i].ready_ms < 0)
			return false;
	return true;
}

/* Polls the target's pods: makes the kills when due, notes recoveries,
 * stops the load when its time is up; returns once every kill is recovered
 * (or ready_timeout_s passed since the last). */
static void watch(struct chaos__run *r)
{
	const struct chaos_scenario *s = r->s;
	const char *container = s->action == CHAOS_ACTION_KILL_CONTAINER ? s->container : NULL;
	int64_t load_end = r->t0_ms + chaos_scenario_load_s(s) * 1000, give_up = 0;
	bool load_on = true;

	for (;;) {
		struct chaos_pod *pods = NULL;
		size_t n = 0;
		int64_t now, due;

		/* without an answer from the API, nothing is judged or killed this round */
		if (chaos__list(r, r->selector, &pods, &n) != 0)
			goto next;
		now = svc_now_ms();
		for (size_t i = 0; i < r->kills_made; i++) {
			struct chaos_kill *k = &r->kills[i];

			if (k->npods == 0 || k->ready_ms >= 0)
				continue;
			if (!k->landed && chaos_kill_landed(k, container, pods, n)) {
				svc_info(
				        "kill %zu: container %s down %.2f s after it was asked for",
				        i + 1, container, (double)(now - k->at_ms) / 1000.0);
				k->at_ms = now;
				k->landed = true;
			}
			if (!k->landed || !chaos_kill_recovered(k, container, pods, n))
				continue;
			k->ready_ms = now;
			if (container)
				note_container(k, pods, n, container);
			svc_info("kill %zu: target Ready again after %.2f s", i + 1,
			         (double)(now - k->at_ms) / 1000.0);
		}
		due = r->t0_ms + chaos_scenario_kill_at_s(s, r->kills_made) * 1000;
		if (r->kills_made < r->nkills && now >= due &&
		    kill_now(r, r->kills_made, due, pods, n)) {
			r->kills_made++;
			free(pods);
			continue;
		}
	next:
		free(pods);
		now = svc_now_ms();
		if (load_on && now >= load_end) {
			chaos_load_stop(r->load);
			load_on = false;
			give_up = r->kills[r->nkills - 1].at_ms + r->cfg->ready_timeout_s * 1000;
			svc_info("load stopped");
		}
		if (!load_on && (all_recovered(r) || now >= give_up))
			break;
		svc_sleep_ms((uint64_t)r->cfg->poll_ms); /* 10..10000 (config) */
	}
}

static void run_release(struct chaos__run *r)
{
	chaos_load_free(r->load);
	for (size_t i = 0; r->auth && i < r->nusers; i++)
		free(r->auth[i]);
	free(r->auth);
	free(r->kills);
	free(r->orders);
	free(r->dlq);
}

int chaos_run(const struct chaos_scenario *s, const struct chaos_config *cfg,
              struct chaos_kube *kube, json_t **result)
{
	struct chaos__run r = {.s = s, .cfg = cfg, .kube = kube};
	struct chaos_load_config lc;
	struct chaos_pod *pods = NULL;
	size_t n = 0;
	char key_prefix[160], url[256];
	int rc;

	*result = NULL;
	r.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	r.started_ms = svc_now_ms();
	snprintf(r.selector, sizeof(r.selector), "app.kubernetes.io/instance=%s,%s", cfg->release,
	         s->selector);
	svc_info("scenario %s: %s", s->name, s->description);
	rc = chaos__list(&r, r.selector, &pods, &n);
	r.ready_steady = chaos_pods_ready(pods, n);
	free(pods);
	if (rc || r.ready_steady == 0) {
		svc_error("scenario %s: no Ready pod matches %s", s->name, r.selector);
		rc = rc ? rc : SVC_EPERMANENT;
		goto release;
	}
	read_deadlines(&r);
	r.nkills = chaos_scenario_kills(s);
	r.kills = calloc(r.nkills, sizeof(*r.kills));
	rc = r.kills ? mint_users(&r) : SVC_ENOMEM;
	if (rc == 0)
		rc = setup_products(&r);
	if (rc)
		goto release;
	svc_info("%zu Ready target pods; deadlines %ld/%ld/%ld ms (terminal within %.0f s); "
	         "%.1f orders/s for %ld s, %zu kills",
	         r.ready_steady, r.inventory_ms, r.payment_ms, r.compensation_ms,
	         (double)r.bound_ms / 1000.0, s->rate, chaos_scenario_load_s(s), r.nkills);

	snprintf(key_prefix, sizeof(key_prefix), "chaos-%s-%.40s", cfg->run_id, s->name);
	snprintf(url, sizeof(url), "%s/api/orders", cfg->api.order_url);
	lc = (struct chaos_load_config){
	        .url = url,
	        .rate = s->rate,
	        .timeout_ms = cfg->api.timeout_ms,
	        /* a request lasts timeout_ms at most: room for all at once */
	        .max_inflight = (size_t)(s->rate * (double)cfg->api.timeout_ms / 1000.0) + 16,
	        .auth = (const char *const *)r.auth,
	        .nusers = r.nusers,
	        .products = r.product_ids,
	        .nproducts = r.nproducts,
	        .decline_every = s->decline_every,
	        .key_prefix = key_prefix,
	};
	r.load = chaos_load_start(&lc);
	if (!r.load) {
		rc = SVC_ENOMEM;
		goto release;
	}
	r.t0_ms = chaos_load_started_ms(r.load);
	watch(&r);
	chaos_load_stop(r.load);
	r.reqs = chaos_load_requests(r.load, &r.nreqs);
	rc = chaos__verify(&r);
	if (rc == 0) {
		*result = chaos__result(&r);
		rc = *result ? 0 : SVC_ENOMEM;
	}
release:
	run_release(&r);
	return rc;
}
