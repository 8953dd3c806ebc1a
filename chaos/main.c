/*
 * chaos: kills pods of the deployed system under load, measures the
 * recovery, proves nothing was lost (docs/chaos.md).
 *
 *   chaos run SCENARIO...        in the cluster (a Job): each scenario in turn,
 *                                its result printed as one line
 *                                "CHAOS-RESULT {json}" (result.h); exit 1 when
 *                                one failed
 *   chaos check SCENARIO...      parse scenario files, print what they do
 *   chaos report --out DIR [--cpu TEXT] [--command TEXT] RESULT.json...
 *                                DIR/chaos-report.md, chaos-report.json and
 *                                chaos-<scenario>.svg; exit 1 when one failed
 *   chaos kill-proc ...          the ephemeral killer (killproc.h)
 *
 * A SCENARIO is a file path, or a name looked up in CHAOS_SCENARIO_DIR
 * (default /app/scenarios, where the image has chaos/scenarios).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chaos/killproc.h"
#include "chaos/kube.h"
#include "chaos/report.h"
#include "chaos/result.h"
#include "chaos/runner.h"
#include "chaos/scenario.h"
#include "svc/buf.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/httpc.h"
#include "svc/log.h"

static const char usage[] =
        "usage: chaos run SCENARIO...\n"
        "       chaos check SCENARIO...\n"
        "       chaos report --out DIR [--cpu TEXT] [--command TEXT] RESULT.json...\n"
        "       chaos kill-proc [--signal KILL] [--fallback TERM] [--wait-ms MS] [--comm NAME]\n";

/* a scenario by path, or by name in CHAOS_SCENARIO_DIR */
static int load_scenario(const char *arg, struct chaos_scenario *s)
{
	struct svc_buf path;
	char err[300];
	int rc;

	svc_buf_init(&path);
	if (strchr(arg, '/'))
		svc_buf_adds(&path, arg);
	else
		svc_buf_addf(&path, "%s/%s", svc_env_str("CHAOS_SCENARIO_DIR", "/app/scenarios"),
		             arg);
	rc = path.failed ? SVC_ENOMEM
	                 : chaos_scenario_load(s, svc_buf_str(&path), err, sizeof(err));
	if (rc)
		fprintf(stderr, "chaos: %s: %s\n", svc_buf_str(&path), err);
	svc_buf_release(&path);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	struct chaos_scenario s;
	char mode[16];
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		if (load_scenario(argv[i], &s)) {
			bad = 1;
			continue;
		}
		chaos_mode_format(&s, mode, sizeof(mode));
		printf("%s: %s %s of %s%s%s, %zu kill(s), %.1f orders/s for %ld s, target < %ld "
		       "s\n",
		       s.name, chaos_action_name(s.action), mode, s.selector,
		       s.container[0] ? " container " : "", s.container, chaos_scenario_kills(&s),
		       s.rate, chaos_scenario_load_s(&s), s.target_s);
	}
	return bad;
}

static int cmd_run(int argc, char **argv)
{
	struct chaos_config cfg;
	struct chaos_kube *kube = NULL;
	int failed = 0;

	if (argc == 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (svc_httpc_global_init() != 0 || chaos_config_from_env(&cfg) != 0)
		return 2;
	kube = chaos_kube_from_env();
	if (!kube) {
		chaos_config_release(&cfg);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct chaos_scenario s;
		json_t *result = NULL;
		char *line;

		if (load_scenario(argv[i], &s) || chaos_run(&s, &cfg, kube, &result) != 0) {
			failed = 1;
			result = json_pack("{s:s, s:s, s:[s]}", "scenario", s.name, "verdict",
			                   "FAIL", "failures",
			                   "the scenario could not be run (see the log)");
		}
		line = result ? json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
		if (line) {
			printf("%s%s\n", CHAOS_RESULT_PREFIX, line);
			fflush(stdout);
		}
		if (!result ||
		    strcmp(json_string_value(json_object_get(result, "verdict")), "PASS"))
			failed = 1;
		svc_info("scenario %s: %s", s.name,
		         json_string_value(json_object_get(result, "verdict")));
		free(line);
		json_decref(result);
	}
	chaos_kube_free(kube);
	chaos_config_release(&cfg);
	return failed;
}

static int write_file(const char *dir, const char *name, const struct svc_buf *b)
{
	struct svc_buf path;
	FILE *f;
	int rc = SVC_ETRANSIENT;

	svc_buf_init(&path);
	svc_buf_addf(&path, "%s/%s", dir, name);
	f = path.failed ? NULL : fopen(svc_buf_str(&path), "w");
	if (f) {
		if (fwrite(svc_buf_str(b), 1, b->len, f) == b->len)
			rc = 0;
		if (fclose(f) != 0)
			rc = SVC_ETRANSIENT;
	}
	if (rc)
		fprintf(stderr, "chaos report: cannot write %s: %s\n", svc_buf_str(&path),
		        strerror(errno));
	svc_buf_release(&path);
	return rc;
}

static int cmd_report(int argc, char **argv)
{
	const char *out = NULL, *cpu = NULL, *command = NULL;
	json_t *results = json_array(), *doc = NULL;
	struct svc_buf md, js, svg, name;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc = 1, i;

	svc_buf_init(&md);
	svc_buf_init(&js);
	for (i = 0; i < argc; i++) {
		json_error_t jerr;
		json_t *r;

		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			cpu = argv[++i];
		} else if (!strcmp(argv[i], "--command") && i + 1 < argc) {
			command = argv[++i];
		} else if ((r = json_load_file(argv[i], 0, &jerr))) {
			json_array_append_new(results, r);
		} else {
			fprintf(stderr, "chaos report: %s: %s\n", argv[i], jerr.text);
			goto release;
		}
	}
	if (!out || !results) {
		fputs(usage, stderr);
		goto release;
	}
	mkdir(out, 0755);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = chaos_report_json(results, cpu, command, when);
	{
		char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(6)) : NULL;

		if (text)
			svc_buf_addf(&js, "%s\n", text);
		free(text);
	}
	if (!doc || chaos_report_markdown(results, cpu, command, &md) != 0 ||
	    write_file(out, "chaos-report.md", &md) != 0 ||
	    write_file(out, "chaos-report.json", &js) != 0)
		goto release;
	for (size_t k = 0; k < json_array_size(results); k++) {
		const json_t *r = json_array_get(results, k);

		svc_buf_init(&svg);
		svc_buf_init(&name);
		svc_buf_addf(&name, "chaos-%s.svg",
		             json_string_value(json_object_get(r, "scenario"))
		                     ? json_string_value(json_object_get(r, "scenario"))
		                     : "unnamed");
		if (chaos_report_svg(r, &svg) == 0)
			write_file(out, svc_buf_str(&name), &svg);
		svc_buf_release(&svg);
		svc_buf_release(&name);
	}
	printf("chaos report: %s/chaos-report.md (%zu scenarios)\n", out, json_array_size(results));
	rc = chaos_report_all_passed(results) ? 0 : 1;
release:
	json_decref(doc);
	json_decref(results);
	svc_buf_release(&md);
	svc_buf_release(&js);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "kill-proc"))
		return chaos_killproc_main(argc - 2, argv + 2);
	svc_log_init("chaos");
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return cmd_report(argc - 2, argv + 2);
	fputs(usage, stderr);
	return 2;
}
