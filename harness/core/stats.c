/*
 * stats.c — order statistics and the Mann–Whitney U test (see stats.h).
 *
 * The U test ranks both samples together, giving tied values their
 * midrank.  Ranks are kept doubled (2*rank is always an integer) so the
 * exact null distribution of x's rank sum can be counted without rounding:
 * a subset-sum table dp[k][s] = number of ways to pick k of the N pooled
 * values whose doubled ranks add up to s.  Under the null hypothesis every
 * one of the C(N, nx) subsets is equally likely, so the two-sided p-value
 * is the share of subsets whose rank sum lies at least as far from its
 * mean as the observed one.  That is the permutation test conditional on
 * the observed ties, so it is exact with ties as well.  The table has
 * (nx+1) * (N*(N+1)+1) cells; up to LB_MWU_EXACT_MAX_N pooled values that
 * is under a megabyte.  Larger samples use the normal approximation with
 * the tie-corrected variance and a continuity correction of 1/2 (what R's
 * wilcox.test and SciPy's method="asymptotic" do).
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int lb_stats_summarise(const double *values, size_t n, lb_stats_summary *out)
{
    if (n == 0 || !values || !out) return -EINVAL;
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) {
            free(sorted);
            return -EINVAL;
        }
        sorted[i] = values[i];
    }
    qsort(sorted, n, sizeof *sorted, cmp_double);
    out->n = n;
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->spread = out->max - out->min;
    out->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    free(sorted);
    return 0;
}

double lb_stats_median(const double *values, size_t n)
{
    lb_stats_summary s;
    return lb_stats_summarise(values, n, &s) == 0 ? s.median : NAN;
}

double lb_stats_rel_sd(const double *values, size_t n)
{
    if (n < 2) return NAN;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += values[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
    return mean != 0 ? sqrt(ss / (double)(n - 1)) / fabs(mean) : NAN;
}

double lb_mwu_min_p(size_t nx, size_t ny)
{
    if (nx == 0 || ny == 0) return 1.0;
    /* C(nx+ny, nx) as a product of ratios; exact enough in double. */
    double c = 1.0;
    size_t k = nx < ny ? nx : ny, n = nx + ny;
    for (size_t i = 1; i <= k; i++) c = c * (double)(n - k + i) / (double)i;
    double p = 2.0 / c;
    return p > 1.0 ? 1.0 : p;
}

typedef struct pooled {
    double v;
    int from_x;
} pooled;

static int cmp_pooled(const void *a, const void *b)
{
    return cmp_double(&((const pooled *)a)->v, &((const pooled *)b)->v);
}

/* Exact two-sided p-value of the doubled rank sum s_obs of nx values drawn
 * from the doubled ranks r2[0..n). */
static int exact_p(const long *r2, size_t n, size_t nx, long s_obs, double *p_out)
{
    long max_sum = 0;
    for (size_t i = 0; i < n; i++) max_sum += r2[i];
    size_t width = (size_t)max_sum + 1;
    double *dp = calloc((nx + 1) * width, sizeof *dp);
    if (!dp) return -ENOMEM;
#define DP(k, s) dp[(size_t)(k)*width + (size_t)(s)]
    DP(0, 0) = 1.0;
    for (size_t i = 0; i < n; i++) {
        size_t kmax = i + 1 < nx ? i + 1 : nx;
        for (size_t k = kmax; k >= 1; k--)
            for (long s = max_sum; s >= r2[i]; s--) DP(k, s) += DP(k - 1, s - r2[i]);
    }
    long mean2 = (long)nx * (long)(n + 1); /* doubled expected rank sum */
    long d_obs = labs(s_obs - mean2);
    double total = 0, extreme = 0;
    for (long s = 0; s <= max_sum; s++) {
        double ways = DP(nx, s);
        total += ways;
        if (labs(s - mean2) >= d_obs) extreme += ways;
    }
#undef DP
    free(dp);
    *p_out = extreme / total;
    return 0;
}

int lb_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, lb_mwu *out)
{
    return lb_mann_whitney_method(x, nx, y, ny, LB_MWU_AUTO, out);
}

int lb_mann_whitney_method(const double *x, size_t nx, const double *y, size_t ny,
                           lb_mwu_method method, lb_mwu *out)
{
    if (!x || !y || !out || nx == 0 || ny == 0) return -EINVAL;
    size_t n = nx + ny;
    if (method == LB_MWU_AUTO) method = n <= LB_MWU_EXACT_MAX_N ? LB_MWU_EXACT : LB_MWU_NORMAL;
    if (method == LB_MWU_EXACT && n > 4 * LB_MWU_EXACT_MAX_N) return -E2BIG;
    pooled *all = malloc(n * sizeof *all);
    long *r2 = malloc(n * sizeof *r2);
    if (!all || !r2) {
        free(all);
        free(r2);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        all[i].v = i < nx ? x[i] : y[i - nx];
        all[i].from_x = i < nx;
        if (!isfinite(all[i].v)) {
            free(all);
            free(r2);
            return -EINVAL;
        }
    }
    qsort(all, n, sizeof *all, cmp_pooled);

    /* Midranks, doubled; tie term sum(t^3 - t) for the variance. */
    long s_obs = 0;
    double tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v) j++;
        long doubled_midrank = (long)(i + j + 2);
        for (size_t k = i; k <= j; k++) {
            r2[k] = doubled_midrank;
            if (all[k].from_x) s_obs += doubled_midrank;
        }
        double t = (double)(j - i + 1);
        tie_term += t * t * t - t;
        i = j + 1;
    }

    double nxd = (double)nx, nyd = (double)ny, nd = (double)n;
    out->u_x = s_obs / 2.0 - nxd * (nxd + 1) / 2.0;
    out->u_y = nxd * nyd - out->u_x;
    out->delta = (out->u_x - out->u_y) / (nxd * nyd);
    out->z = 0;

    int rc = 0;
    if (method == LB_MWU_EXACT) {
        out->exact = true;
        rc = exact_p(r2, n, nx, s_obs, &out->p);
    } else {
        out->exact = false;
        double mu = nxd * nyd / 2.0;
        double var = nxd * nyd / 12.0 * ((nd + 1) - tie_term / (nd * (nd - 1)));
        if (var <= 0) {
            out->p = 1.0; /* every value tied: no evidence of a difference */
        } else {
            double dev = fabs(out->u_x - mu) - 0.5;
            if (dev < 0) dev = 0;
            double z = dev / sqrt(var);
            out->z = out->u_x >= mu ? z : -z;
            out->p = erfc(z / sqrt(2.0));
        }
    }
    if (out->p > 1.0) out->p = 1.0;
    free(all);
    free(r2);
    return rc;
}
