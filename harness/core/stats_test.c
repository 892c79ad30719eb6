/*
 * stats_test.c — order statistics and the Mann–Whitney U test against
 * values computed independently (closed forms, SciPy's documented
 * example, and a brute-force enumeration of all rank assignments).
 */
#include "stats.h"
#include "test_util.h"

#include <errno.h>
#include <math.h>

#define arm_timeout lb_test_arm_timeout

static void summary_odd_even(void **state)
{
    (void)state;
    double odd[] = {5, 1, 3};
    lb_stats_summary s;
    assert_int_equal(lb_stats_summarise(odd, 3, &s), 0);
    assert_true(s.median == 3 && s.min == 1 && s.max == 5 && s.spread == 4 && s.n == 3);
    double even[] = {4, 1, 3, 10};
    assert_int_equal(lb_stats_summarise(even, 4, &s), 0);
    assert_true(s.median == 3.5 && s.min == 1 && s.max == 10 && s.spread == 9);
    assert_true(isnan(lb_stats_median(even, 0)));
    double bad[] = {1, NAN};
    assert_int_equal(lb_stats_summarise(bad, 2, &s), -EINVAL);
}

/* Sample standard deviation over |mean|: {2, 4, 4, 4, 5, 5, 7, 9} has
 * mean 5 and sample sd sqrt(32/7). */
static void relative_sd(void **state)
{
    (void)state;
    const double v[] = {2, 4, 4, 4, 5, 5, 7, 9}, neg[] = {-2, -4, -4, -4, -5, -5, -7, -9};
    assert_float_equal(lb_stats_rel_sd(v, 8), sqrt(32.0 / 7) / 5, 1e-12);
    assert_float_equal(lb_stats_rel_sd(neg, 8), sqrt(32.0 / 7) / 5, 1e-12);
    const double zero_mean[] = {-1, 1};
    assert_true(isnan(lb_stats_rel_sd(zero_mean, 2)));
    assert_true(isnan(lb_stats_rel_sd(v, 1)));
}

static void mwu_complete_separation(void **state)
{
    (void)state;
    double x[] = {1, 2, 3, 4}, y[] = {5, 6, 7, 8};
    lb_mwu r;
    assert_int_equal(lb_mann_whitney(x, 4, y, 4, &r), 0);
    assert_true(r.exact);
    assert_true(r.u_x == 0 && r.u_y == 16);
    assert_near(r.p, 2.0 / 70.0, 1e-12); /* 2 / C(8,4) */
    assert_near(r.delta, -1.0, 1e-12);
    assert_near(lb_mwu_min_p(4, 4), 2.0 / 70.0, 1e-12);
    assert_near(lb_mwu_min_p(3, 3), 0.1, 1e-12);
    assert_near(lb_mwu_min_p(2, 2), 2.0 / 6.0, 1e-12);
    assert_near(lb_mwu_min_p(1, 1), 1.0, 1e-12);
}

/* SciPy's mannwhitneyu documentation example: U1 = 17, exact p = 1/9,
 * asymptotic (continuity-corrected) p = 0.11134688653314041. */
static void mwu_scipy_example(void **state)
{
    (void)state;
    double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    lb_mwu r;
    assert_int_equal(lb_mann_whitney(males, 5, females, 4, &r), 0);
    assert_near(r.u_x, 17, 1e-12);
    assert_near(r.p, 1.0 / 9.0, 1e-12);
    assert_int_equal(lb_mann_whitney_method(males, 5, females, 4, LB_MWU_NORMAL, &r), 0);
    assert_false(r.exact);
    assert_near(r.p, 0.11134688653314041, 1e-9);
}

/* Ties: exact permutation p and tie-corrected normal p, both checked
 * against a brute-force enumeration of C(10,5) rank assignments. */
static void mwu_ties(void **state)
{
    (void)state;
    double x[] = {1, 2, 2, 3, 5}, y[] = {2, 3, 3, 4, 6};
    lb_mwu r;
    assert_int_equal(lb_mann_whitney(x, 5, y, 5, &r), 0);
    assert_near(r.u_x, 7, 1e-12);
    assert_near(r.p, 0.30952380952380953, 1e-12);
    assert_int_equal(lb_mann_whitney_method(x, 5, y, 5, LB_MWU_NORMAL, &r), 0);
    assert_near(r.p, 0.284283691362998, 1e-9);
    /* All values equal: no evidence at all. */
    double same[] = {3, 3, 3};
    assert_int_equal(lb_mann_whitney(same, 3, same, 3, &r), 0);
    assert_near(r.p, 1.0, 1e-12);
    assert_int_equal(lb_mann_whitney_method(same, 3, same, 3, LB_MWU_NORMAL, &r), 0);
    assert_near(r.p, 1.0, 1e-12);
}

/* 70 pooled values: the automatic choice is the normal approximation. */
static void mwu_large_samples(void **state)
{
    (void)state;
    double x[35], y[35];
    for (int i = 0; i < 35; i++) x[i] = i % 17, y[i] = (i * 7) % 23 + 3;
    lb_mwu r;
    assert_int_equal(lb_mann_whitney(x, 35, y, 35, &r), 0);
    assert_false(r.exact);
    assert_near(r.u_x, 320, 1e-9);
    assert_near(r.p, 0.0005963158153834751, 1e-9);
    assert_true(r.z < 0);
    /* The exact test on the same data agrees closely. */
    lb_mwu e;
    assert_int_equal(lb_mann_whitney_method(x, 35, y, 35, LB_MWU_EXACT, &e), 0);
    assert_true(e.exact && fabs(e.p - r.p) < 0.0005);
}

static void mwu_bad_input(void **state)
{
    (void)state;
    double x[] = {1, INFINITY};
    lb_mwu r;
    assert_int_equal(lb_mann_whitney(x, 2, x, 0, &r), -EINVAL);
    assert_int_equal(lb_mann_whitney(x, 2, x, 1, &r), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(summary_odd_even, arm_timeout),
        cmocka_unit_test_setup(relative_sd, arm_timeout),
        cmocka_unit_test_setup(mwu_complete_separation, arm_timeout),
        cmocka_unit_test_setup(mwu_scipy_example, arm_timeout),
        cmocka_unit_test_setup(mwu_ties, arm_timeout),
        cmocka_unit_test_setup(mwu_large_samples, arm_timeout),
        cmocka_unit_test_setup(mwu_bad_input, arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
