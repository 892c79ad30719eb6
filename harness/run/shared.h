/*
 * shared.h — the memory a run's child shares with the parent.
 *
 * The parent maps one anonymous MAP_SHARED region before fork; the child's
 * runtime writes its task counters into it (rt_config.counters), the
 * harness code in the child writes request outcomes, phase marks, the
 * latency histograms (lb_shared_record_request) and finally the leak
 * report.  The parent reads it while sampling (counters, phase) and after
 * the child has exited (all of it).  Every field read during the run is an
 * atomic updated with relaxed ordering: a reader sees each value exactly,
 * not all at one instant.  The leak report is written once, before the
 * child publishes the "exit" phase with release ordering; the parent reads
 * it only after seeing that phase (acquire) or after reaping the child.
 */
#ifndef LEAKBENCH_SHARED_H
#define LEAKBENCH_SHARED_H

#include "runtime/rt.h"
#include "scenarios/scenario.h"
#include "histogram.h"
#include "http_load.h"
#include "leakreport.h"

#include <stdatomic.h>
#include <stdint.h>

typedef enum lb_phase {
    LB_PHASE_START = 0, /* forked, building the pipeline */
    LB_PHASE_READY,
    LB_PHASE_LOAD,
    LB_PHASE_SETTLE,
    LB_PHASE_SHUTDOWN,
    LB_PHASE_EXIT,
    LB_PHASE_COUNT
} lb_phase;
const char *lb_phase_name(lb_phase p); /* "start", "ready", "load", ... */

/* Child-side failures reported to the parent (besides the exit status). */
typedef enum lb_child_error {
    LB_CHILD_OK = 0,
    LB_CHILD_RT_START, /* rt_run failed (error in child_rt_error) */
    LB_CHILD_SETUP,    /* variant.setup returned NULL */
    LB_CHILD_NO_MEMORY,
    LB_CHILD_LOAD, /* the HTTP load process failed (why in load_error) */
} lb_child_error;

typedef struct lb_shared {
    rt_counters rt; /* written by the runtime */

    _Atomic int phase;                           /* lb_phase */
    _Atomic int64_t phase_at_ns[LB_PHASE_COUNT]; /* CLOCK_MONOTONIC when entered */
    _Atomic int64_t shutdown_done_ns;            /* 0 = tasks never drained */
    _Atomic int64_t ready_tasks;                 /* live tasks at the end of the ready phase */
    _Atomic int final_sampled;                   /* parent: "took the exit-phase sample, go" */

    _Atomic int64_t submitted;
    _Atomic int64_t outcome[LB_OUTCOME_COUNT];
    _Atomic int64_t spawn_failures; /* client tasks that could not be started */

    lb_histogram latency;           /* us: every request, a timed-out one at its deadline */
    lb_histogram latency_completed; /* us: only the requests that completed */
    lb_histogram arrival_lateness;  /* us: open loads in the child, submitted - scheduled */
    lb_http_stats http;             /* written by the HTTP load engine's process (http_load.h) */

    _Atomic int child_error;    /* lb_child_error */
    _Atomic int child_rt_error; /* negative errno from rt_run */
    lb_leak_report leaks;       /* valid once phase == EXIT */
    char load_error[256];       /* the HTTP load process's failure, written before it exits */
} lb_shared;

/* Publishes phase p, stamped now (CLOCK_MONOTONIC), with release order. */
void lb_shared_enter_phase(lb_shared *sh, lb_phase p);
/* Records one finished request: its outcome, and its latency (`us`,
 * microseconds from arrival to the end) in `latency` and, when it
 * completed, in `latency_completed`.  Safe from many tasks at once. */
void lb_shared_record_request(lb_shared *sh, lb_outcome outcome, uint64_t us);
/* Outside the runtime: waits up to 2 s for the parent's final sample
 * (final_sampled), so it sees the process as it ends. */
void lb_shared_wait_final_sample(lb_shared *sh);

lb_shared *lb_shared_map(void); /* NULL on failure (errno-free: logs nothing) */
void lb_shared_unmap(lb_shared *s);

#endif
