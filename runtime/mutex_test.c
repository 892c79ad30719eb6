/*
 * mutex_test.c — the task-aware mutex: mutual exclusion under contention,
 * FIFO hand-over, lock with a context that ends, unlock of an unlocked
 * mutex, and "lock" in snapshots.
 */
#include "rt_test_util.h"

typedef struct {
    rt_mutex *m;
    rt_wg *wg;
    int64_t *counter; /* protected by m */
    _Atomic int inside;
    int iters;
} mtx_job;

static void incrementer(void *p)
{
    mtx_job *j = p;
    for (int i = 0; i < j->iters; i++) {
        CHECK_ERR(rt_mutex_lock(j->m, NULL), 0);
        CHECK_EQ(atomic_fetch_add(&j->inside, 1), 0);
        int64_t v = *j->counter;
        if (i % 16 == 0) rt_yield();
        *j->counter = v + 1;
        atomic_fetch_sub(&j->inside, 1);
        CHECK_ERR(rt_mutex_unlock(j->m), 0);
    }
    rt_wg_done(j->wg);
}

RT_TEST(mutual_exclusion)
{
    enum { T = 6 };
    int64_t counter = 0;
    mtx_job j = {.m = rt_mutex_new(),
                 .wg = rt_wg_new(),
                 .counter = &counter,
                 .iters = RT_TEST_SANITIZED ? 200 : 1000};
    rt_wg_add(j.wg, T);
    for (int i = 0; i < T; i++) rt_go("incrementer", incrementer, &j);
    rt_wg_wait(j.wg, NULL);
    CHECK_EQ(counter, (int64_t)T * j.iters);
    rt_mutex_free(j.m);
    rt_wg_free(j.wg);
}

typedef struct {
    rt_mutex *m;
    rt_ctx *ctx;
    _Atomic int rc;
} lock_job;

static void try_lock(void *p)
{
    lock_job *j = p;
    j->rc = rt_mutex_lock(j->m, j->ctx);
    if (j->rc == 0) rt_mutex_unlock(j->m);
}

RT_TEST(lock_gives_up_when_context_ends)
{
    rt_mutex *m = rt_mutex_new();
    CHECK_ERR(rt_mutex_lock(m, NULL), 0);
    lock_job j = {.m = m, .ctx = rt_ctx_with_cancel(NULL), .rc = 99};
    rt_go("locker", try_lock, &j);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_LOCK) == 1, 5000));
    rt_task_info info[4];
    size_t n = rt_snapshot(info, 4);
    int locked = 0;
    for (size_t i = 0; i < n && i < 4; i++) locked += info[i].op == RT_OP_LOCK;
    CHECK_EQ(locked, 1);
    rt_ctx_cancel(j.ctx);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 5000));
    CHECK_ERR(j.rc, -ECANCELED);
    rt_ctx *t = rt_ctx_with_timeout(NULL, RT_MS(10));
    CHECK_ERR(rt_mutex_lock(m, t), -ETIMEDOUT); /* still held by us */
    CHECK_ERR(rt_mutex_unlock(m), 0);
    CHECK_ERR(rt_mutex_lock(m, NULL), 0);
    rt_mutex_unlock(m);
    rt_ctx_release(t);
    rt_ctx_release(j.ctx);
    rt_mutex_free(m);
}

RT_TEST(misuse_returns_errors)
{
    rt_mutex *m = rt_mutex_new();
    CHECK_ERR(rt_mutex_unlock(m), -EPERM);
    CHECK_ERR(rt_mutex_lock(NULL, NULL), -EINVAL);
    CHECK_ERR(rt_mutex_unlock(NULL), -EINVAL);
    rt_mutex_free(NULL);
    rt_mutex_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutual_exclusion),
        cmocka_unit_test(lock_gives_up_when_context_ends),
        cmocka_unit_test(misuse_returns_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
