/*
 * waitgroup_mismatch.c — pattern 11 of the leak catalogue (README): join /
 * wait-group mismatch.
 *
 * Each request is split into "parts" part tasks counted in a per-request
 * wait group; an aggregator task holds the response buffer (the request's
 * payload size), waits for the group and replies to the handler, which
 * waits up to the client timeout.  For the requests the spec's error
 * probability marks (inject_error), one part fails.
 *
 * Leaky: the failing part returns on its error path without calling
 * done(), so the count never reaches zero and the aggregator waits forever
 * in wait() (NULL context), holding the buffer; the client times out.
 * Leaked tasks per second = rate × error probability.
 *
 * Graceful: add() before spawn, done() in the parts' cleanup (one exit
 * path), the aggregator's wait and reply watch its context, a failed part
 * turns into an error reply, and a wait group over all tasks lets shutdown
 * join them.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { WGM_KNOB_PARTS = 0 };
static const lb_knob wgm_knobs[] = {
    {"parts", "part tasks per request counted in its wait group", 3, 1, 64, true},
};

typedef struct wgm_state {
    int parts;
    rt_wg *active; /* handle() calls in flight; graceful: also every task not yet ended */
} wgm_state;

typedef struct wgm_call {
    _Atomic int refs;       /* handler + parts + aggregator; last one frees */
    _Atomic int next_index; /* each part takes its index from here */
    _Atomic bool failed;    /* a part failed */
    int failing;            /* index of the part that fails, or -1 */
    rt_wg *parts;           /* the per-request wait group */
    rt_chan *reply;         /* capacity 1 */
    rt_ctx *ctx;            /* graceful: the tasks' context */
    rt_wg *tasks;           /* graceful: the state's task count */
    sc_job job;
} wgm_call;

static wgm_call *wgm_call_new(const wgm_state *st, const lb_request *req)
{
    wgm_call *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->parts = rt_wg_new();
    c->reply = rt_chan_new(1);
    if (!c->parts || !c->reply) {
        if (c->parts) rt_wg_free(c->parts);
        if (c->reply) rt_chan_free(c->reply);
        free(c);
        return NULL;
    }
    atomic_init(&c->refs, st->parts + 2);
    atomic_init(&c->next_index, 0);
    atomic_init(&c->failed, false);
    c->failing = req->inject_error ? (int)(sc_mix(req->rand, 11) % (uint64_t)st->parts) : -1;
    c->job = sc_job_of(req);
    return c;
}

static void wgm_call_unref(wgm_call *c)
{
    if (!sc_unref(&c->refs)) return;
    if (c->ctx) rt_ctx_release(c->ctx);
    rt_wg_free(c->parts);
    rt_chan_free(c->reply);
    free(c);
}

static int64_t wgm_part_ns(const wgm_call *c, int i)
{
    return (int64_t)((double)c->job.service_ns * (0.5 + 0.5 * sc_frac(c->job.rand, (uint64_t)i)));
}

static void *wgm_setup(const lb_env *env)
{
    wgm_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->parts = (int)env->knob[WGM_KNOB_PARTS];
    if (st->parts < 1) st->parts = 1;
    return sc_state_ready(st, &st->active);
}

SC_DRAINING_SHUTDOWN(wgm_shutdown, wgm_state)

static lb_outcome wgm_await_reply(wgm_call *c, lb_request *req)
{
    void *v;
    int rc = rt_chan_recv(c->reply, &v, req->ctx);
    if (rc != 0) return sc_outcome_of(rc);
    return v == SC_ERR_VALUE ? LB_FAILED : LB_COMPLETED;
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_part(void *arg)
{
    wgm_call *c = arg;
    int i = atomic_fetch_add(&c->next_index, 1);
    sc_work(wgm_part_ns(c, i), NULL);
    if (i == c->failing) {
        atomic_store(&c->failed, true);
        wgm_call_unref(c);
        return; /* the bug: this error path skips done() */
    }
    rt_wg_done(c->parts);
    wgm_call_unref(c);
}

static void leaky_aggregator(void *arg)
{
    wgm_call *c = arg;
    void *response = lb_payload_new(c->job.payload_bytes);
    rt_wg_wait(c->parts, NULL); /* LEAK SITE: a part skipped done() */
    rt_chan_send(c->reply, atomic_load(&c->failed) ? SC_ERR_VALUE : SC_OK_VALUE, NULL);
    lb_payload_free(response, c->job.payload_bytes);
    wgm_call_unref(c);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    wgm_state *st = state;
    wgm_call *c = wgm_call_new(st, req);
    if (!c) return LB_FAILED;
    rt_wg_add(c->parts, st->parts);
    for (int i = 0; i < st->parts; i++)
        if (rt_go("part", leaky_part, c) != 0) {
            rt_wg_done(c->parts);
            wgm_call_unref(c);
        }
    if (rt_go("aggregator", leaky_aggregator, c) != 0) {
        wgm_call_unref(c);
        wgm_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out = wgm_await_reply(c, req);
    wgm_call_unref(c);
    return out;
}

/* ---------------------------------------------------------- graceful -- */

static void graceful_part(void *arg)
{
    wgm_call *c = arg;
    rt_wg *tasks = c->tasks;
    int i = atomic_fetch_add(&c->next_index, 1);
    int rc = sc_work(wgm_part_ns(c, i), c->ctx);
    if (rc != 0 || i == c->failing) atomic_store(&c->failed, true);
    rt_wg_done(c->parts); /* one exit path: done() runs whatever happened */
    wgm_call_unref(c);
    rt_wg_done(tasks);
}

static void graceful_aggregator(void *arg)
{
    wgm_call *c = arg;
    rt_wg *tasks = c->tasks;
    void *response = lb_payload_new(c->job.payload_bytes);
    if (rt_wg_wait(c->parts, c->ctx) == 0)
        rt_chan_send(c->reply, atomic_load(&c->failed) ? SC_ERR_VALUE : SC_OK_VALUE, c->ctx);
    lb_payload_free(response, c->job.payload_bytes);
    wgm_call_unref(c);
    rt_wg_done(tasks);
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    wgm_state *st = state;
    wgm_call *c = wgm_call_new(st, req);
    if (!c) return LB_FAILED;
    c->tasks = st->active;
    c->ctx = rt_ctx_with_cancel(req->ctx);
    if (!c->ctx) {
        atomic_store(&c->refs, 1);
        wgm_call_unref(c);
        return LB_FAILED;
    }
    rt_wg_add(c->parts, st->parts); /* add before spawn */
    for (int i = 0; i < st->parts; i++)
        if (sc_go_tracked(st->active, "part", graceful_part, c) != 0) {
            atomic_store(&c->failed, true);
            rt_wg_done(c->parts);
            wgm_call_unref(c);
        }
    if (sc_go_tracked(st->active, "aggregator", graceful_aggregator, c) != 0) {
        rt_ctx_cancel(c->ctx); /* the parts stop early */
        wgm_call_unref(c);
        wgm_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out = wgm_await_reply(c, req);
    rt_ctx_cancel(c->ctx);
    wgm_call_unref(c);
    return out;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, wgm_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, wgm_state)

static const lb_scenario waitgroup_mismatch = {
    .name = "waitgroup_mismatch",
    .pattern = 11,
    .title = "join / wait-group mismatch",
    .trigger = "error_rate: a part fails and skips done()",
    .source = "ASPLOS'19 (Tu et al.); ThreadSanitizer's thread-leak report",
    .description = "A failing part returns on its error path without calling done(), so the "
                   "aggregator's wait() never returns and it blocks forever holding the "
                   "response buffer.",
    .fix = "add() before spawn, done() in cleanup on every path, a wait that watches the "
           "context, and shutdown joins every task.",
    .leak = {.ops = LB_OP_BIT(RT_OP_WAITGROUP),
             .name = "wait-group mismatch",
             .hint =
                 "add() before spawn, done() in cleanup on every path, and wait with a context"},
    .knobs = wgm_knobs,
    .n_knobs = 1,
    .leaky = {wgm_setup, leaky_handle, wgm_shutdown},
    .graceful = {wgm_setup, graceful_handle, wgm_shutdown},
};
LB_SCENARIO(waitgroup_mismatch)
