/*
 * aa_noise.c — the spread between identical runs of an A/A results
 * document, and reading it back for compare (aa_noise.h).
 */
#include "aa_noise.h"

#include "core/jsonutil.h"
#include "core/metric.h"
#include "core/stats.h"
#include "run/results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Run REP of side VARIANT in a scenario, or NULL. */
static const json_t *find_run(const json_t *scenario, const char *variant, json_int_t rep)
{
    size_t i;
    const json_t *run;
    json_array_foreach(json_object_get(scenario, "runs"), i, run)
    {
        if (!strcmp(lb_jstr(run, "variant"), variant) &&
            json_integer_value(json_object_get(run, "rep")) == rep)
            return run;
    }
    return NULL;
}

static double relative_difference(double a, double b)
{
    if (a == b) return 0;
    return fabs(a - b) / ((fabs(a) + fabs(b)) / 2);
}

static json_t *real_or_null(double v, bool have)
{
    return have ? json_real(v) : json_null();
}

/* One metric's pairs: A's repetition k against B's repetition k. */
static json_t *metric_noise(const json_t *scenario, const lb_metric_def *m, double *rel)
{
    const json_t *runs = json_object_get(scenario, "runs");
    size_t i, pairs = 0;
    double max_rel = 0, max_abs = 0;
    const json_t *run;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), lb_variants[0])) continue;
        const json_t *other =
            find_run(scenario, lb_variants[1], json_integer_value(json_object_get(run, "rep")));
        double a, b;
        if (!other || !lb_metric_run_value(run, m, &a) || !lb_metric_run_value(other, m, &b))
            continue;
        rel[pairs] = relative_difference(a, b);
        if (rel[pairs] > max_rel) max_rel = rel[pairs];
        if (fabs(a - b) > max_abs) max_abs = fabs(a - b);
        pairs++;
    }
    bool have = pairs > 0;
    return json_pack("{s:I, s:o, s:o, s:o}", "pairs", (json_int_t)pairs, "median_rel",
                     real_or_null(lb_stats_median(rel, pairs), have), "max_rel",
                     real_or_null(max_rel, have), "max_abs", real_or_null(max_abs, have));
}

json_t *lb_aa_noise(const json_t *scenario)
{
    size_t n_runs = json_array_size(json_object_get(scenario, "runs"));
    double *rel = malloc((n_runs ? n_runs : 1) * sizeof *rel);
    json_t *o = json_object();
    if (!rel || !o) {
        free(rel);
        json_decref(o);
        return NULL;
    }
    for (size_t mi = 0; mi < lb_metric_count(); mi++) {
        const lb_metric_def *m = lb_metric_at(mi);
        if (!m->compared || m->better == LB_BETTER_NEITHER) continue;
        if (json_object_set_new(o, m->name, metric_noise(scenario, m, rel))) {
            json_decref(o);
            o = NULL;
            break;
        }
    }
    free(rel);
    return o;
}

int lb_aa_mark(json_t *doc, const char *variant)
{
    json_t *aa = json_pack("{s:s, s:s}", "variant", variant, "statistic", LB_AA_STATISTIC);
    if (!aa || json_object_set_new(doc, "aa", aa)) return -ENOMEM;
    size_t i;
    json_t *scenario;
    json_array_foreach(json_object_get(doc, "scenarios"), i, scenario)
    {
        json_t *noise = lb_aa_noise(scenario);
        if (!noise) return -ENOMEM;
        lb_json_round_reals(noise, LB_RESULTS_REAL_DIGITS);
        if (json_object_set_new(scenario, "aa_noise", noise)) return -ENOMEM;
    }
    return 0;
}

const char *lb_aa_variant(const json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "aa"), "variant"));
}

int lb_aa_check(const json_t *doc, const char *file, char *err, size_t errlen)
{
    const char *v = lb_aa_variant(doc);
    if (!v || !lb_variant_known(v, strlen(v))) {
        snprintf(err, errlen,
                 "%s: aa.variant: not an A/A run (make one with `leakbench run --aa VARIANT "
                 "SPEC`)",
                 file);
        return -EINVAL;
    }
    size_t i;
    const json_t *scenario;
    json_array_foreach(json_object_get(doc, "scenarios"), i, scenario)
    {
        if (!json_is_object(json_object_get(scenario, "aa_noise"))) {
            snprintf(err, errlen, "%s: scenarios[%zu].aa_noise: missing or not an object", file, i);
            return -EINVAL;
        }
    }
    return 0;
}

bool lb_aa_noise_lookup(const json_t *doc, const char *scenario, const char *metric, double *rel,
                        int *pairs)
{
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "scenarios"), i, s)
    {
        if (strcmp(lb_jstr(s, "name"), scenario)) continue;
        const json_t *entry = json_object_get(json_object_get(s, "aa_noise"), metric);
        const json_t *max_rel = json_object_get(entry, "max_rel");
        if (!json_is_number(max_rel)) return false;
        *rel = json_number_value(max_rel);
        *pairs = (int)json_integer_value(json_object_get(entry, "pairs"));
        return true;
    }
    return false;
}

void lb_aa_noise_print(FILE *out, const json_t *doc)
{
    size_t i;
    const json_t *s;
    fprintf(out, "\nA/A noise (%s on both sides): spread between identical runs\n",
            lb_aa_variant(doc));
    fprintf(out, "%-22s %-24s %5s %10s %10s %12s\n", "scenario", "metric", "pairs", "median", "max",
            "max abs");
    json_array_foreach(json_object_get(doc, "scenarios"), i, s)
    {
        const char *key;
        const json_t *e;
        json_object_foreach((json_t *)json_object_get(s, "aa_noise"), key, e)
        {
            const lb_metric_def *m = lb_metric_find(key, strlen(key));
            const json_t *med = json_object_get(e, "median_rel"),
                         *max = json_object_get(e, "max_rel");
            char abs_text[64];
            if (!m || !json_is_number(max)) {
                fprintf(out, "%-22s %-24s %5s %10s %10s %12s\n", lb_jstr(s, "name"), key, "0", "-",
                        "-", "-");
                continue;
            }
            lb_metric_format(m, json_number_value(json_object_get(e, "max_abs")), abs_text,
                             sizeof abs_text);
            fprintf(out, "%-22s %-24s %5lld %9.1f%% %9.1f%% %12s\n", lb_jstr(s, "name"), key,
                    (long long)json_integer_value(json_object_get(e, "pairs")),
                    100 * json_number_value(med), 100 * json_number_value(max), abs_text);
        }
    }
}
