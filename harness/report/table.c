/*
 * table.c — the terminal view of one scenario (table.h).
 *
 * The heading line names the scenario, its pattern, the scheduler and the
 * repetitions, and the spec's description follows it; everything under it is report_scenario.c's
 * content rendered by the plain-text back-end (report_text.c): the headline rows of the
 * before/after table, the accounting, and the leak report cut to the
 * three largest groups (results.json and report.md have them all).
 */
#include "table.h"
#include "report_internal.h"

#include <math.h>

#define TERMINAL_LEAK_GROUPS 3

/* "timeout_leak — pattern 1, timeout leak (the seed); coroutines
 * scheduler, 1 repetition" */
static void heading(lb_doc *d, const json_t *scenario)
{
    char text[1024], pattern[64] = "";
    int reps = lb_scenario_reps(scenario, "leaky"), g = lb_scenario_reps(scenario, "graceful");
    if (g > reps) reps = g;
    double number = lb_jnum(scenario, "pattern");
    if (!isnan(number)) snprintf(pattern, sizeof pattern, " — pattern %.0f", number);
    const char *title = lb_jstr(scenario, "title"), *sched = lb_jstr(scenario, "scheduler");
    char runtime[64] = "";
    if (sched) snprintf(runtime, sizeof runtime, "%s scheduler, ", sched);
    snprintf(text, sizeof text, "%s%s%s%s; %s%d repetition%s", lb_jstr(scenario, "name"), pattern,
             title ? ", " : "", title ? title : "", runtime, reps, reps == 1 ? "" : "s");
    d->ops->heading(d, 2, text, NULL);
    const char *description = lb_jstr_path(scenario, "spec.description");
    if (description) {
        d->ops->para(d, description);
        fputc('\n', d->out); /* the terminal's back-end: a blank line before the table */
    }
}

int lb_table_print_intro(FILE *out, const json_t *doc, int columns)
{
    lb_doc d = {.ops = &lb_doc_text, .out = out, .columns = columns};
    lb_view_spec_descriptions(&d, doc);
    return d.err;
}

int lb_table_print(FILE *out, const json_t *scenario, bool color, int columns)
{
    if (!json_array_size(json_object_get(scenario, "runs"))) return 0;
    lb_doc d = {.ops = &lb_doc_text, .out = out, .color = color, .columns = columns};
    heading(&d, scenario);
    lb_view_before_after(&d, scenario, false);
    d.ops->heading(&d, 3, "Request accounting", NULL);
    lb_view_accounting(&d, scenario);
    d.ops->heading(&d, 3, "Leak report", NULL);
    lb_view_leak_report(&d, scenario, TERMINAL_LEAK_GROUPS);
    return d.err;
}
