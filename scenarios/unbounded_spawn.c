/*
 * unbounded_spawn.c — pattern 12 of the leak catalogue (README): unbounded
 * spawn into a full queue.
 *
 * A fixed set of sink workers (the spec's pool size) serve jobs from a
 * bounded queue (the spec's queue capacity), each job taking the request's
 * service time, so the sinks serve pool_size / service time jobs per
 * second.  Arrivals beyond that are the trigger: overload factor = request
 * rate × service time ÷ pool size.
 *
 * Leaky: one task per request ("enqueuer") holds the request's payload
 * and sends the job into the queue with no deadline (NULL context); the
 * handler waits for the reply up to the client timeout.  Under overload
 * the queue stays full, and the crowd of blocked enqueuers grows by
 * (arrival rate − service rate) per second, without bound; the sinks then
 * spend their time on jobs whose clients already left.  At shutdown the
 * sinks stop and every enqueuer still waiting is stuck for good.
 * Leaked tasks per second ≈ rate × (1 − 1/overload factor).
 *
 * Graceful: admission control.  No task per request: the handler itself
 * offers the job to the queue with a deadline (knob "admit_ms"; 0 means a
 * non-blocking try) and rejects the request when the queue stays full
 * (LB_REJECTED, load shed).  A job carries its client's context, and the
 * sinks skip jobs whose client is gone.  Shutdown joins the sinks, then
 * drains and frees what is left in the queue.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { US_KNOB_ADMIT_MS = 0 };
static const lb_knob us_knobs[] = {
    {"admit_ms", "graceful: how long a request may wait for queue space before it is rejected", 5,
     0, 10000, false},
};

typedef struct us_job {
    _Atomic int refs; /* the handler + whoever holds it in the queue */
    rt_chan *reply;   /* capacity 1 */
    rt_chan *queue;   /* leaky: where the enqueuer sends it */
    rt_ctx *ctx;      /* graceful: the client's interest in the job */
    int64_t service_ns;
    size_t payload_bytes;
} us_job;

typedef struct us_state {
    rt_chan *queue; /* bounded: the spec's queue capacity */
    rt_ctx *root;   /* cancelled at shutdown: the sinks stop */
    rt_wg *sinks;   /* sink workers started and not yet ended */
    rt_wg *active;  /* handle() calls in flight */
    int64_t admit_ns;
} us_state;

static us_job *us_job_new(const us_state *st, const lb_request *req)
{
    us_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->reply = rt_chan_new(1);
    if (!j->reply) {
        free(j);
        return NULL;
    }
    atomic_init(&j->refs, 2);
    j->queue = st->queue;
    j->service_ns = req->service_ns;
    j->payload_bytes = req->payload_bytes;
    return j;
}

static void us_job_unref(us_job *j)
{
    if (!sc_unref(&j->refs)) return;
    if (j->ctx) rt_ctx_release(j->ctx);
    rt_chan_free(j->reply);
    free(j);
}

/* Serves jobs until the root context ends.  A job whose client is gone
 * (graceful twin only: leaky jobs carry no context) is skipped. */
static void us_sink(void *arg)
{
    us_state *st = arg;
    rt_wg *sinks = st->sinks;
    for (;;) {
        void *v;
        if (rt_chan_recv(st->queue, &v, st->root) != 0) break;
        us_job *j = v;
        if (!j->ctx || rt_ctx_err(j->ctx) == 0) {
            if (sc_work(j->service_ns, j->ctx) == 0)
                rt_chan_send(j->reply, SC_OK_VALUE, j->ctx); /* capacity 1: never blocks */
        }
        us_job_unref(j);
    }
    rt_wg_done(sinks);
}

static void *us_setup(const lb_env *env)
{
    us_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->root = env->root;
    st->admit_ns = (int64_t)(env->knob[US_KNOB_ADMIT_MS] * 1e6);
    st->queue = rt_chan_new(env->queue_cap > 0 ? env->queue_cap : 0);
    st->sinks = rt_wg_new();
    st->active = rt_wg_new();
    if (!st->queue || !st->sinks || !st->active) goto fail;
    int pool = env->pool_size > 0 ? env->pool_size : 1;
    for (int i = 0; i < pool; i++)
        if (sc_go_tracked(st->sinks, "sink", us_sink, st) != 0) goto fail_started;
    return st;

fail_started:
    /* Sinks already started end only when root is cancelled; the harness
     * treats a NULL state as a failed setup and cancels root. */
    return NULL;
fail:
    if (st->queue) rt_chan_free(st->queue);
    if (st->sinks) rt_wg_free(st->sinks);
    if (st->active) rt_wg_free(st->active);
    free(st);
    return NULL;
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_enqueuer(void *arg)
{
    us_job *j = arg;
    size_t bytes = j->payload_bytes;
    void *payload = lb_payload_new(bytes);
    rt_chan_send(j->queue, j, NULL); /* LEAK SITE: full queue, no deadline */
    lb_payload_free(payload, bytes);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    us_state *st = state;
    us_job *j = us_job_new(st, req);
    if (!j) return LB_FAILED;
    if (rt_go("enqueuer", leaky_enqueuer, j) != 0) { /* one task per request, unbounded */
        us_job_unref(j);
        us_job_unref(j);
        return LB_FAILED;
    }
    void *v;
    int rc = rt_chan_recv(j->reply, &v, req->ctx);
    us_job_unref(j);
    return sc_outcome_of(rc);
}

/* The sinks stop; the enqueuers still waiting on the queue stay blocked
 * forever, so the queue and the state are left to them. */
static void leaky_shutdown(void *state)
{
    us_state *st = state;
    sc_wait_all(st->active);
    sc_wait_all(st->sinks);
}

/* ---------------------------------------------------------- graceful -- */

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    us_state *st = state;
    us_job *j = us_job_new(st, req);
    if (!j) return LB_FAILED;
    j->ctx = rt_ctx_with_cancel(req->ctx);
    void *payload = lb_payload_new(req->payload_bytes);
    int rc = -ENOMEM;
    if (j->ctx) {
        if (st->admit_ns <= 0) {
            rc = rt_chan_try_send(st->queue, j);
        } else {
            rt_ctx *admit = rt_ctx_with_timeout(req->ctx, st->admit_ns);
            rc = admit ? rt_chan_send(st->queue, j, admit) : -ENOMEM;
            if (admit) rt_ctx_release(admit);
        }
    }
    lb_outcome out;
    if (rc != 0) {
        /* Not queued: the queue's reference is ours to drop too. */
        us_job_unref(j);
        if (rt_ctx_err(req->ctx) != 0)
            out = sc_outcome_of(rt_ctx_err(req->ctx));
        else
            out = rc == -ENOMEM ? LB_FAILED : LB_REJECTED; /* shed load */
    } else {
        void *v;
        out = sc_outcome_of(rt_chan_recv(j->reply, &v, req->ctx));
        rt_ctx_cancel(j->ctx); /* a sink that has not started it skips it */
    }
    lb_payload_free(payload, req->payload_bytes);
    us_job_unref(j);
    return out;
}

static void graceful_shutdown(void *state)
{
    us_state *st = state;
    if (sc_wait_all(st->active) != 0 || sc_wait_all(st->sinks) != 0)
        return; /* handlers or sinks still use st: keep it */
    void *v;
    while (rt_chan_try_recv(st->queue, &v) == 0) us_job_unref(v);
    rt_chan_close(st->queue);
    rt_chan_free(st->queue);
    rt_wg_free(st->sinks);
    rt_wg_free(st->active);
    free(st);
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, us_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, us_state)

static const lb_scenario unbounded_spawn = {
    .name = "unbounded_spawn",
    .pattern = 12,
    .title = "unbounded spawn into a full queue",
    .trigger = "overload factor = load rate × service_time ÷ pool_size (the sink workers)",
    .source = "LeakProf premise (Uber engineering blog); golang.org/x/sync/semaphore docs",
    .description = "Every request spawns a task that sends its job into a bounded queue with no "
                   "deadline; a slow sink keeps the queue full and the crowd of blocked "
                   "senders grows without bound.",
    .fix = "Admission control: no task per request, every send into the queue has a deadline, "
           "requests that cannot be queued in time are rejected (load shed).",
    .leak = {.ops = LB_OP_BIT(RT_OP_SEND),
             .full_channel = true,
             .name = "unbounded spawn into a full queue",
             .hint =
                 "admission control; give every send a deadline and reject what cannot be queued"},
    .knobs = us_knobs,
    .n_knobs = 1,
    .leaky = {us_setup, leaky_handle, leaky_shutdown},
    .graceful = {us_setup, graceful_handle, graceful_shutdown},
};
LB_SCENARIO(unbounded_spawn)
