/*
 * metrics_test.c — the numbers a run is judged by, on synthetic inputs:
 * Theil-Sen slope and the rising/stable rule, recovery (reached, reached
 * then lost, never reached = restart required), peaks and baselines, the
 * accounting invariant, bounded series with decimation, leak grouping,
 * and the load generator's schedules and distributions.
 */
#include "loadgen.h"
#include "metrics.h"
#include "core/test_util.h"

#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- slope -- */

static void theil_sen_ignores_outliers(void **state)
{
    (void)state;
    double x[20], y[20];
    for (int i = 0; i < 20; i++) {
        x[i] = i;
        y[i] = 3 * i + 10;
    }
    y[4] = 1e9; /* two wild samples */
    y[15] = -1e9;
    assert_near(lb_theil_sen(x, y, 20), 3, 1e-9);
    assert_true(isnan(lb_theil_sen(x, y, 1)));
    double same_x[3] = {1, 1, 1}, ys[3] = {1, 2, 3};
    assert_true(isnan(lb_theil_sen(same_x, ys, 3)));
}

static void trend_rule(void **state)
{
    (void)state;
    /* 4 MiB over the load is the floor ... */
    assert_string_equal(lb_rss_trend(1.0 * 1024 * 1024, 4.0, 1e6), "rising");
    assert_string_equal(lb_rss_trend(1.0 * 1024 * 1024, 3.9, 1e6), "stable");
    /* ... unless 10% of a large baseline is more */
    assert_string_equal(lb_rss_trend(10e6, 4.0, 500e6), "stable");
    assert_string_equal(lb_rss_trend(13e6, 4.0, 500e6), "rising");
    assert_null(lb_rss_trend(NAN, 4.0, 1e6));
}

/* ----------------------------------------------------------- recovery -- */

static lb_sample sample(double t, lb_phase phase, int64_t tasks, int64_t rss)
{
    lb_sample s;
    memset(&s, 0, sizeof s);
    s.t_s = t;
    s.phase = phase;
    s.tasks = tasks;
    s.rss_bytes = rss;
    s.threads = tasks + 1;
    return s;
}

typedef struct fixture {
    lb_watch w;
    lb_series series;
    lb_phase_times ph;
    lb_shared *sh;
} fixture;

static void fixture_init(fixture *f)
{
    lb_watch_init(&f->w);
    assert_int_equal(lb_series_init(&f->series, 1000), 0);
    for (int p = 0; p < LB_PHASE_COUNT; p++) f->ph.at_s[p] = NAN;
    f->ph.at_s[LB_PHASE_READY] = 0;
    f->ph.at_s[LB_PHASE_LOAD] = 0.1;
    f->ph.at_s[LB_PHASE_SETTLE] = 1.1;
    f->ph.at_s[LB_PHASE_SHUTDOWN] = 2.1;
    f->sh = calloc(1, sizeof *f->sh);
    assert_non_null(f->sh);
}

static void feed(fixture *f, lb_sample s, int64_t baseline)
{
    lb_watch_observe(&f->w, &s, s.phase >= LB_PHASE_LOAD ? baseline : -1);
    lb_series_add(&f->series, &s);
}

/* ready at 5 tasks, load rises to 50, settle as given by settle_tasks. */
static void run_fixture(fixture *f, const int64_t *settle_tasks, int n_settle, lb_metrics *m)
{
    fixture_init(f);
    feed(f, sample(0.05, LB_PHASE_READY, 5, 1000000), 5);
    for (int i = 0; i <= 10; i++)
        feed(f,
             sample(0.1 + i * 0.1, LB_PHASE_LOAD, 5 + i * 4 + (i == 10 ? 5 : 0),
                    1000000 + i * 1000000),
             5);
    for (int i = 0; i < n_settle; i++)
        feed(f, sample(1.1 + (i + 1) * 0.01, LB_PHASE_SETTLE, settle_tasks[i], 2000000), 5);
    feed(f, sample(2.2, LB_PHASE_EXIT, settle_tasks[n_settle - 1], 2000000), 5);
    lb_metrics_finish(&f->w, &f->series, &f->ph, f->sh, true, 1.5, m);
}

static void fixture_free(fixture *f)
{
    lb_series_free(&f->series);
    free(f->sh);
}

static void recovery_when_tasks_return_and_stay(void **state)
{
    (void)state;
    fixture f;
    lb_metrics m;
    int64_t settle[] = {30, 12, 6, 5, 4, 5, 5};
    run_fixture(&f, settle, 7, &m);
    assert_true(m.recovered);
    assert_near(m.recovery_ms, 40, 1e-6); /* first of the run at <= 5: t = 1.14 */
    assert_near(m.baseline_tasks, 5, 0);
    assert_near(m.peak_tasks, 50, 0);
    assert_near(m.final_tasks, 5, 0);
    assert_near(m.baseline_rss, 1000000, 0);
    assert_near(m.peak_rss, 11000000, 0);
    assert_near(m.rss_slope, 10000000, 1e-3);
    /* Live tasks rise 4 per 0.1 s with one outlier (+5 on the last load
     * sample): Theil-Sen gives exactly 40/s, where least squares would
     * be pulled up by the outlier. */
    assert_near(m.task_slope, 40, 1e-9);
    assert_string_equal(m.trend, "rising");
    assert_near(m.shutdown_ms, 1.5, 0);
    fixture_free(&f);
}

static void recovery_lost_again_counts_from_the_last_return(void **state)
{
    (void)state;
    fixture f;
    lb_metrics m;
    int64_t settle[] = {5, 5, 9, 5, 5};
    run_fixture(&f, settle, 5, &m);
    assert_true(m.recovered);
    assert_near(m.recovery_ms, 40, 1e-6);
    fixture_free(&f);
}

static void never_back_means_restart_required(void **state)
{
    (void)state;
    fixture f;
    lb_metrics m;
    int64_t settle[] = {48, 47, 46, 46, 46};
    run_fixture(&f, settle, 5, &m);
    assert_false(m.recovered);
    assert_true(isnan(m.recovery_ms));
    assert_near(m.final_tasks, 46, 0);
    fixture_free(&f);
}

static void recovery_needs_the_settle_window_to_end(void **state)
{
    (void)state;
    fixture f;
    lb_metrics m;
    int64_t settle[] = {5, 5};
    fixture_init(&f);
    f.ph.at_s[LB_PHASE_SHUTDOWN] = NAN; /* killed during settle */
    feed(&f, sample(0.05, LB_PHASE_READY, 5, 1), 5);
    for (int i = 0; i < 2; i++) feed(&f, sample(1.2 + i * 0.01, LB_PHASE_SETTLE, settle[i], 1), 5);
    lb_metrics_finish(&f.w, &f.series, &f.ph, f.sh, false, NAN, &m);
    assert_false(m.recovered);
    assert_true(isnan(m.leaked_tasks)); /* the child never reported */
    assert_true(isnan(m.rss_slope));    /* no load samples */
    assert_null(m.trend);
    fixture_free(&f);
}

/* --------------------------------------------------------- accounting -- */

static void accounting_invariant(void **state)
{
    (void)state;
    lb_shared *sh = calloc(1, sizeof *sh);
    assert_non_null(sh);
    atomic_store(&sh->submitted, 10);
    atomic_store(&sh->outcome[LB_COMPLETED], 4);
    atomic_store(&sh->outcome[LB_TIMED_OUT], 3);
    atomic_store(&sh->outcome[LB_FAILED], 1);
    atomic_store(&sh->outcome[LB_REJECTED], 1);
    atomic_store(&sh->outcome[LB_CANCELLED], 1);
    lb_accounting a = lb_accounting_of(sh);
    assert_true(a.balanced);
    assert_int_equal(a.unanswered, 0);
    atomic_store(&sh->submitted, 12); /* two requests never answered */
    a = lb_accounting_of(sh);
    assert_false(a.balanced);
    assert_int_equal(a.unanswered, 2);
    free(sh);
}

/* ------------------------------------------------------------- series -- */

static void series_decimates_and_keeps_the_final_sample(void **state)
{
    (void)state;
    lb_series s;
    assert_int_equal(lb_series_init(&s, 8), 0);
    for (int i = 0; i < 100; i++) {
        lb_sample x = sample(i, LB_PHASE_LOAD, i, 0);
        lb_series_add(&s, &x);
        assert_true(s.n <= 8);
    }
    assert_true(s.decimated);
    /* Kept rows are every stride-th tick, evenly spaced from tick 0. */
    for (size_t i = 0; i < s.n; i++) assert_near(s.rows[i].t_s, (double)(i * s.stride), 0);
    lb_sample last = sample(100.5, LB_PHASE_EXIT, 7, 0);
    lb_series_add_final(&s, &last);
    assert_near(s.rows[s.n - 1].t_s, 100.5, 0);
    lb_series_free(&s);
}

/* -------------------------------------------------------------- leaks -- */

static rt_task_info task(uint64_t id, rt_op op, int line, const char *role, rt_time since)
{
    rt_task_info t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.role = role;
    t.op = op;
    t.block_site = (rt_site){"x.c", line, "f"};
    t.spawn_site = (rt_site){"x.c", 1, "spawner"};
    t.blocked_since = since;
    t.held_bytes = 100;
    return t;
}

static void leaks_are_grouped_by_op_site_and_role(void **state)
{
    (void)state;
    rt_time now = RT_MS(10000);
    rt_task_info tasks[8];
    tasks[0] = task(1, RT_OP_SLEEP, 5, "main", now); /* the reporting task */
    for (int i = 0; i < 5; i++)
        tasks[1 + i] = task(10 + i, RT_OP_SEND, 42, "worker", RT_MS(i * 1000));
    tasks[6] = task(20, RT_OP_RECV, 50, "worker", RT_MS(9000));
    tasks[7] = task(21, RT_OP_SEND, 42, "other", RT_MS(9500));
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(tasks, 8, 8, 1, now, &r), 0);
    assert_int_equal(r.total, 7);
    assert_int_equal(r.n_groups, 3);
    const lb_leak_group *g = &r.groups[0];
    assert_int_equal(g->op, RT_OP_SEND);
    assert_int_equal(g->count, 5);
    assert_string_equal(g->role, "worker");
    assert_int_equal(g->site.line, 42);
    assert_near(g->oldest_ms, 10000, 1e-9);
    assert_near(g->median_ms, 8000, 1e-9);
    assert_int_equal(g->example_id, 10);
    assert_int_equal(g->held_bytes, 500);
    assert_int_equal(r.groups[1].count + r.groups[2].count, 2);

    /* More tasks than the snapshot held: total still counts them. */
    assert_int_equal(lb_leak_group_tasks(tasks + 1, 5, 50, 1, now, &r), 0);
    assert_int_equal(r.total, 49);
    assert_int_equal(r.grouped, 5);
}

/* ------------------------------------------------------------ loadgen -- */

static lb_scenario_spec open_spec(lb_load_model model, double rate, double duration_ms)
{
    lb_scenario_spec s;
    memset(&s, 0, sizeof s);
    s.model = model;
    s.rate = rate;
    s.duration_ms = duration_ms;
    return s;
}

static int count_arrivals(const lb_scenario_spec *s, uint64_t seed, double *last)
{
    lb_arrivals a;
    lb_arrivals_init(&a, s, seed);
    double at, prev = -1;
    int n = 0;
    while (lb_arrivals_next(&a, &at)) {
        assert_true(at > prev);
        assert_true(at < s->duration_ms);
        prev = at;
        n++;
    }
    if (last) *last = prev;
    return n;
}

static void constant_arrivals_are_evenly_spaced(void **state)
{
    (void)state;
    lb_scenario_spec s = open_spec(LB_LOAD_CONSTANT, 200, 3000);
    double last;
    assert_int_equal(count_arrivals(&s, 1, &last), 600);
    assert_near(last, 2995, 1e-6);
}

static void poisson_arrivals_average_the_rate(void **state)
{
    (void)state;
    lb_scenario_spec s = open_spec(LB_LOAD_POISSON, 1000, 20000);
    int n = count_arrivals(&s, 3, NULL);
    assert_true(n > 19400 && n < 20600);              /* 20000 +- 4.2 sigma */
    assert_int_equal(count_arrivals(&s, 3, NULL), n); /* same seed, same schedule */
}

static void stages_ramp_linearly(void **state)
{
    (void)state;
    lb_scenario_spec s = open_spec(LB_LOAD_CONSTANT, 0, 2000);
    s.n_stages = 2;
    s.stages[0] = (lb_stage){1000, 100}; /* 0 -> 100/s */
    s.stages[1] = (lb_stage){1000, 100}; /* hold */
    assert_near(lb_rate_at(&s, 500), 50, 1e-9);
    assert_near(lb_rate_at(&s, 1500), 100, 1e-9);
    int n = count_arrivals(&s, 1, NULL);
    assert_true(n >= 149 && n <= 150); /* 50 in the ramp (its area), 100 in the hold */
}

static void distributions_stay_in_their_bounds(void **state)
{
    (void)state;
    lb_rng rng;
    lb_rng_seed(&rng, 5);
    lb_dist u = {.kind = LB_DIST_UNIFORM, .min_ms = 10, .max_ms = 100};
    lb_dist e = {.kind = LB_DIST_EXPONENTIAL, .mean_ms = 20, .max_ms = 50};
    lb_dist l = {.kind = LB_DIST_LOGNORMAL, .median_ms = 30, .sigma = 0.5};
    lb_dist f = {.kind = LB_DIST_FIXED, .ms = 7};
    double sum_u = 0;
    double logs[20001];
    for (int i = 0; i < 20001; i++) {
        double x = lb_dist_draw_ms(&u, &rng);
        assert_true(x >= 10 && x <= 100);
        sum_u += x;
        x = lb_dist_draw_ms(&e, &rng);
        assert_true(x >= 0 && x <= 50);
        logs[i] = lb_dist_draw_ms(&l, &rng);
        assert_near(lb_dist_draw_ms(&f, &rng), 7, 0);
    }
    assert_near(sum_u / 20001, 55, 1);
    assert_near(lb_median(logs, 20001), 30, 1.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(theil_sen_ignores_outliers, lb_test_arm_timeout),
        cmocka_unit_test_setup(trend_rule, lb_test_arm_timeout),
        cmocka_unit_test_setup(recovery_when_tasks_return_and_stay, lb_test_arm_timeout),
        cmocka_unit_test_setup(recovery_lost_again_counts_from_the_last_return,
                               lb_test_arm_timeout),
        cmocka_unit_test_setup(never_back_means_restart_required, lb_test_arm_timeout),
        cmocka_unit_test_setup(recovery_needs_the_settle_window_to_end, lb_test_arm_timeout),
        cmocka_unit_test_setup(accounting_invariant, lb_test_arm_timeout),
        cmocka_unit_test_setup(series_decimates_and_keeps_the_final_sample, lb_test_arm_timeout),
        cmocka_unit_test_setup(leaks_are_grouped_by_op_site_and_role, lb_test_arm_timeout),
        cmocka_unit_test_setup(constant_arrivals_are_evenly_spaced, lb_test_arm_timeout),
        cmocka_unit_test_setup(poisson_arrivals_average_the_rate, lb_test_arm_timeout),
        cmocka_unit_test_setup(stages_ramp_linearly, lb_test_arm_timeout),
        cmocka_unit_test_setup(distributions_stay_in_their_bounds, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
