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
 *                             "graceful": {...}}}}
 *
 * metrics holds every catalogue metric (metric.h) as the variant's median,
 * null when not measured.  `leakbench history FILE` reads the lines back,
 * prints a metric's trend, plots it with gnuplot and exports the latest
 * entry in the Bencher Metric Format and github-action-benchmark's
 * customSmallerIsBetter / customBiggerIsBetter JSON.
 */
#ifndef LEAKBENCH_HISTORY_H
#define LEAKBENCH_HISTORY_H

#include <jansson.h>
#include <stddef.h>

/* Builds the history line for a results document (a new reference). */
json_t *lb_history_entry(const json_t *results);
/* Appends lb_history_entry(results) to path as one line (created if
 * missing, parent directories too).  0 or negative errno with err. */
int lb_history_append(const char *path, const json_t *results, char *err, size_t errlen);
/* Reads every line of path into a JSON array of entries.  A malformed
 * line is -EINVAL with "FILE:LINE:COLUMN: ..." in err. */
int lb_history_load(const char *path, json_t **entries, char *err, size_t errlen);

/* Bencher Metric Format for one entry:
 *   {"SCENARIO/VARIANT": {"METRIC": {"value": v}}, ...}   (non-null only) */
json_t *lb_history_bmf(const json_t *entry);
/* github-action-benchmark custom JSON for one entry: an array of
 *   {"name": "SCENARIO/VARIANT METRIC", "unit": "...", "value": v,
 *    "extra": "commit ..."}
 * holding the metrics where smaller (bigger_is_better = 0) or bigger (1)
 * is better. */
json_t *lb_history_action_benchmark(const json_t *entry, int bigger_is_better);

/* Writes S escaped as a gnuplot single-quoted string, quotes included:
 * ' doubles, control characters become spaces; nothing inside a
 * single-quoted gnuplot string is interpreted. */
void lb_gnuplot_quote(FILE *f, const char *s);

#endif
