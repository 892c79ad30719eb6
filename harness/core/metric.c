/*
 * metric.c — the metric catalogue (see metric.h): one table row per
 * metric name, and the code that reads a metric of one variant out of a
 * results.json scenario (summary median first, per-run values otherwise).
 */
#include "metric.h"
#include "jsonutil.h"
#include "suggest.h"
#include "stats.h"
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const lb_variants[2] = {"leaky", "graceful"};

#define MIB (1.0 / LB_MIB)

/* name, unit, better, noise floor, summary key, run path, source, scale,
 * compared, help */
static const lb_metric_def metrics[] = {
    {"baseline_tasks", "tasks", LB_BETTER_LOWER, 0, "baseline_tasks", "metrics.baseline_tasks",
     LB_SRC_NUMBER, 1, true, "live tasks when the pipeline was ready"},
    {"peak_tasks", "tasks", LB_BETTER_LOWER, 0, "peak_tasks", "metrics.peak_tasks", LB_SRC_NUMBER,
     1, true, "most live tasks seen"},
    {"final_tasks", "tasks", LB_BETTER_LOWER, 0, "final_tasks", "metrics.final_tasks",
     LB_SRC_NUMBER, 1, true, "live tasks at the last sample"},
    {"leaked_tasks", "tasks", LB_BETTER_LOWER, 0, "leaked_tasks", "metrics.leaked_tasks",
     LB_SRC_NUMBER, 1, true, "tasks still blocked after shutdown"},
    {"peak_threads", "threads", LB_BETTER_LOWER, 0, "peak_threads", "metrics.peak_threads",
     LB_SRC_NUMBER, 1, true, "most OS threads seen"},
    {"baseline_rss_bytes", "bytes", LB_BETTER_LOWER, 262144, "baseline_rss_bytes",
     "metrics.baseline_rss_bytes", LB_SRC_NUMBER, 1, true, "resident memory when ready"},
    {"peak_rss_bytes", "bytes", LB_BETTER_LOWER, 262144, "peak_rss_bytes", "metrics.peak_rss_bytes",
     LB_SRC_NUMBER, 1, true, "most resident memory seen"},
    {"final_rss_bytes", "bytes", LB_BETTER_LOWER, 262144, "final_rss_bytes",
     "metrics.final_rss_bytes", LB_SRC_NUMBER, 1, true, "resident memory at the last sample"},
    {"baseline_rss_mib", "MiB", LB_BETTER_LOWER, 0.25, "baseline_rss_bytes",
     "metrics.baseline_rss_bytes", LB_SRC_NUMBER, MIB, false, "baseline_rss_bytes in MiB"},
    {"peak_rss_mib", "MiB", LB_BETTER_LOWER, 0.25, "peak_rss_bytes", "metrics.peak_rss_bytes",
     LB_SRC_NUMBER, MIB, false, "peak_rss_bytes in MiB"},
    {"final_rss_mib", "MiB", LB_BETTER_LOWER, 0.25, "final_rss_bytes", "metrics.final_rss_bytes",
     LB_SRC_NUMBER, MIB, false, "final_rss_bytes in MiB"},
    {"rss_slope_bytes_per_s", "bytes/s", LB_BETTER_LOWER, 65536, "rss_slope_bytes_per_s",
     "metrics.rss_slope_bytes_per_s", LB_SRC_NUMBER, 1, true, "RSS growth rate during load"},
    {"rss_slope_mib_per_s", "MiB/s", LB_BETTER_LOWER, 0.0625, "rss_slope_bytes_per_s",
     "metrics.rss_slope_bytes_per_s", LB_SRC_NUMBER, MIB, false, "RSS growth rate in MiB/s"},
    {"task_slope_per_s", "tasks/s", LB_BETTER_LOWER, 1, "task_slope_per_s",
     "metrics.task_slope_per_s", LB_SRC_NUMBER, 1, true, "live-task growth rate during load"},
    {"rss_rising", "0/1", LB_BETTER_LOWER, 0, NULL, "metrics.rss_trend", LB_SRC_RISING, 1, true,
     "1 when the RSS trend during load is rising"},
    {"recovered", "0/1", LB_BETTER_HIGHER, 0, NULL, "metrics.recovered", LB_SRC_BOOL, 1, true,
     "1 when tasks returned to baseline within the settle window"},
    {"recovery_ms", "ms", LB_BETTER_LOWER, 1, "recovery_ms", "metrics.recovery_ms", LB_SRC_NUMBER,
     1, true, "end of load until tasks are back at baseline (null: never)"},
    {"shutdown_ms", "ms", LB_BETTER_LOWER, 1, "shutdown_ms", "metrics.shutdown_ms", LB_SRC_NUMBER,
     1, true, "cancel until no live tasks (null: never)"},
    {"throughput_rps", "req/s", LB_BETTER_HIGHER, 0, "throughput_rps", "metrics.throughput_rps",
     LB_SRC_NUMBER, 1, true, "completed requests per second of load"},
    {"cpu_user_s", "s", LB_BETTER_LOWER, 0.01, "cpu_user_s", "metrics.cpu_user_s", LB_SRC_NUMBER, 1,
     true, "user CPU time of the child"},
    {"cpu_sys_s", "s", LB_BETTER_LOWER, 0.01, "cpu_sys_s", "metrics.cpu_sys_s", LB_SRC_NUMBER, 1,
     true, "system CPU time of the child"},
    {"latency_count", "requests", LB_BETTER_NEITHER, 0, NULL, "metrics.latency_ms.count",
     LB_SRC_NUMBER, 1, false, "requests with a latency"},
    {"latency_mean_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_mean_ms", "metrics.latency_ms.mean",
     LB_SRC_NUMBER, 1, true, "mean request latency"},
    {"latency_p50_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_p50_ms", "metrics.latency_ms.p50",
     LB_SRC_NUMBER, 1, true, "median request latency"},
    {"latency_p90_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_p90_ms", "metrics.latency_ms.p90",
     LB_SRC_NUMBER, 1, true, "90th percentile latency"},
    {"latency_p99_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_p99_ms", "metrics.latency_ms.p99",
     LB_SRC_NUMBER, 1, true, "99th percentile latency"},
    {"latency_p999_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_p999_ms", "metrics.latency_ms.p999",
     LB_SRC_NUMBER, 1, true, "99.9th percentile latency"},
    {"latency_max_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_max_ms", "metrics.latency_ms.max",
     LB_SRC_NUMBER, 1, true, "slowest request"},
    {"latency_completed_p50_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_completed_p50_ms",
     "metrics.latency_completed_ms.p50", LB_SRC_NUMBER, 1, true,
     "median latency of the completed requests"},
    {"latency_completed_p90_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_completed_p90_ms",
     "metrics.latency_completed_ms.p90", LB_SRC_NUMBER, 1, true,
     "90th percentile latency of the completed requests"},
    {"latency_completed_p99_ms", "ms", LB_BETTER_LOWER, 0.01, "latency_completed_p99_ms",
     "metrics.latency_completed_ms.p99", LB_SRC_NUMBER, 1, true,
     "99th percentile latency of the completed requests"},
    {"submitted", "requests", LB_BETTER_NEITHER, 0, NULL, "accounting.submitted", LB_SRC_NUMBER, 1,
     false, "requests submitted"},
    {"completed", "requests", LB_BETTER_HIGHER, 0, NULL, "accounting.completed", LB_SRC_NUMBER, 1,
     true, "requests that got their reply"},
    {"timed_out", "requests", LB_BETTER_LOWER, 0, NULL, "accounting.timed_out", LB_SRC_NUMBER, 1,
     true, "requests the client gave up on"},
    {"failed", "requests", LB_BETTER_LOWER, 0, NULL, "accounting.failed", LB_SRC_NUMBER, 1, true,
     "requests answered with an error"},
    {"rejected", "requests", LB_BETTER_LOWER, 0, NULL, "accounting.rejected", LB_SRC_NUMBER, 1,
     true, "requests refused by backpressure"},
    {"cancelled", "requests", LB_BETTER_LOWER, 0, NULL, "accounting.cancelled", LB_SRC_NUMBER, 1,
     true, "requests cancelled by shutdown"},
    {"guard_fired", "0/1", LB_BETTER_LOWER, 0, NULL, "guard", LB_SRC_GUARD, 1, true,
     "1 when a memory/task/wall guard killed the child"},
    {"load_behind", "0/1", LB_BETTER_LOWER, 0, NULL, "load.behind", LB_SRC_BOOL, 1, false,
     "1 when the load generator fell behind its schedule (over 1% of arrivals late or missing)"},
    {"load_on_time_ratio", "ratio", LB_BETTER_HIGHER, 0, NULL, "load.on_time_ratio", LB_SRC_NUMBER,
     1, false, "share of scheduled arrivals submitted within 100 ms of their time"},
};

#define N_METRICS (sizeof metrics / sizeof metrics[0])

size_t lb_metric_count(void)
{
    return N_METRICS;
}
const lb_metric_def *lb_metric_at(size_t i)
{
    return i < N_METRICS ? &metrics[i] : NULL;
}

bool lb_variant_known(const char *name, size_t len)
{
    for (size_t i = 0; i < 2; i++)
        if (strlen(lb_variants[i]) == len && !strncmp(lb_variants[i], name, len)) return true;
    return false;
}

const lb_metric_def *lb_metric_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_METRICS; i++)
        if (strlen(metrics[i].name) == len && !strncmp(metrics[i].name, name, len))
            return &metrics[i];
    return NULL;
}

/* Names an older leakbench used (results schema_version 1), and what they
 * are called now.  They meant MiB all along; the name now says so. */
static const struct {
    const char *old, *now;
} renamed[] = {{"baseline_rss_mb", "baseline_rss_mib"},
               {"peak_rss_mb", "peak_rss_mib"},
               {"final_rss_mb", "final_rss_mib"},
               {"rss_slope_mb_per_s", "rss_slope_mib_per_s"}};

const lb_metric_def *lb_metric_renamed(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (strlen(renamed[i].old) == len && !strncmp(renamed[i].old, name, len))
            return lb_metric_find(renamed[i].now, strlen(renamed[i].now));
    return NULL;
}

bool lb_metric_rename_note(const char *name, size_t len, char *buf, size_t n)
{
    const lb_metric_def *now = lb_metric_renamed(name, len);
    if (!now) return false;
    snprintf(buf, n, "%.*s was renamed %s (%s)", (int)len, name, now->name, now->unit);
    return true;
}

const char *lb_metric_suggest(const char *name, size_t len)
{
    lb_suggester sg;
    lb_suggest_begin(&sg, name, len);
    for (size_t i = 0; i < N_METRICS; i++) lb_suggest_try(&sg, metrics[i].name);
    return lb_suggest_best(&sg);
}

int lb_metric_run_value(const json_t *run, const lb_metric_def *m, double *value)
{
    const json_t *v = lb_jpath(run, m->run_path);
    switch (m->source) {
    case LB_SRC_NUMBER:
        if (!json_is_number(v)) return 0;
        *value = json_number_value(v) * m->scale;
        return 1;
    case LB_SRC_BOOL:
        if (!json_is_boolean(v)) return 0;
        *value = json_is_true(v) ? 1 : 0;
        return 1;
    case LB_SRC_RISING:
        if (!json_is_string(v)) return 0;
        *value = !strcmp(json_string_value(v), "rising");
        return 1;
    case LB_SRC_GUARD:
        /* The schema always has "guard"; absent means an older writer. */
        if (!json_is_object(run) || !json_object_get(run, "guard")) return 0;
        *value = json_is_object(v) ? 1 : 0;
        return 1;
    }
    return 0;
}

int lb_metric_collect(const json_t *scenario, const char *variant, const lb_metric_def *m,
                      lb_metric_values *out)
{
    memset(out, 0, sizeof *out);
    out->median = NAN;
    const json_t *runs = json_object_get(scenario, "runs");
    size_t n_runs = json_array_size(runs);
    if (n_runs) {
        out->samples = malloc(n_runs * sizeof *out->samples);
        if (!out->samples) return -ENOMEM;
    }
    for (size_t i = 0; i < n_runs; i++) {
        const json_t *run = json_array_get(runs, i);
        const char *v = json_string_value(json_object_get(run, "variant"));
        if (!v || strcmp(v, variant)) continue;
        out->n_runs++;
        if (lb_jpath(run, m->run_path) ||
            (m->source == LB_SRC_GUARD && json_object_get(run, "guard")))
            out->recorded = true;
        double value;
        if (lb_metric_run_value(run, m, &value)) out->samples[out->n++] = value;
    }
    out->present = out->n_runs > 0;

    const json_t *summary = json_object_get(json_object_get(scenario, "summary"), variant);
    const json_t *entry = m->summary_key ? json_object_get(summary, m->summary_key) : NULL;
    const json_t *median = json_object_get(entry, "median");
    if (json_is_object(entry) && (json_is_number(median) || json_is_null(median))) {
        out->from_summary = true;
        out->present = true;
        out->recorded = true;
        out->has_median = json_is_number(median);
        out->median = out->has_median ? json_number_value(median) * m->scale : NAN;
    } else if (out->n) {
        out->has_median = true;
        out->median = lb_stats_median(out->samples, out->n);
    }
    return 0;
}

void lb_metric_values_free(lb_metric_values *v)
{
    free(v->samples);
    v->samples = NULL;
}

bool lb_metric_gated(const lb_metric_def *m)
{
    static const char *const volatile_metrics[] = {"cpu_user_s", "cpu_sys_s", "latency_p999_ms",
                                                   "latency_max_ms"};
    for (size_t i = 0; i < sizeof volatile_metrics / sizeof volatile_metrics[0]; i++)
        if (!strcmp(m->name, volatile_metrics[i])) return false;
    return true;
}

void lb_metric_format(const lb_metric_def *m, double value, char *buf, size_t len)
{
    char num[LB_UNITS_LEN];
    if (isnan(value))
        snprintf(buf, len, "null");
    else if (!strcmp(m->unit, "bytes"))
        lb_fmt_bytes(buf, len, value);
    else if (!strcmp(m->unit, "bytes/s"))
        lb_fmt_byte_rate(buf, len, value);
    else if (!strcmp(m->unit, "ms"))
        lb_fmt_ms(buf, len, value);
    else if (!strcmp(m->unit, "s"))
        lb_fmt_ms(buf, len, value * 1000);
    else if (!strcmp(m->unit, "0/1"))
        snprintf(buf, len, "%g", value);
    else if (!strcmp(m->unit, "ratio"))
        lb_fmt_num(buf, len, value, 4);
    else
        snprintf(buf, len, "%s %s", lb_fmt_count(num, sizeof num, value), m->unit);
}

void lb_metric_format_ref(const char *ref, double value, char *buf, size_t len)
{
    const char *dot = ref ? strchr(ref, '.') : NULL;
    const lb_metric_def *m = dot ? lb_metric_find(dot + 1, strlen(dot + 1)) : NULL;
    if (m)
        lb_metric_format(m, value, buf, len);
    else if (isnan(value))
        snprintf(buf, len, "null");
    else
        lb_fmt_num(buf, len, value, 6);
}
