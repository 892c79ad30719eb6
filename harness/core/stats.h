/*
 * stats.h — small statistics for repeated measurements: order statistics
 * (median, min, max, spread) and the Mann–Whitney U test with an effect
 * size, used by `compare` and by threshold evaluation.
 *
 * Everything works on plain double arrays; nothing allocates behind the
 * caller's back except the exact U test's scratch table, which is freed
 * before returning.  Functions return 0 or a negative errno code.
 */
#ifndef LEAKBENCH_STATS_H
#define LEAKBENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Order statistics of n values.  spread = max - min (absolute, in the
 * metric's own unit).  For even n the median is the mean of the two middle
 * values. */
typedef struct lb_stats_summary {
    double median, min, max, spread;
    size_t n;
} lb_stats_summary;

/* Summarises values[0..n).  -EINVAL if n == 0 or a value is not finite. */
int lb_stats_summarise(const double *values, size_t n, lb_stats_summary *out);
/* Median alone; NAN when n == 0. */
double lb_stats_median(const double *values, size_t n);
/* The sample standard deviation over the mean's magnitude (the
 * coefficient of variation); NAN when n < 2 or the mean is 0. */
double lb_stats_rel_sd(const double *values, size_t n);

/* Two samples up to this combined size get an exact p-value from the
 * permutation distribution of the rank sum (midranks, so exact with ties
 * too); larger ones use the normal approximation with tie and continuity
 * correction. */
#define LB_MWU_EXACT_MAX_N 60

/* Mann–Whitney U test of x against y, two-sided. */
typedef struct lb_mwu {
    double u_x;   /* pairs (x_i, y_j) with x_i > y_j, ties counting 1/2 */
    double u_y;   /* nx*ny - u_x */
    double p;     /* two-sided p-value */
    double z;     /* normal-approximation z score (0 when exact) */
    bool exact;   /* p from the exact permutation distribution */
    double delta; /* Cliff's delta (u_x - u_y)/(nx*ny) in [-1, 1]:
                     +1 when every x exceeds every y */
} lb_mwu;

/* Chooses the method by size (exact up to LB_MWU_EXACT_MAX_N pooled
 * values).  -EINVAL if nx or ny is 0 or a value is not finite; -ENOMEM. */
int lb_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, lb_mwu *out);

typedef enum lb_mwu_method { LB_MWU_AUTO, LB_MWU_EXACT, LB_MWU_NORMAL } lb_mwu_method;
/* The same with the method forced (LB_MWU_EXACT is refused with -E2BIG
 * above 4 * LB_MWU_EXACT_MAX_N pooled values: the table grows as n^3). */
int lb_mann_whitney_method(const double *x, size_t nx, const double *y, size_t ny,
                           lb_mwu_method method, lb_mwu *out);

/* The smallest two-sided p-value the test can reach with samples of these
 * sizes (all values distinct, complete separation): 2 / C(nx+ny, nx),
 * capped at 1.  If this exceeds alpha the test can never be significant. */
double lb_mwu_min_p(size_t nx, size_t ny);

#endif
