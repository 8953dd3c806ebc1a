/*
 * The chaos report, from the runner's result documents (result.h): a
 * Markdown page with the table of recovery times and a section per
 * scenario, a JSON document of it all, and per scenario a chart (SVG) of
 * orders created, confirmed, cancelled and failed per second with the
 * kills and the recovery marked. Pure: text into buffers.
 */
#ifndef CHAOS_REPORT_H
#define CHAOS_REPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/buf.h"

/* Appends the chart of one result to out. 0, or SVC_EPERMANENT when the
 * result has no series, SVC_ENOMEM. */
int chaos_report_svg(const json_t *result, struct svc_buf *out);

/*
 * Appends the Markdown report of `results` (an array of result documents)
 * to out: the command that reproduces it and the machine (`command`, `cpu`;
 * either may be NULL), a summary table, then a section per scenario whose
 * chart is linked as chaos-<scenario>.svg. 0 or SVC_ENOMEM.
 */
int chaos_report_markdown(const json_t *results, const char *cpu, const char *command,
                          struct svc_buf *out);

/* {"generated_at", "cpu", "command", "passed", "failed", "scenarios"}: a new
 * reference (caller owns), NULL when out of memory. */
json_t *chaos_report_json(const json_t *results, const char *cpu, const char *command,
                          const char *generated_at);

/* True when every result's verdict is PASS (and there is one at least). */
bool chaos_report_all_passed(const json_t *results);

#endif
