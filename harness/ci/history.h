/*
 * history.h — a run-by-run record of a project's figures, for trends
 * across commits.
 *
 * `leakbench run --history FILE` appends one JSON line per run:
 *
 *   {"schema": "leakbench-history", "schema_version": 1,
 *    "commit": "<git sha or unknown>", "version": "<git describe>",
 *    "date": "<finished_at>", "spec": "<spec path>", "status": "complete",
 *    "metrics": {"SCENARIO": {"leaky": {"peak_tasks": 5012, ...},
 *                             "graceful": {...}}},
 *    "thresholds": [{"scenario": S, "metric": "graceful.peak_tasks",
 *                    "expr": "<= 150", "bound": 150}]}
 *
 * metrics holds every catalogue metric (metric.h) as the variant's median,
 * null when not measured; thresholds (optional: older lines lack it) the
 * run's thresholds with a numeric bound, which the chart draws.
 * `leakbench history FILE` reads the lines back one at a time
 * (lb_history_each), follows one metric (lb_history_trend), plots it with
 * gnuplot (lb_history_plot, plots/trend.gp in the report's style) and
 * exports the latest entry in the Bencher Metric Format and
 * github-action-benchmark's customSmallerIsBetter / customBiggerIsBetter
 * JSON.
 */
#ifndef LEAKBENCH_HISTORY_H
#define LEAKBENCH_HISTORY_H

#include "changepoint.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Builds the history line for a results document (a new reference). */
json_t *lb_history_entry(const json_t *results);
/* Appends lb_history_entry(results) to path as one line (created if
 * missing, parent directories too).  0 or negative errno with err. */
int lb_history_append(const char *path, const json_t *results, char *err, size_t errlen);
/* Calls FN(entry, line, ctx) for every entry of path in order, one line
 * in memory at a time (the entry is freed when FN returns; a non-zero
 * return stops the scan and is returned).  Blank lines are skipped.  A
 * malformed line is -EINVAL with "FILE:LINE:COLUMN: ..." or "FILE:LINE:
 * ..." in err; a directory is -EISDIR ("FILE: Is a directory"). */
typedef int (*lb_history_fn)(const json_t *entry, int line, void *ctx);
int lb_history_each(const char *path, lb_history_fn fn, void *ctx, char *err, size_t errlen);

/* ------------------------------------------------------------ trend -- */

#define LB_HISTORY_MAX_SERIES 32   /* scenarios in one trend */
#define LB_HISTORY_MAX_POINTS 1000 /* runs kept for the table and chart */

/* What a history line says about one series' metric. */
typedef enum lb_history_cell { LB_CELL_MISSING, LB_CELL_NULL, LB_CELL_NUMBER } lb_history_cell;

typedef struct lb_history_point {
    size_t run;      /* 1-based position of the run in the file */
    char commit[16]; /* at most 10 hex digits, or "unknown" */
    char date[40];   /* as recorded, "-" if none */
    double date_s;   /* the date in seconds since the epoch, NaN if none or unreadable */
    lb_history_cell cell[LB_HISTORY_MAX_SERIES];
    double value[LB_HISTORY_MAX_SERIES]; /* when cell is LB_CELL_NUMBER */
    double bound[LB_HISTORY_MAX_SERIES]; /* the run's threshold on the metric, NaN if none */
} lb_history_point;

/* One metric of one variant over the runs of a history file, one series
 * per scenario.  A history longer than LB_HISTORY_MAX_POINTS runs is
 * thinned while it is read: every stride-th run is kept (stride doubles
 * whenever the points fill up), and the newest run always is, so memory
 * stays bounded however long the file. */
typedef struct lb_history_trend {
    const char *variant, *metric; /* what is followed */
    const char *only;             /* a single scenario, or NULL for every one */
    char *series[LB_HISTORY_MAX_SERIES];
    char bound_expr[LB_HISTORY_MAX_SERIES][64]; /* the newest threshold's expression, "" none */
    size_t n_series;
    lb_history_point *points; /* LB_HISTORY_MAX_POINTS + 1 */
    size_t n_points;
    size_t runs;    /* lines read */
    size_t stride;  /* 1: every run is a point */
    json_t *latest; /* the newest entry (for the exports) */
    /* Step changes per series, after lb_history_detect (indices are into
     * points[]); detected is false until then. */
    bool detected;
    lb_changepoint_result changes[LB_HISTORY_MAX_SERIES];
} lb_history_trend;

/* Reads PATH into T, following VARIANT.METRIC for every scenario (or only
 * ONLY).  0, or -EINVAL (bad line, a metric that is neither a number nor
 * null, no runs, no such scenario) / another -errno with err set.
 * lb_history_trend_free releases T in every case. */
int lb_history_trend_load(lb_history_trend *t, const char *path, const char *variant,
                          const char *metric, const char *only, char *err, size_t errlen);
void lb_history_trend_free(lb_history_trend *t);
/* Numbers among the points (0: nothing to plot). */
size_t lb_history_trend_values(const lb_history_trend *t);

/* Finds the change points of every series of T (ci/changepoint.h: steps,
 * not single outliers, and a drift when the series only trends), over the
 * points that hold a number, and sets t->changes and t->detected; the
 * chart then marks each step.  0, or -ENOMEM. */
int lb_history_detect(lb_history_trend *t);
/* The change points of T as JSON, for DIR/changes.json:
 *   {"variant": V, "metric": M, "method": "...", "series": {NAME: {"steps":
 *    [{"run": N, "commit": C, "before": x, "after": y, "change": r, "p": p}],
 *    "drift_per_run": d | null}}} */
json_t *lb_history_changes_json(const lb_history_trend *t);

/* How lb_history_plot ended. */
typedef enum lb_history_chart {
    LB_HISTORY_CHART_DRAWN,      /* trend.png and trend.svg replaced */
    LB_HISTORY_CHART_NOTHING,    /* no number to plot: charts left as they were */
    LB_HISTORY_CHART_NO_GNUPLOT, /* gnuplot not installed */
    LB_HISTORY_CHART_FAILED,     /* gnuplot failed or timed out (msg says why) */
} lb_history_chart;

/* Writes DIR/trend.dat and DIR/trend.gp and draws DIR/trend.png and
 * trend.svg with gnuplot (gnuplot.h: staged, time- and memory-limited;
 * an image replaces the old one only when it rendered non-empty).
 * YLABEL names the axis.  Returns 0 or -errno when a file could not be
 * written; *chart says what became of the chart, msg why when it was not
 * drawn. */
int lb_history_plot(const lb_history_trend *t, const char *dir, const char *ylabel,
                    lb_history_chart *chart, char *msg, size_t msglen);

/* Bencher Metric Format for one entry:
 *   {"SCENARIO/VARIANT": {"METRIC": {"value": v}}, ...}   (non-null only) */
json_t *lb_history_bmf(const json_t *entry);
/* github-action-benchmark custom JSON for one entry: an array of
 *   {"name": "SCENARIO/VARIANT METRIC", "unit": "...", "value": v,
 *    "extra": "commit ..."}
 * holding the metrics where smaller (bigger_is_better = 0) or bigger (1)
 * is better. */
json_t *lb_history_action_benchmark(const json_t *entry, int bigger_is_better);

#endif
