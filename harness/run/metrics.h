/*
 * metrics.h — the numbers a run is judged by, computed in the parent.
 *
 * A metric that could not be measured is NaN here and null in
 * results.json, never a made-up number.  lb_watch is fed every sample as
 * it is taken (so peaks and recovery use every tick, not the decimated
 * series); lb_metrics_finish turns it, the stored series and the child's
 * shared counters into lb_metrics.
 *
 * Rules (also in the README):
 *  - baseline: tasks = live tasks the child counted at the end of its
 *    ready phase; RSS = the last RSS sample of the ready phase.
 *  - peak: the largest sample over the whole run; final: the last sample
 *    taken, the exit-phase one (after shutdown, while leaked tasks are
 *    still alive; the runner takes none while the child tears down).
 *  - RSS slope: Theil-Sen estimate (median of pairwise slopes) over the
 *    load-phase samples (at most LB_SLOPE_MAX_POINTS, evenly thinned);
 *    "rising" when slope x load duration >= max(4 MiB, 10% of baseline
 *    RSS), else "stable"; null with fewer than 3 load samples.
 *  - task slope: live tasks per second, the same Theil-Sen estimate over
 *    the same samples (the report's "unbounded: +N tasks/s").
 *  - recovery: from the end of load to the first settle-phase sample with
 *    tasks <= baseline after which every settle sample stays <= baseline;
 *    resolution = the sample interval.  Not reached before the settle
 *    window ends: recovered = false, recovery_ms = null ("restart
 *    required").
 *  - shutdown: from cancelling the root context until only the child's
 *    main task is alive, measured in the child; null if that does not
 *    happen within shutdown_grace_ms.
 */
#ifndef LEAKBENCH_METRICS_H
#define LEAKBENCH_METRICS_H

#include "sampler.h"
#include "shared.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define LB_SLOPE_MAX_POINTS      400
#define LB_RISING_MIN_BYTES      (4.0 * 1024 * 1024)
#define LB_RISING_BASELINE_SHARE 0.10

typedef struct lb_watch {
    int64_t baseline_tasks; /* -1 until known */
    double baseline_rss;    /* NaN until a ready sample */
    double peak_tasks, peak_rss, peak_threads;
    lb_sample last;
    bool have_last;
    double recovery_candidate_s; /* NaN = none; time of the first sample of the current run of
                                    samples at or below baseline */
    bool settle_seen;            /* a settle-phase sample was taken */
} lb_watch;

void lb_watch_init(lb_watch *w);
void lb_watch_observe(lb_watch *w, const lb_sample *s, int64_t baseline_tasks);

typedef struct lb_latency {
    double count, mean, p50, p90, p99, p999, max; /* ms; NaN when no requests */
} lb_latency;

typedef struct lb_accounting {
    int64_t submitted;
    int64_t outcome[LB_OUTCOME_COUNT];
    int64_t unanswered;     /* submitted - sum of outcomes: requests still inside handle */
    int64_t spawn_failures; /* client tasks that could not be started (counted as failed) */
    bool balanced;
} lb_accounting;

typedef struct lb_metrics {
    double baseline_tasks, peak_tasks, final_tasks;
    double baseline_rss, peak_rss, final_rss, peak_threads;
    double rss_slope;  /* bytes/s */
    double task_slope; /* live tasks/s */
    const char *trend; /* "rising", "stable" or NULL */
    bool recovered;
    double recovery_ms, shutdown_ms;
    double leaked_tasks;
    double throughput_rps;
    double cpu_user_s, cpu_sys_s;
    lb_latency latency;             /* every request; a timed-out one counts its deadline */
    lb_histogram latency_completed; /* us: the completed requests only */
} lb_metrics;

/* Phase times in seconds since the run's start; NaN when not reached. */
typedef struct lb_phase_times {
    double at_s[LB_PHASE_COUNT];
} lb_phase_times;

/* Theil-Sen slope of y over x (n points); NaN when n < 2 or x constant. */
double lb_theil_sen(const double *x, const double *y, size_t n);
/* "rising" or "stable" by the rule above. */
const char *lb_rss_trend(double slope, double load_s, double baseline_rss);

lb_accounting lb_accounting_of(const lb_shared *sh);
lb_latency lb_latency_of(const lb_histogram *h);

void lb_metrics_finish(const lb_watch *w, const lb_series *series, const lb_phase_times *ph,
                       const lb_shared *sh, bool child_reported, double shutdown_ms, lb_metrics *m);

/* Median of n values (the array is sorted in place); NaN when n == 0. */
double lb_median(double *v, size_t n);

#endif
