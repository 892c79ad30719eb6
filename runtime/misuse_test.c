/*
 * misuse_test.c — every misuse the API can detect returns an error code
 * instead of crashing: NULL objects, negative capacity, double close,
 * freeing a channel tasks wait on, a negative wait-group counter, unlocking
 * an unlocked mutex, bad select cases, bad pool/group arguments, a nested
 * rt_run, and blocking calls made outside any task.
 */
#include "rt_test_util.h"

static void nop(void *p)
{
    (void)p;
}

static void blocked_recv(void *p)
{
    void *v;
    CHECK_ERR(rt_chan_recv(p, &v, NULL), -EPIPE);
}

static void job(rt_ctx *ctx, void *j)
{
    (void)ctx;
    (void)j;
}

RT_TEST(api_misuse_returns_errors)
{
    void *v;
    /* channels */
    CHECK(rt_chan_new(-1) == NULL);
    CHECK(rt_chan_new(INT64_MIN) == NULL);
    CHECK_ERR(rt_chan_send(NULL, NULL, NULL), -EINVAL);
    CHECK_ERR(rt_chan_recv(NULL, &v, NULL), -EINVAL);
    CHECK_ERR(rt_chan_try_send(NULL, NULL), -EINVAL);
    CHECK_ERR(rt_chan_try_recv(NULL, &v), -EINVAL);
    CHECK_ERR(rt_chan_close(NULL), -EINVAL);
    CHECK_ERR(rt_chan_free(NULL), -EINVAL);
    rt_chan *ch = rt_chan_new(0);
    rt_go("receiver", blocked_recv, ch);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == 1, 5000));
    CHECK_ERR(rt_chan_free(ch), -EBUSY);
    CHECK_ERR(rt_chan_close(ch), 0);
    CHECK_ERR(rt_chan_close(ch), -EINVAL); /* double close */
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 5000));
    CHECK_ERR(rt_chan_free(ch), 0);

    /* select */
    rt_case bad = {.kind = 0};
    CHECK_ERR(rt_select(&bad, 1, false, NULL), -EINVAL);
    CHECK_ERR(rt_select(NULL, 1, false, NULL), -EINVAL);
    CHECK_ERR(rt_select(NULL, -5, true, NULL), -EINVAL);

    /* contexts: NULL is "no context" for queries and a no-op otherwise */
    CHECK_EQ(rt_ctx_err(NULL), 0);
    CHECK_EQ(rt_ctx_cause(NULL), 0);
    CHECK_EQ(rt_ctx_deadline(NULL), RT_FOREVER);
    CHECK(rt_ctx_done(NULL) == NULL);
    rt_ctx_cancel(NULL);
    rt_ctx_release(NULL);
    CHECK(rt_ctx_retain(NULL) == NULL);

    /* wait group, mutex */
    rt_wg *wg = rt_wg_new();
    CHECK_ERR(rt_wg_done(wg), -EINVAL);
    CHECK_ERR(rt_wg_add(NULL, 1), -EINVAL);
    CHECK_ERR(rt_wg_wait(NULL, NULL), -EINVAL);
    rt_wg_free(wg);
    rt_mutex *m = rt_mutex_new();
    CHECK_ERR(rt_mutex_unlock(m), -EPERM);
    CHECK_ERR(rt_mutex_lock(NULL, NULL), -EINVAL);
    rt_mutex_free(m);

    /* group, pool */
    CHECK_ERR(rt_group_go(NULL, "x", NULL, NULL), -EINVAL);
    CHECK_ERR(rt_group_wait(NULL, false), -EINVAL);
    CHECK(rt_pool_new(-1, 1, job, NULL, "w") == NULL);
    CHECK(rt_pool_new(1, -1, job, NULL, "w") == NULL);
    CHECK_ERR(rt_pool_submit(NULL, NULL, NULL), -EINVAL);
    CHECK_ERR(rt_pool_shutdown(NULL, RT_POOL_CANCEL, NULL, 0, NULL), -EINVAL);

    /* tasks and the runtime itself */
    CHECK_ERR(rt_go("x", NULL, NULL), -EINVAL);
    CHECK_ERR(rt_run(NULL, nop, NULL), -EBUSY); /* one rt_run at a time */
    CHECK_EQ(rt_task_id(NULL), 0);
}

static void outside_any_task(void **state)
{
    (void)state;
    rt_chan *ch = rt_chan_new(1);
    void *v;
    assert_int_equal(rt_chan_send(ch, NULL, NULL), -EDEADLK); /* room in the buffer, still */
    assert_int_equal(rt_chan_recv(ch, &v, NULL), -EDEADLK);
    rt_case c = RT_RECV_CASE(ch);
    assert_int_equal(rt_select(&c, 1, false, NULL), -EDEADLK);
    assert_int_equal(rt_select(&c, 1, true, NULL), RT_SELECT_DEFAULT); /* may not block: fine */
    assert_int_equal(rt_sleep(RT_MS(1), NULL), -EDEADLK);
    rt_wg *wg = rt_wg_new();
    rt_wg_add(wg, 1);
    assert_int_equal(rt_wg_wait(wg, NULL), -EDEADLK);
    rt_wg_free(wg);
    rt_mutex *m = rt_mutex_new();
    /* Refused even when it would not have to wait: the rule is simple. */
    assert_int_equal(rt_mutex_lock(m, NULL), -EDEADLK);
    rt_mutex_free(m);
    assert_null(rt_self());
    assert_int_equal(rt_chan_free(ch), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_misuse_returns_errors),
        cmocka_unit_test(outside_any_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
