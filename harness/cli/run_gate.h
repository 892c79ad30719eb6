/*
 * run_gate.h — what `leakbench run` does for CI once the runs are over:
 * evaluate the specs' thresholds into the results document, compare
 * against a named baseline (--baseline), save one (--save-baseline),
 * append to a history file (--history) and write JUnit (--junit).  Every
 * step reads the run's one results document (run/results.h); none
 * rebuilds or re-reads it.  cmd_run.c calls three functions; everything
 * else lives here so the runner stays about running.
 */
#ifndef LEAKBENCH_RUN_GATE_H
#define LEAKBENCH_RUN_GATE_H

#include "core/color.h"
#include "run/results.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct lb_gate_options {
    const char *junit;         /* --junit FILE */
    const char *history;       /* --history FILE */
    const char *save_baseline; /* --save-baseline NAME */
    const char *baseline;      /* --baseline NAME */
    const char *command;       /* names the messages: "run" when NULL, "merge" */
    lb_color_mode color;       /* --color: verdicts in colour on a terminal */
} lb_gate_options;

/* Before anything runs: baseline names are valid and --baseline exists
 * and is a valid results file.  LB_EXIT_OK or LB_EXIT_USAGE (message on
 * stderr). */
int lb_gate_check_options(const lb_gate_options *o);

/* Evaluates the thresholds of every scenario that ran — the ASTs its spec
 * keeps (core/threshold.h), walked against scenario i of the document,
 * scenarios[i] having run as doc "scenarios"[i] — and stores the verdicts
 * as the document's "thresholds".  An interrupted run evaluates none: its
 * document gets "thresholds_evaluated": false (when any spec has
 * thresholds) and "thresholds" stays empty.  LB_EXIT_OK, LB_EXIT_FAIL (a
 * threshold failed) or LB_EXIT_ERROR (out of memory). */
int lb_gate_thresholds(json_t *doc, const lb_scenario_result *scenarios, int n, bool interrupted);

/* After results.json is written: prints the thresholds (failures always,
 * on stderr; everything on out unless quiet), compares against
 * --baseline, writes --junit, and when the run is complete (not
 * interrupted, no failed run) appends --history and saves
 * --save-baseline.  Returns the gate's exit code: LB_EXIT_OK,
 * LB_EXIT_FAIL (threshold failed or regression), LB_EXIT_INCONCLUSIVE or
 * LB_EXIT_ERROR (an output could not be written). */
int lb_gate_finish(const lb_gate_options *o, const json_t *doc, bool complete, bool quiet,
                   FILE *out);

/* The more important of two exit codes: 130 > 3 > 2 > 1 > 4 > 5 > 0. */
int lb_gate_combine(int a, int b);

#endif
