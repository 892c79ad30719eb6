/*
 * metric.h — the catalogue of metric names that thresholds, compare and
 * history understand, and how each is read from a results.json scenario.
 *
 * A metric name is what a user writes after "VARIANT." in a threshold or
 * sees in a comparison: the schema's per-run metrics (peak_tasks,
 * recovery_ms, latency_p99_ms, ...), request accounting (timed_out,
 * rejected, ...) and a few derived ones: *_rss_mib (bytes / 2^20),
 * rss_slope_mib_per_s, recovered and rss_rising and guard_fired as
 * 0/1.  Each has a unit, a direction (lower or higher is better, or
 * neither) and a noise floor: an absolute change smaller than the floor
 * is never called a regression, whatever its ratio (e.g. 0 -> 0.004 ms).
 *
 * Values come from the scenario's "summary" median when the harness wrote
 * one for the metric, otherwise from the median of the per-run values
 * (booleans and accounting are not summarised by the harness).  A median
 * that is null (not measured, e.g. recovery_ms when the variant never
 * recovered) stays null: callers must say so, never invent a number.
 */
#ifndef LEAKBENCH_METRIC_H
#define LEAKBENCH_METRIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum lb_better { LB_BETTER_NEITHER, LB_BETTER_LOWER, LB_BETTER_HIGHER } lb_better;

typedef enum lb_metric_source {
    LB_SRC_NUMBER, /* a number (or null) at run_path */
    LB_SRC_BOOL,   /* a boolean at run_path, as 1/0 */
    LB_SRC_RISING, /* run_path holds "rising" (1) or "stable" (0) */
    LB_SRC_GUARD,  /* run_path holds null (0) or a guard event object (1) */
} lb_metric_source;

typedef struct lb_metric_def {
    const char *name;        /* as written in thresholds: "peak_rss_mib" */
    const char *unit;        /* "tasks", "bytes", "MiB", "ms", "0/1", ... */
    lb_better better;        /* which direction is an improvement */
    double noise_floor;      /* absolute change always treated as noise */
    const char *summary_key; /* key in summary.VARIANT, or NULL */
    const char *run_path;    /* dotted path inside a run object */
    lb_metric_source source;
    double scale;     /* value = raw * scale */
    bool compared;    /* listed by compare/history (derived duplicates are not) */
    const char *help; /* one line */
} lb_metric_def;

/* The two variants every scenario runs. */
extern const char *const lb_variants[2]; /* "leaky", "graceful" */
bool lb_variant_known(const char *name, size_t len);

size_t lb_metric_count(void);
const lb_metric_def *lb_metric_at(size_t i);
/* Looks a metric up by name (len bytes, not necessarily NUL-terminated). */
const lb_metric_def *lb_metric_find(const char *name, size_t len);
/* The current metric for a name an older leakbench used (peak_rss_mb ->
 * peak_rss_mib), or NULL.  Old names are not accepted anywhere: callers
 * report them with lb_metric_rename_note. */
const lb_metric_def *lb_metric_renamed(const char *name, size_t len);
/* Writes "peak_rss_mb was renamed peak_rss_mib (MiB)" into buf and returns
 * true if name is an old name; false (buf untouched) otherwise. */
bool lb_metric_rename_note(const char *name, size_t len, char *buf, size_t n);
/* The known metric name closest to name (edit distance), for "did you
 * mean" hints; NULL if none is close. */
const char *lb_metric_suggest(const char *name, size_t len);

/* One metric of one variant in one scenario of a results file. */
typedef struct lb_metric_values {
    bool present;      /* the variant has at least one run */
    bool recorded;     /* some run (or the summary) has the field, even as null;
                          false: written by a leakbench that did not know it */
    bool has_median;   /* false: the median is null (not measured) */
    double median;     /* scaled */
    size_t n_runs;     /* runs of this variant */
    size_t n;          /* non-null per-run values in samples */
    double *samples;   /* per-run values (scaled), malloc'd; lb_metric_values_free */
    bool from_summary; /* median taken from "summary" */
} lb_metric_values;

/* Collects the values of metric m for variant in a results scenario
 * object.  Returns 0, or -ENOMEM. */
int lb_metric_collect(const json_t *scenario, const char *variant, const lb_metric_def *m,
                      lb_metric_values *out);
void lb_metric_values_free(lb_metric_values *v);
/* One run's value of metric m (scaled): 1 with *value set, 0 when it is
 * null or absent. */
int lb_metric_run_value(const json_t *run, const lb_metric_def *m, double *value);

/* False for metrics too volatile between runs on a shared machine to
 * gate on by default: CPU time and the latency tail (p99.9, max).  Two
 * runs of scenarios/quick.json with --reps 5 each, same code, same
 * machine, showed them spreading 27-80% of their median within a run and
 * shifting up to 48% between runs; compare still shows them, marked
 * "info", and gates on them only with --all-metrics. */
bool lb_metric_gated(const lb_metric_def *m);

/* Formats value with its unit for humans through core/units.h ("1.25 MiB",
 * "5,012 tasks", "12.5 ms", "1.2 MiB/s"); "null" for NAN. */
void lb_metric_format(const lb_metric_def *m, double value, char *buf, size_t len);
/* The same for a threshold's "VARIANT.METRIC" reference; a plain number
 * when the reference names no known metric. */
void lb_metric_format_ref(const char *ref, double value, char *buf, size_t len);

#endif
