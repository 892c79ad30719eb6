/*
 * ctx_test.c — contexts: cancel closes done and sets err once, causes,
 * cancellation reaching children and grandchildren (and tasks blocked on
 * them) but never parents or siblings, children of cancelled parents,
 * deadlines and timeouts (fire at the right time, inherit the parent's
 * earlier deadline, past deadlines), background, and sleep.
 */
#include "rt_test_util.h"

static bool done_closed(rt_ctx *c)
{
    void *v;
    return rt_chan_try_recv(rt_ctx_done(c), &v) == -EPIPE;
}

RT_TEST(cancel_sets_err_once_and_closes_done)
{
    rt_ctx *c = rt_ctx_with_cancel(rt_ctx_background());
    CHECK(c != NULL);
    CHECK_EQ(rt_ctx_err(c), 0);
    CHECK_EQ(rt_ctx_cause(c), 0);
    CHECK(!done_closed(c));
    CHECK_EQ(rt_ctx_deadline(c), RT_FOREVER);
    rt_ctx_cancel_cause(c, -EIO);
    CHECK_ERR(rt_ctx_err(c), -ECANCELED);
    CHECK_ERR(rt_ctx_cause(c), -EIO);
    CHECK(done_closed(c));
    rt_ctx_cancel_cause(c, -ENOENT); /* only the first cancel counts */
    rt_ctx_cancel(c);
    CHECK_ERR(rt_ctx_cause(c), -EIO);
    rt_ctx_release(c);

    rt_ctx *d = rt_ctx_with_cancel(NULL); /* NULL parent = background */
    rt_ctx_cancel(d);
    CHECK_ERR(rt_ctx_cause(d), -ECANCELED);
    rt_ctx_release(d);
}

RT_TEST(background_is_never_cancelled)
{
    rt_ctx *bg = rt_ctx_background();
    rt_ctx_cancel(bg);
    rt_ctx_release(bg);
    CHECK_EQ(rt_ctx_err(bg), 0);
    CHECK_EQ(rt_ctx_deadline(bg), RT_FOREVER);
    CHECK(!done_closed(bg));
    rt_chan *ch = rt_chan_new(0);
    rt_case cs[] = {RT_RECV_CASE(ch)};
    CHECK_ERR(rt_select(cs, 1, true, bg), RT_SELECT_DEFAULT);
    rt_chan_free(ch);
}

typedef struct {
    rt_ctx *ctx;
    rt_wg *wg;
    _Atomic int rc; /* read by the test while other waiters still run */
    rt_time woke;
} waiter_job;

static void wait_on_ctx(void *p)
{
    waiter_job *j = p;
    rt_chan *never = rt_chan_new(0);
    void *v;
    j->rc = rt_chan_recv(never, &v, j->ctx);
    j->woke = rt_now();
    rt_chan_free(never);
    rt_wg_done(j->wg);
}

RT_TEST(cancellation_reaches_grandchildren_not_parents)
{
    /* root -> a -> {a1, a2 -> a2x};  root -> b.  Cancelling a reaches a1,
     * a2 and a2x (and tasks blocked on them), not root or b. */
    rt_ctx *root = rt_ctx_with_cancel(NULL);
    rt_ctx *a = rt_ctx_with_cancel(root);
    rt_ctx *b = rt_ctx_with_cancel(root);
    rt_ctx *a1 = rt_ctx_with_cancel(a);
    rt_ctx *a2 = rt_ctx_with_cancel(a);
    rt_ctx *a2x = rt_ctx_with_cancel(a2);
    rt_wg *wg = rt_wg_new();
    waiter_job jobs[3] = {{.ctx = a1, .wg = wg, .rc = 99},
                          {.ctx = a2x, .wg = wg, .rc = 99},
                          {.ctx = b, .wg = wg, .rc = 99}};
    rt_wg_add(wg, 3);
    for (int i = 0; i < 3; i++) rt_go("ctx-waiter", wait_on_ctx, &jobs[i]);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == 3, 5000));

    rt_ctx_cancel_cause(a, -EIO);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == 1, 5000));
    CHECK_ERR(jobs[0].rc, -ECANCELED);
    CHECK_ERR(jobs[1].rc, -ECANCELED);
    CHECK_EQ(jobs[2].rc, 99);
    CHECK_ERR(rt_ctx_err(a2x), -ECANCELED);
    CHECK_ERR(rt_ctx_cause(a2x), -EIO); /* the cause travels down */
    CHECK(done_closed(a1) && done_closed(a2) && done_closed(a2x));
    CHECK_EQ(rt_ctx_err(root), 0);
    CHECK_EQ(rt_ctx_err(b), 0);

    /* A child made after its parent was cancelled starts cancelled. */
    rt_ctx *late = rt_ctx_with_cancel(a2x);
    CHECK_ERR(rt_ctx_err(late), -ECANCELED);
    CHECK_ERR(rt_ctx_cause(late), -EIO);
    CHECK(done_closed(late));

    /* Cancelling the root reaches b's waiter. */
    rt_ctx_cancel(root);
    rt_wg_wait(wg, NULL);
    CHECK_ERR(jobs[2].rc, -ECANCELED);
    rt_ctx_release(late);
    rt_ctx_release(a2x);
    rt_ctx_release(a2);
    rt_ctx_release(a1);
    rt_ctx_release(b);
    rt_ctx_release(a);
    rt_ctx_release(root);
    rt_wg_free(wg);
}

RT_TEST(unref_drops_without_cancelling)
{
    rt_ctx *c = rt_ctx_with_cancel(NULL);
    rt_ctx_retain(c);
    rt_ctx_unref(c); /* a watcher letting go */
    CHECK_EQ(rt_ctx_err(c), 0);
    CHECK(!done_closed(c));
    rt_ctx_retain(c);
    rt_ctx_release(c); /* release cancels even when others hold it */
    CHECK_ERR(rt_ctx_err(c), -ECANCELED);
    rt_ctx_unref(NULL);
    rt_ctx_unref(rt_ctx_background());
    rt_ctx_release(c);
}

RT_TEST(release_in_any_order)
{
    /* Parents released before children: the children keep them alive and
     * still see a later cancellation of an ancestor they hold. */
    rt_ctx *root = rt_ctx_with_cancel(NULL);
    rt_ctx *mid = rt_ctx_with_cancel(root);
    rt_ctx *leaf = rt_ctx_with_cancel(mid);
    rt_ctx_retain(root);
    rt_ctx_release(mid); /* cancels mid and therefore leaf */
    CHECK_ERR(rt_ctx_err(leaf), -ECANCELED);
    CHECK_EQ(rt_ctx_err(root), 0);
    rt_ctx_release(root); /* cancels root; one reference left */
    CHECK_ERR(rt_ctx_err(root), -ECANCELED);
    rt_ctx_release(leaf);
    rt_ctx_release(root);

    /* Many children of one parent, released while others are created. */
    rt_ctx *p = rt_ctx_with_cancel(NULL);
    rt_ctx *kids[64];
    for (int i = 0; i < 64; i++) kids[i] = rt_ctx_with_timeout(p, RT_MS(10000));
    for (int i = 0; i < 64; i += 2) rt_ctx_release(kids[i]);
    rt_ctx_cancel(p);
    for (int i = 1; i < 64; i += 2) {
        CHECK_ERR(rt_ctx_err(kids[i]), -ECANCELED);
        rt_ctx_release(kids[i]);
    }
    rt_ctx_release(p);
}

/* Runs in a spawned task, whose stack is small (64 KiB on threads). */
static void deep_chain(void *p)
{
    /* Deeper than a small task stack could hold with one frame per level. */
    enum { DEPTH = 20000 };
    rt_ctx **chain = malloc(DEPTH * sizeof *chain);
    chain[0] = rt_ctx_with_cancel(NULL);
    for (int i = 1; i < DEPTH; i++) chain[i] = rt_ctx_with_cancel(chain[i - 1]);
    rt_ctx_cancel_cause(chain[0], -EIO);
    CHECK_ERR(rt_ctx_err(chain[DEPTH - 1]), -ECANCELED);
    CHECK_ERR(rt_ctx_cause(chain[DEPTH - 1]), -EIO);
    CHECK(done_closed(chain[DEPTH - 1]));
    /* Release root first: the leaf's release then frees the whole chain. */
    for (int i = 0; i < DEPTH; i++) rt_ctx_release(chain[i]);
    free(chain);
    rt_wg_done(p);
}

RT_TEST(deep_chains_cancel_and_free_without_recursion)
{
    rt_wg *wg = rt_wg_new();
    rt_wg_add(wg, 1);
    CHECK_ERR(rt_go("deep-chain", deep_chain, wg), 0);
    CHECK_ERR(rt_wg_wait(wg, NULL), 0);
    rt_wg_free(wg);
}

RT_TEST(deadline_fires_on_time)
{
    /* Behaviour, not speed: never before the deadline, and within a
     * generous bound after it (the machine is shared). */
    const int64_t timeout = RT_MS(60);
    rt_wg *wg = rt_wg_new();
    rt_time start = rt_now();
    waiter_job j = {.ctx = rt_ctx_with_timeout(NULL, timeout), .wg = wg, .rc = 99};
    CHECK(rt_ctx_deadline(j.ctx) >= start + timeout);
    rt_wg_add(wg, 1);
    rt_go("deadline-waiter", wait_on_ctx, &j);
    rt_wg_wait(wg, NULL);
    CHECK_ERR(j.rc, -ETIMEDOUT);
    CHECK_ERR(rt_ctx_err(j.ctx), -ETIMEDOUT);
    CHECK_ERR(rt_ctx_cause(j.ctx), -ETIMEDOUT);
    CHECK(j.woke - start >= timeout);
    CHECK(j.woke - start < timeout + RT_MS(2000));
    rt_ctx_release(j.ctx);
    rt_wg_free(wg);
}

RT_TEST(child_inherits_earlier_parent_deadline)
{
    rt_time start = rt_now();
    rt_ctx *parent = rt_ctx_with_timeout(NULL, RT_MS(40));
    rt_ctx *child = rt_ctx_with_deadline(parent, start + RT_MS(60000));
    rt_ctx *grandchild = rt_ctx_with_cancel(child);
    CHECK_EQ(rt_ctx_deadline(child), rt_ctx_deadline(parent));
    CHECK_EQ(rt_ctx_deadline(grandchild), rt_ctx_deadline(parent));
    rt_chan *never = rt_chan_new(0);
    void *v;
    CHECK_ERR(rt_chan_recv(never, &v, grandchild), -ETIMEDOUT);
    CHECK(rt_now() - start >= RT_MS(40));
    CHECK_ERR(rt_ctx_err(child), -ETIMEDOUT);
    /* A child's own earlier deadline wins over a later parent's. */
    rt_ctx *slow = rt_ctx_with_timeout(NULL, RT_MS(60000));
    rt_ctx *fast = rt_ctx_with_timeout(slow, RT_MS(20));
    CHECK_ERR(rt_chan_recv(never, &v, fast), -ETIMEDOUT);
    CHECK_EQ(rt_ctx_err(slow), 0);
    rt_ctx_release(fast);
    rt_ctx_release(slow);
    rt_ctx_release(grandchild);
    rt_ctx_release(child);
    rt_ctx_release(parent);
    rt_chan_free(never);
}

RT_TEST(past_deadline_is_already_expired)
{
    rt_ctx *c = rt_ctx_with_deadline(NULL, rt_now() - RT_MS(1));
    CHECK_ERR(rt_ctx_err(c), -ETIMEDOUT);
    CHECK(done_closed(c));
    rt_ctx *z = rt_ctx_with_timeout(NULL, 0);
    CHECK_ERR(rt_ctx_err(z), -ETIMEDOUT);
    rt_ctx_release(z);
    rt_ctx_release(c);
}

RT_TEST(cancel_before_deadline_stops_timer)
{
    rt_ctx *c = rt_ctx_with_timeout(NULL, RT_MS(30));
    rt_ctx_cancel(c);
    CHECK_ERR(rt_ctx_err(c), -ECANCELED);
    rt_sleep(RT_MS(60), NULL);
    CHECK_ERR(rt_ctx_err(c), -ECANCELED); /* the deadline did not override it */
    rt_ctx_release(c);
    /* Released with the timer still pending: nothing fires later (the
     * sanitizer builds would see a use after free). */
    for (int i = 0; i < 50; i++) rt_ctx_release(rt_ctx_with_timeout(NULL, RT_MS(5 + i % 5)));
    rt_sleep(RT_MS(30), NULL);
}

/* ------------------------------------------------------------- sleep -- */

RT_TEST(sleep_sleeps_the_full_duration)
{
    rt_time start = rt_now();
    CHECK_ERR(rt_sleep(RT_MS(30), NULL), 0);
    CHECK(rt_now() - start >= RT_MS(30));
    CHECK(rt_now() - start < RT_MS(2030));
    rt_ctx *c = rt_ctx_with_cancel(NULL);
    start = rt_now();
    CHECK_ERR(rt_sleep(RT_MS(20), c), 0);
    CHECK(rt_now() - start >= RT_MS(20));
    CHECK_ERR(rt_sleep(0, c), 0);
    rt_ctx_release(c);
}

/* Cancels the context it was given a reference to, then drops it. */
static void cancel_later(void *p)
{
    rt_sleep(RT_MS(20), NULL);
    rt_ctx_release(p);
}

RT_TEST(sleep_wakes_early_on_cancel_and_deadline)
{
    rt_ctx *c = rt_ctx_with_cancel(NULL);
    rt_time start = rt_now();
    rt_go("canceller", cancel_later, rt_ctx_retain(c));
    CHECK_ERR(rt_sleep(RT_MS(30000), c), -ECANCELED);
    CHECK(rt_now() - start < RT_MS(10000));
    CHECK_ERR(rt_sleep(RT_MS(10), c), -ECANCELED); /* already cancelled */
    rt_ctx_release(c);
    start = rt_now(); /* before the deadline is computed */
    rt_ctx *t = rt_ctx_with_timeout(NULL, RT_MS(20));
    CHECK_ERR(rt_sleep(RT_MS(30000), t), -ETIMEDOUT);
    CHECK(rt_now() - start >= RT_MS(20));
    CHECK(rt_now() - start < RT_MS(10000));
    rt_ctx_release(t);
}

static void sleeper(void *p)
{
    rt_sleep(RT_MS(30000), p);
}

RT_TEST(sleep_shows_in_snapshot)
{
    rt_ctx *c = rt_ctx_with_cancel(NULL);
    rt_go("sleeper", sleeper, c);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SLEEP) == 1, 5000));
    rt_task_info info[4];
    size_t n = rt_snapshot(info, 4);
    CHECK_EQ(n, 2);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (info[i].op == RT_OP_SLEEP) {
            found++;
            CHECK(strcmp(info[i].role, "sleeper") == 0);
            CHECK(info[i].cancellable);
            CHECK(!info[i].has_chan);
        }
    CHECK_EQ(found, 1);
    rt_ctx_cancel(c);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 5000));
    rt_ctx_release(c);
}

static void sleep_outside_task(void **state)
{
    (void)state;
    assert_int_equal(rt_sleep(RT_MS(1), NULL), -EDEADLK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cancel_sets_err_once_and_closes_done),
        cmocka_unit_test(background_is_never_cancelled),
        cmocka_unit_test(cancellation_reaches_grandchildren_not_parents),
        cmocka_unit_test(unref_drops_without_cancelling),
        cmocka_unit_test(release_in_any_order),
        cmocka_unit_test(deep_chains_cancel_and_free_without_recursion),
        cmocka_unit_test(deadline_fires_on_time),
        cmocka_unit_test(child_inherits_earlier_parent_deadline),
        cmocka_unit_test(past_deadline_is_already_expired),
        cmocka_unit_test(cancel_before_deadline_stops_timer),
        cmocka_unit_test(sleep_sleeps_the_full_duration),
        cmocka_unit_test(sleep_wakes_early_on_cancel_and_deadline),
        cmocka_unit_test(sleep_shows_in_snapshot),
        cmocka_unit_test(sleep_outside_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
