/*
 * results_load.h — reading results.json back: the one loader and
 * validator (schema: README "Results"; name and version in results.h)
 * that `report`, `compare`, `run --baseline` and the history read
 * through, and accessors for a validated document.
 *
 * Every problem is one message naming the file:
 *
 *   FILE: cannot read: No such file or directory
 *   DIR: is a directory without a results.json (expected a results file or a run directory)
 *   FILE:LINE:COL: invalid JSON: <jansson's words>
 *   FILE: schema_version: version 2 is not supported (this leakbench reads version 1)
 *   FILE: scenarios[0].runs[1].metrics.peak_tasks: expected a number or null, got a string
 *
 * The document loaded is the same jansson tree `run` builds
 * (lb_results_build in results.h), so every reader works on either.
 */
#ifndef LEAKBENCH_RESULTS_LOAD_H
#define LEAKBENCH_RESULTS_LOAD_H

#include <jansson.h>
#include <stddef.h>

/* Results files larger than this are refused unread. */
#define LB_RESULTS_MAX_BYTES ((size_t)1 << 30)

/* Loads PATH (a results file, or a run directory holding results.json)
 * through core/infile.h's reader and validates it.  Returns 0 with *out a
 * new reference, or a negative errno with the message in err: -ENOMEM
 * when memory ran out; anything else (-ENOENT, -EACCES, -EISDIR,
 * -ETIMEDOUT for a silent FIFO, -EFBIG, -EINVAL for bad JSON, schema or
 * version) means the input cannot be used. */
int lb_results_load(const char *path, json_t **out, char *err, size_t errlen);

/* The same checks on a document in memory; FILE names it in messages.
 * 0 or -EINVAL. */
int lb_results_validate(const json_t *doc, const char *file, char *err, size_t errlen);

/* For readers that match scenarios by name (compare, baselines): 0, or
 * -EINVAL when a name appears twice (`run a.json b.json` may run one
 * scenario twice, which the report shows but compare cannot pair). */
int lb_results_check_unique_names(const json_t *doc, const char *file, char *err, size_t errlen);

/* ------------------------------------------ accessors (validated docs) -- */

/* The first repetition of VARIANT ("leaky"/"graceful") in a scenario, or NULL. */
const json_t *lb_scenario_run(const json_t *scenario, const char *variant);
/* The number of repetitions of VARIANT. */
int lb_scenario_reps(const json_t *scenario, const char *variant);
/* The median of a metric over repetitions: summary.<variant>.<metric>.median
 * if the summary has it, else the first run's metrics.<metric>; NAN if none.
 * Latency metrics are named latency_p50_ms ... latency_max_ms. */
double lb_scenario_metric(const json_t *scenario, const char *variant, const char *metric);
/* Index of a sample column by name, or -1. */
int lb_sample_column(const json_t *run, const char *name);

#endif
