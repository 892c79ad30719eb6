/*
 * baseline.h — named baselines for the everyday flow:
 *
 *   leakbench run --save-baseline main scenarios/quick.json   # on main
 *   leakbench run --baseline main scenarios/quick.json        # on a branch
 *
 * A baseline is a results file stored as DIR/NAME.json, DIR being
 * $LEAKBENCH_BASELINE_DIR or reports/baselines.  Names are 1-64 of
 * [A-Za-z0-9._-], not starting with '.', so a name never escapes DIR.
 * Saved baselines keep everything compare needs but drop the per-sample
 * time series (runs[].samples.rows), which can be megabytes.  --baseline
 * compares the new run against it exactly like `leakbench compare` and
 * its verdict joins the run's exit code.
 */
#ifndef LEAKBENCH_BASELINE_H
#define LEAKBENCH_BASELINE_H

#include "compare.h"

#include <jansson.h>
#include <stddef.h>

#define LB_BASELINE_DIR_DEFAULT "reports/baselines"

/* Fills path with DIR/NAME.json; -EINVAL with err for a bad name. */
int lb_baseline_path(const char *name, char *path, size_t len, char *err, size_t errlen);
/* Stores results as baseline name (atomically, creating DIR). */
int lb_baseline_save(const char *name, const json_t *results, char *err, size_t errlen);
/* Loads baseline name (through run/results_load.h) and compares results
 * against it into *out.  -ENOENT with err saying how to create it when
 * the baseline does not exist; the loader's code and message when it is
 * unreadable or invalid. */
int lb_baseline_compare(const char *name, const json_t *results, const lb_compare_opts *opts,
                        lb_comparison *out, char *err, size_t errlen);

#endif
