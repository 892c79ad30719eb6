/*
 * results.h — results.json (schema "leakbench-results", version 2; the
 * contract with `report` and `compare`, see README "results.json") and
 * samples.csv, both written atomically: into a temporary file in the run
 * directory, fsynced, then renamed over the old one, so a reader never
 * sees a partial file.
 */
#ifndef LEAKBENCH_RESULTS_H
#define LEAKBENCH_RESULTS_H

#include "host.h"
#include "runner.h"
#include "core/spec.h"

#include <jansson.h>
#include <time.h>

#define LB_RESULTS_SCHEMA "leakbench-results"
/* Version 2 renamed the MiB metrics (peak_rss_mb -> peak_rss_mib, ...);
 * readers refuse version 1 with LB_RESULTS_V1_NOTE rather than guess. */
#define LB_RESULTS_SCHEMA_VERSION 2
#define LB_RESULTS_V1_NOTE                                                                         \
    "version 1 was written by an older leakbench; version 2 renamed the *_rss_mb metrics "         \
    "*_rss_mib (MiB) and rss_slope_mb_per_s rss_slope_mib_per_s: run it again with this "          \
    "leakbench"

/* Every run of one scenario spec, in the order they ran (L G L G ...). */
typedef struct lb_scenario_result {
    const lb_scenario_spec *spec;
    lb_run_result *runs;
    int n_runs, cap;
} lb_scenario_result;

typedef struct lb_results {
    bool interrupted;
    time_t started_at, finished_at;
    int argc;
    char **argv; /* the command line, argv[0] = "leakbench" */
    int n_paths;
    const char *const *spec_paths;
    lb_host host;
    int n_scenarios;
    lb_scenario_result *scenarios;
    /* Threshold verdicts (engineer `regress`, harness/core/threshold.c); NULL
     * writes an empty array. Borrowed. */
    json_t *thresholds;
} lb_results;

/* Adds a run (moved in: the caller must not free it). 0 or -ENOMEM. */
int lb_scenario_result_add(lb_scenario_result *s, lb_run_result *run);
void lb_results_free(lb_results *r);

/* A run's numeric metrics, flattened (latency as latency_p50_ms ...), in
 * a fixed order; values are NaN when not measured. */
typedef struct lb_metric_value {
    const char *name;
    double value;
    bool integer;
} lb_metric_value;
#define LB_MAX_METRICS 32
int lb_run_metric_values(const lb_run_result *r, lb_metric_value out[LB_MAX_METRICS]);

/* Median, min, max over the runs of one variant (NaN if none measured). */
typedef struct lb_summary_stat {
    double median, min, max;
    int n;
} lb_summary_stat;
lb_summary_stat lb_summarise(const lb_scenario_result *s, bool leaky, const char *metric);

json_t *lb_results_to_json(const lb_results *r);

/* Writes DIR/results.json and DIR/samples.csv (creating DIR).  0 or a
 * negative errno with a message in err. */
int lb_results_write(const char *dir, const lb_results *r, char *err, size_t err_size);

#endif
