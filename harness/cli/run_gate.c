/*
 * run_gate.c — thresholds, baselines, history and JUnit for `leakbench
 * run` (see run_gate.h).  Works on the run's one results document
 * (lb_results_build), the same one written to results.json, so what CI is
 * told always matches the file.
 */
#include "run_gate.h"
#include "ci/baseline.h"
#include "cli.h"
#include "terminal.h"
#include "ci/compare.h"
#include "ci/history.h"
#include "ci/junit.h"
#include "core/metric.h"
#include "core/outfile.h"
#include "core/threshold.h"
#include "run/results_load.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int lb_gate_combine(int a, int b)
{
    static const int order[] = {LB_EXIT_OK,         LB_EXIT_NO_GNUPLOT, LB_EXIT_INCONCLUSIVE,
                                LB_EXIT_FAIL,       LB_EXIT_USAGE,      LB_EXIT_ERROR,
                                LB_EXIT_INTERRUPTED};
    int ra = 0, rb = 0;
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++) {
        if (order[i] == a) ra = i;
        if (order[i] == b) rb = i;
    }
    return ra >= rb ? a : b;
}

/* The command whose messages these are: "run" unless the options say. */
static const char *who(const lb_gate_options *o)
{
    return o->command ? o->command : "run";
}

int lb_gate_check_options(const lb_gate_options *o)
{
    char path[4096], err[1024];
    /* Output paths first: a --junit or --history that cannot be written is
     * found now, not after the whole run (exit 3, as for -o). */
    const char *outputs[2][2] = {{"--junit", o->junit}, {"--history", o->history}};
    for (int i = 0; i < 2; i++)
        if (outputs[i][1] && lb_check_user_file(outputs[i][1], err, sizeof err)) {
            fprintf(stderr, "leakbench %s: %s %s\n", who(o), outputs[i][0], err);
            return LB_EXIT_ERROR;
        }
    const char *names[2] = {o->save_baseline, o->baseline};
    for (int i = 0; i < 2; i++)
        if (names[i] && lb_baseline_path(names[i], path, sizeof path, err, sizeof err)) {
            fprintf(stderr, "leakbench run: --%sbaseline: %s\n", i ? "" : "save-", err);
            return LB_EXIT_USAGE;
        }
    if (o->baseline) {
        lb_baseline_path(o->baseline, path, sizeof path, err, sizeof err);
        json_t *doc;
        int rc = lb_results_load(path, &doc, err, sizeof err);
        if (rc) {
            if (rc == -ENOENT)
                fprintf(stderr,
                        "leakbench run: --baseline %s: %s does not exist; create it with "
                        "`leakbench run --save-baseline %s SPEC`\n",
                        o->baseline, path, o->baseline);
            else
                fprintf(stderr, "leakbench run: --baseline %s: %s\n", o->baseline, err);
            return LB_EXIT_USAGE;
        }
        json_decref(doc);
    }
    return LB_EXIT_OK;
}

int lb_gate_thresholds(json_t *doc, const lb_scenario_result *scenarios, int n, bool interrupted)
{
    if (interrupted) {
        /* Partial runs would fail thresholds they might have passed. */
        bool any = false;
        for (int i = 0; i < n; i++) any |= scenarios[i].spec->n_thresholds > 0;
        if (any && json_object_set_new(doc, "thresholds_evaluated", json_false()))
            return LB_EXIT_ERROR;
        return LB_EXIT_OK;
    }
    json_t *verdicts = json_array();
    if (!verdicts) return LB_EXIT_ERROR;
    const json_t *ran = json_object_get(doc, "scenarios");
    size_t failed = 0;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const lb_scenario_spec *s = scenarios[i].spec;
        rc = lb_thresholds_evaluate(s->thresholds, (size_t)s->n_thresholds,
                                    json_array_get(ran, (size_t)i), verdicts, &failed);
    }
    if (!rc)
        rc = lb_results_set_thresholds(doc, verdicts);
    else
        json_decref(verdicts);
    if (rc) return LB_EXIT_ERROR;
    return failed ? LB_EXIT_FAIL : LB_EXIT_OK;
}

/* The verdicts as `metric value op bound` (lb_threshold_verdict_text):
 * failures on stderr, passes on out unless quiet; or, when the run was
 * interrupted, that they were not evaluated. */
static void print_thresholds(const lb_gate_options *o, const json_t *doc, bool quiet, FILE *out)
{
    bool err_color = lb_color_enabled(o->color, fileno(stderr)),
         out_color = lb_color_enabled(o->color, fileno(out));
    if (json_is_false(json_object_get(doc, "thresholds_evaluated"))) {
        fprintf(stderr, "leakbench %s: thresholds not evaluated: the run was interrupted\n",
                who(o));
        return;
    }
    const json_t *list = json_object_get(doc, "thresholds");
    size_t n = json_array_size(list), failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !!strcmp(json_string_value(json_object_get(json_array_get(list, i), "verdict")),
                           "pass");
    if (!n) return;
    if (!quiet) fprintf(out, "\nthresholds: %zu passed, %zu failed\n", n - failed, failed);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(list, i);
        bool pass = !strcmp(json_string_value(json_object_get(t, "verdict")), "pass");
        const char *scenario = json_string_value(json_object_get(t, "scenario"));
        char text[600];
        lb_threshold_verdict_text(t, text, sizeof text);
        if (!pass)
            fprintf(stderr, "leakbench %s: %sthreshold failed%s: %s: %s\n", who(o),
                    lb_color_start(err_color, LB_TONE_FAIL), lb_color_end(err_color),
                    scenario ? scenario : "(all)", text);
        else if (!quiet)
            fprintf(out, "  %spass%s  %s: %s\n", lb_color_start(out_color, LB_TONE_PASS),
                    lb_color_end(out_color), scenario ? scenario : "(all)", text);
    }
}

/* --baseline: compares the run with the baseline, prints the comparison
 * (only a failing one when quiet) and returns its exit code; *have_cmp
 * says whether cmp holds one for JUnit. */
static int compare_with_baseline(const lb_gate_options *o, const json_t *doc, bool quiet, FILE *out,
                                 lb_comparison *cmp, bool *have_cmp)
{
    char err[1024];
    lb_compare_opts copts = LB_COMPARE_DEFAULTS;
    *have_cmp = false;
    if (lb_baseline_compare(o->baseline, doc, &copts, cmp, err, sizeof err)) {
        fprintf(stderr, "leakbench run: --baseline %s: %s\n", o->baseline, err);
        return LB_EXIT_ERROR;
    }
    *have_cmp = true;
    char label[300];
    snprintf(label, sizeof label, "baseline %s", o->baseline);
    int code = lb_exit_for_comparison(cmp);
    if (!quiet) {
        lb_compare_view view = {false, lb_color_enabled(o->color, fileno(out)),
                                lb_tty_columns(fileno(out))};
        fprintf(out, "\n");
        lb_comparison_print(out, cmp, label, "this run", &view);
    } else if (code != LB_EXIT_OK) {
        lb_compare_view view = {false, lb_color_enabled(o->color, fileno(stderr)),
                                lb_tty_columns(fileno(stderr))};
        lb_comparison_print(stderr, cmp, label, "this run", &view);
    }
    return code;
}

/* --junit: the thresholds and, with --baseline, the comparison. */
static int write_junit(const lb_gate_options *o, const json_t *thresholds, const lb_comparison *cmp)
{
    char err[1024];
    lb_junit *j = lb_junit_new();
    int rc = j ? lb_junit_add_thresholds(j, thresholds) : -ENOMEM;
    if (!rc && cmp) rc = lb_junit_add_comparison(j, cmp);
    if (!rc) rc = lb_mkdir_parent(o->junit);
    if (!rc)
        rc = lb_junit_write(j, o->junit, err, sizeof err);
    else
        snprintf(err, sizeof err, "%s: cannot create its directory or out of memory", o->junit);
    lb_junit_free(j);
    if (!rc) return LB_EXIT_OK;
    fprintf(stderr, "leakbench %s: --junit: %s\n", who(o), err);
    return LB_EXIT_ERROR;
}

/* --history and --save-baseline, for complete runs only. */
static int record_run(const lb_gate_options *o, const json_t *doc, bool complete, bool quiet,
                      FILE *out)
{
    char err[1024];
    int code = LB_EXIT_OK;
    if (!complete) {
        if (o->history || o->save_baseline)
            fprintf(stderr,
                    "leakbench %s: incomplete run: not recorded in the history file or saved as "
                    "a baseline\n",
                    who(o));
        return code;
    }
    if (o->history && lb_history_append(o->history, doc, err, sizeof err)) {
        fprintf(stderr, "leakbench %s: --history: %s\n", who(o), err);
        code = LB_EXIT_ERROR;
    }
    if (!o->save_baseline) return code;
    if (lb_baseline_save(o->save_baseline, doc, err, sizeof err)) {
        fprintf(stderr, "leakbench run: --save-baseline: %s\n", err);
        return LB_EXIT_ERROR;
    }
    if (!quiet) {
        char path[4096];
        lb_baseline_path(o->save_baseline, path, sizeof path, err, sizeof err);
        fprintf(out, "baseline %s saved: %s\n", o->save_baseline, path);
    }
    return code;
}

int lb_gate_finish(const lb_gate_options *o, const json_t *doc, bool complete, bool quiet,
                   FILE *out)
{
    int code = LB_EXIT_OK;
    const json_t *thresholds = json_object_get(doc, "thresholds");
    print_thresholds(o, doc, quiet, out);
    for (size_t i = 0; i < json_array_size(thresholds); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(thresholds, i), "verdict")),
                   "pass"))
            code = LB_EXIT_FAIL;
    lb_comparison cmp;
    bool have_cmp = false;
    if (o->baseline)
        code = lb_gate_combine(code, compare_with_baseline(o, doc, quiet, out, &cmp, &have_cmp));
    if (o->junit) code = lb_gate_combine(code, write_junit(o, thresholds, have_cmp ? &cmp : NULL));
    if (have_cmp) lb_comparison_free(&cmp);
    return lb_gate_combine(code, record_run(o, doc, complete, quiet, out));
}
