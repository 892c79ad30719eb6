/*
 * wg_test.c — wait groups: wait returns once every done() has happened,
 * wakes every waiter, can be reused (also after a burst of concurrent
 * dones), honours its context, refuses a
 * negative counter, and shows up as "waitgroup" in snapshots.
 */
#include "rt_test_util.h"

typedef struct {
    rt_wg *wg;
    _Atomic int *finished;
    int64_t delay_ms;
} wg_job;

static void worker(void *p)
{
    wg_job *j = p;
    rt_sleep(RT_MS(j->delay_ms), NULL);
    atomic_fetch_add(j->finished, 1);
    rt_wg_done(j->wg);
}

RT_TEST(wait_returns_after_every_done)
{
    enum { N = 20 };
    rt_wg *wg = rt_wg_new();
    _Atomic int finished = 0;
    wg_job jobs[N];
    CHECK_ERR(rt_wg_wait(wg, NULL), 0);       /* zero: returns at once */
    for (int round = 0; round < 3; round++) { /* reusable */
        atomic_store(&finished, 0);
        CHECK_ERR(rt_wg_add(wg, N), 0);
        for (int i = 0; i < N; i++) {
            jobs[i] = (wg_job){.wg = wg, .finished = &finished, .delay_ms = i % 5};
            CHECK_ERR(rt_go("worker", worker, &jobs[i]), 0);
        }
        CHECK_ERR(rt_wg_wait(wg, NULL), 0);
        CHECK_EQ(atomic_load(&finished), N);
    }
    rt_wg_free(wg);
}

/* rt_wg_done between positive counts is a lone compare-and-swap (wg.c):
 * a burst of tasks all calling it at once, on every worker, must still
 * release the waiter only after the last of them, round after round. */
RT_TEST(wait_after_a_burst_of_concurrent_dones)
{
    enum { N = 2000, ROUNDS = 5 };
    rt_wg *wg = rt_wg_new();
    _Atomic int finished = 0;
    wg_job *jobs = calloc(N, sizeof *jobs);
    for (int round = 0; round < ROUNDS; round++) {
        atomic_store(&finished, 0);
        CHECK_ERR(rt_wg_add(wg, N), 0);
        for (int i = 0; i < N; i++) {
            jobs[i] = (wg_job){.wg = wg, .finished = &finished, .delay_ms = 0};
            CHECK_ERR(rt_go("burst", worker, &jobs[i]), 0);
        }
        CHECK_ERR(rt_wg_wait(wg, NULL), 0);
        CHECK_EQ(atomic_load(&finished), N);
        CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 10000));
    }
    CHECK_ERR(rt_wg_add(wg, -1), -EINVAL); /* still refuses going below zero */
    rt_wg_free(wg);
    free(jobs);
}

typedef struct {
    rt_wg *wg;
    rt_ctx *ctx;
    int rc;
    rt_wg *exited;
} waiter;

static void wait_task(void *p)
{
    waiter *w = p;
    w->rc = rt_wg_wait(w->wg, w->ctx);
    rt_wg_done(w->exited);
}

RT_TEST(every_waiter_wakes)
{
    enum { W = 5 };
    rt_wg *wg = rt_wg_new(), *exited = rt_wg_new();
    waiter ws[W];
    rt_wg_add(wg, 2);
    rt_wg_add(exited, W);
    for (int i = 0; i < W; i++) {
        ws[i] = (waiter){.wg = wg, .rc = 99, .exited = exited};
        rt_go("waiter", wait_task, &ws[i]);
    }
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_WAITGROUP) == W, 5000));
    rt_task_info info[W + 1];
    size_t n = rt_snapshot(info, W + 1);
    CHECK_EQ(n, W + 1);
    int blocked = 0;
    for (size_t i = 0; i < n; i++) blocked += info[i].op == RT_OP_WAITGROUP;
    CHECK_EQ(blocked, W);
    rt_wg_done(wg);
    rt_sleep(RT_MS(5), NULL);
    CHECK_EQ(rt_test_blocked(RT_OP_WAITGROUP), W); /* count is 1, not 0 */
    rt_wg_done(wg);
    CHECK_ERR(rt_wg_wait(exited, NULL), 0);
    for (int i = 0; i < W; i++) CHECK_ERR(ws[i].rc, 0);
    rt_wg_free(wg);
    rt_wg_free(exited);
}

RT_TEST(wait_honours_context)
{
    rt_wg *wg = rt_wg_new();
    rt_wg_add(wg, 1);
    rt_time start = rt_now(); /* before the deadline is computed */
    rt_ctx *t = rt_ctx_with_timeout(NULL, RT_MS(20));
    CHECK_ERR(rt_wg_wait(wg, t), -ETIMEDOUT);
    CHECK(rt_now() - start >= RT_MS(20));
    rt_ctx_release(t);
    rt_ctx *c = rt_ctx_with_cancel(NULL);
    rt_ctx_cancel(c);
    CHECK_ERR(rt_wg_wait(wg, c), -ECANCELED);
    rt_ctx_release(c);
    rt_wg_done(wg);
    CHECK_ERR(rt_wg_wait(wg, NULL), 0);
    rt_wg_free(wg);
}

RT_TEST(misuse_returns_errors)
{
    rt_wg *wg = rt_wg_new();
    CHECK_ERR(rt_wg_done(wg), -EINVAL); /* would go negative */
    CHECK_ERR(rt_wg_add(wg, -3), -EINVAL);
    CHECK_ERR(rt_wg_add(wg, 2), 0);
    CHECK_ERR(rt_wg_add(wg, -3), -EINVAL);
    CHECK_ERR(rt_wg_add(wg, -2), 0);
    CHECK_ERR(rt_wg_add(NULL, 1), -EINVAL);
    CHECK_ERR(rt_wg_done(NULL), -EINVAL);
    CHECK_ERR(rt_wg_wait(NULL, NULL), -EINVAL);
    rt_wg_free(NULL);
    rt_wg_free(wg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wait_returns_after_every_done),
        cmocka_unit_test(wait_after_a_burst_of_concurrent_dones),
        cmocka_unit_test(every_waiter_wakes),
        cmocka_unit_test(wait_honours_context),
        cmocka_unit_test(misuse_returns_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
