/*
 * select_test.c — select: default, ready cases, send cases, closed and NULL
 * channels, blocking until a peer arrives on any case, the implicit context
 * case, random (fair) choice among ready cases, selects matching selects,
 * and misuse.
 */
#include "rt_test_util.h"

#define V(i) ((void *)(uintptr_t)(i))
#define I(p) ((intptr_t)(uintptr_t)(p))

RT_TEST(default_when_nothing_ready)
{
    rt_chan *a = rt_chan_new(0), *b = rt_chan_new(1);
    rt_chan_try_send(b, V(1)); /* b is full: a send case on it is not ready */
    rt_case cs[] = {RT_RECV_CASE(a), RT_SEND_CASE(b, V(2)), RT_RECV_CASE(NULL)};
    CHECK_ERR(rt_select(cs, 3, true, NULL), RT_SELECT_DEFAULT);
    CHECK_ERR(rt_select(NULL, 0, true, NULL), RT_SELECT_DEFAULT);
    CHECK_EQ(rt_chan_len(b), 1);
    rt_chan_free(a);
    rt_chan_free(b);
}

RT_TEST(ready_case_is_performed)
{
    rt_chan *a = rt_chan_new(0), *b = rt_chan_new(2);
    rt_chan_try_send(b, V(42));
    rt_case cs[] = {RT_RECV_CASE(a), RT_RECV_CASE(b)};
    CHECK_ERR(rt_select(cs, 2, true, NULL), 1);
    CHECK_EQ(cs[1].result, 0);
    CHECK_EQ(I(cs[1].recv), 42);
    rt_case snd[] = {RT_RECV_CASE(a), RT_SEND_CASE(b, V(43))};
    CHECK_ERR(rt_select(snd, 2, false, NULL), 1);
    void *v;
    CHECK_ERR(rt_chan_try_recv(b, &v), 0);
    CHECK_EQ(I(v), 43);
    rt_chan_free(a);
    rt_chan_free(b);
}

RT_TEST(closed_channel_case_reports_epipe)
{
    rt_chan *a = rt_chan_new(0), *c = rt_chan_new(0);
    rt_chan_close(c);
    rt_case cs[] = {RT_RECV_CASE(a), RT_RECV_CASE(c)};
    CHECK_ERR(rt_select(cs, 2, false, NULL), 1);
    CHECK_ERR(cs[1].result, -EPIPE);
    CHECK(cs[1].recv == NULL);
    rt_case s[] = {RT_SEND_CASE(c, V(1))};
    CHECK_ERR(rt_select(s, 1, false, NULL), 0);
    CHECK_ERR(s[0].result, -EPIPE);
    rt_chan_free(a);
    rt_chan_free(c);
}

typedef struct {
    rt_chan *ch[3];
    rt_ctx *ctx;
    rt_wg *wg;
    int which;
    int rc;
    void *got;
} sel_job;

static void select_three(void *p)
{
    sel_job *j = p;
    rt_case cs[] = {RT_RECV_CASE(j->ch[0]), RT_RECV_CASE(j->ch[1]), RT_RECV_CASE(j->ch[2])};
    j->rc = rt_select(cs, 3, false, j->ctx);
    if (j->rc >= 0) j->got = cs[j->rc].recv;
    rt_wg_done(j->wg);
}

RT_TEST(blocked_select_woken_by_any_case)
{
    for (int k = 0; k < 3; k++) {
        sel_job j = {.wg = rt_wg_new(), .rc = 99};
        for (int i = 0; i < 3; i++) j.ch[i] = rt_chan_new(0);
        rt_wg_add(j.wg, 1);
        rt_go("selector", select_three, &j);
        CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SELECT) == 1, 5000));
        CHECK_ERR(rt_chan_send(j.ch[k], V(10 + k), NULL), 0);
        rt_wg_wait(j.wg, NULL);
        CHECK_EQ(j.rc, k);
        CHECK_EQ(I(j.got), 10 + k);
        /* The other cases' waiters were taken back: nothing left queued. */
        for (int i = 0; i < 3; i++) {
            CHECK_ERR(rt_chan_try_send(j.ch[i], V(1)), -EAGAIN);
            CHECK_ERR(rt_chan_free(j.ch[i]), 0);
        }
        rt_wg_free(j.wg);
    }
}

RT_TEST(blocked_select_woken_by_close)
{
    sel_job j = {.wg = rt_wg_new(), .rc = 99};
    for (int i = 0; i < 3; i++) j.ch[i] = rt_chan_new(i);
    rt_wg_add(j.wg, 1);
    rt_go("selector", select_three, &j);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SELECT) == 1, 5000));
    rt_chan_close(j.ch[2]);
    rt_wg_wait(j.wg, NULL);
    CHECK_EQ(j.rc, 2);
    for (int i = 0; i < 3; i++) rt_chan_free(j.ch[i]);
    rt_wg_free(j.wg);
}

RT_TEST(context_case_cancels_select)
{
    sel_job j = {.wg = rt_wg_new(), .rc = 99, .ctx = rt_ctx_with_cancel(NULL)};
    for (int i = 0; i < 3; i++) j.ch[i] = rt_chan_new(0);
    rt_wg_add(j.wg, 1);
    rt_go("selector", select_three, &j);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_SELECT) == 1, 5000));
    rt_ctx_cancel(j.ctx);
    rt_wg_wait(j.wg, NULL);
    CHECK_ERR(j.rc, -ECANCELED);
    /* An already-cancelled context with nothing else ready. */
    rt_case cs[] = {RT_RECV_CASE(j.ch[0])};
    CHECK_ERR(rt_select(cs, 1, false, j.ctx), -ECANCELED);
    for (int i = 0; i < 3; i++) CHECK_ERR(rt_chan_free(j.ch[i]), 0);
    rt_ctx_release(j.ctx);
    rt_wg_free(j.wg);
}

RT_TEST(random_choice_among_ready_cases_is_fair)
{
    /* Four always-ready cases; each must be chosen about a quarter of the
     * time.  With N = 8000 trials a count has mean 2000 and standard
     * deviation ~39, so [1700, 2300] is a > 7-sigma band: a fair select
     * essentially never fails it, a biased one (e.g. always first ready,
     * or a fixed order) always does. */
    enum { K = 4, N = 8000 };
    rt_chan *ch[K];
    for (int i = 0; i < K; i++) {
        ch[i] = rt_chan_new(1);
        rt_chan_try_send(ch[i], V(i));
    }
    int count[K] = {0};
    for (int t = 0; t < N; t++) {
        rt_case cs[K];
        for (int i = 0; i < K; i++) cs[i] = RT_RECV_CASE(ch[i]);
        int r = rt_select(cs, K, false, NULL);
        CHECK(r >= 0 && r < K);
        if (r < 0 || r >= K) break;
        count[r]++;
        CHECK_EQ(I(cs[r].recv), r);
        rt_chan_try_send(ch[r], V(r)); /* refill */
    }
    for (int i = 0; i < K; i++) {
        CHECK(count[i] > 1700 && count[i] < 2300);
        rt_chan_free(ch[i]);
    }
    /* The same for a ready case against an already-cancelled context. */
    rt_ctx *ctx = rt_ctx_with_cancel(NULL);
    rt_ctx_cancel(ctx);
    int data = 0, cancelled = 0;
    rt_chan *c = rt_chan_new(1);
    for (int t = 0; t < 2000; t++) {
        rt_chan_try_send(c, V(1));
        rt_case cs[] = {RT_RECV_CASE(c)};
        int r = rt_select(cs, 1, false, ctx);
        if (r == 0)
            data++;
        else if (r == -ECANCELED) {
            cancelled++;
            void *v;
            rt_chan_try_recv(c, &v);
        }
    }
    CHECK_EQ(data + cancelled, 2000);
    CHECK(data > 800 && cancelled > 800);
    rt_chan_free(c);
    rt_ctx_release(ctx);
}

/* Two tasks each selecting on a send to the other and a receive from the
 * other: every round must match exactly one pair of cases. */
typedef struct {
    rt_chan *a, *b;
    rt_wg *wg;
    int rounds;
    int sent, recvd;
} duel;

static void duel_left(void *p)
{
    duel *d = p;
    for (int i = 0; i < d->rounds; i++) {
        rt_case cs[] = {RT_SEND_CASE(d->a, V(i)), RT_RECV_CASE(d->b)};
        int r = rt_select(cs, 2, false, NULL);
        CHECK(r == 0 || r == 1);
        if (r == 0) d->sent++;
        if (r == 1) d->recvd++;
    }
    rt_wg_done(d->wg);
}

static void duel_right(void *p)
{
    duel *d = p;
    for (int i = 0; i < d->rounds; i++) {
        rt_case cs[] = {RT_RECV_CASE(d->a), RT_SEND_CASE(d->b, V(i))};
        int r = rt_select(cs, 2, false, NULL);
        CHECK(r == 0 || r == 1);
    }
    rt_wg_done(d->wg);
}

RT_TEST(select_matches_select)
{
    duel d = {.a = rt_chan_new(0), .b = rt_chan_new(0), .wg = rt_wg_new(), .rounds = 3000};
    rt_wg_add(d.wg, 2);
    rt_go("left", duel_left, &d);
    rt_go("right", duel_right, &d);
    CHECK_ERR(rt_wg_wait(d.wg, NULL), 0);
    CHECK_EQ(d.sent + d.recvd, d.rounds);
    CHECK(d.sent > 0 && d.recvd > 0); /* both directions happen */
    rt_chan_free(d.a);
    rt_chan_free(d.b);
    rt_wg_free(d.wg);
}

RT_TEST(many_cases_beyond_inline_storage)
{
    enum { K = 40 };
    rt_chan *ch[K];
    rt_case cs[K];
    for (int i = 0; i < K; i++) {
        ch[i] = rt_chan_new(1);
        cs[i] = RT_RECV_CASE(ch[i]);
    }
    CHECK_ERR(rt_select(cs, K, true, NULL), RT_SELECT_DEFAULT);
    rt_chan_try_send(ch[33], V(33));
    CHECK_ERR(rt_select(cs, K, false, NULL), 33);
    CHECK_EQ(I(cs[33].recv), 33);
    /* The same channel in several cases. */
    rt_case dup[] = {RT_RECV_CASE(ch[0]), RT_RECV_CASE(ch[0]), RT_SEND_CASE(ch[0], V(5))};
    CHECK_ERR(rt_select(dup, 3, false, NULL), 2);
    CHECK_ERR(rt_select(dup, 2, false, NULL) < 2 ? 0 : -1, 0);
    for (int i = 0; i < K; i++) rt_chan_free(ch[i]);
}

RT_TEST(misuse_returns_errors)
{
    rt_chan *a = rt_chan_new(0);
    rt_case bad = {.kind = 7, .ch = a};
    CHECK_ERR(rt_select(&bad, 1, true, NULL), -EINVAL);
    CHECK_ERR(rt_select(NULL, 2, true, NULL), -EINVAL);
    rt_case ok = RT_RECV_CASE(a);
    CHECK_ERR(rt_select(&ok, -1, true, NULL), -EINVAL);
    rt_chan_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_when_nothing_ready),
        cmocka_unit_test(ready_case_is_performed),
        cmocka_unit_test(closed_channel_case_reports_epipe),
        cmocka_unit_test(blocked_select_woken_by_any_case),
        cmocka_unit_test(blocked_select_woken_by_close),
        cmocka_unit_test(context_case_cancels_select),
        cmocka_unit_test(random_choice_among_ready_cases_is_fair),
        cmocka_unit_test(select_matches_select),
        cmocka_unit_test(many_cases_beyond_inline_storage),
        cmocka_unit_test(misuse_returns_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
