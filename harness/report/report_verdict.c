/*
 * report_verdict.c — the verdict a report opens with, written once for
 * every view (report_internal.h, "verdicts"): the run's status line and,
 * per scenario, its thresholds' outcome with the headline facts of both
 * sides (peak live tasks, peak memory, recovery).
 *
 * Everything comes from the results document: the pass/fail state is the
 * thresholds' own verdicts ("thresholds"[].verdict, matched to a scenario
 * by name), the facts are the medians in the scenario's summary, the same
 * numbers the before/after table and the overview print.  A scenario
 * without thresholds has no pass/fail state ("no thresholds"), and an
 * interrupted run says so before anything else.
 *
 * lb_view_verdicts writes through the document interface: a back-end
 * with a status op or a verdicts op draws them its own way (HTML: a
 * coloured banner and cards), the others get a paragraph and a table.
 */
#include "report_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const variants[2] = {"leaky", "graceful"};

const char *lb_side_label(const json_t *root, int slot)
{
    const char *aa = lb_jstr_path(root, "aa.variant");
    if (aa && !strcmp(aa, "leaky")) return slot ? "B (leaky)" : "A (leaky)";
    if (aa && !strcmp(aa, "graceful")) return slot ? "B (graceful)" : "A (graceful)";
    return slot ? "graceful (after fix)" : "leaky (before fix)";
}

/* Counts the thresholds of SCENARIO (all of them if NULL) by verdict. */
static void count_thresholds(const json_t *root, const char *scenario, int *pass, int *fail,
                             int *other)
{
    const json_t *list = json_object_get(root, "thresholds"), *t;
    size_t i;
    *pass = *fail = *other = 0;
    json_array_foreach(list, i, t)
    {
        const char *name = lb_jstr(t, "scenario"), *verdict = lb_jstr(t, "verdict");
        if (scenario && name && strcmp(name, scenario)) continue;
        if (verdict && !strcmp(verdict, "pass"))
            (*pass)++;
        else if (verdict && !strcmp(verdict, "fail"))
            (*fail)++;
        else
            (*other)++;
    }
}

static lb_status_state state_of(int pass, int fail, int other)
{
    if (fail) return LB_STATUS_FAIL;
    if (pass && !other) return LB_STATUS_PASS;
    return LB_STATUS_NONE;
}

/* "2 of 3 thresholds passed", "1 threshold failed", "no thresholds". */
static void threshold_sentence(char *buf, size_t n, int pass, int fail, int other)
{
    int total = pass + fail + other;
    if (!total)
        snprintf(buf, n, "no thresholds to pass or fail");
    else if (fail)
        snprintf(buf, n, "%d of %d threshold%s failed", fail, total, total == 1 ? "" : "s");
    else
        snprintf(buf, n, "%d of %d threshold%s passed", pass, total, total == 1 ? "" : "s");
    if (other && total) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, ", %d not evaluated", other);
    }
}

static void build_side(lb_scenario_side *s, const json_t *root, const json_t *scenario, int v)
{
    int yes, total;
    s->label = lb_side_label(root, v);
    s->short_label = lb_jstr_path(root, "aa.variant") ? (v ? "B" : "A") : variants[v];
    lb_fmt_count(s->peak_tasks, sizeof s->peak_tasks,
                 lb_scenario_metric(scenario, variants[v], "peak_tasks"));
    lb_fmt_bytes(s->memory, sizeof s->memory,
                 lb_scenario_metric(scenario, variants[v], "peak_rss_bytes"));
    lb_recovered_counts(scenario, variants[v], &yes, &total);
    bool ran = lb_scenario_run(scenario, variants[v]) != NULL;
    const char *unjudged = ran ? lb_recovery_unjudged(scenario, v) : NULL;
    s->restart_required = total && !yes && !unjudged;
    if (ran && lb_no_task_reading(scenario, v))
        snprintf(s->peak_tasks, sizeof s->peak_tasks, "n/a");
    if (!ran)
        snprintf(s->recovery, sizeof s->recovery, "not run");
    else if (unjudged)
        snprintf(s->recovery, sizeof s->recovery, "n/a (%s)", unjudged);
    else if (total && !yes)
        snprintf(s->recovery, sizeof s->recovery, "restart required");
    else
        lb_fmt_ms(s->recovery, sizeof s->recovery,
                  lb_scenario_metric(scenario, variants[v], "recovery_ms"));
}

void lb_verdicts_build(const json_t *root, lb_scenario_verdict *v, size_t n)
{
    const json_t *scenarios = json_object_get(root, "scenarios");
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(scenarios, i);
        int pass, fail, other;
        memset(&v[i], 0, sizeof v[i]);
        v[i].scenario = lb_jstr(s, "name");
        v[i].noun = lb_task_noun(s);
        count_thresholds(root, v[i].scenario, &pass, &fail, &other);
        v[i].state = state_of(pass, fail, other);
        snprintf(v[i].word, sizeof v[i].word, "%s",
                 v[i].state == LB_STATUS_PASS   ? "pass"
                 : v[i].state == LB_STATUS_FAIL ? "FAIL"
                 : pass + fail + other          ? "no verdict"
                                                : "no thresholds");
        if (pass + fail + other) /* else the word says it all */
            threshold_sentence(v[i].detail, sizeof v[i].detail, pass, fail, other);
        for (int k = 0; k < 2; k++) build_side(&v[i].side[k], root, s, k);
    }
}

lb_status_state lb_run_status(const json_t *root, char *word, size_t wn, char *text, size_t tn)
{
    int pass, fail, other;
    char th[96];
    size_t n = json_array_size(json_object_get(root, "scenarios"));
    const char *status = lb_jstr(root, "status");
    bool interrupted = status && !strcmp(status, "interrupted");
    count_thresholds(root, NULL, &pass, &fail, &other);
    lb_status_state state = state_of(pass, fail, other);
    threshold_sentence(th, sizeof th, pass, fail, other);
    snprintf(word, wn, "%s",
             interrupted                        ? "INTERRUPTED"
             : state == LB_STATUS_PASS          ? "PASS"
             : state == LB_STATUS_FAIL          ? "FAIL"
             : lb_jstr_path(root, "aa.variant") ? "A/A RUN"
                                                : "NO THRESHOLDS");
    snprintf(text, tn, "%zu scenario%s, %s%s", n, n == 1 ? "" : "s", th,
             interrupted ? "; the run was interrupted and its results are partial" : "");
    return interrupted && state != LB_STATUS_FAIL ? LB_STATUS_NONE : state;
}

/* The verdicts as a table, for back-ends without a verdicts op. */
static void verdict_table(lb_doc *d, const lb_scenario_verdict *v, size_t n)
{
    char head[8][48];
    const char *hp[8];
    const lb_align align[8] = {LB_LEFT,  LB_LEFT,  LB_RIGHT, LB_RIGHT,
                               LB_RIGHT, LB_RIGHT, LB_RIGHT, LB_RIGHT};
    static const char *const what[3] = {"Peak tasks", "Peak RSS", "Recovery"};
    snprintf(head[0], sizeof head[0], "Scenario");
    snprintf(head[1], sizeof head[1], "Verdict");
    for (int k = 0; k < 3; k++)
        for (int s = 0; s < 2; s++)
            snprintf(head[2 + 2 * k + s], sizeof head[0], "%s (%s)", what[k],
                     n ? v[0].side[s].short_label : variants[s]);
    for (int k = 0; k < 8; k++) hp[k] = head[k];
    d->ops->table_begin(d, 8, hp, align);
    for (size_t i = 0; i < n; i++) {
        char verdict[128], tasks[2][96];
        if (!v[i].detail[0])
            snprintf(verdict, sizeof verdict, "%s", v[i].word);
        else
            snprintf(verdict, sizeof verdict, "%s (%s)", v[i].word, v[i].detail);
        for (int s = 0; s < 2; s++)
            snprintf(tasks[s], sizeof tasks[s], "%s%s%s", v[i].side[s].peak_tasks,
                     strcmp(v[i].noun, "tasks") ? " " : "",
                     strcmp(v[i].noun, "tasks") ? v[i].noun : "");
        const char *cells[8] = {v[i].scenario,
                                verdict,
                                tasks[0],
                                tasks[1],
                                v[i].side[0].memory,
                                v[i].side[1].memory,
                                v[i].side[0].recovery,
                                v[i].side[1].recovery};
        d->ops->table_row(d, cells);
    }
    d->ops->table_end(d);
}

void lb_view_verdicts(lb_doc *d, const json_t *root)
{
    char word[32], text[256];
    lb_status_state state = lb_run_status(root, word, sizeof word, text, sizeof text);
    if (d->ops->status) {
        d->ops->status(d, state, word, text);
    } else {
        char line[300];
        snprintf(line, sizeof line, "%s: %s", word, text);
        d->ops->para(d, line);
    }
    size_t n = json_array_size(json_object_get(root, "scenarios"));
    if (!n) return;
    lb_scenario_verdict *v = calloc(n, sizeof *v);
    if (!v) {
        d->err = -ENOMEM;
        return;
    }
    lb_verdicts_build(root, v, n);
    if (d->ops->verdicts)
        d->ops->verdicts(d, v, n);
    else
        verdict_table(d, v, n);
    free(v);
}
