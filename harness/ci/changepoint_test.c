/*
 * changepoint_test.c — lb_changepoints (changepoint.h) on synthetic series
 * with a known answer: one step (found at its index, with the right
 * direction), two steps (a staircase is steps, not a ramp), a steady ramp
 * (no step; a drift), noise only (nothing), one outlier (nothing), a
 * step too small to matter (nothing), and bad input.  The noise is a
 * fixed-seed generator, so every run sees the same series.
 */
#include "changepoint.h"
#include "core/test_util.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Deterministic noise in [-amp, amp]. */
static double noise(uint64_t *state, double amp)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*state >> 11) / 9007199254740992.0 * 2 - 1) * amp;
}

static void series(double *x, size_t n, double (*level)(size_t), double amp, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) x[i] = level(i) + noise(&st, amp);
}

static double step_at_20(size_t i)
{
    return i < 20 ? 100 : 130;
}
static double two_steps(size_t i)
{
    return i < 15 ? 100 : i < 30 ? 120 : 140;
}
static double ramp(size_t i)
{
    return 100 + 2.0 * (double)i;
}
static double flat(size_t i)
{
    (void)i;
    return 100;
}
static double small_step(size_t i)
{
    return i < 20 ? 100 : 102;
}

static lb_changepoint_result detect(const double *x, size_t n)
{
    lb_changepoint_opts o = LB_CHANGEPOINT_DEFAULTS;
    lb_changepoint_result r;
    assert_int_equal(lb_changepoints(x, n, &o, &r), 0);
    return r;
}

static void a_step_is_found_where_it_is(void **state)
{
    (void)state;
    double x[40];
    series(x, 40, step_at_20, 3, 1);
    lb_changepoint_result r = detect(x, 40);
    assert_int_equal(r.n_points, 1);
    assert_int_equal(r.points[0].index, 20);
    assert_true(r.points[0].change > 0.25 && r.points[0].change < 0.35);
    assert_true(r.points[0].before < r.points[0].after);
    assert_false(r.drift);
}

static void a_staircase_is_two_steps(void **state)
{
    (void)state;
    double x[45];
    series(x, 45, two_steps, 3, 2);
    lb_changepoint_result r = detect(x, 45);
    assert_int_equal(r.n_points, 2);
    assert_int_equal(r.points[0].index, 15);
    assert_int_equal(r.points[1].index, 30);
}

static void a_ramp_is_a_drift_not_steps(void **state)
{
    (void)state;
    double x[40];
    series(x, 40, ramp, 3, 3);
    lb_changepoint_result r = detect(x, 40);
    assert_int_equal(r.n_points, 0);
    assert_true(r.drift);
    assert_near(r.drift_per_point, 2.0, 0.3);
}

static void noise_alone_finds_nothing(void **state)
{
    (void)state;
    double x[60];
    for (uint64_t seed = 10; seed < 20; seed++) {
        series(x, 60, flat, 5, seed);
        lb_changepoint_result r = detect(x, 60);
        if (r.n_points || r.drift)
            fail_msg("seed %llu: %zu points, drift %d", (unsigned long long)seed, r.n_points,
                     r.drift);
    }
}

static void one_outlier_finds_nothing(void **state)
{
    (void)state;
    double x[40];
    series(x, 40, flat, 2, 4);
    x[25] = 400;
    lb_changepoint_result r = detect(x, 40);
    assert_int_equal(r.n_points, 0);
    assert_false(r.drift);
}

static void a_step_below_min_change_is_not_reported(void **state)
{
    (void)state;
    double x[40];
    series(x, 40, small_step, 0.1, 5);
    lb_changepoint_result r = detect(x, 40);
    assert_int_equal(r.n_points, 0); /* 2% < the 5% default */
    lb_changepoint_opts o = LB_CHANGEPOINT_DEFAULTS;
    o.min_change = 0.01;
    assert_int_equal(lb_changepoints(x, 40, &o, &r), 0);
    assert_int_equal(r.n_points, 1);
    assert_int_equal(r.points[0].index, 20);
}

static void bad_input_is_refused(void **state)
{
    (void)state;
    double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, NAN};
    lb_changepoint_opts o = LB_CHANGEPOINT_DEFAULTS;
    lb_changepoint_result r;
    assert_int_equal(lb_changepoints(x, 10, &o, &r), -EINVAL);
    assert_int_equal(lb_changepoints(x, 4, &o, &r), 0); /* too short to split */
    assert_int_equal(r.n_points, 0);
    o.min_segment = 1;
    assert_int_equal(lb_changepoints(x, 9, &o, &r), -EINVAL);
    assert_int_equal(lb_changepoints(x, LB_CHANGEPOINT_MAX_N + 1, &LB_CHANGEPOINT_DEFAULTS, &r),
                     -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_step_is_found_where_it_is),
        cmocka_unit_test(a_staircase_is_two_steps),
        cmocka_unit_test(a_ramp_is_a_drift_not_steps),
        cmocka_unit_test(noise_alone_finds_nothing),
        cmocka_unit_test(one_outlier_finds_nothing),
        cmocka_unit_test(a_step_below_min_change_is_not_reported),
        cmocka_unit_test(bad_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
