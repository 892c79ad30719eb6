/*
 * progress.h — what `leakbench run` says while it runs.
 *
 * On a terminal (stderr is a TTY): one line rewritten in place about five
 * times a second, fitted to the terminal's width (terminal.h; asked
 * again at every repaint, so a resized window is followed), with what k6
 * shows: run i of n, the current phase with a
 * bar and its percentage, requests submitted and timed out, live tasks,
 * RSS, the whole run's percentage and an ETA.  What does not fit is left
 * out, least important first.  Otherwise (CI logs): one plain line per
 * second with the same content and no bar.  Quiet: nothing.  Each
 * finished run gets one closing line either way (unless quiet).
 *
 * The ETA is the load and settle time still planned (the specs' durations)
 * plus, per run still to come, the time a finished run took beyond its
 * planned load and settle (start-up, ready, shutdown), as measured so far;
 * none before the first run has finished.
 */
#ifndef LEAKBENCH_PROGRESS_H
#define LEAKBENCH_PROGRESS_H

#include "run/runner.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Everything the progress line shows, for one moment of one run. */
typedef struct lb_progress_view {
    int run_index, run_total; /* 1-based */
    const char *scenario, *variant;
    int rep;
    int phase;             /* lb_phase */
    double phase_done;     /* 0..1 of the current phase; NaN when it has no planned length */
    double t_s;            /* since the run's start */
    double all_done;       /* 0..1 of every run; NaN when unknown */
    double eta_s;          /* until every run is done; NaN when unknown */
    bool has_requests;     /* the samples count requests (a target's load does not) */
    int64_t submitted;     /* requests so far in this run */
    int64_t timed_out;     /* of them, timed out */
    const char *live_noun; /* "tasks", "goroutines" or "threads"; NULL: tasks */
    int64_t tasks;         /* live tasks */
    int64_t rss_bytes;     /* resident memory */
} lb_progress_view;

/* The line for view, at most width columns (UTF-8 characters) wide, with
 * a bar when bar is set; width 0 means no limit.  Into buf (size n,
 * always terminated); returns buf. */
char *lb_progress_format(const lb_progress_view *view, int width, bool bar, char *buf, size_t n);

/* Seconds of load and settle a spec plans per run (the part of a run
 * whose length is known in advance). */
double lb_progress_planned_s(const lb_scenario_spec *s);

typedef struct lb_progress {
    FILE *out;
    bool tty, quiet;
    int64_t last_ns;
    int run_index, run_total; /* 1-based position of the current run */
    bool line_open;           /* a TTY line is on screen without newline */
    double planned_total_s;   /* lb_progress_planned_s over every run */
    double planned_done_s;    /* of finished runs */
    double wall_done_s;       /* how long the finished runs took */
    double overhead_done_s;   /* beyond their planned time */
    int runs_done;            /* runs finished */
    int64_t run_start_ns;     /* CLOCK_MONOTONIC when the current run started */
    int phase;                /* of the last sample of the current run */
    double phase_at_s;        /* when that phase was first seen */
} lb_progress;

void lb_progress_init(lb_progress *p, FILE *out, bool quiet, int run_total, double planned_total_s);
void lb_progress_run_start(lb_progress *p, const lb_scenario_spec *s, bool leaky, int rep);
/* An lb_progress_fn. */
void lb_progress_sample(void *arg, const lb_run_result *run, const lb_sample *s);
void lb_progress_run_done(lb_progress *p, const lb_run_result *run);

#endif
