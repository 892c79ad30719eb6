/*
 * report_results.c — loads results.json (schema_version 2, see
 * README "Results") and checks it before anything is rendered.
 *
 * The schema is declared below as nested tables (lb_jschema): for each
 * key, the JSON types it may have, whether it is required, the fields of
 * an object, the schema of an array's items and, for strings, the allowed
 * values (used only where the report's logic depends on them: variant).
 * Other enumerations (statuses, phases, guard kinds, trends) accept any
 * string, so a newer harness value is shown as it is instead of failing
 * the report.  One recursive walk checks a document against the tables and
 * stops at the first problem, naming it by its JSON path
 * ("scenarios[0].runs[1].metrics.peak_tasks: expected a number or null,
 * got a string").  Unknown keys are allowed so that newer writers can add
 * fields.  The samples table, whose row shape depends on its "columns",
 * is checked by hand after the walk.  The accessors at the end assume a
 * validated document.
 */
#include "report_internal.h"
#include "core/jsonutil.h"
#include "run/results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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
static const lb_jschema metric_fields[] = {{"baseline_tasks", NUM_OR_NULL},
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
static const lb_jschema sampler_fields[] = {
    {"interval_ms", NUM_OR_NULL},   {"samples", NUM_OR_NULL},
    {"decimated", J_BOOL | J_NULL}, {"lateness_ms", J_OBJ | J_NULL, lateness_fields},
    {"cpu_s", NUM_OR_NULL},         END};
static const lb_jschema row_item = {NULL, J_ARR};
static const lb_jschema samples_fields[] = {
    {"columns", J_ARR | J_REQ, NULL, &any_string}, {"rows", J_ARR | J_REQ, NULL, &row_item}, END};
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
                                         END};
static const lb_jschema root_schema = {NULL, J_OBJ | J_REQ, root_fields};

/* ------------------------------------------------------------ walk -- */

typedef struct vctx {
    char path[512];
    char *err;
    size_t errlen;
} vctx;

static int fail(vctx *v, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(v->err, v->errlen, "%s: ", v->path[0] ? v->path : "(top level)");
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

int lb_report_validate_results(const json_t *root, char *err, size_t errlen)
{
    vctx v = {.err = err, .errlen = errlen};
    int rc = check(&v, root, &root_schema);
    if (rc) return rc;
    const char *schema = json_string_value(json_object_get(root, "schema"));
    if (strcmp(schema, "leakbench-results")) {
        snprintf(v.path, sizeof v.path, "schema");
        return fail(&v, "\"%s\" is not a leakbench results file (expected \"leakbench-results\")",
                    schema);
    }
    json_int_t version = json_integer_value(json_object_get(root, "schema_version"));
    if (version == 1) {
        snprintf(v.path, sizeof v.path, "schema_version");
        return fail(&v, "%s", LB_RESULTS_V1_NOTE);
    }
    if (version != LB_RESULTS_SCHEMA_VERSION) {
        snprintf(v.path, sizeof v.path, "schema_version");
        return fail(&v, "version %lld is not supported (this leakbench reads version %d)",
                    (long long)version, LB_RESULTS_SCHEMA_VERSION);
    }
    const json_t *scenarios = json_object_get(root, "scenarios");
    for (size_t i = 0; i < json_array_size(scenarios); i++) {
        const json_t *runs = json_object_get(json_array_get(scenarios, i), "runs");
        for (size_t r = 0; r < json_array_size(runs); r++) {
            const json_t *samples = json_object_get(json_array_get(runs, r), "samples");
            if (!json_is_object(samples)) continue;
            snprintf(v.path, sizeof v.path, "scenarios[%zu].runs[%zu].samples", i, r);
            rc = check_samples(&v, samples);
            if (rc) return rc;
        }
    }
    return 0;
}

int lb_report_load_results(const char *path, json_t **out, char *err, size_t errlen)
{
    json_error_t jerr;
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: is a directory, not a results file", path);
        return -EISDIR;
    }
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
                 jerr.text);
        return -EINVAL;
    }
    char why[900];
    int rc = lb_report_validate_results(root, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, why);
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

/* ------------------------------------------------------- accessors -- */

json_t *lb_jpath(const json_t *obj, const char *dotted)
{
    char key[128];
    const char *p = dotted;
    json_t *cur = (json_t *)obj;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof key) return NULL;
        memcpy(key, p, len);
        key[len] = 0;
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        p += len + (dot ? 1 : 0);
    }
    return cur;
}

double lb_jnum(const json_t *obj, const char *key)
{
    const json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_number(j) ? json_number_value(j) : NAN;
}

double lb_jnum_path(const json_t *obj, const char *dotted)
{
    const json_t *j = lb_jpath(obj, dotted);
    return json_is_number(j) ? json_number_value(j) : NAN;
}

const char *lb_jstr(const json_t *obj, const char *key)
{
    const json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(j) ? json_string_value(j) : NULL;
}

const char *lb_jstr_path(const json_t *obj, const char *dotted)
{
    const json_t *j = lb_jpath(obj, dotted);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

int lb_jbool_path(const json_t *obj, const char *dotted)
{
    const json_t *j = lb_jpath(obj, dotted);
    return json_is_true(j) ? 1 : json_is_false(j) ? -1 : 0;
}

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
    return lb_jnum(json_object_get(run, "metrics"), metric);
}

int lb_sample_column(const json_t *run, const char *name)
{
    const json_t *cols = lb_jpath(run, "samples.columns"), *c;
    size_t i;
    json_array_foreach(cols, i, c) if (!strcmp(json_string_value(c), name)) return (int)i;
    return -1;
}
