/*
 * lock_leak.c — pattern 10 of the leak catalogue (README): lock leak (double
 * lock).
 *
 * Each request is served by a worker task on the request's record, which
 * is guarded by a task-aware mutex.  The worker holds the request's
 * payload, takes the lock, works for the service time and, for the
 * fraction of requests that are writes (knob "writer_ratio"), applies the
 * update and bumps the record's version.  The handler waits for the reply
 * up to the client timeout.
 *
 * Leaky: the version bump is a helper that takes the record's lock itself,
 * but the write path calls it while already holding that lock — a double
 * lock.  The worker blocks forever on its own mutex (NULL context), holding
 * the payload and the lock; anything that later wants the record queues
 * behind it.  Leaked tasks per second = rate × writer_ratio.
 *
 * Graceful: one lock per path — the helper expects the lock held
 * (..._locked) — every lock acquisition takes the worker's context so a
 * wait can always be abandoned, the unlock is on every path, and a wait
 * group lets shutdown join every worker.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { LL_KNOB_WRITER_RATIO = 0 };
static const lb_knob ll_knobs[] = {
    {"writer_ratio", "fraction of requests that write (and bump the version)", 0.2, 0, 1, false},
};

typedef struct ll_record {
    rt_mutex *mu; /* protects value and version; the only lock here */
    int64_t value, version;
} ll_record;

typedef struct ll_call {
    _Atomic int refs; /* handler + worker; last one frees */
    ll_record record;
    rt_chan *reply; /* capacity 1 */
    rt_ctx *ctx;    /* graceful: the worker's context */
    rt_wg *wg;      /* graceful: the state's task count */
    bool write;
    sc_job job;
} ll_call;

typedef struct ll_state {
    double writer_ratio;
    rt_wg *active; /* handle() calls in flight; graceful: also every worker not yet ended */
} ll_state;

static ll_call *ll_call_new(const ll_state *st, const lb_request *req)
{
    ll_call *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->record.mu = rt_mutex_new();
    c->reply = rt_chan_new(1);
    if (!c->record.mu || !c->reply) {
        if (c->record.mu) rt_mutex_free(c->record.mu);
        if (c->reply) rt_chan_free(c->reply);
        free(c);
        return NULL;
    }
    atomic_init(&c->refs, 2);
    c->job = sc_job_of(req);
    c->write = sc_frac(req->rand, 10) < st->writer_ratio;
    return c;
}

static void ll_call_unref(ll_call *c)
{
    if (!sc_unref(&c->refs)) return;
    if (c->ctx) rt_ctx_release(c->ctx);
    rt_mutex_free(c->record.mu);
    rt_chan_free(c->reply);
    free(c);
}

static void *ll_setup(const lb_env *env)
{
    ll_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->writer_ratio = env->knob[LL_KNOB_WRITER_RATIO];
    return sc_state_ready(st, &st->active);
}

SC_DRAINING_SHUTDOWN(ll_shutdown, ll_state)

static lb_outcome ll_await_reply(ll_call *c, lb_request *req)
{
    void *v;
    return sc_outcome_of(rt_chan_recv(c->reply, &v, req->ctx));
}

/* ------------------------------------------------------------- leaky -- */

/* Takes the record's lock itself: wrong when the caller already holds it. */
static void leaky_record_bump_version(ll_record *r)
{
    rt_mutex_lock(r->mu, NULL); /* LEAK SITE: already held by the caller (double lock) */
    r->version++;
    rt_mutex_unlock(r->mu);
}

static void leaky_worker(void *arg)
{
    ll_call *c = arg;
    void *payload = lb_payload_new(c->job.payload_bytes);
    rt_mutex_lock(c->record.mu, NULL);
    sc_work(c->job.service_ns, NULL);
    if (c->write) {
        c->record.value = (int64_t)c->job.id;
        leaky_record_bump_version(&c->record); /* the bug: called with the lock held */
    }
    rt_mutex_unlock(c->record.mu);
    rt_chan_send(c->reply, SC_OK_VALUE, NULL); /* capacity 1: never blocks */
    lb_payload_free(payload, c->job.payload_bytes);
    ll_call_unref(c);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    ll_state *st = state;
    ll_call *c = ll_call_new(st, req);
    if (!c) return LB_FAILED;
    if (rt_go("worker", leaky_worker, c) != 0) {
        ll_call_unref(c);
        ll_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out = ll_await_reply(c, req);
    ll_call_unref(c);
    return out;
}

/* ---------------------------------------------------------- graceful -- */

/* The caller holds r->mu. */
static void graceful_record_bump_version_locked(ll_record *r)
{
    r->version++;
}

static void graceful_worker(void *arg)
{
    ll_call *c = arg;
    rt_wg *wg = c->wg;
    void *payload = lb_payload_new(c->job.payload_bytes);
    if (rt_mutex_lock(c->record.mu, c->ctx) == 0) { /* a wait that can be abandoned */
        int rc = sc_work(c->job.service_ns, c->ctx);
        if (rc == 0 && c->write) {
            c->record.value = (int64_t)c->job.id;
            graceful_record_bump_version_locked(&c->record);
        }
        rt_mutex_unlock(c->record.mu); /* on every path */
        if (rc == 0) rt_chan_send(c->reply, SC_OK_VALUE, c->ctx);
    }
    lb_payload_free(payload, c->job.payload_bytes);
    ll_call_unref(c);
    rt_wg_done(wg);
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    ll_state *st = state;
    ll_call *c = ll_call_new(st, req);
    if (!c) return LB_FAILED;
    c->wg = st->active;
    c->ctx = rt_ctx_with_cancel(req->ctx);
    if (!c->ctx || sc_go_tracked(st->active, "worker", graceful_worker, c) != 0) {
        ll_call_unref(c);
        ll_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out = ll_await_reply(c, req);
    rt_ctx_cancel(c->ctx);
    ll_call_unref(c);
    return out;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, ll_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, ll_state)

static const lb_scenario lock_leak = {
    .name = "lock_leak",
    .pattern = 10,
    .title = "lock leak (double lock)",
    .trigger = "writer ratio (knob writer_ratio): writes take the record's lock twice",
    .source = "ASPLOS'19 (Tu et al., mutex and wait causes are 42% of its 85 blocking bugs)",
    .description = "The write path calls a helper that locks the record's mutex while the "
                   "caller already holds it; the worker blocks forever on its own lock and "
                   "every later user of the record queues behind it.",
    .fix = "One lock per path (helpers that expect the lock held), unlock on every path, and "
           "lock acquisitions that take a context so the wait can be abandoned.",
    .leak = {.ops = LB_OP_BIT(RT_OP_LOCK),
             .name = "lock leak",
             .hint = "one lock per path, unlock on every path, and lock with a context"},
    .knobs = ll_knobs,
    .n_knobs = 1,
    .leaky = {ll_setup, leaky_handle, ll_shutdown},
    .graceful = {ll_setup, graceful_handle, ll_shutdown},
};
LB_SCENARIO(lock_leak)
