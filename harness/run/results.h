/*
 * results.h — the results document of one `leakbench run`: built once
 * from the runs (lb_results_build), given its threshold verdicts, then
 * read by everything that follows — the results writer, the gate
 * (baseline, history, JUnit) and the report.  Written as results.json
 * (schema "leakbench-results", version LB_RESULTS_SCHEMA_VERSION; the
 * contract with `report` and `compare`, see README "Results") and
 * samples.csv, both atomically: into a temporary file in the run
 * directory, fsynced, then renamed over the old one, so a reader never
 * sees a partial file.  Reading a file back is results_load.h.
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
#define LB_RESULTS_SCHEMA_VERSION 3
#define LB_RESULTS_V1_NOTE                                                                         \
    "version 1 was written by an older leakbench; version 2 renamed the *_rss_mb metrics "         \
    "*_rss_mib (MiB) and rss_slope_mb_per_s rss_slope_mib_per_s: run it again with this "          \
    "leakbench"
/* Significant digits of every real in results.json. */
#define LB_RESULTS_REAL_DIGITS 10

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
    const char *const *spec_descriptions; /* per path: its "description", NULL or "" if none */
    lb_host host;
    int n_scenarios;
    lb_scenario_result *scenarios;
} lb_results;

/* Adds a run (moved in: the caller must not free it). 0 or -ENOMEM. */
int lb_scenario_result_add(lb_scenario_result *s, lb_run_result *run);
void lb_results_free(lb_results *r);

/* Builds the results document (a new reference, NULL when out of
 * memory): every run with its samples, the summaries, the specs as run;
 * "thresholds" is an empty array until lb_results_set_thresholds.  Reals
 * are rounded to LB_RESULTS_REAL_DIGITS, so the document equals what
 * lb_results_load() later reads back from its file.  `run` calls this
 * once; every later step takes the document. */
json_t *lb_results_build(const lb_results *r);

/* Sets the document's "thresholds" to VERDICTS (stolen; rounded like the
 * rest).  0 or -ENOMEM. */
int lb_results_set_thresholds(json_t *doc, json_t *verdicts);

/* DOC as results.json holds it: a malloc'd string, NULL when out of
 * memory.  `run --format json` prints it. */
char *lb_results_text(const json_t *doc);

/* Writes DOC as DIR/results.json and its samples tables as
 * DIR/samples.csv (creating DIR).  0 or a negative errno with a message
 * in err. */
int lb_results_write(const char *dir, const json_t *doc, char *err, size_t err_size);

#endif
