/*
 * results.c — builds the results document from the runs, once per run
 * of `leakbench run`, and writes it as results.json and samples.csv
 * (results.h).
 *
 * The document is built with jansson from the run results; unmeasured
 * metrics (NaN) become null, and every real is rounded to the precision
 * results.json is written with, so the tree in memory is exactly what
 * `report` or `compare` later read back from the file.  Writing
 * serialises that tree (results.json) and walks its samples tables
 * (samples.csv); both go to memory first and then through lb_write_atomic.
 */
#include "results.h"

#include "core/jsonutil.h"
#include "core/outfile.h"

#include "scenarios/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LEAKBENCH_VERSION
#define LEAKBENCH_VERSION "unknown"
#endif
#ifndef LEAKBENCH_GIT_REVISION
#define LEAKBENCH_GIT_REVISION "unknown"
#endif

/* ------------------------------------------------------------ helpers -- */

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *count(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_integer((json_int_t)llround(v));
}

static json_t *num_or_count(double v, bool integer)
{
    return integer ? count(v) : num(v);
}

static void iso_time(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int lb_scenario_result_add(lb_scenario_result *s, lb_run_result *run)
{
    if (s->n_runs == s->cap) {
        int cap = s->cap ? s->cap * 2 : 4;
        lb_run_result *runs = realloc(s->runs, (size_t)cap * sizeof *runs);
        if (!runs) return -ENOMEM;
        s->runs = runs;
        s->cap = cap;
    }
    s->runs[s->n_runs++] = *run;
    return 0;
}

void lb_results_free(lb_results *r)
{
    for (int i = 0; i < r->n_scenarios; i++) {
        for (int k = 0; k < r->scenarios[i].n_runs; k++)
            lb_run_result_free(&r->scenarios[i].runs[k]);
        free(r->scenarios[i].runs);
    }
    free(r->scenarios);
    r->scenarios = NULL;
    r->n_scenarios = 0;
}

/* ------------------------------------------------------------ metrics -- */

/* A run's numeric metrics, flattened (latency as latency_p50_ms ...), in
 * a fixed order; values are NaN when not measured. */
typedef struct metric_value {
    const char *name;
    double value;
    bool integer;
} metric_value;
#define MAX_METRICS 32

/* Median, min, max over the runs of one variant (NaN if none measured). */
typedef struct summary_stat {
    double median, min, max;
    int n;
} summary_stat;

static int run_metric_values(const lb_run_result *r, metric_value out[MAX_METRICS])
{
    const lb_metrics *m = &r->metrics;
    lb_latency completed = lb_latency_of(&m->latency_completed);
    metric_value v[] = {
        {"baseline_tasks", m->baseline_tasks, true},
        {"peak_tasks", m->peak_tasks, true},
        {"final_tasks", m->final_tasks, true},
        {"baseline_rss_bytes", m->baseline_rss, true},
        {"peak_rss_bytes", m->peak_rss, true},
        {"final_rss_bytes", m->final_rss, true},
        {"peak_threads", m->peak_threads, true},
        {"rss_slope_bytes_per_s", m->rss_slope, false},
        {"task_slope_per_s", m->task_slope, false},
        {"recovery_ms", m->recovery_ms, false},
        {"shutdown_ms", m->shutdown_ms, false},
        {"leaked_tasks", m->leaked_tasks, true},
        {"throughput_rps", m->throughput_rps, false},
        {"cpu_user_s", m->cpu_user_s, false},
        {"cpu_sys_s", m->cpu_sys_s, false},
        {"latency_mean_ms", m->latency.mean, false},
        {"latency_p50_ms", m->latency.p50, false},
        {"latency_p90_ms", m->latency.p90, false},
        {"latency_p99_ms", m->latency.p99, false},
        {"latency_p999_ms", m->latency.p999, false},
        {"latency_max_ms", m->latency.max, false},
        {"latency_completed_p50_ms", completed.p50, false},
        {"latency_completed_p90_ms", completed.p90, false},
        {"latency_completed_p99_ms", completed.p99, false},
    };
    int n = (int)(sizeof v / sizeof v[0]);
    memcpy(out, v, sizeof v);
    return n;
}

static summary_stat summarise(const lb_scenario_result *s, bool leaky, const char *metric)
{
    summary_stat st = {NAN, NAN, NAN, 0};
    double *vals = malloc((size_t)(s->n_runs ? s->n_runs : 1) * sizeof *vals);
    if (!vals) return st;
    for (int i = 0; i < s->n_runs; i++) {
        if (s->runs[i].leaky != leaky) continue;
        metric_value mv[MAX_METRICS];
        int n = run_metric_values(&s->runs[i], mv);
        for (int k = 0; k < n; k++)
            if (!strcmp(mv[k].name, metric) && !isnan(mv[k].value)) {
                vals[st.n++] = mv[k].value;
                if (isnan(st.min) || mv[k].value < st.min) st.min = mv[k].value;
                if (isnan(st.max) || mv[k].value > st.max) st.max = mv[k].value;
            }
    }
    st.median = lb_median(vals, (size_t)st.n);
    free(vals);
    return st;
}

static json_t *latency_json(const lb_latency *l)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "count", count(l->count), "mean",
                     num(l->mean), "p50", num(l->p50), "p90", num(l->p90), "p99", num(l->p99),
                     "p999", num(l->p999), "max", num(l->max));
}

/* The completed requests' latency: the summary figures and the
 * histogram's non-empty buckets as [lo_ms, hi_ms, count], lo inclusive,
 * hi exclusive, in ascending order (README "latency_completed_ms"). */
static json_t *completed_latency_json(const lb_histogram *h)
{
    lb_latency l = lb_latency_of(h);
    json_t *o = latency_json(&l), *buckets = json_array();
    for (int b = 0; b < LB_HIST_BUCKETS; b++) {
        uint64_t n = atomic_load_explicit(&((lb_histogram *)h)->bucket[b], memory_order_relaxed);
        if (!n) continue;
        json_array_append_new(buckets, json_pack("[f, f, I]", lb_hist_bucket_lo(b) / 1000.0,
                                                 lb_hist_bucket_hi(b) / 1000.0, (json_int_t)n));
    }
    json_object_set_new(o, "buckets", buckets);
    return o;
}

static json_t *metrics_json(const lb_run_result *r)
{
    const lb_metrics *m = &r->metrics;
    json_t *o = json_object();
    metric_value mv[MAX_METRICS];
    int n = run_metric_values(r, mv);
    for (int i = 0; i < n; i++) {
        if (!strncmp(mv[i].name, "latency_", 8)) continue;
        json_object_set_new(o, mv[i].name, num_or_count(mv[i].value, mv[i].integer));
        if (!strcmp(mv[i].name, "rss_slope_bytes_per_s"))
            json_object_set_new(o, "rss_trend", m->trend ? json_string(m->trend) : json_null());
    }
    json_object_set_new(o, "recovered", json_boolean(m->recovered));
    json_object_set_new(o, "latency_ms", latency_json(&m->latency));
    json_object_set_new(o, "latency_completed_ms", completed_latency_json(&m->latency_completed));
    return o;
}

/* ---------------------------------------------------------------- runs -- */

static const char *const sample_columns[] = {
    "t_s",     "phase",    "tasks",     "rss_bytes",  "threads",   "cpu_s",
    "running", "send",     "recv",      "select",     "sleep",     "waitgroup",
    "lock",    "join",     "io",        "submitted",  "completed", "timed_out",
    "failed",  "rejected", "cancelled", "lateness_ms"};
#define N_SAMPLE_COLUMNS (sizeof sample_columns / sizeof sample_columns[0])

static json_t *sample_row(const lb_sample *s)
{
    json_t *row = json_array();
    json_array_append_new(row, json_real(s->t_s));
    json_array_append_new(row, json_string(lb_phase_name((lb_phase)s->phase)));
    json_array_append_new(row, json_integer(s->tasks));
    json_array_append_new(row, json_integer(s->rss_bytes));
    json_array_append_new(row, json_integer(s->threads));
    json_array_append_new(row, json_real(s->cpu_s));
    for (int op = 0; op < RT_OP_COUNT; op++) json_array_append_new(row, json_integer(s->by_op[op]));
    json_array_append_new(row, json_integer(s->submitted));
    for (int o = 0; o < LB_OUTCOME_COUNT; o++)
        json_array_append_new(row, json_integer(s->outcome[o]));
    json_array_append_new(row, json_real(s->lateness_ms));
    return row;
}

static json_t *samples_json(const lb_series *series)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < N_SAMPLE_COLUMNS; i++)
        json_array_append_new(cols, json_string(sample_columns[i]));
    json_t *rows = json_array();
    for (size_t i = 0; i < series->n; i++)
        json_array_append_new(rows, sample_row(&series->rows[i]));
    return json_pack("{s:o, s:o}", "columns", cols, "rows", rows);
}

static json_t *accounting_json(const lb_accounting *a)
{
    json_t *o = json_pack("{s:I}", "submitted", (json_int_t)a->submitted);
    for (int i = 0; i < LB_OUTCOME_COUNT; i++)
        json_object_set_new(o, lb_outcome_name((lb_outcome)i), json_integer(a->outcome[i]));
    json_object_set_new(o, "unanswered", json_integer(a->unanswered));
    json_object_set_new(o, "spawn_failures", json_integer(a->spawn_failures));
    json_object_set_new(o, "balanced", json_boolean(a->balanced));
    return o;
}

/* The HTTP load engine's side of a run (README "results.json", "http"). */
static json_t *http_json(const lb_http_run_result *h)
{
    json_t *causes = json_object();
    for (int c = 0; c < LB_HTTP_CAUSE_COUNT; c++)
        json_object_set_new(causes, lb_http_cause_name((lb_http_cause)c),
                            json_integer(h->failed_by[c]));
    return json_pack("{s:i, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "connections", h->connections,
                     "connections_opened", (json_int_t)h->connections_opened, "deadline_closes",
                     (json_int_t)h->deadline_closes, "waited_for_connection", (json_int_t)h->waited,
                     "timed_out_unsent", (json_int_t)h->expired_unsent, "failed_by", causes,
                     "send_lateness_ms", latency_json(&h->send_lateness), "engine_cpu_s",
                     num(h->engine_cpu_s), "engine_cpu_wait_s", num(h->engine_cpu_wait_s));
}

/* Whether the load generator kept its schedule (README "results.json",
 * "load"); null for a closed load, which has no schedule. */
static json_t *schedule_json(const lb_load_schedule *ls)
{
    if (!ls->active) return json_null();
    const lb_latency *l = &ls->lateness;
    return json_pack("{s:I, s:I, s:I, s:o, s:f, s:{s:o, s:o, s:o}, s:b}", "scheduled",
                     (json_int_t)ls->scheduled, "submitted", (json_int_t)ls->submitted, "on_time",
                     (json_int_t)ls->on_time, "on_time_ratio",
                     ls->scheduled ? num((double)ls->on_time / (double)ls->scheduled) : json_null(),
                     "late_after_ms", LB_LOAD_LATE_MS, "lateness_ms", "p50", num(l->p50), "p99",
                     num(l->p99), "max", num(l->max), "behind", ls->behind);
}

static json_t *run_json(const lb_run_result *r)
{
    const lb_phase_times *ph = &r->phases;
    json_t *phases = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o}", "ready_s", num(ph->at_s[LB_PHASE_READY]), "load_start_s",
        num(ph->at_s[LB_PHASE_LOAD]), "load_end_s", num(ph->at_s[LB_PHASE_SETTLE]), "settle_end_s",
        num(ph->at_s[LB_PHASE_SHUTDOWN]), "shutdown_start_s", num(ph->at_s[LB_PHASE_SHUTDOWN]),
        "exit_s", num(ph->at_s[LB_PHASE_EXIT]));
    json_t *guard = json_null();
    if (r->guard_fired)
        guard = json_pack("{s:s, s:f, s:o, s:o}", "kind", r->guard.kind, "at_s", r->guard.at_s,
                          "value", num_or_count(r->guard.value, strcmp(r->guard.kind, "wall")),
                          "limit", num_or_count(r->guard.limit, strcmp(r->guard.kind, "wall")));
    json_t *limits =
        json_pack("{s:I, s:I, s:f}", "memory_bytes", (json_int_t)r->limits.memory_bytes, "tasks",
                  (json_int_t)r->limits.tasks, "wall_ms", r->limits.wall_ms);
    const lb_sampler_stats *st = &r->sampler;
    bool any = st->ticks > 0;
    json_t *sampler = json_pack(
        "{s:f, s:I, s:I, s:b, s:I, s:{s:o, s:o}, s:f}", "interval_ms", st->interval_ms, "samples",
        (json_int_t)st->ticks, "stored", (json_int_t)r->series.n, "decimated", r->series.decimated,
        "stride", (json_int_t)r->series.stride, "lateness_ms", "median",
        any ? num(lb_hist_quantile_us(&st->lateness, 0.5) / 1000) : json_null(), "max",
        any ? num((double)atomic_load(&((lb_histogram *)&st->lateness)->max_us) / 1000)
            : json_null(),
        "cpu_s", st->cpu_s);
    json_object_set_new(sampler, "realtime", json_boolean(st->realtime));
    /* The scenario's pattern and fix feed the leak groups' hints. */
    json_t *leaks = r->has_leaks
                        ? lb_leak_report_to_json(&r->leaks, r->spec ? r->spec->scenario : NULL)
                        : json_null();
    json_t *o = json_pack("{s:s, s:i, s:s, s:{s:i, s:i}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                          "variant", r->leaky ? "leaky" : "graceful", "rep", r->rep, "status",
                          lb_run_status_name(r->status), "exit", "code", r->exit_code, "signal",
                          r->exit_signal, "guard", guard, "guard_limits", limits, "phases", phases,
                          "metrics", metrics_json(r), "accounting", accounting_json(&r->accounting),
                          "leaks", leaks, "sampler", sampler, "samples", samples_json(&r->series));
    json_object_set_new(o, "error", r->error[0] ? json_string(r->error) : json_null());
    json_object_set_new(o, "load", schedule_json(&r->schedule));
    if (r->http.active) json_object_set_new(o, "http", http_json(&r->http));
    if (r->target) json_object_set(o, "target", r->target);
    return o;
}

static json_t *summary_json(const lb_scenario_result *s, bool leaky)
{
    json_t *o = json_object();
    int runs = 0, recovered = 0;
    for (int i = 0; i < s->n_runs; i++)
        if (s->runs[i].leaky == leaky) {
            runs++;
            recovered += s->runs[i].metrics.recovered;
        }
    if (runs == 0) return o;
    metric_value mv[MAX_METRICS];
    int n = run_metric_values(&s->runs[0], mv);
    for (int k = 0; k < n; k++) {
        summary_stat st = summarise(s, leaky, mv[k].name);
        json_object_set_new(o, mv[k].name,
                            json_pack("{s:o, s:o, s:o, s:o, s:i}", "median", num(st.median), "min",
                                      num(st.min), "max", num(st.max), "spread",
                                      num(st.max - st.min), "n", st.n));
    }
    json_object_set_new(o, "runs", json_integer(runs));
    json_object_set_new(o, "recovered_runs", json_integer(recovered));
    return o;
}

static json_t *scenario_json(const lb_scenario_result *s)
{
    const lb_scenario *sc = s->spec->scenario;
    json_t *runs = json_array();
    for (int i = 0; i < s->n_runs; i++) json_array_append_new(runs, run_json(&s->runs[i]));
    if (!sc) /* a target pair: the user's programs, not a pattern of the catalogue */
        return json_pack("{s:s, s:n, s:s, s:n, s:n, s:n, s:n, s:n, s:o, s:o, s:{s:o, s:o}}", "name",
                         s->spec->name, "pattern", "title", "external target pair", "trigger",
                         "source", "description", "fix", "scheduler", "spec",
                         lb_scenario_spec_to_json(s->spec), "runs", runs, "summary", "leaky",
                         summary_json(s, true), "graceful", summary_json(s, false));
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:{s:o, s:o}}", "name",
                     s->spec->name, "pattern", sc->pattern, "title", sc->title, "trigger",
                     sc->trigger, "source", sc->source, "description", sc->description, "fix",
                     sc->fix, "scheduler", rt_sched_name(s->spec->scheduler), "spec",
                     lb_scenario_spec_to_json(s->spec), "runs", runs, "summary", "leaky",
                     summary_json(s, true), "graceful", summary_json(s, false));
}

json_t *lb_results_build(const lb_results *r)
{
    char started[32], finished[32];
    iso_time(r->started_at, started, sizeof started);
    iso_time(r->finished_at, finished, sizeof finished);
    json_t *command = json_array();
    for (int i = 0; i < r->argc; i++) json_array_append_new(command, json_string(r->argv[i]));
    json_t *paths = json_array();
    for (int i = 0; i < r->n_paths; i++)
        json_array_append_new(paths, json_string(r->spec_paths[i]));
    json_t *specs = json_array();
    json_t *scenarios = json_array();
    for (int i = 0; i < r->n_scenarios; i++) {
        json_t *as_run = lb_scenario_spec_to_json(r->scenarios[i].spec);
        json_object_set_new(as_run, "file", json_string(r->scenarios[i].spec->file));
        json_array_append_new(specs, as_run);
        json_array_append_new(scenarios, scenario_json(&r->scenarios[i]));
    }
    json_t *spec = json_pack("{s:s, s:o, s:o}", "path", r->n_paths ? r->spec_paths[0] : "", "paths",
                             paths, "scenarios", specs);
    json_t *descriptions = json_array();
    for (int i = 0; i < r->n_paths; i++) {
        const char *d = r->spec_descriptions ? r->spec_descriptions[i] : NULL;
        json_array_append_new(descriptions, d && *d ? json_string(d) : json_null());
    }
    json_object_set_new(spec, "descriptions", descriptions);
    json_t *doc = json_pack(
        "{s:s, s:i, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:s, s:o, s:o, s:o, s:o}", "schema",
        LB_RESULTS_SCHEMA, "schema_version", LB_RESULTS_SCHEMA_VERSION, "status",
        r->interrupted ? "interrupted" : "complete", "tool", "name", "leakbench", "version",
        LEAKBENCH_VERSION, "git_revision", LEAKBENCH_GIT_REVISION, "host",
        lb_host_to_json(&r->host), "started_at", started, "finished_at", finished, "command",
        command, "spec", spec, "scenarios", scenarios, "thresholds", json_array());
    if (doc) lb_json_round_reals(doc, LB_RESULTS_REAL_DIGITS);
    return doc;
}

int lb_results_set_thresholds(json_t *doc, json_t *verdicts)
{
    if (!verdicts) return -ENOMEM;
    lb_json_round_reals(verdicts, LB_RESULTS_REAL_DIGITS);
    return json_object_set_new(doc, "thresholds", verdicts) ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- files -- */

/* One sample value as samples.csv has always written it: times to the
 * microsecond, CPU and lateness to 0.1 ms, counts as integers. */
static void csv_value(FILE *f, const char *column, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, ",%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        fprintf(f, ",%s", json_string_value(v));
    else if (json_is_number(v))
        fprintf(f, strcmp(column, "t_s") ? ",%.4f" : ",%.6f", json_number_value(v));
    else
        fputc(',', f);
}

/* Every run's samples table, one CSV row per sample, prefixed with the
 * scenario, variant and rep.  Every run of a built document has the
 * columns of sample_columns. */
static void write_csv_rows(FILE *f, const json_t *doc)
{
    const json_t *scenarios = json_object_get(doc, "scenarios"), *scenario, *run, *row, *col;
    size_t i, k, j, c;
    fprintf(f, "scenario,variant,rep");
    for (size_t n = 0; n < N_SAMPLE_COLUMNS; n++) fprintf(f, ",%s", sample_columns[n]);
    fputc('\n', f);
    json_array_foreach(scenarios, i, scenario)
    {
        const char *name = json_string_value(json_object_get(scenario, "name"));
        json_array_foreach(json_object_get(scenario, "runs"), k, run)
        {
            const json_t *cols = lb_jpath(run, "samples.columns");
            json_array_foreach(lb_jpath(run, "samples.rows"), j, row)
            {
                fprintf(f, "%s,%s,%lld", name, lb_jstr(run, "variant"),
                        (long long)json_integer_value(json_object_get(run, "rep")));
                json_array_foreach(cols, c, col)
                    csv_value(f, json_string_value(col), json_array_get(row, c));
                fputc('\n', f);
            }
        }
    }
}

static int write_csv(const char *path, const json_t *doc, char *err, size_t err_size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(err, err_size, "%s: out of memory", path);
        return -ENOMEM;
    }
    write_csv_rows(f, doc);
    if (fclose(f) != 0) {
        free(buf);
        snprintf(err, err_size, "%s: out of memory", path);
        return -ENOMEM;
    }
    int rc = lb_write_atomic(path, buf, len, err, err_size);
    free(buf);
    return rc;
}

char *lb_results_text(const json_t *doc)
{
    return json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(LB_RESULTS_REAL_DIGITS));
}

int lb_results_write(const char *dir, const json_t *doc, char *err, size_t err_size)
{
    char path[4200];
    int rc = lb_mkdir_p(dir);
    if (rc) {
        snprintf(err, err_size, "%s: cannot create directory: %s", dir, strerror(-rc));
        return rc;
    }
    char *text = lb_results_text(doc);
    if (!text) {
        snprintf(err, err_size, "results: out of memory serialising JSON");
        return -ENOMEM;
    }
    snprintf(path, sizeof path, "%s/results.json", dir);
    rc = lb_write_atomic(path, text, strlen(text), err, err_size);
    free(text);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    return write_csv(path, doc, err, err_size);
}
