/*
 * run_ci.h — what `leakbench run` adds for CI at scale, kept out of
 * cmd_run.c: --shard I/N (run only this shard's scenarios, ci/shard.h),
 * --aa VARIANT (run one variant on both sides, ci/aa_noise.h), and the
 * identity every results document carries for `merge` (suite, commit,
 * shard).  cmd_run.c calls these at four points: parsing an option,
 * after the specs load, for each scenario it might run, and once the
 * results document is built.
 */
#ifndef LEAKBENCH_RUN_CI_H
#define LEAKBENCH_RUN_CI_H

#include "ci/shard.h"
#include "core/spec.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct lb_run_ci {
    lb_shard shard;            /* --shard I/N; count 0 = every scenario */
    const char *aa;            /* --aa VARIANT, or NULL */
    char suite[512];           /* results "suite" */
    char commit[160];          /* results "commit"; "" = unknown */
    lb_scenario *aa_scenarios; /* the copied variant tables of an A/A run */
} lb_run_ci;

/* --shard ARG or --aa ARG (opt is the option's name without dashes).
 * 0, or -1 with the message on stderr. */
int lb_run_ci_option(lb_run_ci *ci, const char *opt, const char *arg);

/* After the specs loaded: the commit and the suite's name; with --aa,
 * every scenario spec made A/A.  LB_EXIT_OK, LB_EXIT_USAGE (a bad
 * $LEAKBENCH_COMMIT, ...) or LB_EXIT_ERROR (out of memory); message on
 * stderr.  Unless quiet, says what this shard runs. */
int lb_run_ci_prepare(lb_run_ci *ci, lb_spec *specs, int n_specs, bool quiet);

/* Whether scenario s runs (it falls in this shard). */
bool lb_run_ci_selected(const lb_run_ci *ci, const lb_scenario_spec *s);

/* Whether the specs' thresholds are evaluated: not in an A/A run, whose
 * two sides are the same twin. */
bool lb_run_ci_thresholds(const lb_run_ci *ci);

/* Marks the built results document: suite, commit, shard, A/A and its
 * noise.  0 or -ENOMEM. */
int lb_run_ci_mark(const lb_run_ci *ci, json_t *doc, const lb_spec *specs, int n_specs);

void lb_run_ci_free(lb_run_ci *ci);

#endif
