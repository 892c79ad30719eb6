/*
 * runner.h — runs one (scenario, variant, repetition) in a child process
 * and watches it from outside.
 *
 * The parent forks (it stays single-threaded), then samples the child on
 * an absolute-time schedule (clock_nanosleep with TIMER_ABSTIME) every
 * sample_ms: RSS, OS threads and CPU time from /proc/<pid>, live tasks,
 * per-operation blocked counts and request counters from the shared page.
 * Each sample's lateness is recorded.  Guards are checked on every tick:
 * a memory (RSS), task or wall-time limit that is crossed gets the child
 * SIGKILLed and is recorded as the run's result, like a container OOM
 * kill.  SIGINT or SIGTERM (lb_runner_install_signals) stops the run the
 * same way and marks it interrupted.
 *
 * A run over HTTP (spec "transport": "http") has a second process: the
 * child serves the variant on a socket the parent bound before forking,
 * and a load process (http_load_run.h) sends the requests and drives the
 * phases; the parent samples the server child and reaps both.  With a
 * url target the load process is the only child and nothing of the target
 * is sampled.
 */
#ifndef LEAKBENCH_RUNNER_H
#define LEAKBENCH_RUNNER_H

#include "histogram.h"
#include "load_schedule.h"
#include "metrics.h"
#include "sampler.h"
#include "shared.h"
#include "core/spec.h"

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

typedef enum lb_run_status {
    LB_RUN_COMPLETED = 0,
    LB_RUN_GUARD_KILLED,
    LB_RUN_CRASHED, /* the child died or failed on its own */
    LB_RUN_INTERRUPTED,
    LB_RUN_TARGET_FAILED, /* a target that could not start, never got ready or exited */
} lb_run_status;
const char *lb_run_status_name(lb_run_status s); /* "completed", "guard_killed", ... */

typedef struct lb_guard_event {
    const char *kind; /* "memory", "tasks", "wall" */
    double at_s;      /* since the run's start */
    double value, limit;
} lb_guard_event;

typedef struct lb_sampler_stats {
    double interval_ms;
    int64_t ticks;         /* samples taken */
    lb_histogram lateness; /* microseconds */
    double cpu_s;          /* the parent's CPU time while sampling this run */
    bool realtime;         /* it sampled at real-time priority (lb_sampler_priority_raise) */
} lb_sampler_stats;

/* What the HTTP load engine reported (results.json "http"). */
typedef struct lb_http_run_result {
    bool active; /* an HTTP run */
    int connections;
    int64_t failed_by[LB_HTTP_CAUSE_COUNT];
    int64_t connections_opened, deadline_closes, waited, expired_unsent, sleeps;
    lb_latency send_lateness; /* ms */
    double engine_cpu_s;      /* user + system CPU of the load process; NaN if not reaped */
    double engine_cpu_wait_s; /* the engine runnable but waiting for a CPU; NaN if unknown */
} lb_http_run_result;

typedef struct lb_run_result {
    const lb_scenario_spec *spec;
    bool leaky;
    int rep;
    lb_run_status status;
    int exit_code, exit_signal;
    char error[768]; /* why a crashed or failed run failed, "" otherwise */
    bool guard_fired;
    lb_guard_event guard;
    lb_guards limits; /* the guards as resolved for this run */
    lb_phase_times phases;
    lb_metrics metrics;
    lb_accounting accounting;
    bool has_leaks;
    lb_leak_report leaks;
    lb_sampler_stats sampler;
    lb_series series;
    lb_http_run_result http;
    json_t *target; /* a target run: its "target" object (target_runner.h), owned; else NULL */
    lb_load_schedule schedule; /* did the load generator keep its schedule */
} lb_run_result;

/* Called after each sample (from the parent's sampling loop). */
typedef void (*lb_progress_fn)(void *arg, const lb_run_result *run, const lb_sample *s);

typedef struct lb_run_options {
    size_t series_cap; /* 0 = LB_SERIES_DEFAULT_CAP */
    lb_progress_fn progress;
    void *progress_arg;
    const char *log_dir; /* target runs: where their stdout and stderr go (NULL: discarded) */
} lb_run_options;

/* The signal that interrupted the runs, 0 if none. */
extern volatile sig_atomic_t lb_interrupted;
/* Installs SIGINT, SIGTERM, SIGHUP and SIGPIPE handlers that set
 * lb_interrupted. */
void lb_runner_install_signals(void);

/*
 * Runs one child to the end (or until a guard fires or an interrupt) and
 * fills out.  0 when the run was carried out (whatever its status), or a
 * negative errno when it could not be (fork, mmap...).  Free out with
 * lb_run_result_free.
 */
int lb_run_one(const lb_scenario_spec *spec, bool leaky, int rep, const lb_guards *limits,
               const lb_run_options *opt, lb_run_result *out);
void lb_run_result_free(lb_run_result *r);

/* leakbench's own CPU time so far (user + system), for sampler.cpu_s. */
double lb_parent_cpu_s(void);

/* What the HTTP load engine reported into sh (out->http), with the load
 * process's CPU from usage (NULL: not reaped, NaN). */
struct rusage;
void lb_run_http_result(const lb_shared *sh, const struct rusage *usage, lb_run_result *out);

/* Whether the load generator kept its schedule (out->schedule,
 * load_schedule.h), from sh and out's phases and accounting: the load ran
 * from its start to the settle phase, or to STOPPED_S (seconds since the
 * run's start; NaN: unknown) if it never got there. */
void lb_run_schedule_result(const lb_shared *sh, double stopped_s, lb_run_result *out);

#endif
