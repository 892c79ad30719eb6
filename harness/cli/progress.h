/*
 * progress.h — what `leakbench run` says while it runs.
 *
 * On a terminal (stderr is a TTY): one line rewritten in place about five
 * times a second (run, phase, elapsed time, live tasks, RSS).  Otherwise
 * (CI logs): one plain line per second.  Quiet: nothing.  Each finished
 * run gets one closing line either way (unless quiet).
 */
#ifndef LEAKBENCH_PROGRESS_H
#define LEAKBENCH_PROGRESS_H

#include "run/runner.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct lb_progress {
    FILE *out;
    bool tty, quiet;
    int64_t last_ns;
    int run_index, run_total; /* 1-based position of the current run */
    bool line_open;           /* a TTY line is on screen without newline */
} lb_progress;

void lb_progress_init(lb_progress *p, FILE *out, bool quiet, int run_total);
void lb_progress_run_start(lb_progress *p, const lb_scenario_spec *s, bool leaky, int rep);
/* An lb_progress_fn. */
void lb_progress_sample(void *arg, const lb_run_result *run, const lb_sample *s);
void lb_progress_run_done(lb_progress *p, const lb_run_result *run);

#endif
