/*
 * changepoint.h — finds step changes in a metric's history (one value per
 * commit, oldest first), for `history --detect`.
 *
 * A change point is a commit after which the metric sits at a new level
 * and stays there: a step, not a single outlier and not a slow drift.
 * The method is binary segmentation, in the spirit of Hunter/Otava's
 * E-divisive and asv's step detection, with tests a CI user can read:
 *
 *   1. In a segment, every split that leaves at least min_segment values
 *      on each side is scored by how well two levels fit it: the sum of
 *      absolute deviations of each side from its own median (robust to
 *      outliers: one wild value moves neither median much).  The best
 *      split is the candidate.
 *   2. The best split is a change point when the two sides differ by a
 *      two-sided Mann–Whitney U test at level alpha (Bonferroni-corrected
 *      for the splits tried), the medians differ by at least min_change
 *      (relative), and a step explains the segment clearly better than a
 *      straight line does (residual sum of squares of the two-level model
 *      at most step_vs_line times that of the least-squares line).  A
 *      steady ramp fails the last test: it is reported as a drift of the
 *      whole series (Theil–Sen slope, Kendall-style sign test), never as
 *      a run of small steps.
 *   3. Both sides are searched again, until no segment splits.
 *
 * Everything is deterministic and allocation is bounded by n.
 */
#ifndef LEAKBENCH_CHANGEPOINT_H
#define LEAKBENCH_CHANGEPOINT_H

#include <stdbool.h>
#include <stddef.h>

/* Longer series are refused (-E2BIG): the search is O(n^2 log n). */
#define LB_CHANGEPOINT_MAX_N 5000

typedef struct lb_changepoint_opts {
    size_t min_segment;  /* values needed on each side of a step (>= 2) */
    double alpha;        /* significance level, before the Bonferroni correction */
    double min_change;   /* smallest relative change of the median that counts */
    double step_vs_line; /* a step must leave at most this share of a line's residuals */
} lb_changepoint_opts;

#define LB_CHANGEPOINT_DEFAULTS                                                                    \
    ((lb_changepoint_opts){                                                                        \
        .min_segment = 3, .alpha = 0.05, .min_change = 0.05, .step_vs_line = 0.5})

typedef struct lb_changepoint {
    size_t index;         /* first value at the new level */
    double before, after; /* medians of the segments on either side */
    double change;        /* (after - before) / |before|; +/-INFINITY from 0 */
    double p;             /* Mann–Whitney p-value of the split (uncorrected) */
} lb_changepoint;

typedef struct lb_changepoint_result {
    size_t n_points;           /* change points found, in index order */
    lb_changepoint points[32]; /* at most 32 are kept */
    bool drift;                /* no step, but the series trends as a whole */
    double drift_per_point;    /* Theil–Sen slope per value, when drift */
} lb_changepoint_result;

/* Finds the change points of x[0..n).  Fewer than 2 * min_segment values
 * find nothing.  0; -EINVAL for bad options or a non-finite value; -E2BIG
 * above LB_CHANGEPOINT_MAX_N values; -ENOMEM. */
int lb_changepoints(const double *x, size_t n, const lb_changepoint_opts *opts,
                    lb_changepoint_result *out);

#endif
