/*
 * run_gate.c — thresholds, baselines, history and JUnit for `leakbench
 * run` (see run_gate.h).  Works on the results document that
 * lb_results_to_json() builds, the same one written to results.json, so
 * what CI is told always matches the file.
 */
#include "run_gate.h"
#include "ci/baseline.h"
#include "cli.h"
#include "ci/compare.h"
#include "ci/history.h"
#include "ci/junit.h"
#include "core/metric.h"
#include "core/outfile.h"
#include "core/threshold.h"

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

int lb_gate_check_options(const lb_gate_options *o)
{
    char path[4096], err[1024];
    /* Output paths first: a --junit or --history that cannot be written is
     * found now, not after the whole run (exit 3, as for -o). */
    const char *outputs[2][2] = {{"--junit", o->junit}, {"--history", o->history}};
    for (int i = 0; i < 2; i++)
        if (outputs[i][1] && lb_check_user_file(outputs[i][1], err, sizeof err)) {
            fprintf(stderr, "leakbench run: %s %s\n", outputs[i][0], err);
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
            if (strstr(err, "No such file"))
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

int lb_gate_thresholds(lb_results *results)
{
    results->thresholds = NULL;
    json_t *doc = lb_results_to_json(results);
    json_t *verdicts = json_array();
    if (!doc || !verdicts) {
        json_decref(doc);
        json_decref(verdicts);
        return LB_EXIT_ERROR;
    }
    const json_t *scenarios = json_object_get(doc, "scenarios");
    size_t failed = 0;
    int rc = 0;
    for (int i = 0; i < results->n_scenarios && !rc; i++) {
        const lb_scenario_spec *s = results->scenarios[i].spec;
        lb_threshold_set set = {0};
        set.items = calloc((size_t)s->n_thresholds + 1, sizeof *set.items);
        if (!set.items) {
            rc = -ENOMEM;
            break;
        }
        for (int t = 0; t < s->n_thresholds && !rc; t++) {
            lb_threshold_error perr;
            /* Validated when the spec was loaded; a failure here is a bug. */
            rc = lb_threshold_parse(s->thresholds[t].metric, s->thresholds[t].expr,
                                    &set.items[set.n], &perr);
            if (!rc)
                set.n++;
            else if (rc == -EINVAL)
                fprintf(stderr, "leakbench run: threshold %s \"%s\": %s\n", s->thresholds[t].metric,
                        s->thresholds[t].expr, perr.msg);
        }
        if (!rc)
            rc = lb_thresholds_evaluate(&set, json_array_get(scenarios, (size_t)i), verdicts,
                                        &failed);
        lb_thresholds_free(&set);
    }
    json_decref(doc);
    if (rc) {
        json_decref(verdicts);
        return LB_EXIT_ERROR;
    }
    results->thresholds = verdicts;
    return failed ? LB_EXIT_FAIL : LB_EXIT_OK;
}

static void print_thresholds(const json_t *list, bool quiet, FILE *out)
{
    size_t n = json_array_size(list), failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !!strcmp(json_string_value(json_object_get(json_array_get(list, i), "verdict")),
                           "pass");
    if (!n) return;
    if (!quiet) fprintf(out, "\nthresholds: %zu passed, %zu failed\n", n - failed, failed);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(list, i);
        bool pass = !strcmp(json_string_value(json_object_get(t, "verdict")), "pass");
        const json_t *value = json_object_get(t, "value");
        char v[64];
        lb_metric_format_ref(json_string_value(json_object_get(t, "metric")),
                             json_is_number(value) ? json_number_value(value) : NAN, v, sizeof v);
        if (!pass)
            fprintf(stderr, "leakbench run: threshold failed: %s %s %s: %s\n",
                    json_string_value(json_object_get(t, "scenario")),
                    json_string_value(json_object_get(t, "metric")),
                    json_string_value(json_object_get(t, "expr")),
                    json_string_value(json_object_get(t, "reason")));
        else if (!quiet)
            fprintf(out, "  pass  %s %s %s (%s)\n",
                    json_string_value(json_object_get(t, "scenario")),
                    json_string_value(json_object_get(t, "metric")),
                    json_string_value(json_object_get(t, "expr")), v);
    }
}

int lb_gate_finish(const lb_gate_options *o, const lb_results *results, bool complete, bool quiet,
                   FILE *out)
{
    char err[1024];
    int code = LB_EXIT_OK;
    json_t *doc = lb_results_to_json(results);
    if (!doc) return LB_EXIT_ERROR;
    const json_t *thresholds = json_object_get(doc, "thresholds");
    print_thresholds(thresholds, quiet, out);
    for (size_t i = 0; i < json_array_size(thresholds); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(thresholds, i), "verdict")),
                   "pass"))
            code = LB_EXIT_FAIL;

    lb_comparison cmp;
    bool have_cmp = false;
    if (o->baseline) {
        lb_compare_opts copts = LB_COMPARE_DEFAULTS;
        if (lb_baseline_compare(o->baseline, doc, &copts, &cmp, err, sizeof err)) {
            fprintf(stderr, "leakbench run: --baseline %s: %s\n", o->baseline, err);
            code = lb_gate_combine(code, LB_EXIT_ERROR);
        } else {
            have_cmp = true;
            char label[300];
            snprintf(label, sizeof label, "baseline %s", o->baseline);
            if (!quiet) {
                fprintf(out, "\n");
                lb_comparison_print(out, &cmp, label, "this run", true);
            } else if (lb_exit_for_comparison(&cmp) != LB_EXIT_OK) {
                lb_comparison_print(stderr, &cmp, label, "this run", true);
            }
            code = lb_gate_combine(code, lb_exit_for_comparison(&cmp));
        }
    }

    if (o->junit) {
        lb_junit *j = lb_junit_new();
        int rc = j ? lb_junit_add_thresholds(j, thresholds) : -ENOMEM;
        if (!rc && have_cmp) rc = lb_junit_add_comparison(j, &cmp);
        if (!rc) rc = lb_mkdir_parent(o->junit);
        if (!rc)
            rc = lb_junit_write(j, o->junit, err, sizeof err);
        else
            snprintf(err, sizeof err, "%s: cannot create its directory or out of memory", o->junit);
        if (rc) {
            fprintf(stderr, "leakbench run: --junit: %s\n", err);
            code = lb_gate_combine(code, LB_EXIT_ERROR);
        }
        lb_junit_free(j);
    }
    if (have_cmp) lb_comparison_free(&cmp);

    if (!complete && (o->history || o->save_baseline)) {
        fprintf(stderr, "leakbench run: incomplete run: not recorded in the history file or "
                        "saved as a baseline\n");
    } else {
        if (o->history && lb_history_append(o->history, doc, err, sizeof err)) {
            fprintf(stderr, "leakbench run: --history: %s\n", err);
            code = lb_gate_combine(code, LB_EXIT_ERROR);
        }
        if (o->save_baseline) {
            if (lb_baseline_save(o->save_baseline, doc, err, sizeof err)) {
                fprintf(stderr, "leakbench run: --save-baseline: %s\n", err);
                code = lb_gate_combine(code, LB_EXIT_ERROR);
            } else if (!quiet) {
                char path[4096];
                lb_baseline_path(o->save_baseline, path, sizeof path, err, sizeof err);
                fprintf(out, "baseline %s saved: %s\n", o->save_baseline, path);
            }
        }
    }
    json_decref(doc);
    return code;
}
