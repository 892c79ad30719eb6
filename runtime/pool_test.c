/*
 * pool_test.c — the worker pool: every job runs once, the queue gives
 * backpressure until the submitter's deadline, DRAIN runs every queued job,
 * CANCEL runs none of the queued ones and returns them, running jobs see
 * the cancel, submits during and after shutdown are refused, and the
 * accounting always balances: submitted = ran + returned.
 */
#include "rt_test_util.h"

#define JOB(i) ((void *)(uintptr_t)(i))
#define IDX(p) ((size_t)(uintptr_t)(p))

enum { MAXJOBS = 512 };
static _Atomic int ran_count[MAXJOBS];
static _Atomic int total_ran;
static _Atomic int saw_cancel;
static rt_chan *gate; /* jobs wait here when non-NULL */

static void reset(void)
{
    for (int i = 0; i < MAXJOBS; i++) atomic_store(&ran_count[i], 0);
    atomic_store(&total_ran, 0);
    atomic_store(&saw_cancel, 0);
    gate = NULL;
}

static void job_fn(rt_ctx *ctx, void *job)
{
    atomic_fetch_add(&ran_count[IDX(job)], 1);
    atomic_fetch_add(&total_ran, 1);
    if (gate) {
        void *v;
        int rc = rt_chan_recv(gate, &v, ctx);
        if (rc == -ECANCELED) atomic_fetch_add(&saw_cancel, 1);
    }
}

RT_TEST(every_job_runs_once_with_drain)
{
    reset();
    rt_pool *p = rt_pool_new(4, 8, job_fn, NULL, "worker");
    CHECK(p != NULL);
    enum { N = 300 };
    for (int i = 0; i < N; i++) CHECK_ERR(rt_pool_submit(p, JOB(i), NULL), 0);
    rt_pool_stats st = rt_pool_get_stats(p);
    CHECK_EQ(st.submitted, N);
    size_t n_unrun = 99;
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_DRAIN, NULL, 0, &n_unrun), 0);
    CHECK_EQ(n_unrun, 0);
    CHECK_EQ(atomic_load(&total_ran), N);
    for (int i = 0; i < N; i++) CHECK_EQ(atomic_load(&ran_count[i]), 1);
    CHECK_EQ(rt_live_tasks(), 1);
}

RT_TEST(full_queue_gives_backpressure_until_deadline)
{
    reset();
    gate = rt_chan_new(0);
    rt_pool *p = rt_pool_new(2, 3, job_fn, NULL, "worker");
    /* 2 jobs occupy the workers (held at the gate), 3 fill the queue. */
    for (int i = 0; i < 5; i++) CHECK_ERR(rt_pool_submit(p, JOB(i), NULL), 0);
    CHECK(RT_WAIT_UNTIL(atomic_load(&total_ran) == 2, 5000));
    rt_time start = rt_now();
    rt_ctx *t = rt_ctx_with_timeout(NULL, RT_MS(30));
    CHECK_ERR(rt_pool_submit(p, JOB(5), t), -ETIMEDOUT);
    CHECK(rt_now() - start >= RT_MS(30));
    rt_ctx_release(t);
    rt_pool_stats st = rt_pool_get_stats(p);
    CHECK_EQ(st.submitted, 5);
    CHECK_EQ(st.started, 2);
    /* Open the gate: everything queued drains. */
    rt_chan_close(gate);
    size_t n_unrun = 99;
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_DRAIN, NULL, 0, &n_unrun), 0);
    CHECK_EQ(n_unrun, 0);
    CHECK_EQ(atomic_load(&total_ran), 5);
    CHECK_EQ(atomic_load(&ran_count[5]), 0);
    rt_chan_free(gate);
    gate = NULL;
}

RT_TEST(cancel_returns_queued_jobs_unrun)
{
    reset();
    gate = rt_chan_new(0); /* never opened: running jobs wait for cancel */
    rt_pool *p = rt_pool_new(3, 20, job_fn, NULL, "worker");
    enum { N = 23 };
    for (int i = 0; i < N; i++) CHECK_ERR(rt_pool_submit(p, JOB(i), NULL), 0);
    CHECK(RT_WAIT_UNTIL(atomic_load(&total_ran) == 3, 5000));
    void *unrun[N];
    size_t n_unrun = 0;
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_CANCEL, unrun, N, &n_unrun), 0);
    CHECK_EQ(atomic_load(&saw_cancel), 3); /* running jobs saw the cancel */
    CHECK_EQ(atomic_load(&total_ran), 3);
    CHECK_EQ(n_unrun, N - 3);
    /* Accounting: every job either ran (once) or was returned (once). */
    int returned[N] = {0};
    for (size_t i = 0; i < n_unrun && i < N; i++) returned[IDX(unrun[i])]++;
    for (int i = 0; i < N; i++) CHECK_EQ(atomic_load(&ran_count[i]) + returned[i], 1);
    rt_chan_free(gate);
    gate = NULL;
    CHECK_EQ(rt_live_tasks(), 1);
}

RT_TEST(cancel_with_small_unrun_buffer_still_counts)
{
    reset();
    gate = rt_chan_new(0);
    rt_pool *p = rt_pool_new(1, 10, job_fn, NULL, "worker");
    for (int i = 0; i < 11; i++) rt_pool_submit(p, JOB(i), NULL);
    CHECK(RT_WAIT_UNTIL(atomic_load(&total_ran) == 1, 5000));
    void *unrun[4];
    size_t n_unrun = 0;
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_CANCEL, unrun, 4, &n_unrun), 0);
    CHECK_EQ(n_unrun, 10); /* all counted, 4 stored */
    rt_chan_free(gate);
    gate = NULL;
}

typedef struct {
    rt_pool *p;
    _Atomic int rc;
    _Atomic int started;
} submitter;

static void blocked_submit(void *arg)
{
    submitter *s = arg;
    atomic_store(&s->started, 1);
    s->rc = rt_pool_submit(s->p, JOB(200), NULL);
}

RT_TEST(shutdown_refuses_blocked_and_later_submits)
{
    reset();
    gate = rt_chan_new(0);
    rt_pool *p = rt_pool_new(1, 1, job_fn, NULL, "worker");
    rt_pool_submit(p, JOB(0), NULL); /* runs, held at the gate */
    CHECK(RT_WAIT_UNTIL(atomic_load(&total_ran) == 1, 5000));
    rt_pool_submit(p, JOB(1), NULL); /* fills the queue */
    submitter s = {.p = p, .rc = 99};
    rt_go("submitter", blocked_submit, &s);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 1, 5000));
    size_t n_unrun = 0;
    void *unrun[4];
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_CANCEL, unrun, 4, &n_unrun), 0);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 5000));
    CHECK_ERR(s.rc, -EPIPE);
    CHECK_EQ(n_unrun, 1);
    CHECK_EQ(IDX(unrun[0]), 1);
    rt_chan_free(gate);
    gate = NULL;
}

RT_TEST(parent_cancel_stops_pool)
{
    reset();
    rt_ctx *parent = rt_ctx_with_cancel(NULL);
    rt_pool *p = rt_pool_new(2, 4, job_fn, parent, "worker");
    for (int i = 0; i < 4; i++) rt_pool_submit(p, JOB(i), NULL);
    CHECK(RT_WAIT_UNTIL(atomic_load(&total_ran) == 4, 5000));
    rt_ctx_cancel(parent);
    CHECK_ERR(rt_pool_submit(p, JOB(9), NULL), -EPIPE);
    size_t n_unrun = 99;
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_DRAIN, NULL, 0, &n_unrun), 0);
    CHECK_EQ(n_unrun, 0);
    rt_ctx_release(parent);
}

RT_TEST(misuse_returns_errors)
{
    CHECK(rt_pool_new(0, 1, job_fn, NULL, "w") == NULL);
    CHECK(rt_pool_new(1, -1, job_fn, NULL, "w") == NULL);
    CHECK(rt_pool_new(1, 1, NULL, NULL, "w") == NULL);
    CHECK_ERR(rt_pool_submit(NULL, JOB(0), NULL), -EINVAL);
    CHECK_ERR(rt_pool_shutdown(NULL, RT_POOL_DRAIN, NULL, 0, NULL), -EINVAL);
    rt_pool *p = rt_pool_new(1, 0, job_fn, NULL, NULL);
    CHECK_ERR(rt_pool_shutdown(p, (rt_pool_stop)7, NULL, 0, NULL), -EINVAL);
    CHECK_ERR(rt_pool_shutdown(p, RT_POOL_DRAIN, NULL, 0, NULL), 0);
    rt_pool_stats st = rt_pool_get_stats(NULL);
    CHECK_EQ(st.submitted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_job_runs_once_with_drain),
        cmocka_unit_test(full_queue_gives_backpressure_until_deadline),
        cmocka_unit_test(cancel_returns_queued_jobs_unrun),
        cmocka_unit_test(cancel_with_small_unrun_buffer_still_counts),
        cmocka_unit_test(shutdown_refuses_blocked_and_later_submits),
        cmocka_unit_test(parent_cancel_stops_pool),
        cmocka_unit_test(misuse_returns_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
