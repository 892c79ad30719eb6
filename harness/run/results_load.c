/*
 * results_load.c — the one loader and validator of results.json
 * (results_load.h): `report`, `compare`, `run --baseline` and the
 * document accessors below all read results through this file.
 *
 * The schema is declared below as nested tables (lb_jschema): for each
 * key, the JSON types it may have, whether it is required, the fields of
 * an object, the schema of an array's items and, for strings, the allowed
 * values (used only where a reader's logic depends on them: variant).
 * Other enumerations (statuses, phases, guard kinds, trends) accept any
 * string, so a newer harness value is shown as it is instead of failing
 * the report.  The schema name and version are checked first, so a file
 * of another version is named as such rather than by its first field
 * that differs.  Then one recursive walk checks the document against the
 * tables and stops at the first problem, naming it by its JSON path
 * ("scenarios[0].runs[1].metrics.peak_tasks: expected a number or null,
 * got a string").  Unknown keys are allowed so that newer writers can add
 * fields.  What the tables cannot say is checked by hand after the walk:
 * scenario names are not empty, summary medians are numbers, and the samples
 * table, whose row shape depends on its "columns", is consistent.  The
 * accessors at the end assume a validated document.
 */
#include "results_load.h"
#include "results.h"

#include "core/infile.h"
#include "core/jsonutil.h"
#include "core/metric.h"
#include "core/stats.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    J_NUM = 1 << 0, /* integer or real */
    J_INT = 1 << 1, /* integer only */
    J_STR = 1 << 2,
    J_BOOL = 1 << 3,
    J_NULL = 1 << 4,
    J_OBJ = 1 << 5,
    J_ARR = 1 << 6,
    J_REQ = 1 << 7, /* the key must be present */
};

typedef struct lb_jschema {
    const char *key;
    unsigned types;
    const struct lb_jschema *fields; /* object: fields, ended by key == NULL */
    const struct lb_jschema *items;  /* array: the schema of each item */
    const char *const *oneof;        /* string: allowed values, ended by NULL */
} lb_jschema;

#define END                                                                                        \
    {                                                                                              \
        NULL, 0, NULL, NULL, NULL                                                                  \
    }
#define NUM_OR_NULL (J_NUM | J_NULL)
#define STR_OR_NULL (J_STR | J_NULL)

static const char *const run_variants[] = {"leaky", "graceful", NULL};

static const lb_jschema tool_fields[] = {
    {"name", STR_OR_NULL}, {"version", STR_OR_NULL}, {"git_revision", STR_OR_NULL}, END};
static const lb_jschema host_fields[] = {{"kernel", STR_OR_NULL},
                                         {"cpu_model", STR_OR_NULL},
                                         {"cpus", NUM_OR_NULL},
                                         {"mem_total_bytes", NUM_OR_NULL},
                                         {"mem_available_bytes", NUM_OR_NULL},
                                         {"compiler", STR_OR_NULL},
                                         {"pid_max", NUM_OR_NULL},
                                         END};
static const lb_jschema any_string = {NULL, J_STR};
static const lb_jschema exit_fields[] = {{"code", NUM_OR_NULL}, {"signal", NUM_OR_NULL}, END};
static const lb_jschema guard_fields[] = {{"kind", J_STR | J_REQ},
                                          {"at_s", NUM_OR_NULL},
                                          {"value", NUM_OR_NULL},
                                          {"limit", NUM_OR_NULL},
                                          END};
static const lb_jschema phase_fields[] = {{"ready_s", NUM_OR_NULL},
                                          {"load_start_s", NUM_OR_NULL},
                                          {"load_end_s", NUM_OR_NULL},
                                          {"settle_end_s", NUM_OR_NULL},
                                          {"shutdown_start_s", NUM_OR_NULL},
                                          {"exit_s", NUM_OR_NULL},
                                          END};
static const lb_jschema latency_fields[] = {
    {"count", NUM_OR_NULL}, {"mean", NUM_OR_NULL}, {"p50", NUM_OR_NULL}, {"p90", NUM_OR_NULL},
    {"p99", NUM_OR_NULL},   {"p999", NUM_OR_NULL}, {"max", NUM_OR_NULL}, END};
static const lb_jschema any_number = {NULL, J_NUM};
static const lb_jschema bucket_item = {NULL, J_ARR, NULL, &any_number}; /* [lo, hi, count] */
/* Optional (older files lack it): the completed requests' latency. */
static const lb_jschema completed_latency_fields[] = {
    {"count", NUM_OR_NULL},
    {"mean", NUM_OR_NULL},
    {"p50", NUM_OR_NULL},
    {"p90", NUM_OR_NULL},
    {"p99", NUM_OR_NULL},
    {"p999", NUM_OR_NULL},
    {"max", NUM_OR_NULL},
    {"buckets", J_ARR | J_REQ, NULL, &bucket_item},
    END};
static const lb_jschema metric_fields[] = {
    {"baseline_tasks", NUM_OR_NULL},
    {"peak_tasks", NUM_OR_NULL},
    {"final_tasks", NUM_OR_NULL},
    {"baseline_rss_bytes", NUM_OR_NULL},
    {"peak_rss_bytes", NUM_OR_NULL},
    {"final_rss_bytes", NUM_OR_NULL},
    {"peak_threads", NUM_OR_NULL},
    {"rss_slope_bytes_per_s", NUM_OR_NULL},
    {"rss_trend", STR_OR_NULL},
    {"task_slope_per_s", NUM_OR_NULL},
    {"recovered", J_BOOL | J_NULL},
    {"recovery_ms", NUM_OR_NULL},
    {"shutdown_ms", NUM_OR_NULL},
    {"leaked_tasks", NUM_OR_NULL},
    {"throughput_rps", NUM_OR_NULL},
    {"cpu_user_s", NUM_OR_NULL},
    {"cpu_sys_s", NUM_OR_NULL},
    {"latency_ms", J_OBJ | J_NULL, latency_fields},
    {"latency_completed_ms", J_OBJ | J_NULL, completed_latency_fields},
    END};
static const lb_jschema accounting_fields[] = {
    {"submitted", NUM_OR_NULL},    {"completed", NUM_OR_NULL},
    {"timed_out", NUM_OR_NULL},    {"failed", NUM_OR_NULL},
    {"rejected", NUM_OR_NULL},     {"cancelled", NUM_OR_NULL},
    {"balanced", J_BOOL | J_NULL}, END};
static const lb_jschema site_fields[] = {
    {"file", STR_OR_NULL}, {"line", NUM_OR_NULL}, {"func", STR_OR_NULL}, END};
static const lb_jschema age_fields[] = {
    {"oldest", NUM_OR_NULL}, {"median", NUM_OR_NULL}, {"p99", NUM_OR_NULL}, END};
static const lb_jschema chan_fields[] = {
    {"cap", NUM_OR_NULL},          {"len", NUM_OR_NULL},          {"closed", J_BOOL | J_NULL},
    {"send_waiters", NUM_OR_NULL}, {"recv_waiters", NUM_OR_NULL}, END};
static const lb_jschema example_fields[] = {{"task_id", NUM_OR_NULL}, {"age_ms", NUM_OR_NULL}, END};
static const lb_jschema group_fields[] = {{"op", J_STR | J_REQ},
                                          {"site", J_OBJ | J_NULL, site_fields},
                                          {"role", STR_OR_NULL},
                                          {"spawn_site", J_OBJ | J_NULL, site_fields},
                                          {"count", J_NUM | J_REQ},
                                          {"growth_per_s", NUM_OR_NULL},
                                          {"age_ms", J_OBJ | J_NULL, age_fields},
                                          {"cancellable", J_BOOL | J_NULL},
                                          {"chan", J_OBJ | J_NULL, chan_fields},
                                          {"held_bytes", NUM_OR_NULL},
                                          {"hint", STR_OR_NULL},
                                          {"example", J_OBJ | J_NULL, example_fields},
                                          {"more_like_it", NUM_OR_NULL},
                                          END};
static const lb_jschema group_item = {NULL, J_OBJ, group_fields};
static const lb_jschema leak_fields[] = {
    {"total", NUM_OR_NULL}, {"groups", J_ARR | J_REQ, NULL, &group_item}, END};
static const lb_jschema lateness_fields[] = {{"median", NUM_OR_NULL}, {"max", NUM_OR_NULL}, END};
static const lb_jschema sampler_fields[] = {{"interval_ms", NUM_OR_NULL},
                                            {"samples", NUM_OR_NULL},
                                            {"decimated", J_BOOL | J_NULL},
                                            {"lateness_ms", J_OBJ | J_NULL, lateness_fields},
                                            {"cpu_s", NUM_OR_NULL},
                                            {"realtime", J_BOOL | J_NULL},
                                            END};
static const lb_jschema row_item = {NULL, J_ARR};
static const lb_jschema samples_fields[] = {
    {"columns", J_ARR | J_REQ, NULL, &any_string}, {"rows", J_ARR, NULL, &row_item}, END};
static const lb_jschema run_fields[] = {{"variant", J_STR | J_REQ, NULL, NULL, run_variants},
                                        {"rep", J_INT | J_REQ},
                                        {"status", J_STR | J_REQ},
                                        {"exit", J_OBJ | J_NULL, exit_fields},
                                        {"guard", J_OBJ | J_NULL, guard_fields},
                                        {"phases", J_OBJ | J_NULL, phase_fields},
                                        {"metrics", J_OBJ | J_REQ, metric_fields},
                                        {"accounting", J_OBJ | J_NULL, accounting_fields},
                                        {"leaks", J_OBJ | J_NULL, leak_fields},
                                        {"sampler", J_OBJ | J_NULL, sampler_fields},
                                        {"samples", J_OBJ | J_NULL, samples_fields},
                                        {"target", J_OBJ | J_NULL}, /* version 3 */
                                        END};
static const lb_jschema run_item = {NULL, J_OBJ, run_fields};
static const lb_jschema scenario_fields[] = {{"name", J_STR | J_REQ},
                                             {"pattern", NUM_OR_NULL},
                                             {"title", STR_OR_NULL},
                                             {"trigger", STR_OR_NULL},
                                             {"source", STR_OR_NULL},
                                             {"description", STR_OR_NULL},
                                             {"fix", STR_OR_NULL},
                                             {"scheduler", STR_OR_NULL},
                                             {"runs", J_ARR | J_REQ, NULL, &run_item},
                                             {"summary", J_OBJ | J_NULL},
                                             {"aa_noise", J_OBJ | J_NULL},
                                             END};
static const lb_jschema scenario_item = {NULL, J_OBJ, scenario_fields};
static const lb_jschema threshold_fields[] = {{"scenario", STR_OR_NULL},
                                              {"metric", J_STR | J_REQ},
                                              {"expr", STR_OR_NULL},
                                              {"value", NUM_OR_NULL},
                                              {"bound", NUM_OR_NULL},
                                              {"verdict", J_STR | J_REQ},
                                              END};
static const lb_jschema threshold_item = {NULL, J_OBJ, threshold_fields};
/* Optional fields for CI at scale (README "Results": suite, commit,
 * shard, merged, aa): checked for type here, for meaning by ci/merge.c
 * and ci/aa_noise.c. */
static const lb_jschema shard_fields[] = {
    {"index", J_INT | J_REQ},    {"count", J_INT | J_REQ},
    {"rule", J_STR | J_REQ},     {"suite_scenarios", J_ARR | J_REQ, NULL, &any_string},
    {"suite_spec", STR_OR_NULL}, END};
static const lb_jschema aa_fields[] = {{"variant", J_STR | J_REQ, NULL, NULL, run_variants}, END};
static const lb_jschema root_fields[] = {{"schema", J_STR | J_REQ},
                                         {"schema_version", J_INT | J_REQ},
                                         {"status", J_STR},
                                         {"tool", J_OBJ | J_NULL, tool_fields},
                                         {"host", J_OBJ | J_NULL, host_fields},
                                         {"started_at", STR_OR_NULL},
                                         {"finished_at", STR_OR_NULL},
                                         {"command", J_ARR | J_NULL, NULL, &any_string},
                                         {"spec", J_OBJ | J_NULL},
                                         {"scenarios", J_ARR | J_REQ, NULL, &scenario_item},
                                         {"thresholds", J_ARR | J_NULL, NULL, &threshold_item},
                                         {"suite", STR_OR_NULL},
                                         {"commit", STR_OR_NULL},
                                         {"shard", J_OBJ | J_NULL, shard_fields},
                                         {"merged", J_OBJ | J_NULL},
                                         {"aa", J_OBJ | J_NULL, aa_fields},
                                         END};
static const lb_jschema root_schema = {NULL, J_OBJ | J_REQ, root_fields};

/* ------------------------------------------------------------ walk -- */

typedef struct vctx {
    const char *file; /* names the document in messages */
    char path[512];   /* JSON path of the value being checked */
    char *err;
    size_t errlen;
} vctx;

/* "FILE: PATH: message", always -EINVAL. */
static int fail(vctx *v, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(v->err, v->errlen, "%s: %s: ", v->file, v->path[0] ? v->path : "(top level)");
    if (n < 0 || (size_t)n >= v->errlen) return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(v->err + n, v->errlen - n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void expected_types(char *buf, size_t n, unsigned types)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{J_NUM, "a number"},   {J_INT, "an integer"}, {J_STR, "a string"},
                 {J_BOOL, "a boolean"}, {J_OBJ, "an object"},  {J_ARR, "an array"},
                 {J_NULL, "null"}};
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(types & names[i].bit)) continue;
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", len ? " or " : "", names[i].name);
    }
}

static bool type_ok(const json_t *j, unsigned types)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return types & J_OBJ;
    case JSON_ARRAY:
        return types & J_ARR;
    case JSON_STRING:
        return types & J_STR;
    case JSON_INTEGER:
        return types & (J_NUM | J_INT);
    case JSON_REAL:
        return types & J_NUM;
    case JSON_TRUE:
    case JSON_FALSE:
        return types & J_BOOL;
    case JSON_NULL:
        return types & J_NULL;
    }
    return false;
}

static int check(vctx *v, const json_t *j, const lb_jschema *s);

static int check_fields(vctx *v, const json_t *obj, const lb_jschema *fields)
{
    size_t base = strlen(v->path);
    for (const lb_jschema *f = fields; f->key; f++) {
        snprintf(v->path + base, sizeof v->path - base, "%s%s", base ? "." : "", f->key);
        const json_t *child = json_object_get(obj, f->key);
        int rc = 0;
        if (!child) {
            if (f->types & J_REQ) rc = fail(v, "required field is missing");
        } else {
            rc = check(v, child, f);
        }
        v->path[base] = 0;
        if (rc) return rc;
    }
    return 0;
}

static int check(vctx *v, const json_t *j, const lb_jschema *s)
{
    if (!type_ok(j, s->types)) {
        char want[128];
        expected_types(want, sizeof want, s->types);
        return fail(v, "expected %s, got %s", want, lb_json_type_name(j));
    }
    if (json_is_real(j) && !isfinite(json_real_value(j)))
        return fail(v, "expected a finite number");
    if (json_is_string(j) && s->oneof) {
        const char *str = json_string_value(j);
        bool found = false;
        char allowed[256] = "";
        for (const char *const *o = s->oneof; *o; o++) {
            if (!strcmp(*o, str)) found = true;
            size_t len = strlen(allowed);
            snprintf(allowed + len, sizeof allowed - len, "%s\"%s\"", len ? ", " : "", *o);
        }
        if (!found) return fail(v, "\"%s\" is not one of %s", str, allowed);
    }
    if (json_is_object(j) && s->fields) return check_fields(v, j, s->fields);
    if (json_is_array(j) && s->items) {
        size_t base = strlen(v->path), i;
        const json_t *item;
        json_array_foreach(j, i, item)
        {
            snprintf(v->path + base, sizeof v->path - base, "[%zu]", i);
            int rc = check(v, item, s->items);
            v->path[base] = 0;
            if (rc) return rc;
        }
    }
    return 0;
}

/* The samples table: named columns, rows of the same width, numbers or
 * null, except "phase" which holds a phase name. */
static int check_samples(vctx *v, const json_t *samples)
{
    const json_t *cols = json_object_get(samples, "columns");
    const json_t *rows = json_object_get(samples, "rows");
    size_t base = strlen(v->path), ncols = json_array_size(cols);
    int t_col = -1, phase_col = -1;
    for (size_t c = 0; c < ncols; c++) {
        const char *name = json_string_value(json_array_get(cols, c));
        if (!strcmp(name, "t_s")) t_col = (int)c;
        if (!strcmp(name, "phase")) phase_col = (int)c;
    }
    if (t_col < 0) {
        snprintf(v->path + base, sizeof v->path - base, ".columns");
        return fail(v, "no \"t_s\" column");
    }
    double prev_t = -INFINITY;
    for (size_t r = 0; r < json_array_size(rows); r++) {
        const json_t *row = json_array_get(rows, r);
        snprintf(v->path + base, sizeof v->path - base, ".rows[%zu]", r);
        if (json_array_size(row) != ncols)
            return fail(v, "has %zu values, but there are %zu columns", json_array_size(row),
                        ncols);
        for (size_t c = 0; c < ncols; c++) {
            const json_t *val = json_array_get(row, c);
            const char *col = json_string_value(json_array_get(cols, c));
            if ((int)c == phase_col) {
                /* Names beyond ready..exit (the harness's "start") are kept. */
                if (!json_is_string(val) && !json_is_null(val))
                    return fail(v, "column \"phase\": expected a phase name, got %s",
                                lb_json_type_name(val));
            } else if (!json_is_number(val) && !json_is_null(val)) {
                return fail(v, "column \"%s\": expected a number or null, got %s", col,
                            lb_json_type_name(val));
            } else if (json_is_real(val) && !isfinite(json_real_value(val))) {
                return fail(v, "column \"%s\": expected a finite number", col);
            }
        }
        const json_t *t = json_array_get(row, t_col);
        if (!json_is_number(t)) return fail(v, "column \"t_s\": time is missing");
        if (json_number_value(t) < prev_t)
            return fail(v, "column \"t_s\": time goes backwards (%g after %g)",
                        json_number_value(t), prev_t);
        prev_t = json_number_value(t);
    }
    v->path[base] = 0;
    return 0;
}

/* A completed-latency histogram's buckets: [lo, hi, count] with
 * 0 <= lo < hi, a whole count >= 0, in ascending order, not overlapping. */
static int check_latency_buckets(vctx *v, const json_t *buckets)
{
    size_t base = strlen(v->path), i;
    const json_t *b;
    double prev_hi = 0;
    json_array_foreach(buckets, i, b)
    {
        snprintf(v->path + base, sizeof v->path - base, "[%zu]", i);
        if (json_array_size(b) != 3) return fail(v, "expected [lo_ms, hi_ms, count]");
        double lo = json_number_value(json_array_get(b, 0));
        double hi = json_number_value(json_array_get(b, 1));
        double n = json_number_value(json_array_get(b, 2));
        if (!(lo >= 0 && hi > lo)) return fail(v, "expected 0 <= lo_ms < hi_ms");
        if (lo < prev_hi) return fail(v, "buckets out of order or overlapping");
        if (!(n >= 0) || n != floor(n)) return fail(v, "count: expected a whole number >= 0");
        prev_hi = hi;
    }
    v->path[base] = 0;
    return 0;
}

/* Every scenario has a name (compare, history and the report's chart
 * files go by it). */
static int check_scenario_names(vctx *v, const json_t *scenarios)
{
    for (size_t i = 0; i < json_array_size(scenarios); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(scenarios, i), "name"));
        snprintf(v->path, sizeof v->path, "scenarios[%zu].name", i);
        if (!*name) return fail(v, "expected a non-empty string");
    }
    v->path[0] = 0;
    return 0;
}

int lb_results_check_unique_names(const json_t *doc, const char *file, char *err, size_t errlen)
{
    vctx v = {.file = file, .err = err, .errlen = errlen};
    const json_t *scenarios = json_object_get(doc, "scenarios");
    for (size_t i = 0; i < json_array_size(scenarios); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(scenarios, i), "name"));
        for (size_t k = 0; k < i; k++)
            if (!strcmp(name,
                        json_string_value(json_object_get(json_array_get(scenarios, k), "name")))) {
                snprintf(v.path, sizeof v.path, "scenarios[%zu].name", i);
                return fail(&v,
                            "\"%s\" appears twice (also scenarios[%zu]), so scenarios cannot "
                            "be matched by name",
                            name, k);
            }
    }
    return 0;
}

/* summary.VARIANT.METRIC.median, where tables and thresholds read
 * medians, is a number or null. */
static int check_summary(vctx *v, size_t i, const json_t *summary)
{
    const char *variant, *metric;
    const json_t *per_variant, *entry;
    json_object_foreach((json_t *)summary, variant, per_variant)
    {
        snprintf(v->path, sizeof v->path, "scenarios[%zu].summary.%s", i, variant);
        if (!json_is_object(per_variant))
            return fail(v, "expected an object, got %s", lb_json_type_name(per_variant));
        json_object_foreach((json_t *)per_variant, metric, entry)
        {
            const json_t *median = json_object_get(entry, "median");
            if (!json_is_object(entry) || !median || json_is_number(median) || json_is_null(median))
                continue;
            snprintf(v->path, sizeof v->path, "scenarios[%zu].summary.%s.%s.median", i, variant,
                     metric);
            return fail(v, "expected a number or null, got %s", lb_json_type_name(median));
        }
    }
    return 0;
}

/* Every summary median agrees with the runs it summarises.  Tables,
 * thresholds and compare read medians from the summary while compare's U
 * test reads the runs: a file in which they disagree (edited by hand, or
 * written by a broken tool) would get a verdict from two different data
 * sets, so it is refused here. */
static int check_summary_matches_runs(vctx *v, size_t i, const json_t *scenario)
{
    static const char *const variants[] = {"leaky", "graceful"};
    for (size_t vi = 0; vi < 2; vi++)
        for (size_t mi = 0; mi < lb_metric_count(); mi++) {
            const lb_metric_def *m = lb_metric_at(mi);
            if (!m->summary_key) continue;
            lb_metric_values mv;
            if (lb_metric_collect(scenario, variants[vi], m, &mv)) return -ENOMEM;
            double runs_median = mv.n ? lb_stats_median(mv.samples, mv.n) : NAN;
            bool agree = !mv.from_summary || !mv.n_runs ||
                         (mv.has_median ? mv.n && fabs(runs_median - mv.median) <=
                                                      1e-6 * fmax(1, fabs(mv.median))
                                        : !mv.n);
            size_t n = mv.n;
            double median = mv.median;
            lb_metric_values_free(&mv);
            if (agree) continue;
            snprintf(v->path, sizeof v->path, "scenarios[%zu].summary.%s.%s.median", i,
                     variants[vi], m->summary_key);
            if (isnan(median)) return fail(v, "null, but %zu runs measured it", n);
            if (!n) return fail(v, "%.10g, but no run measured it", median / m->scale);
            return fail(v, "%.10g, but the median of its %zu runs is %.10g", median / m->scale, n,
                        runs_median / m->scale);
        }
    return 0;
}

/* The schema name and version, before anything else: fields of another
 * version are not this version's mistakes. */
static int check_version(vctx *v, const json_t *root)
{
    if (!json_is_object(root))
        return fail(v, "expected an object, got %s", lb_json_type_name(root));
    const json_t *schema = json_object_get(root, "schema");
    snprintf(v->path, sizeof v->path, "schema");
    if (!json_is_string(schema))
        return fail(v, "expected \"%s\", got %s (is this a leakbench results file?)",
                    LB_RESULTS_SCHEMA, schema ? lb_json_type_name(schema) : "nothing");
    if (strcmp(json_string_value(schema), LB_RESULTS_SCHEMA))
        return fail(v, "\"%s\" is not a leakbench results file (expected \"%s\")",
                    json_string_value(schema), LB_RESULTS_SCHEMA);
    const json_t *version = json_object_get(root, "schema_version");
    snprintf(v->path, sizeof v->path, "schema_version");
    if (!json_is_integer(version))
        return fail(v, "expected an integer, got %s (this leakbench reads version %d)",
                    version ? lb_json_type_name(version) : "nothing", LB_RESULTS_SCHEMA_VERSION);
    if (json_integer_value(version) == 1) return fail(v, "%s", LB_RESULTS_V1_NOTE);
    /* Version 3 added the runs' "target" object (README "results.json"):
     * version 2 files read the same. */
    if (json_integer_value(version) != LB_RESULTS_SCHEMA_VERSION &&
        json_integer_value(version) != 2)
        return fail(v, "version %lld is not supported (this leakbench reads versions 2 and %d)",
                    (long long)json_integer_value(version), LB_RESULTS_SCHEMA_VERSION);
    v->path[0] = 0;
    return 0;
}

int lb_results_validate(const json_t *root, const char *file, char *err, size_t errlen)
{
    vctx v = {.file = file, .err = err, .errlen = errlen};
    int rc = check_version(&v, root);
    if (!rc) rc = check(&v, root, &root_schema);
    const json_t *scenarios = json_object_get(root, "scenarios");
    if (!rc) rc = check_scenario_names(&v, scenarios);
    for (size_t i = 0; !rc && i < json_array_size(scenarios); i++) {
        const json_t *scenario = json_array_get(scenarios, i);
        const json_t *summary = json_object_get(scenario, "summary");
        if (json_is_object(summary)) rc = check_summary(&v, i, summary);
        if (!rc && json_is_object(summary)) rc = check_summary_matches_runs(&v, i, scenario);
        const json_t *runs = json_object_get(scenario, "runs");
        for (size_t r = 0; !rc && r < json_array_size(runs); r++) {
            const json_t *run = json_array_get(runs, r);
            const json_t *buckets = lb_jpath(run, "metrics.latency_completed_ms.buckets");
            if (json_is_array(buckets)) {
                snprintf(v.path, sizeof v.path,
                         "scenarios[%zu].runs[%zu].metrics.latency_completed_ms.buckets", i, r);
                rc = check_latency_buckets(&v, buckets);
            }
            const json_t *samples = json_object_get(run, "samples");
            if (rc || !json_is_object(samples)) continue;
            snprintf(v.path, sizeof v.path, "scenarios[%zu].runs[%zu].samples", i, r);
            rc = check_samples(&v, samples);
        }
    }
    return rc;
}

/* PATH, or PATH/results.json when PATH is a run directory, into file.
 * 0, or -EISDIR with err set for a directory without one. */
static int resolve_path(const char *path, char *file, size_t filelen, char *err, size_t errlen)
{
    struct stat st;
    snprintf(file, filelen, "%s", path);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    snprintf(file, filelen, "%s/results.json", path);
    if (stat(file, &st) == 0) return 0;
    snprintf(err, errlen,
             "%s: is a directory without a results.json (expected a results file or a run "
             "directory)",
             path);
    return -EISDIR;
}

int lb_results_load(const char *path, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    char file[4200], *text;
    size_t len;
    int rc = resolve_path(path, file, sizeof file, err, errlen);
    /* The one input reader (core/infile.h): a FIFO nobody writes to or a
     * device is an error, never a hang. */
    if (!rc) rc = lb_read_file(file, LB_RESULTS_MAX_BYTES, &text, &len, err, errlen);
    if (rc) return rc;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", file, jerr.line, jerr.column,
                 jerr.text);
        return json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL;
    }
    rc = lb_results_validate(root, file, err, errlen);
    if (rc) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

/* ------------------------------------------------------- accessors -- */

const json_t *lb_scenario_run(const json_t *scenario, const char *variant)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run, *best = NULL;
    size_t i;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variant)) continue;
        if (!best || json_integer_value(json_object_get(run, "rep")) <
                         json_integer_value(json_object_get(best, "rep")))
            best = run;
    }
    return best;
}

int lb_scenario_reps(const json_t *scenario, const char *variant)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    int n = 0;
    json_array_foreach(runs, i, run) n += !strcmp(lb_jstr(run, "variant"), variant);
    return n;
}

double lb_scenario_metric(const json_t *scenario, const char *variant, const char *metric)
{
    const json_t *summary = lb_jpath(scenario, "summary");
    const json_t *m = json_is_object(summary) ? lb_jpath(summary, variant) : NULL;
    m = json_is_object(m) ? json_object_get(m, metric) : NULL;
    if (json_is_object(m)) {
        const json_t *median = json_object_get(m, "median");
        if (json_is_number(median)) return json_number_value(median);
        if (json_is_null(median)) return NAN;
    }
    const json_t *run = lb_scenario_run(scenario, variant);
    if (!run) return NAN;
    static const struct {
        const char *name, *key;
    } latency[] = {{"latency_p50_ms", "p50"}, {"latency_p90_ms", "p90"},
                   {"latency_p99_ms", "p99"}, {"latency_p999_ms", "p999"},
                   {"latency_max_ms", "max"}, {"latency_mean_ms", "mean"},
                   {"latency_count", "count"}};
    for (size_t i = 0; i < sizeof latency / sizeof latency[0]; i++)
        if (!strcmp(metric, latency[i].name))
            return lb_jnum(lb_jpath(run, "metrics.latency_ms"), latency[i].key);
    if (!strncmp(metric, "latency_completed_", 18)) { /* "latency_completed_p50_ms": p50 */
        char key[16];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(metric + 18, "_"), metric + 18);
        return lb_jnum(lb_jpath(run, "metrics.latency_completed_ms"), key);
    }
    return lb_jnum(json_object_get(run, "metrics"), metric);
}

int lb_sample_column(const json_t *run, const char *name)
{
    const json_t *cols = lb_jpath(run, "samples.columns"), *c;
    size_t i;
    json_array_foreach(cols, i, c) if (!strcmp(json_string_value(c), name)) return (int)i;
    return -1;
}
