/*
 * metrics.c — peaks, slope, recovery, accounting and latency (metrics.h).
 */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double lb_median(double *v, size_t n)
{
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double lb_theil_sen(const double *x, const double *y, size_t n)
{
    if (n < 2) return NAN;
    size_t pairs = n * (n - 1) / 2, m = 0;
    double *slopes = malloc(pairs * sizeof *slopes);
    if (!slopes) return NAN;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (x[j] != x[i]) slopes[m++] = (y[j] - y[i]) / (x[j] - x[i]);
    double med = lb_median(slopes, m);
    free(slopes);
    return med;
}

const char *lb_rss_trend(double slope, double load_s, double baseline_rss)
{
    if (isnan(slope) || isnan(load_s)) return NULL;
    double limit = LB_RISING_MIN_BYTES;
    if (!isnan(baseline_rss) && baseline_rss * LB_RISING_BASELINE_SHARE > limit)
        limit = baseline_rss * LB_RISING_BASELINE_SHARE;
    return slope * load_s >= limit ? "rising" : "stable";
}

void lb_watch_init(lb_watch *w)
{
    memset(w, 0, sizeof *w);
    w->baseline_tasks = -1;
    w->baseline_rss = NAN;
    w->peak_tasks = w->peak_rss = w->peak_threads = NAN;
    w->recovery_candidate_s = NAN;
}

static double max_nan(double a, double b)
{
    return isnan(a) || b > a ? b : a;
}

void lb_watch_observe(lb_watch *w, const lb_sample *s, int64_t baseline_tasks)
{
    if (s->phase >= LB_PHASE_READY) {
        w->peak_tasks = max_nan(w->peak_tasks, (double)s->tasks);
        w->peak_rss = max_nan(w->peak_rss, (double)s->rss_bytes);
        w->peak_threads = max_nan(w->peak_threads, (double)s->threads);
    }
    if (s->phase == LB_PHASE_READY) w->baseline_rss = (double)s->rss_bytes;
    if (baseline_tasks >= 0) w->baseline_tasks = baseline_tasks;
    if (s->phase == LB_PHASE_SETTLE && w->baseline_tasks >= 0) {
        w->settle_seen = true;
        if (s->tasks <= w->baseline_tasks) {
            if (isnan(w->recovery_candidate_s)) w->recovery_candidate_s = s->t_s;
        } else {
            w->recovery_candidate_s = NAN;
        }
    }
    w->last = *s;
    w->have_last = true;
}

lb_accounting lb_accounting_of(const lb_shared *sh)
{
    lb_accounting a;
    memset(&a, 0, sizeof a);
    a.submitted = atomic_load(&((lb_shared *)sh)->submitted);
    int64_t sum = 0;
    for (int o = 0; o < LB_OUTCOME_COUNT; o++) {
        a.outcome[o] = atomic_load(&((lb_shared *)sh)->outcome[o]);
        sum += a.outcome[o];
    }
    a.spawn_failures = atomic_load(&((lb_shared *)sh)->spawn_failures);
    a.unanswered = a.submitted - sum;
    a.balanced = a.unanswered == 0;
    return a;
}

lb_latency lb_latency_of(const lb_histogram *h)
{
    lb_latency l;
    uint64_t count = atomic_load(&((lb_histogram *)h)->count);
    l.count = (double)count;
    if (count == 0) {
        l.mean = l.p50 = l.p90 = l.p99 = l.p999 = l.max = NAN;
        return l;
    }
    l.mean = lb_hist_mean_us(h) / 1000;
    l.p50 = lb_hist_quantile_us(h, 0.50) / 1000;
    l.p90 = lb_hist_quantile_us(h, 0.90) / 1000;
    l.p99 = lb_hist_quantile_us(h, 0.99) / 1000;
    l.p999 = lb_hist_quantile_us(h, 0.999) / 1000;
    l.max = (double)atomic_load(&((lb_histogram *)h)->max_us) / 1000;
    return l;
}

/* The value of one sample a load-phase slope is taken of. */
typedef double (*sample_value_fn)(const lb_sample *s);

static double sample_rss(const lb_sample *s)
{
    return (double)s->rss_bytes;
}

static double sample_tasks(const lb_sample *s)
{
    return (double)s->tasks;
}

/* Theil-Sen slope of VALUE over time across the load-phase rows of the
 * series (at most LB_SLOPE_MAX_POINTS of them, evenly thinned); NaN with
 * fewer than three. */
static double load_slope(const lb_series *series, sample_value_fn value)
{
    size_t n = 0;
    for (size_t i = 0; i < series->n; i++)
        if (series->rows[i].phase == LB_PHASE_LOAD) n++;
    if (n < 3) return NAN;
    size_t keep = n < LB_SLOPE_MAX_POINTS ? n : LB_SLOPE_MAX_POINTS;
    double *x = malloc(keep * sizeof *x), *y = malloc(keep * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return NAN;
    }
    /* Thin evenly: the k-th kept point is load row floor(k * n / keep). */
    size_t seen = 0, k = 0;
    for (size_t i = 0; i < series->n && k < keep; i++) {
        if (series->rows[i].phase != LB_PHASE_LOAD) continue;
        if (seen == k * n / keep) {
            x[k] = series->rows[i].t_s;
            y[k] = value(&series->rows[i]);
            k++;
        }
        seen++;
    }
    double slope = k >= 3 ? lb_theil_sen(x, y, k) : NAN;
    free(x);
    free(y);
    return slope;
}

void lb_metrics_finish(const lb_watch *w, const lb_series *series, const lb_phase_times *ph,
                       const lb_shared *sh, bool child_reported, double shutdown_ms, lb_metrics *m)
{
    m->baseline_tasks = w->baseline_tasks >= 0 ? (double)w->baseline_tasks : NAN;
    m->baseline_rss = w->baseline_rss;
    m->peak_tasks = w->peak_tasks;
    m->peak_rss = w->peak_rss;
    m->peak_threads = w->peak_threads;
    m->final_tasks = w->have_last ? (double)w->last.tasks : NAN;
    m->final_rss = w->have_last ? (double)w->last.rss_bytes : NAN;

    /* A run stopped during load (guard) is judged on the load it got. */
    double load_end = ph->at_s[LB_PHASE_SETTLE];
    if (isnan(load_end) && w->have_last) load_end = w->last.t_s;
    double load_s = load_end - ph->at_s[LB_PHASE_LOAD];
    m->rss_slope = load_slope(series, sample_rss);
    m->task_slope = load_slope(series, sample_tasks);
    m->trend = lb_rss_trend(m->rss_slope, load_s, m->baseline_rss);

    /* Recovery is only decided once the settle window has ended. */
    bool settle_over = !isnan(ph->at_s[LB_PHASE_SHUTDOWN]);
    m->recovered = settle_over && w->settle_seen && !isnan(w->recovery_candidate_s);
    m->recovery_ms = NAN;
    if (m->recovered) {
        double ms = (w->recovery_candidate_s - ph->at_s[LB_PHASE_SETTLE]) * 1000;
        m->recovery_ms = ms < 0 ? 0 : ms;
    }
    m->shutdown_ms = shutdown_ms;
    m->leaked_tasks = child_reported ? (double)sh->leaks.total : NAN;

    int64_t completed = atomic_load(&((lb_shared *)sh)->outcome[LB_COMPLETED]);
    m->throughput_rps = load_s > 0 ? (double)completed / load_s : NAN;
    m->latency = lb_latency_of(&sh->latency);
    lb_hist_copy(&m->latency_completed, &sh->latency_completed);
    m->cpu_user_s = m->cpu_sys_s = NAN; /* filled from wait4's rusage by the runner */
}
