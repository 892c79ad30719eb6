/*
 * group_test.c — task groups: wait joins every child, the first error is
 * returned and cancels the siblings (errgroup), cancel-on-wait stops
 * children that would otherwise run forever, groups nest, and the join
 * shows up as "join" in snapshots.
 */
#include "rt_test_util.h"

static _Atomic int ran;

static int quick_ok(rt_ctx *ctx, void *arg)
{
    (void)ctx;
    rt_sleep(RT_MS((intptr_t)arg), NULL);
    atomic_fetch_add(&ran, 1);
    return 0;
}

RT_TEST(wait_joins_every_child)
{
    atomic_store(&ran, 0);
    rt_group *g = rt_group_new(NULL);
    CHECK(g != NULL);
    for (int i = 0; i < 12; i++)
        CHECK_ERR(rt_group_go(g, "child", quick_ok, (void *)(intptr_t)(i % 4)), 0);
    CHECK_ERR(rt_group_wait(g, false), 0);
    CHECK_EQ(atomic_load(&ran), 12);
    CHECK_EQ(rt_live_tasks(), 1);
}

static int wait_for_cancel(rt_ctx *ctx, void *arg)
{
    (void)arg;
    int rc = rt_sleep(RT_MS(60000), ctx);
    if (rc == -ECANCELED) atomic_fetch_add(&ran, 1);
    return rc == -ECANCELED ? 0 : rc; /* being cancelled is not an error */
}

static int fail_soon(rt_ctx *ctx, void *arg)
{
    rt_sleep(RT_MS(10), ctx);
    return (int)(intptr_t)arg;
}

RT_TEST(first_error_cancels_siblings)
{
    atomic_store(&ran, 0);
    rt_group *g = rt_group_new(rt_ctx_background());
    for (int i = 0; i < 5; i++) rt_group_go(g, "waiter", wait_for_cancel, NULL);
    rt_group_go(g, "failer", fail_soon, (void *)(intptr_t)-EIO);
    rt_time start = rt_now();
    CHECK_ERR(rt_group_wait(g, false), -EIO);
    CHECK(rt_now() - start < RT_MS(30000));
    CHECK_EQ(atomic_load(&ran), 5); /* every sibling saw the cancel */
}

RT_TEST(wait_with_cancel_stops_children)
{
    atomic_store(&ran, 0);
    rt_group *g = rt_group_new(NULL);
    rt_ctx *gctx = rt_group_ctx(g);
    CHECK_EQ(rt_ctx_err(gctx), 0);
    for (int i = 0; i < 8; i++) rt_group_go(g, "waiter", wait_for_cancel, NULL);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SLEEP) == 8, 5000));
    CHECK_ERR(rt_group_wait(g, true), 0);
    CHECK_EQ(atomic_load(&ran), 8);
    CHECK_EQ(rt_live_tasks(), 1); /* nothing outlives the scope */
}

static int nested(rt_ctx *ctx, void *arg)
{
    (void)arg;
    rt_group *inner = rt_group_new(ctx);
    for (int i = 0; i < 3; i++) rt_group_go(inner, "grandchild", wait_for_cancel, NULL);
    return rt_group_wait(inner, false); /* returns when the outer cancels */
}

RT_TEST(parent_cancellation_reaches_nested_groups)
{
    atomic_store(&ran, 0);
    rt_ctx *root = rt_ctx_with_cancel(NULL);
    rt_group *g = rt_group_new(root);
    for (int i = 0; i < 2; i++) rt_group_go(g, "child", nested, NULL);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SLEEP) == 6, 5000));
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_JOIN) == 2, 5000));
    rt_task_info info[16];
    size_t n = rt_snapshot(info, 16);
    int joins = 0;
    for (size_t i = 0; i < n && i < 16; i++) joins += info[i].op == RT_OP_JOIN;
    CHECK_EQ(joins, 2);
    rt_ctx_cancel(root);
    CHECK_ERR(rt_group_wait(g, false), 0);
    CHECK_EQ(atomic_load(&ran), 6);
    rt_ctx_release(root);
}

RT_TEST(misuse_returns_errors)
{
    CHECK_ERR(rt_group_go(NULL, "x", quick_ok, NULL), -EINVAL);
    rt_group *g = rt_group_new(NULL);
    CHECK_ERR(rt_group_go(g, "x", NULL, NULL), -EINVAL);
    CHECK(rt_group_ctx(NULL) == NULL);
    CHECK_ERR(rt_group_wait(NULL, true), -EINVAL);
    CHECK_ERR(rt_group_wait(g, true), 0); /* no children */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wait_joins_every_child),
        cmocka_unit_test(first_error_cancels_siblings),
        cmocka_unit_test(wait_with_cancel_stops_children),
        cmocka_unit_test(parent_cancellation_reaches_nested_groups),
        cmocka_unit_test(misuse_returns_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
