/*
 * abandoned_pipeline.c — pattern 6 of the leak catalogue (README): a pipeline
 * abandoned downstream.
 *
 * Each request builds a pipeline: a generator task (holding the request's
 * payload, the data it streams) emits "items" items, "stages" stage tasks
 * each receive, transform (service time / items per item) and pass them
 * on, and the handler is the sink.  A fraction of the requests (knob
 * "early_exit") want only the first "k" results (a search that stops at
 * the first hits, or a client that disconnects); the sink then stops
 * reading and returns.
 *
 * Leaky: unbuffered channels, no context.  When the sink stops early, the
 * last stage blocks in its send, the stage before it in its own send, and
 * so on back to the generator: stage after stage, every task of the
 * pipeline blocks forever.  Leaked tasks per second = rate × early_exit ×
 * (stages + 1).
 *
 * Graceful (Go blog, "Pipelines and cancellation"): the pipeline runs in a
 * task group; the sink broadcasts "done" by cancelling the group's context
 * (which closes its done channel), every stage sends and receives in a
 * select on it, every stage closes its output when it returns, and the
 * sink joins the group before returning.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { AP_KNOB_EARLY_EXIT = 0, AP_KNOB_K, AP_KNOB_STAGES, AP_KNOB_ITEMS };
static const lb_knob ap_knobs[] = {
    {"early_exit", "fraction of requests whose sink stops reading after k results", 0.3, 0, 1,
     false},
    {"k", "results the sink takes before it stops early", 1, 0, 1000, true},
    {"stages", "stage tasks between the generator and the sink", 3, 1, 16, true},
    {"items", "items the generator emits", 16, 1, 1000, true},
};

typedef struct ap_state {
    rt_wg *active; /* handle() calls in flight */
    double early_exit;
    int k, stages, items;
} ap_state;

/* One request's pipeline.  chans[0] runs from the generator to stage 0,
 * chans[i] from stage i-1 to stage i, chans[stages] from the last stage to
 * the sink. */
typedef struct ap_pipe {
    _Atomic int refs;       /* leaky: sink + generator + stages; last frees */
    _Atomic int next_stage; /* each stage takes its index from here */
    int stages, items;
    int64_t item_ns;
    size_t payload_bytes;
    rt_chan **chans;
} ap_pipe;

static void ap_pipe_free(ap_pipe *p)
{
    for (int i = 0; i <= p->stages; i++)
        if (p->chans[i]) rt_chan_free(p->chans[i]);
    free(p->chans);
    free(p);
}

static ap_pipe *ap_pipe_new(const ap_state *st, const lb_request *req, int refs)
{
    ap_pipe *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->chans = calloc((size_t)st->stages + 1, sizeof *p->chans);
    if (!p->chans) {
        free(p);
        return NULL;
    }
    p->stages = st->stages;
    for (int i = 0; i <= p->stages; i++) {
        p->chans[i] = rt_chan_new(0);
        if (!p->chans[i]) {
            ap_pipe_free(p);
            return NULL;
        }
    }
    atomic_init(&p->refs, refs);
    atomic_init(&p->next_stage, 0);
    p->items = st->items;
    p->item_ns = req->service_ns / st->items;
    p->payload_bytes = req->payload_bytes;
    return p;
}

static void ap_pipe_unref(ap_pipe *p)
{
    if (sc_unref(&p->refs)) ap_pipe_free(p);
}

static void *ap_setup(const lb_env *env)
{
    ap_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->early_exit = env->knob[AP_KNOB_EARLY_EXIT];
    st->k = (int)env->knob[AP_KNOB_K];
    st->stages = (int)env->knob[AP_KNOB_STAGES];
    st->items = (int)env->knob[AP_KNOB_ITEMS];
    if (st->stages < 1) st->stages = 1;
    if (st->items < 1) st->items = 1;
    return sc_state_ready(st, &st->active);
}

/* No task uses the state: shutdown waits for the handlers only. */
SC_DRAINING_SHUTDOWN(ap_shutdown, ap_state)

/* How many results this request's sink reads. */
static int ap_wanted(const ap_state *st, const lb_request *req)
{
    bool early = sc_frac(req->rand, 6) < st->early_exit;
    return early && st->k < st->items ? st->k : st->items;
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_generator(void *arg)
{
    ap_pipe *p = arg;
    void *payload = lb_payload_new(p->payload_bytes);
    for (int i = 0; i < p->items; i++)
        rt_chan_send(p->chans[0], (void *)(uintptr_t)(i + 1), NULL); /* LEAK SITE: generator */
    rt_chan_close(p->chans[0]);
    lb_payload_free(payload, p->payload_bytes);
    ap_pipe_unref(p);
}

static void leaky_stage(void *arg)
{
    ap_pipe *p = arg;
    int i = atomic_fetch_add(&p->next_stage, 1);
    rt_chan *in = p->chans[i], *out = p->chans[i + 1];
    for (;;) {
        void *v;
        if (rt_chan_recv(in, &v, NULL) != 0) break; /* closed upstream */
        sc_work(p->item_ns, NULL);
        rt_chan_send(out, v, NULL); /* LEAK SITE: the sink stopped reading */
    }
    rt_chan_close(out);
    ap_pipe_unref(p);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    ap_state *st = state;
    ap_pipe *p = ap_pipe_new(st, req, st->stages + 2);
    if (!p) return LB_FAILED;
    /* The pipeline is all or nothing: if a task cannot start, the
     * tasks already started are left to leak, as they would in Go. */
    if (rt_go("generator", leaky_generator, p) != 0) {
        ap_pipe_free(p);
        return LB_FAILED;
    }
    for (int i = 0; i < st->stages; i++)
        if (rt_go("stage", leaky_stage, p) != 0) return LB_FAILED;
    int wanted = ap_wanted(st, req), rc = 0;
    for (int got = 0; got < wanted && rc == 0; got++) {
        void *v;
        rc = rt_chan_recv(p->chans[st->stages], &v, req->ctx);
    }
    /* The bug: the sink leaves with the pipeline still running. */
    ap_pipe_unref(p);
    return sc_outcome_of(rc);
}

/* ---------------------------------------------------------- graceful -- */

static int graceful_generator(rt_ctx *ctx, void *arg)
{
    ap_pipe *p = arg;
    void *payload = lb_payload_new(p->payload_bytes);
    for (int i = 0; i < p->items; i++)
        if (rt_chan_send(p->chans[0], (void *)(uintptr_t)(i + 1), ctx) != 0) break;
    rt_chan_close(p->chans[0]); /* on every path */
    lb_payload_free(payload, p->payload_bytes);
    return 0;
}

static int graceful_stage(rt_ctx *ctx, void *arg)
{
    ap_pipe *p = arg;
    int i = atomic_fetch_add(&p->next_stage, 1);
    rt_chan *in = p->chans[i], *out = p->chans[i + 1];
    for (;;) {
        void *v;
        if (rt_chan_recv(in, &v, ctx) != 0) break; /* closed upstream, or done */
        if (sc_work(p->item_ns, ctx) != 0) break;
        if (rt_chan_send(out, v, ctx) != 0) break; /* done: the sink left */
    }
    rt_chan_close(out); /* on every path */
    return 0;
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    ap_state *st = state;
    ap_pipe *p = ap_pipe_new(st, req, 1);
    if (!p) return LB_FAILED;
    rt_group *g = rt_group_new(req->ctx);
    if (!g) {
        ap_pipe_free(p);
        return LB_FAILED;
    }
    int rc = rt_group_go(g, "generator", graceful_generator, p);
    for (int i = 0; i < st->stages && rc == 0; i++) rc = rt_group_go(g, "stage", graceful_stage, p);
    if (rc != 0) {
        rt_group_wait(g, true);
        ap_pipe_free(p);
        return LB_FAILED;
    }
    int wanted = ap_wanted(st, req);
    for (int got = 0; got < wanted && rc == 0; got++) {
        void *v;
        rc = rt_chan_recv(p->chans[st->stages], &v, req->ctx);
    }
    /* Broadcast done (cancel closes the group's done channel) and join. */
    rt_group_wait(g, true);
    ap_pipe_free(p);
    return sc_outcome_of(rc);
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, ap_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, ap_state)

static const lb_scenario abandoned_pipeline = {
    .name = "abandoned_pipeline",
    .pattern = 6,
    .title = "abandoned pipeline downstream",
    .trigger = "early-exit fraction (knob early_exit) with k results taken (knob k); "
               "stages+1 tasks per abandoned pipeline",
    .source = "Go blog, \"Go Concurrency Patterns: Pipelines and cancellation\" (2014)",
    .description = "The sink stops reading after the first k results; the last stage blocks on "
                   "its send, then every stage before it, back to the generator.",
    .fix = "Broadcast done by closing a channel (cancelling the pipeline's context), make every "
           "stage send in a select on it, close each stage's output when it returns, and join.",
    .leak = {.ops = LB_OP_BIT(RT_OP_SEND),
             .name = "abandoned pipeline",
             .hint = "close a done channel and let every stage send in a select on it"},
    .knobs = ap_knobs,
    .n_knobs = 4,
    .leaky = {ap_setup, leaky_handle, ap_shutdown},
    .graceful = {ap_setup, graceful_handle, ap_shutdown},
};
LB_SCENARIO(abandoned_pipeline)
