/*
 * stress_test.c — many producers and consumers sharing channels, with
 * random cancellation.
 *
 * Producers send unique values, each through a select over several shared
 * channels (buffered and unbuffered) plus the producer's own context;
 * consumers receive through a select over the same channels plus their own
 * context.  A chaos task cancels random producers and (some) consumers at
 * random moments, so hand-offs race with cancellation all the time.  Every
 * value is accounted for: a producer records each value as sent (its send
 * returned 0) or not sent (its send returned the context's error); at the
 * end, every sent value must have been received exactly once — by a
 * consumer or by the final drain of the channels — and no unsent value
 * may ever be received.  Live tasks must return to zero.
 *
 * Sizes shrink under the sanitizers (LEAKBENCH_TSAN / LEAKBENCH_ASAN) to
 * keep the suite fast; LEAKBENCH_STRESS_SCALE multiplies them.
 *
 * Randomness comes from one seed, printed first on every run:
 * LEAKBENCH_SEED when set (replay a failure with the printed value), else
 * one taken from the clock.
 */
#include "rt_test_util.h"

#if RT_TEST_SANITIZED
#define BASE_VALUES 2000
#else
#define BASE_VALUES 20000
#endif
enum { PRODUCERS = 12, CONSUMERS = 8, CHANS = 4 };

typedef struct stress {
    rt_chan *ch[CHANS];
    rt_ctx *root;
    rt_ctx *pctx[PRODUCERS], *cctx[CONSUMERS];
    int per_producer;
    _Atomic uint8_t *sent;      /* per value: 0 not yet, 1 sent, 2 not sent */
    _Atomic uint32_t *received; /* per value: times received */
    rt_wg *producers, *consumers;
    _Atomic bool producers_done;
    uint64_t seed;
} stress;

typedef struct {
    stress *s;
    int id;
} worker_arg;

static void producer(void *p)
{
    worker_arg *a = p;
    stress *s = a->s;
    uint64_t r = s->seed * 31 + (uint64_t)a->id + 1;
    for (int i = 0; i < s->per_producer; i++) {
        size_t v = (size_t)a->id * (size_t)s->per_producer + (size_t)i;
        void *val = (void *)(uintptr_t)(v + 1);
        int rc;
        if (rt_test_rand(&r) % 4 == 0) {
            rc = rt_chan_send(s->ch[rt_test_rand(&r) % CHANS], val, s->pctx[a->id]);
        } else {
            rt_case cs[CHANS];
            for (int k = 0; k < CHANS; k++) cs[k] = RT_SEND_CASE(s->ch[k], val);
            rc = rt_select(cs, CHANS, false, s->pctx[a->id]);
            if (rc >= 0) rc = cs[rc].result;
        }
        if (rc == 0) {
            atomic_store(&s->sent[v], 1);
        } else {
            CHECK(rc == -ECANCELED || rc == -ETIMEDOUT);
            atomic_store(&s->sent[v], 2);
        }
    }
    rt_wg_done(s->producers);
}

static void record(stress *s, void *val)
{
    size_t v = (size_t)(uintptr_t)val - 1;
    CHECK(val != NULL && v < (size_t)PRODUCERS * (size_t)s->per_producer);
    if (val && v < (size_t)PRODUCERS * (size_t)s->per_producer)
        atomic_fetch_add(&s->received[v], 1);
}

static void consumer(void *p)
{
    worker_arg *a = p;
    stress *s = a->s;
    int open = CHANS;
    bool closed[CHANS] = {false};
    while (open > 0) {
        rt_case cs[CHANS];
        for (int k = 0; k < CHANS; k++) cs[k] = RT_RECV_CASE(closed[k] ? NULL : s->ch[k]);
        int rc = rt_select(cs, CHANS, false, s->cctx[a->id]);
        if (rc < 0) break; /* our context ended: the rest is someone else's */
        if (cs[rc].result == -EPIPE) {
            closed[rc] = true;
            open--;
            continue;
        }
        record(s, cs[rc].recv);
    }
    rt_wg_done(s->consumers);
}

/* Cancels random producers among the first half, and up to half of the
 * consumers, at random moments until the producers are done. */
static void chaos(void *p)
{
    stress *s = p;
    uint64_t r = s->seed ^ 0x5eed;
    int consumers_cancelled = 0;
    while (!atomic_load(&s->producers_done)) {
        rt_sleep(RT_US(50 + rt_test_rand(&r) % 500), NULL);
        uint64_t pick = rt_test_rand(&r) % 10;
        if (pick < 3) {
            /* Producers 0..PRODUCERS/2-1 may be cancelled (any number of
             * times); the others send everything unless the root ends. */
            rt_ctx_cancel(s->pctx[rt_test_rand(&r) % (PRODUCERS / 2)]);
        } else if (pick < 4 && consumers_cancelled < CONSUMERS / 2) {
            /* Consumers 0..CONSUMERS/2-1 may be cancelled; the others stay
             * until the channels are closed. */
            rt_ctx_cancel(s->cctx[consumers_cancelled++]);
        }
    }
}

static void run_stress(bool cancel_root_midway)
{
    stress s = {.per_producer = BASE_VALUES * (int)rt_test_env_long("LEAKBENCH_STRESS_SCALE", 1)};
    s.seed = (uint64_t)rt_test_env_long("LEAKBENCH_SEED", 1); /* main() set it */
    size_t nvals = (size_t)PRODUCERS * (size_t)s.per_producer;
    s.sent = calloc(nvals, sizeof *s.sent);
    s.received = calloc(nvals, sizeof *s.received);
    for (int k = 0; k < CHANS; k++) s.ch[k] = rt_chan_new(k % 2 ? 0 : 4 * k + 1);
    s.root = rt_ctx_with_cancel(NULL);
    for (int i = 0; i < PRODUCERS; i++) s.pctx[i] = rt_ctx_with_cancel(s.root);
    for (int i = 0; i < CONSUMERS; i++) s.cctx[i] = rt_ctx_with_cancel(s.root);
    s.producers = rt_wg_new();
    s.consumers = rt_wg_new();
    worker_arg pa[PRODUCERS], ca[CONSUMERS];

    rt_wg_add(s.consumers, CONSUMERS);
    for (int i = 0; i < CONSUMERS; i++) {
        ca[i] = (worker_arg){&s, i};
        CHECK_ERR(rt_go("consumer", consumer, &ca[i]), 0);
    }
    rt_wg_add(s.producers, PRODUCERS);
    for (int i = 0; i < PRODUCERS; i++) {
        pa[i] = (worker_arg){&s, i};
        CHECK_ERR(rt_go("producer", producer, &pa[i]), 0);
    }
    CHECK_ERR(rt_go("chaos", chaos, &s), 0);
    if (cancel_root_midway) {
        rt_sleep(RT_MS(15), NULL);
        rt_ctx_cancel(s.root); /* everything in flight stops */
    }
    CHECK_ERR(rt_wg_wait(s.producers, NULL), 0);
    atomic_store(&s.producers_done, true);
    /* Closing lets the surviving consumers drain and finish. */
    for (int k = 0; k < CHANS; k++) CHECK_ERR(rt_chan_close(s.ch[k]), 0);
    CHECK_ERR(rt_wg_wait(s.consumers, NULL), 0);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 10000)); /* chaos ends too */
    /* Whatever no consumer took is still in the buffers. */
    for (int k = 0; k < CHANS; k++) {
        void *v;
        int rc;
        while ((rc = rt_chan_try_recv(s.ch[k], &v)) == 0) record(&s, v);
        CHECK_ERR(rc, -EPIPE);
    }

    size_t n_sent = 0, n_unsent = 0, bad = 0;
    for (size_t v = 0; v < nvals; v++) {
        uint8_t st = atomic_load(&s.sent[v]);
        uint32_t got = atomic_load(&s.received[v]);
        if (st == 1) {
            n_sent++;
            if (got != 1 && bad++ < 5) CHECK_EQ(got, 1); /* exactly once */
        } else {
            n_unsent++;
            CHECK_EQ(st, 2); /* every value was reported one way or the other */
            if (got != 0 && bad++ < 5) CHECK_EQ(got, 0); /* never a ghost */
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(n_sent + n_unsent, nvals);
    CHECK(n_sent > 0);
    if (cancel_root_midway) {
        for (int i = 0; i < PRODUCERS; i++) CHECK_ERR(rt_ctx_err(s.pctx[i]), -ECANCELED);
    }
    print_message("stress: %zu values, %zu sent, %zu reported not sent%s\n", nvals, n_sent,
                  n_unsent, cancel_root_midway ? " (root cancelled midway)" : "");

    for (int i = 0; i < PRODUCERS; i++) rt_ctx_release(s.pctx[i]);
    for (int i = 0; i < CONSUMERS; i++) rt_ctx_release(s.cctx[i]);
    rt_ctx_release(s.root);
    for (int k = 0; k < CHANS; k++) CHECK_ERR(rt_chan_free(s.ch[k]), 0);
    rt_wg_free(s.producers);
    rt_wg_free(s.consumers);
    free(s.sent);
    free(s.received);
}

RT_TEST(random_cancellation_loses_nothing)
{
    run_stress(false);
}

RT_TEST(root_cancel_midway_loses_nothing)
{
    run_stress(true);
}

int main(void)
{
    /* One seed drives the producers, the chaos task and (through
     * rt_test_config) the runtime's select choices. */
    rt_test_seed("stress");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_cancellation_loses_nothing),
        cmocka_unit_test(root_cancel_midway_loses_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
