/*
 * target_run.h — one run of an external target, phase by phase, with the
 * load left to the caller: what the runner calls for a spec's `target`
 * variant once the HTTP load engine drives the load.
 *
 * Phases (README "A run, phase by phase"), on one absolute sampling
 * schedule (every sample_ms; each sample's lateness recorded):
 *   start     lb_target_start (own process group, capped logs, the
 *             keeper, the memory guard);
 *   ready     lb_target_wait_ready, then one probe reading: the baseline
 *             (for go_pprof also the first snapshot of the leak series);
 *   load      load.start(), then samples until load.done();
 *   settle    settle_ms more samples; recovery = the first settle sample
 *             from which live tasks stay at or below the baseline
 *             (metrics.c's rule, through lb_watch);
 *             at its end, for go_pprof, the debug=2 snapshot that becomes
 *             the leak report (goleak.c);
 *   shutdown  lb_target_stop with the signal and grace (outcome, time);
 *   exit.
 * Every sample holds RSS, threads and CPU of the whole process tree and
 * the last probe reading as its tasks (probes run on their own interval,
 * probe_ms; each reading's cost and lateness are recorded).  The memory
 * guard is enforced on every sample, the task guard on every probe
 * reading, the wall guard over the whole run (the three SIGKILL the
 * target, as does an interrupt);
 * a target that dies, fails to start or never gets ready ends the run
 * early with a reason, never a hang.
 *
 * Single-threaded: probes run in the sampling loop, so a slow probe shows
 * up as sample lateness (bounded by the probe's timeout).
 */
#ifndef LEAKBENCH_TARGET_RUN_H
#define LEAKBENCH_TARGET_RUN_H

#include "goleak.h"
#include "leakreport.h"
#include "metrics.h"
#include "probe.h"
#include "sampler.h"
#include "target.h"

#include <jansson.h>
#include <signal.h>

/* The load, provided by the caller (the HTTP load engine in its own
 * process).  start must not block; done is polled every sample; stop ends
 * the load early (guards, a dead target) and makes done true soon. */
typedef struct lb_target_load {
    int (*start)(void *arg, const lb_target *t); /* 0 or -errno */
    bool (*done)(void *arg);
    void (*stop)(void *arg);
    void *arg;
} lb_target_load;

typedef struct lb_target_run_config {
    lb_target_config target;
    lb_ready_kind ready;
    const char *ready_path; /* LB_READY_HTTP; NULL: "/" */
    int ready_timeout_ms;
    lb_probe_config probe;
    int probe_ms;  /* probe interval; 0: every sample */
    int sample_ms; /* 0: 10 */
    int settle_ms;
    int shutdown_signal; /* 0: SIGTERM */
    int shutdown_grace_ms;
    int wall_ms;         /* 0: no wall guard */
    int64_t tasks_limit; /* 0: no task guard; a probe reading above it SIGKILLs the target */
    volatile sig_atomic_t *interrupted; /* NULL, or non-zero to end the run (SIGINT, ...) */
    const char *own_dir; /* goleak's own-code directory; NULL: target.cwd, else leakbench's cwd */
    lb_target_load load; /* start NULL: no load phase */
    /* Optional (NULL: none): called with the running target after the
     * baseline reading (at = LB_PHASE_READY) and, when the run got that
     * far, at the end of settle before the shutdown (LB_PHASE_SETTLE). */
    void (*snapshot)(void *arg, const lb_target *t, lb_phase at);
    void *snapshot_arg;
    /* Optional: called after each sample is recorded (progress). */
    void (*on_sample)(void *arg, const lb_sample *s);
    void *on_sample_arg;
} lb_target_run_config;

/* Why a run ended before its phases were through. */
typedef enum lb_target_end {
    LB_TARGET_END_COMPLETE = 0,
    LB_TARGET_END_START_FAILED, /* could not be started (error) */
    LB_TARGET_END_NOT_READY,    /* exited before ready, or the readiness timeout passed */
    LB_TARGET_END_DIED,         /* every member exited during load or settle */
    LB_TARGET_END_GUARD,        /* the memory guard killed it */
    LB_TARGET_END_WALL,         /* the wall guard */
    LB_TARGET_END_TASK_GUARD,   /* the task guard: the probe read more than tasks_limit */
    LB_TARGET_END_INTERRUPTED,  /* *interrupted was set */
} lb_target_end;
const char *lb_target_end_name(lb_target_end e); /* "complete", "start failed", ... */

typedef struct lb_probe_stats {
    int64_t readings, failed;
    double cost_ms_median, cost_ms_max;
    double lateness_ms_median, lateness_ms_max;
    char last_error[400];
} lb_probe_stats;

typedef struct lb_target_run_result {
    lb_target_end end;
    char error[512]; /* the reason, when end != COMPLETE */
    lb_guard_mechanism guard;
    char guard_note[320];   /* why no cgroup, under RSS polling */
    char guard_reason[160]; /* when the guard fired */
    int port;               /* the port the target was given; -1 for none */
    double ready_ms;        /* start to ready; NaN if never */
    int64_t baseline_tasks; /* the ready-phase probe reading; -1 without one */
    lb_series series;
    lb_watch watch;
    lb_phase_times phases;
    lb_probe_stats probe;
    bool has_leaks; /* go_pprof: the report below */
    lb_leak_report leaks;
    lb_target_shutdown shutdown;
} lb_target_run_result;

/* Runs the phases.  0 when the run ended (see out->end, also for early
 * ends), or -ENOMEM.  Free out with lb_target_run_result_free.  No
 * process of the target is alive when it returns. */
int lb_target_run(const lb_target_run_config *c, lb_target_run_result *out);
void lb_target_run_result_free(lb_target_run_result *r);

/*
 * The "target" object of a run in results.json (README "External
 * targets"): the command (argv, cwd, port), how it ended, readiness, the
 * probe (kind, path, metric, labels, interval, readings, failures, cost
 * and lateness medians and maxima, last error), the memory guard
 * (mechanism, why no cgroup, whether it fired and why), the exit status
 * of the started process and the shutdown (signal, grace, outcome, time,
 * processes left).  Unknown numbers are null.  NULL on allocation failure.
 */
json_t *lb_target_run_json(const lb_target_run_config *c, const lb_target_run_result *r);

#endif
