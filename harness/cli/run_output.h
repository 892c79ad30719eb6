/*
 * run_output.h — the last step of `run` and `merge`: the staging
 * directory (core/rundir.h) replaces the run directory when everything
 * was written into it, or is thrown away so the run directory stays as it
 * was; then the "results:" and "report:" lines.  One function, so both
 * commands keep a run directory all-or-nothing by the same rule.
 */
#ifndef LEAKBENCH_RUN_OUTPUT_H
#define LEAKBENCH_RUN_OUTPUT_H

#include "core/rundir.h"
#include "report/report.h"

#include <stdbool.h>
#include <stdio.h>

/* SHOWN_DIR is the directory as the user named it (-o), WHO names the
 * messages ("run", "merge").  REPORT is NULL when no report
 * was rendered.  A missing or failed gnuplot does not keep the new run out
 * (the report says its charts are missing); results or report files not
 * written whole do.  The lines go to HUMAN unless QUIET.  Returns
 * EXIT_CODE, or LB_EXIT_ERROR when the swap failed. */
int lb_run_output_commit(lb_rundir *rd, const char *shown_dir, const char *who,
                         bool results_written, const lb_report_result *report, bool quiet,
                         FILE *human, int exit_code);

#endif
