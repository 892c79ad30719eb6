/*
 * changepoint.c — step detection over a metric's history by binary
 * segmentation (the method and its three tests are described in
 * changepoint.h).
 *
 * Cost: each segment tries every split and takes two medians per split,
 * so a series of n values costs O(n^2 log n) per level of segmentation;
 * lb_changepoints refuses more than LB_CHANGEPOINT_MAX_N values.  Scratch
 * space is one n-sized buffer, allocated once.
 */
#include "changepoint.h"
#include "core/stats.h"
#include "run/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct search {
    const double *x;
    const lb_changepoint_opts *o;
    double *scratch; /* n values */
    lb_changepoint_result *out;
    int err;
} search;

static double median_of(search *s, size_t lo, size_t hi)
{
    memcpy(s->scratch, s->x + lo, (hi - lo) * sizeof *s->scratch);
    return lb_stats_median(s->scratch, hi - lo);
}

static double mean_of(const double *x, size_t lo, size_t hi)
{
    double sum = 0;
    for (size_t i = lo; i < hi; i++) sum += x[i];
    return sum / (double)(hi - lo);
}

/* Residual sum of squares of two levels (means of each side of k) and of
 * the least-squares line, over x[lo..hi). */
static void step_and_line_rss(const double *x, size_t lo, size_t k, size_t hi, double *step,
                              double *line)
{
    double ml = mean_of(x, lo, k), mr = mean_of(x, k, hi);
    double tm = (double)(lo + hi - 1) / 2, ym = mean_of(x, lo, hi);
    double sxy = 0, sxx = 0;
    for (size_t i = lo; i < hi; i++) {
        sxy += ((double)i - tm) * (x[i] - ym);
        sxx += ((double)i - tm) * ((double)i - tm);
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    *step = *line = 0;
    for (size_t i = lo; i < hi; i++) {
        double d = x[i] - (i < k ? ml : mr);
        double e = x[i] - (ym + slope * ((double)i - tm));
        *step += d * d;
        *line += e * e;
    }
}

static double relative_change(double before, double after)
{
    if (before == 0) return after == 0 ? 0 : after > 0 ? INFINITY : -INFINITY;
    return (after - before) / fabs(before);
}

/* The split of x[lo..hi) whose two-median model fits best: the smallest
 * sum of absolute deviations of each side from its own median (an L1
 * cost, so one wild value barely moves it).  SIZE_MAX when the segment is
 * too short. */
static size_t best_split(search *s, size_t lo, size_t hi, size_t *tried)
{
    size_t m = s->o->min_segment, best = SIZE_MAX;
    double best_cost = INFINITY;
    *tried = 0;
    if (hi - lo < 2 * m) return SIZE_MAX;
    for (size_t k = lo + m; k + m <= hi; k++) {
        double ml = median_of(s, lo, k), mr = median_of(s, k, hi);
        double cost = 0;
        for (size_t i = lo; i < hi; i++) cost += fabs(s->x[i] - (i < k ? ml : mr));
        (*tried)++;
        if (cost < best_cost) {
            best_cost = cost;
            best = k;
        }
    }
    return best;
}

/* Is the split at k of x[lo..hi) a step by the three tests? */
static bool is_step(search *s, size_t lo, size_t k, size_t hi, size_t tried, lb_changepoint *cp)
{
    const lb_changepoint_opts *o = s->o;
    lb_mwu u;
    int rc = lb_mann_whitney(s->x + lo, k - lo, s->x + k, hi - k, &u);
    if (rc) {
        s->err = rc;
        return false;
    }
    double before = median_of(s, lo, k), after = median_of(s, k, hi);
    double change = relative_change(before, after);
    if (u.p * (double)tried >= o->alpha || fabs(change) < o->min_change) return false;
    /* Step or ramp?  Judged on a window around k, so that a staircase of
     * several steps is still seen as steps one at a time. */
    size_t w = 2 * o->min_segment;
    size_t wlo = k - lo > w ? k - w : lo, whi = hi - k > w ? k + w : hi;
    double step_rss, line_rss;
    step_and_line_rss(s->x, wlo, k, whi, &step_rss, &line_rss);
    if (step_rss > o->step_vs_line * line_rss) return false;
    *cp =
        (lb_changepoint){.index = k, .before = before, .after = after, .change = change, .p = u.p};
    return true;
}

static void add_point(lb_changepoint_result *r, const lb_changepoint *cp)
{
    size_t cap = sizeof r->points / sizeof r->points[0];
    if (r->n_points == cap) return;
    size_t i = r->n_points++;
    while (i > 0 && r->points[i - 1].index > cp->index) {
        r->points[i] = r->points[i - 1];
        i--;
    }
    r->points[i] = *cp;
}

static void segment(search *s, size_t lo, size_t hi, int depth)
{
    if (s->err || depth > 64) return;
    size_t tried;
    size_t k = best_split(s, lo, hi, &tried);
    lb_changepoint cp;
    if (k == SIZE_MAX || !is_step(s, lo, k, hi, tried, &cp)) return;
    add_point(s->out, &cp);
    segment(s, lo, k, depth + 1);
    segment(s, k, hi, depth + 1);
}

/* Mann–Kendall trend test over the whole series; sets out->drift. */
static void find_drift(search *s, size_t n)
{
    double S = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) S += (s->x[j] > s->x[i]) - (s->x[j] < s->x[i]);
    double var = (double)n * (double)(n - 1) * (2.0 * (double)n + 5) / 18;
    if (var <= 0) return;
    double z = (fabs(S) - 1) / sqrt(var);
    double p = erfc(z / sqrt(2.0));
    double *t = malloc(n * sizeof *t);
    if (!t) {
        s->err = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++) t[i] = (double)i;
    double slope = lb_theil_sen(t, s->x, n);
    free(t);
    double med = median_of(s, 0, n);
    double total = slope * (double)(n - 1);
    if (p < s->o->alpha && isfinite(slope) &&
        fabs(relative_change(med, med + total)) >= s->o->min_change) {
        s->out->drift = true;
        s->out->drift_per_point = slope;
    }
}

int lb_changepoints(const double *x, size_t n, const lb_changepoint_opts *opts,
                    lb_changepoint_result *out)
{
    memset(out, 0, sizeof *out);
    if (!opts || opts->min_segment < 2 || !(opts->alpha > 0 && opts->alpha < 1) ||
        !(opts->min_change >= 0) || !(opts->step_vs_line > 0))
        return -EINVAL;
    if (n > LB_CHANGEPOINT_MAX_N) return -E2BIG;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return -EINVAL;
    if (n < 2 * opts->min_segment) return 0;
    search s = {.x = x, .o = opts, .out = out, .scratch = malloc(n * sizeof(double))};
    if (!s.scratch) return -ENOMEM;
    segment(&s, 0, n, 0);
    if (!s.err && out->n_points == 0) find_drift(&s, n);
    free(s.scratch);
    return s.err;
}
