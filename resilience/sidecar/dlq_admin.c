/* DLQ listing and re-drive: the operations, their HTTP handlers and `sidecar dlq`. */
#include "resilience/sidecar/dlq_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/dlq_reader.h"
#include "resilience/sidecar/dlq_redrive.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

void sc_dlq_admin_init(struct sc_dlq_admin *a, const struct sc_config *cfg,
                       struct sc_producer *producer, struct svc_db *db)
{
	a->cfg = cfg;
	a->producer = producer;
	a->db = db;
	a->timeout_ms = svc_env_long("DLQ_ADMIN_TIMEOUT_MS", 10000, 100, 3600000);
	a->all_timeout_ms = svc_env_long("DLQ_REDRIVE_ALL_TIMEOUT_MS", 300000, 100, 86400000);
	snprintf(a->client_id, sizeof(a->client_id), "%s-dlq", cfg->log_name);
}

/* The problem for an operation's error code. Returns rc. */
static int problem(struct svc_problem *p, int rc, const char *what)
{
	switch (rc) {
	case SVC_ENOTFOUND:
		svc_problem_set(p, 404, NULL, "%s: not found", what);
		break;
	case SVC_ETRANSIENT:
		svc_problem_set(p, 503, NULL,
		                "%s: Kafka or the database is unavailable; retry later", what);
		break;
	default:
		svc_problem_set(p, 500, NULL, "%s failed (%s)", what, svc_strerror(rc));
		break;
	}
	return rc;
}

static int read_window(struct sc_dlq_admin *a, const struct sc_dlq_window *w, long timeout_ms,
                       sc_dlq_visit_fn visit, void *arg)
{
	struct sc_dlq_reader_config rc = {
	        .kafka = &a->cfg->kafka,
	        .topic = a->cfg->dlq_topic,
	        .client_id = a->client_id,
	        .timeout_ms = timeout_ms,
	};

	return sc_dlq_read(&rc, w, visit, arg);
}

/* ---- entries collected from a read ---------------------------------------- */

struct entries {
	struct sc_dlq_entry *v;
	size_t n, cap;
};

static int collect(void *arg, const struct sc_dlq_message *m)
{
	struct entries *es = arg;

	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 64;
		struct sc_dlq_entry *grown = realloc(es->v, cap * sizeof(*grown));
		if (!grown)
			return SVC_ENOMEM;
		es->v = grown;
		es->cap = cap;
	}
	if (sc_dlq_entry_init(&es->v[es->n], m) != 0)
		return SVC_ENOMEM;
	es->n++;
	return 0;
}

static void entries_release(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		sc_dlq_entry_release(&es->v[i]);
	free(es->v);
}

/* Oldest first: by dead-letter time, then position. */
static int by_time(const void *a, const void *b)
{
	const struct sc_dlq_entry *x = a, *y = b;

	if (x->timestamp_ms != y->timestamp_ms)
		return x->timestamp_ms < y->timestamp_ms ? -1 : 1;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* ---- listing -------------------------------------------------------------- */

int sc_dlq_admin_list(struct sc_dlq_admin *a, long limit, bool copies, json_t **out,
                      struct svc_problem *p)
{
	struct sc_dlq_window w = {.partition = -1, .offset = -1, .tail = limit};
	struct entries es = {0};
	json_t *items = NULL;
	size_t first;
	int rc;

	*out = NULL;
	rc = read_window(a, &w, a->timeout_ms, collect, &es);
	if (rc != 0) {
		problem(p, rc, a->cfg->dlq_topic);
		goto out;
	}
	/* Each partition gave its newest `limit`; keep the newest `limit` of all.
	 * (An empty DLQ has no array at all: qsort must not see its NULL.) */
	if (es.n > 1)
		qsort(es.v, es.n, sizeof(*es.v), by_time);
	rc = sc_dlq_entries_fold(es.v, &es.n, a->cfg->dlq_topic, !copies);
	if (rc != 0) {
		problem(p, rc, "listing");
		goto out;
	}
	first = es.n > (size_t)limit ? es.n - (size_t)limit : 0;
	if (a->db) {
		rc = sc_dlq_redrive_marks(a->db, a->cfg->dlq_topic, es.v + first, es.n - first);
		if (rc != 0) {
			problem(p, rc, "reading dlq_redrives");
			goto out;
		}
	}
	items = json_array();
	for (size_t i = first; i < es.n && items; i++)
		if (json_array_append_new(items, sc_dlq_entry_json(&es.v[i])) != 0) {
			json_decref(items);
			items = NULL;
		}
	*out = items ? json_pack("{s:s, s:o, s:I}", "topic", a->cfg->dlq_topic, "entries", items,
	                         "count", (json_int_t)(es.n - first))
	             : NULL;
	rc = *out ? 0 : problem(p, SVC_ENOMEM, "listing");
out:
	entries_release(&es);
	return rc;
}

/* ---- re-drive one --------------------------------------------------------- */

/* Re-drives `e` after checking it may be; fills *out or *p. */
static int redrive_entry(struct sc_dlq_admin *a, const struct sc_dlq_entry *e, json_t **out,
                         struct svc_problem *p)
{
	char why[200];
	int rc = sc_dlq_entry_redrivable(e, a->cfg->subscribe, why, sizeof(why));

	if (rc != 0) {
		svc_problem_set(p, 422, NULL, "%s", why);
		return rc;
	}
	rc = sc_dlq_redrive_one(a->db, a->producer, a->cfg->dlq_topic, e);
	if (rc == SVC_DUPLICATE) {
		svc_problem_set(p, 409, NULL, "%s/%d/%lld was re-driven before", a->cfg->dlq_topic,
		                (int)e->partition, (long long)e->offset);
		return SVC_ECONFLICT;
	}
	if (rc == SVC_EPERMANENT) {
		svc_problem_set(p, 422, NULL, "Kafka refused the message for %.100s for good",
		                e->source_topic);
		return rc;
	}
	if (rc != 0)
		return problem(p, rc, "re-drive");
	*out = json_pack("{s:s, s:i, s:I, s:s, s:s?, s:s}", "topic", a->cfg->dlq_topic, "partition",
	                 (int)e->partition, "offset", (json_int_t)e->offset, "sourceTopic",
	                 e->source_topic, "eventId", e->event_id[0] ? e->event_id : NULL, "status",
	                 "redriven");
	return *out ? 0 : problem(p, SVC_ENOMEM, "re-drive");
}

static int redrive_single(struct sc_dlq_admin *a, const struct sc_dlq_redrive_request *req,
                          json_t **out, struct svc_problem *p)
{
	struct sc_dlq_window w = {.partition = req->partition, .offset = req->offset, .tail = 0};
	struct entries es = {0};
	int rc = read_window(a, &w, a->timeout_ms, collect, &es);

	if (rc == 0 && es.n == 0)
		rc = SVC_ENOTFOUND; /* below the low watermark meanwhile */
	if (rc == SVC_ENOTFOUND)
		svc_problem_set(p, 404, NULL, "no entry %s/%d/%lld", a->cfg->dlq_topic,
		                (int)req->partition, (long long)req->offset);
	else if (rc != 0)
		problem(p, rc, a->cfg->dlq_topic);
	else
		rc = redrive_entry(a, &es.v[0], out, p);
	entries_release(&es);
	return rc;
}

/* ---- re-drive all --------------------------------------------------------- */

struct redrive_all {
	struct sc_dlq_admin *a;
	json_t *done;   /* [{"partition","offset","sourceTopic"}] */
	json_t *failed; /* [{"partition","offset","reason"}] */
	json_int_t already;
};

static int append(json_t *array, json_t *item)
{
	return item && json_array_append_new(array, item) == 0 ? 0 : SVC_ENOMEM;
}

/* Visitor: re-drives each entry as it is read. Stops on a transient failure. */
static int redrive_visit(void *arg, const struct sc_dlq_message *m)
{
	struct redrive_all *st = arg;
	struct sc_dlq_entry e;
	char why[200];
	int rc = sc_dlq_entry_init(&e, m);

	if (rc != 0)
		return rc;
	rc = sc_dlq_entry_redrivable(&e, st->a->cfg->subscribe, why, sizeof(why));
	if (rc == 0) {
		rc = sc_dlq_redrive_one(st->a->db, st->a->producer, st->a->cfg->dlq_topic, &e);
		if (rc == SVC_EPERMANENT)
			snprintf(why, sizeof(why), "Kafka refused the message for good");
	}
	switch (rc) {
	case 0:
		rc = append(st->done,
		            json_pack("{s:i, s:I, s:s}", "partition", (int)e.partition, "offset",
		                      (json_int_t)e.offset, "sourceTopic", e.source_topic));
		break;
	case SVC_DUPLICATE:
		st->already++;
		rc = 0;
		break;
	case SVC_EPERMANENT:
		rc = append(st->failed, json_pack("{s:i, s:I, s:s}", "partition", (int)e.partition,
		                                  "offset", (json_int_t)e.offset, "reason", why));
		break;
	default:
		break; /* transient or OOM: stop here */
	}
	sc_dlq_entry_release(&e);
	return rc;
}

static int redrive_all(struct sc_dlq_admin *a, json_t **out, struct svc_problem *p)
{
	struct sc_dlq_window w = {.partition = -1, .offset = -1, .tail = 0};
	struct redrive_all st = {.a = a, .done = json_array(), .failed = json_array()};
	int rc = SVC_ENOMEM;

	if (!st.done || !st.failed) {
		problem(p, rc, "re-drive");
		goto out;
	}
	rc = read_window(a, &w, a->all_timeout_ms, redrive_visit, &st);
	if (rc == SVC_ENOTFOUND) {
		problem(p, rc, a->cfg->dlq_topic);
		goto out;
	}
	if (rc != 0) {
		svc_problem_set(p, rc == SVC_ETRANSIENT ? 503 : 500, NULL,
		                "stopped after re-driving %zu entries (%s); run it again",
		                json_array_size(st.done),
		                rc == SVC_ETRANSIENT ? "Kafka or the database is unavailable"
		                                     : svc_strerror(rc));
		goto out;
	}
	*out = json_pack("{s:s, s:I, s:I, s:O, s:O}", "topic", a->cfg->dlq_topic, "redriven",
	                 (json_int_t)json_array_size(st.done), "alreadyRedriven", st.already,
	                 "entries", st.done, "failed", st.failed);
	rc = *out ? 0 : problem(p, SVC_ENOMEM, "re-drive");
out:
	json_decref(st.done);
	json_decref(st.failed);
	return rc;
}

int sc_dlq_admin_redrive(struct sc_dlq_admin *a, const struct sc_dlq_redrive_request *req,
                         json_t **out, struct svc_problem *p)
{
	*out = NULL;
	if (!a->db) {
		svc_problem_set(p, 409, NULL,
		                "re-drive records what it re-drove in the service database; "
		                "this sidecar has none (DB_NAME)");
		return SVC_ECONFLICT;
	}
	return req->all ? redrive_all(a, out, p) : redrive_single(a, req, out, p);
}

/* ---- HTTP ----------------------------------------------------------------- */

void sc_dlq_admin_http_list(struct sc_dlq_admin *a, const struct svc_http_request *req,
                            struct svc_http_response *res)
{
	struct svc_problem p;
	json_t *doc = NULL;
	const char *copies = svc_http_query(req, "copies");
	long limit;

	if (sc_dlq_limit_parse(svc_http_query(req, "limit"), &limit, &p) != 0 ||
	    sc_dlq_admin_list(a, limit, copies && strcmp(copies, "true") == 0, &doc, &p) != 0) {
		svc_http_reply_invalid(res, &p);
		return;
	}
	svc_http_reply_json(res, 200, doc);
}

void sc_dlq_admin_http_redrive(struct sc_dlq_admin *a, const struct svc_http_request *req,
                               struct svc_http_response *res)
{
	struct sc_dlq_redrive_request r;
	struct svc_problem p;
	json_t *doc = NULL;

	if (sc_dlq_redrive_request_parse(req->body, req->body_len, &r, &p) != 0 ||
	    sc_dlq_admin_redrive(a, &r, &doc, &p) != 0) {
		svc_http_reply_invalid(res, &p);
		return;
	}
	svc_http_reply_json(res, 200, doc);
}

/* ---- command line --------------------------------------------------------- */

static const char cli_usage[] = "usage: sidecar dlq list [--limit N]\n"
                                "       sidecar dlq redrive --all | --partition P --offset O\n";

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!s || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = (int64_t)v;
	return true;
}

/* Reads the arguments after "list" / "redrive". 0 or 2 (usage). */
static int parse_cli(int argc, char **argv, bool list, long *limit,
                     struct sc_dlq_redrive_request *req)
{
	bool have_p = false, have_o = false;
	int64_t v;

	*limit = SC_DLQ_LIMIT_DEFAULT;
	memset(req, 0, sizeof(*req));
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (list && strcmp(arg, "--limit") == 0 &&
		    parse_i64(next, 1, SC_DLQ_LIMIT_MAX, &v)) {
			*limit = (long)v;
			i++;
		} else if (!list && strcmp(arg, "--all") == 0) {
			req->all = true;
		} else if (!list && strcmp(arg, "--partition") == 0 &&
		           parse_i64(next, 0, INT32_MAX, &v)) {
			req->partition = (int32_t)v;
			have_p = true;
			i++;
		} else if (!list && strcmp(arg, "--offset") == 0 &&
		           parse_i64(next, 0, INT64_MAX, &v)) {
			req->offset = v;
			have_o = true;
			i++;
		} else {
			return 2;
		}
	}
	if (!list && (req->all ? have_p || have_o : !(have_p && have_o)))
		return 2;
	return 0;
}

static void print_json(json_t *doc)
{
	if (doc)
		json_dumpf(doc, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
}

int sc_dlq_admin_main(int argc, char **argv)
{
	static struct sc_config cfg; /* the producer keeps pointers into it */
	struct sc_producer *producer = NULL;
	struct svc_db *db = NULL;
	struct sc_dlq_admin a;
	struct sc_dlq_redrive_request req;
	struct svc_problem p;
	json_t *doc = NULL;
	long limit;
	bool list = argc >= 1 && strcmp(argv[0], "list") == 0;
	int rc = 2;

	if (argc < 1 || (!list && strcmp(argv[0], "redrive") != 0) ||
	    parse_cli(argc - 1, argv + 1, list, &limit, &req) != 0) {
		fputs(cli_usage, stderr);
		return 2;
	}
	sc_config_from_env(&cfg);
	svc_log_init(cfg.log_name);
	rc = 1;
	producer = sc_producer_new(&cfg);
	if (!producer)
		goto out;
	if (sc_config_has_relay(&cfg)) {
		db = svc_db_open(&cfg.db);
		if (!db)
			goto out;
	}
	sc_dlq_admin_init(&a, &cfg, producer, db);
	if ((list ? sc_dlq_admin_list(&a, limit, false, &doc, &p)
	          : sc_dlq_admin_redrive(&a, &req, &doc, &p)) != 0) {
		json_decref(doc);
		doc = json_pack("{s:i, s:s}", "status", p.status, "detail", p.detail);
		print_json(doc);
		goto out;
	}
	print_json(doc);
	rc = 0;
out:
	json_decref(doc);
	sc_producer_free(producer);
	svc_db_free(db);
	return rc;
}
