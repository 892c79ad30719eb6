/*
 * chan_test.c — channel semantics: rendezvous, FIFO, buffering, try
 * variants, close with blocked senders and receivers, draining after close,
 * send on a closed channel, cancellation of a blocked send/recv, and what a
 * snapshot says about a task blocked on a channel (and the bound on its
 * blocked_since).
 */
#include "rt_test_util.h"

#define V(i) ((void *)(uintptr_t)(i))
#define I(p) ((intptr_t)(uintptr_t)(p))

typedef struct {
    rt_chan *ch;
    rt_wg *wg;
    rt_ctx *ctx;
    int n;
    int rc;
    void *got;
} chan_job;

static void producer(void *p)
{
    chan_job *j = p;
    for (int i = 1; i <= j->n; i++) CHECK_ERR(rt_chan_send(j->ch, V(i), NULL), 0);
    rt_wg_done(j->wg);
}

RT_TEST(unbuffered_is_fifo_rendezvous)
{
    rt_chan *ch = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    chan_job j = {.ch = ch, .wg = wg, .n = 2000};
    rt_wg_add(wg, 1);
    CHECK_ERR(rt_go("producer", producer, &j), 0);
    for (int i = 1; i <= j.n; i++) {
        void *v;
        CHECK_ERR(rt_chan_recv(ch, &v, NULL), 0);
        CHECK_EQ(I(v), i);
        CHECK_EQ(rt_chan_len(ch), 0); /* nothing is ever buffered */
    }
    rt_wg_wait(wg, NULL);
    rt_wg_free(wg);
    CHECK_ERR(rt_chan_free(ch), 0);
}

static void send_one(void *p)
{
    chan_job *j = p;
    j->rc = rt_chan_send(j->ch, V(j->n), j->ctx);
    rt_wg_done(j->wg);
}

RT_TEST(unbuffered_send_blocks_until_received)
{
    rt_chan *ch = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    chan_job j = {.ch = ch, .wg = wg, .n = 7, .rc = 99};
    rt_wg_add(wg, 1);
    rt_go("sender", send_one, &j);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 1, 5000));
    CHECK_EQ(j.rc, 99); /* still blocked */
    CHECK_ERR(rt_chan_try_send(ch, V(1)), -EAGAIN);
    void *v;
    CHECK_ERR(rt_chan_try_recv(ch, &v), 0);
    CHECK_EQ(I(v), 7);
    rt_wg_wait(wg, NULL);
    CHECK_EQ(j.rc, 0);
    CHECK_ERR(rt_chan_try_recv(ch, &v), -EAGAIN);
    rt_wg_free(wg);
    rt_chan_free(ch);
}

RT_TEST(buffered_fifo_len_cap_try)
{
    rt_chan *ch = rt_chan_new(3);
    CHECK_EQ(rt_chan_cap(ch), 3);
    CHECK_EQ(rt_chan_len(ch), 0);
    for (int i = 1; i <= 3; i++) CHECK_ERR(rt_chan_try_send(ch, V(i)), 0);
    CHECK_ERR(rt_chan_try_send(ch, V(4)), -EAGAIN);
    CHECK_EQ(rt_chan_len(ch), 3);
    void *v;
    CHECK_ERR(rt_chan_recv(ch, &v, NULL), 0);
    CHECK_EQ(I(v), 1);
    CHECK_ERR(rt_chan_send(ch, V(4), NULL), 0); /* wraps around the ring */
    for (int i = 2; i <= 4; i++) {
        CHECK_ERR(rt_chan_try_recv(ch, &v), 0);
        CHECK_EQ(I(v), i);
    }
    CHECK_ERR(rt_chan_try_recv(ch, &v), -EAGAIN);
    CHECK_EQ(rt_chan_len(ch), 0);
    rt_chan_free(ch);
}

RT_TEST(buffered_full_sender_hands_value_in_order)
{
    /* A sender blocked on a full buffer: a receive takes the oldest value
     * and the sender's value joins the tail. */
    rt_chan *ch = rt_chan_new(2);
    rt_wg *wg = rt_wg_new();
    rt_chan_try_send(ch, V(1));
    rt_chan_try_send(ch, V(2));
    chan_job j = {.ch = ch, .wg = wg, .n = 3};
    rt_wg_add(wg, 1);
    rt_go("sender", send_one, &j);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 1, 5000));
    void *v;
    for (int i = 1; i <= 3; i++) {
        CHECK_ERR(rt_chan_recv(ch, &v, NULL), 0);
        CHECK_EQ(I(v), i);
    }
    rt_wg_wait(wg, NULL);
    CHECK_EQ(j.rc, 0);
    rt_wg_free(wg);
    rt_chan_free(ch);
}

RT_TEST(blocked_senders_are_served_fifo)
{
    enum { N = 5 };
    rt_chan *ch = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    chan_job j[N];
    for (int i = 0; i < N; i++) {
        j[i] = (chan_job){.ch = ch, .wg = wg, .n = i + 1};
        rt_wg_add(wg, 1);
        rt_go("sender", send_one, &j[i]);
        /* Let it queue before the next one starts. */
        CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == i + 1, 5000));
    }
    for (int i = 0; i < N; i++) {
        void *v;
        CHECK_ERR(rt_chan_recv(ch, &v, NULL), 0);
        CHECK_EQ(I(v), i + 1);
    }
    rt_wg_wait(wg, NULL);
    rt_wg_free(wg);
    rt_chan_free(ch);
}

static void recv_one(void *p)
{
    chan_job *j = p;
    j->got = V(12345);
    j->rc = rt_chan_recv(j->ch, &j->got, j->ctx);
    rt_wg_done(j->wg);
}

RT_TEST(close_wakes_blocked_receivers)
{
    enum { N = 6 };
    rt_chan *ch = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    chan_job j[N];
    for (int i = 0; i < N; i++) {
        j[i] = (chan_job){.ch = ch, .wg = wg, .rc = 99};
        rt_wg_add(wg, 1);
        rt_go("receiver", recv_one, &j[i]);
    }
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == N, 5000));
    CHECK_ERR(rt_chan_free(ch), -EBUSY); /* tasks wait on it */
    CHECK_ERR(rt_chan_close(ch), 0);
    CHECK_ERR(rt_wg_wait(wg, NULL), 0);
    for (int i = 0; i < N; i++) {
        CHECK_ERR(j[i].rc, -EPIPE);
        CHECK(j[i].got == NULL);
    }
    rt_wg_free(wg);
    CHECK_ERR(rt_chan_free(ch), 0);
}

RT_TEST(close_wakes_blocked_senders_and_keeps_buffered_values)
{
    enum { N = 4 };
    rt_chan *ch = rt_chan_new(1);
    rt_chan_try_send(ch, V(100));
    rt_wg *wg = rt_wg_new();
    chan_job j[N];
    for (int i = 0; i < N; i++) {
        j[i] = (chan_job){.ch = ch, .wg = wg, .n = i + 1, .rc = 99};
        rt_wg_add(wg, 1);
        rt_go("sender", send_one, &j[i]);
    }
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == N, 5000));
    CHECK_ERR(rt_chan_close(ch), 0);
    rt_wg_wait(wg, NULL);
    for (int i = 0; i < N; i++) CHECK_ERR(j[i].rc, -EPIPE);
    /* The value buffered before close is still delivered, then "closed". */
    void *v = NULL;
    CHECK_ERR(rt_chan_recv(ch, &v, NULL), 0);
    CHECK_EQ(I(v), 100);
    CHECK_ERR(rt_chan_recv(ch, &v, NULL), -EPIPE);
    CHECK(v == NULL);
    CHECK_ERR(rt_chan_try_recv(ch, &v), -EPIPE);
    rt_wg_free(wg);
    rt_chan_free(ch);
}

RT_TEST(closed_channel_rejects_sends)
{
    rt_chan *ch = rt_chan_new(2);
    CHECK_ERR(rt_chan_close(ch), 0);
    CHECK_ERR(rt_chan_send(ch, V(1), NULL), -EPIPE);
    CHECK_ERR(rt_chan_try_send(ch, V(1)), -EPIPE);
    CHECK_ERR(rt_chan_close(ch), -EINVAL);
    rt_chan *ub = rt_chan_new(0);
    rt_chan_close(ub);
    CHECK_ERR(rt_chan_send(ub, V(1), NULL), -EPIPE);
    void *v;
    CHECK_ERR(rt_chan_recv(ub, &v, NULL), -EPIPE);
    rt_chan_free(ch);
    rt_chan_free(ub);
}

RT_TEST(context_unblocks_send_and_recv)
{
    rt_chan *ch = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    rt_ctx *ctx = rt_ctx_with_cancel(rt_ctx_background());
    chan_job s = {.ch = ch, .wg = wg, .ctx = ctx, .rc = 99};
    chan_job r = {.ch = rt_chan_new(0), .wg = wg, .ctx = ctx, .rc = 99};
    rt_wg_add(wg, 2);
    rt_go("sender", send_one, &s);
    rt_go("receiver", recv_one, &r);
    CHECK(
        RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 1 && rt_test_blocked(RT_OP_RECV) == 1, 5000));
    rt_ctx_cancel(ctx);
    rt_wg_wait(wg, NULL);
    CHECK_ERR(s.rc, -ECANCELED);
    CHECK_ERR(r.rc, -ECANCELED);
    CHECK(r.got == NULL);
    /* Nothing was left queued on the channels. */
    CHECK_ERR(rt_chan_try_recv(ch, &r.got), -EAGAIN);
    rt_ctx_release(ctx);
    rt_wg_free(wg);
    CHECK_ERR(rt_chan_free(ch), 0);
    CHECK_ERR(rt_chan_free(r.ch), 0);
}

RT_TEST(snapshot_describes_blocked_task)
{
    rt_chan *ch = rt_chan_new(2);
    rt_chan_try_send(ch, V(1));
    rt_chan_try_send(ch, V(2));
    rt_wg *wg = rt_wg_new();
    rt_ctx *ctx = rt_ctx_with_cancel(NULL);
    chan_job plain = {.ch = ch, .wg = wg, .n = 3};
    chan_job with_ctx = {.ch = ch, .wg = wg, .n = 4, .ctx = ctx};
    rt_wg_add(wg, 2);
    rt_time before = rt_now();
    rt_go("plain-sender", send_one, &plain);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 1, 5000));
    rt_go("ctx-sender", send_one, &with_ctx);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 2, 5000));

    rt_task_info info[8];
    size_t n = rt_snapshot(info, 8);
    CHECK_EQ(n, 3); /* main and the two senders */
    CHECK_EQ(rt_live_tasks(), 3);
    int seen = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        rt_task_info *t = &info[i];
        if (strcmp(t->role, "main") == 0) {
            CHECK_EQ(t->op, RT_OP_RUNNING);
            CHECK_EQ(t->id, rt_task_id(rt_self()));
            continue;
        }
        seen++;
        CHECK_EQ(t->op, RT_OP_SEND);
        CHECK(strcmp(t->block_site.func, "send_one") == 0);
        CHECK(strstr(t->block_site.file, "chan_test.c") != NULL);
        CHECK(strcmp(t->spawn_site.func, "snapshot_describes_blocked_task_body") == 0);
        CHECK(t->blocked_since >= before && t->blocked_since <= rt_now());
        CHECK(t->has_chan);
        CHECK_EQ(t->chan_cap, 2);
        CHECK_EQ(t->chan_len, 2);
        CHECK_EQ(t->chan_send_waiters, 2);
        CHECK_EQ(t->chan_recv_waiters, 0);
        CHECK(!t->chan_closed);
        if (strcmp(t->role, "plain-sender") == 0)
            CHECK(!t->cancellable);
        else
            CHECK(t->cancellable);
    }
    CHECK_EQ(seen, 2);
    /* by_op always adds up to live tasks. */
    int64_t sum = 0;
    for (int op = 0; op < RT_OP_COUNT; op++) sum += rt_test_blocked((rt_op)op);
    CHECK_EQ(sum, rt_live_tasks());
    CHECK_EQ(rt_test_blocked(RT_OP_RUNNING), 1);

    CHECK_ERR(rt_chan_close(ch), 0);
    rt_wg_wait(wg, NULL);
    CHECK_ERR(plain.rc, -EPIPE);
    CHECK_ERR(with_ctx.rc, -EPIPE);
    rt_ctx_release(ctx);
    rt_wg_free(wg);
    rt_chan_free(ch);
}

/* blocked_since comes from a cheap clock (task.c: the later of the coarse
 * clock and the latest rt_now()); it may trail the block by the coarse
 * clock's lag, documented in rt.h as a few ms.  Here the task blocks with
 * no rt_now() anywhere near: its stamp must still lie between a raw
 * CLOCK_MONOTONIC reading taken before it (less 100 ms, a generous bound
 * on the lag, measured <= 5.1 ms) and rt_now() after, and the age the
 * leak report would compute can never be negative. */
static rt_time raw_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (rt_time)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

RT_TEST(snapshot_age_within_coarse_bound)
{
    rt_chan *ch = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    chan_job job = {.ch = ch, .wg = wg, .n = 1};
    rt_wg_add(wg, 1);
    rt_time before = raw_monotonic();
    rt_go("stamped", send_one, &job);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SEND) == 1, 5000));
    rt_time blocked_by = raw_monotonic(); /* it had blocked by now */
    rt_task_info info[4];
    size_t n = rt_snapshot(info, 4);
    int seen = 0;
    for (size_t i = 0; i < n && i < 4; i++) {
        if (strcmp(info[i].role, "stamped") != 0) continue;
        seen++;
        CHECK(info[i].blocked_since >= before - RT_MS(100));
        CHECK(info[i].blocked_since <= blocked_by);
        CHECK(rt_now() - info[i].blocked_since >= 0);
    }
    CHECK_EQ(seen, 1);
    void *v;
    CHECK_ERR(rt_chan_recv(ch, &v, NULL), 0);
    rt_wg_wait(wg, NULL);
    rt_wg_free(wg);
    rt_chan_free(ch);
}

RT_TEST(misuse_returns_errors)
{
    void *v;
    CHECK(rt_chan_new(-1) == NULL);
    CHECK_ERR(rt_chan_send(NULL, V(1), NULL), -EINVAL);
    CHECK_ERR(rt_chan_recv(NULL, &v, NULL), -EINVAL);
    CHECK_ERR(rt_chan_try_send(NULL, V(1)), -EINVAL);
    CHECK_ERR(rt_chan_try_recv(NULL, &v), -EINVAL);
    CHECK_ERR(rt_chan_close(NULL), -EINVAL);
    CHECK_ERR(rt_chan_free(NULL), -EINVAL);
    CHECK_EQ(rt_chan_len(NULL), -EINVAL);
    CHECK_EQ(rt_chan_cap(NULL), -EINVAL);
    rt_chan *ch = rt_chan_new(1);
    CHECK_ERR(rt_chan_recv(ch, NULL, NULL), -EINVAL);
    CHECK_ERR(rt_chan_close(ch), 0);
    CHECK_ERR(rt_chan_close(ch), -EINVAL);
    rt_chan_free(ch);
}

static void blocking_outside_task(void **state)
{
    (void)state;
    rt_chan *ch = rt_chan_new(0);
    void *v;
    assert_int_equal(rt_chan_send(ch, V(1), NULL), -EDEADLK);
    assert_int_equal(rt_chan_recv(ch, &v, NULL), -EDEADLK);
    assert_int_equal(rt_chan_try_send(ch, V(1)), -EAGAIN); /* try variants are fine */
    assert_null(rt_self());
    rt_chan_free(ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unbuffered_is_fifo_rendezvous),
        cmocka_unit_test(unbuffered_send_blocks_until_received),
        cmocka_unit_test(buffered_fifo_len_cap_try),
        cmocka_unit_test(buffered_full_sender_hands_value_in_order),
        cmocka_unit_test(blocked_senders_are_served_fifo),
        cmocka_unit_test(close_wakes_blocked_receivers),
        cmocka_unit_test(close_wakes_blocked_senders_and_keeps_buffered_values),
        cmocka_unit_test(closed_channel_rejects_sends),
        cmocka_unit_test(context_unblocks_send_and_recv),
        cmocka_unit_test(snapshot_describes_blocked_task),
        cmocka_unit_test(snapshot_age_within_coarse_bound),
        cmocka_unit_test(misuse_returns_errors),
        cmocka_unit_test(blocking_outside_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
