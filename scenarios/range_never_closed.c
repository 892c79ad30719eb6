/*
 * range_never_closed.c — pattern 5 of the leak catalogue (README): range over
 * a channel that is never closed.
 *
 * A fraction of the requests (knob "batch_fraction") carry a batch of
 * "items" items.  The handler starts "consumers" consumer tasks that range
 * over a work channel (receive until it is closed), each holding a working
 * buffer of the request's payload size; the handler produces the items
 * into the work channel and collects one result per item.  The other
 * requests are served inline.
 *
 * Leaky: the producer never closes the work channel, so once the items are
 * done every consumer waits forever in its receive (NULL context) for a
 * close that never comes.  Leaked tasks per second = batches per second ×
 * consumers = rate × batch_fraction × consumers.
 *
 * Graceful: the producer closes the work channel after the last item, the
 * consumers also watch the request's context (a task group's), the
 * coordinator joins the consumers and only then closes the results channel,
 * which the handler ranges over.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { RNC_KNOB_BATCH_FRACTION = 0, RNC_KNOB_CONSUMERS, RNC_KNOB_ITEMS };
static const lb_knob rnc_knobs[] = {
    {"batch_fraction", "fraction of requests that are batches (the rest are served inline)", 1, 0,
     1, false},
    {"consumers", "consumer tasks ranging over each batch's work channel", 2, 1, 32, true},
    {"items", "items per batch", 8, 1, 256, true},
};

typedef struct rnc_state {
    rt_wg *active; /* handle() calls in flight */
    double batch_fraction;
    int consumers, items;
} rnc_state;

typedef struct rnc_batch {
    _Atomic int refs; /* leaky: handler + consumers; last one frees */
    rt_chan *work;    /* items, produced by the handler */
    rt_chan *results; /* one per item; capacity = items */
    int64_t item_ns;  /* work per item */
    size_t payload_bytes;
} rnc_batch;

static rnc_batch *rnc_batch_new(const rnc_state *st, const lb_request *req, int refs)
{
    rnc_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->work = rt_chan_new(0);
    b->results = rt_chan_new(st->items);
    if (!b->work || !b->results) {
        if (b->work) rt_chan_free(b->work);
        if (b->results) rt_chan_free(b->results);
        free(b);
        return NULL;
    }
    atomic_init(&b->refs, refs);
    /* The consumers share the items, so a batch takes about the service time. */
    b->item_ns = req->service_ns * st->consumers / st->items;
    b->payload_bytes = req->payload_bytes;
    return b;
}

static void rnc_batch_unref(rnc_batch *b)
{
    if (!sc_unref(&b->refs)) return;
    rt_chan_free(b->work);
    rt_chan_free(b->results);
    free(b);
}

static void *rnc_setup(const lb_env *env)
{
    rnc_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->batch_fraction = env->knob[RNC_KNOB_BATCH_FRACTION];
    st->consumers = (int)env->knob[RNC_KNOB_CONSUMERS];
    st->items = (int)env->knob[RNC_KNOB_ITEMS];
    if (st->consumers < 1) st->consumers = 1;
    if (st->items < 1) st->items = 1;
    return sc_state_ready(st, &st->active);
}

/* No task uses the state: shutdown waits for the handlers only. */
SC_DRAINING_SHUTDOWN(rnc_shutdown, rnc_state)

static bool rnc_is_batch(const rnc_state *st, const lb_request *req)
{
    return sc_frac(req->rand, 5) < st->batch_fraction;
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_consumer(void *arg)
{
    rnc_batch *b = arg;
    void *buffer = lb_payload_new(b->payload_bytes);
    for (;;) {
        void *item;
        int rc = rt_chan_recv(b->work, &item, NULL); /* LEAK SITE: waits for a close */
        if (rc != 0) break;
        sc_work(b->item_ns, NULL);
        rt_chan_send(b->results, item, NULL); /* capacity = items: never blocks */
    }
    lb_payload_free(buffer, b->payload_bytes);
    rnc_batch_unref(b);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    rnc_state *st = state;
    if (!rnc_is_batch(st, req)) return sc_serve_inline(req);
    rnc_batch *b = rnc_batch_new(st, req, st->consumers + 1);
    if (!b) return LB_FAILED;
    int started = 0;
    for (int i = 0; i < st->consumers; i++)
        if (rt_go("consumer", leaky_consumer, b) == 0) started++;
    for (int i = started; i < st->consumers; i++) rnc_batch_unref(b);
    if (started == 0) {
        rnc_batch_unref(b);
        return LB_FAILED;
    }
    int rc = 0, sent = 0;
    for (; sent < st->items && rc == 0; sent++)
        rc = rt_chan_send(b->work, (void *)(uintptr_t)(sent + 1), req->ctx);
    /* The bug: the producer is done but never closes b->work. */
    for (int got = 0; got < sent && rc == 0; got++) {
        void *v;
        rc = rt_chan_recv(b->results, &v, req->ctx);
    }
    rnc_batch_unref(b);
    return sc_outcome_of(rc);
}

/* ---------------------------------------------------------- graceful -- */

static int graceful_consumer(rt_ctx *ctx, void *arg)
{
    rnc_batch *b = arg;
    void *buffer = lb_payload_new(b->payload_bytes);
    for (;;) {
        void *item;
        if (rt_chan_recv(b->work, &item, ctx) != 0) break; /* closed, or the request ended */
        if (sc_work(b->item_ns, ctx) != 0) break;
        if (rt_chan_send(b->results, item, ctx) != 0) break;
    }
    lb_payload_free(buffer, b->payload_bytes);
    return 0;
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    rnc_state *st = state;
    if (!rnc_is_batch(st, req)) return sc_serve_inline(req);
    rnc_batch *b = rnc_batch_new(st, req, 1);
    if (!b) return LB_FAILED;
    rt_group *g = rt_group_new(req->ctx);
    if (!g) {
        rnc_batch_unref(b);
        return LB_FAILED;
    }
    int started = 0;
    for (int i = 0; i < st->consumers; i++)
        if (rt_group_go(g, "consumer", graceful_consumer, b) == 0) started++;
    int rc = started > 0 ? 0 : -ENOMEM;
    for (int sent = 0; sent < st->items && rc == 0; sent++)
        rc = rt_chan_send(b->work, (void *)(uintptr_t)(sent + 1), rt_group_ctx(g));
    rt_chan_close(b->work);    /* the producer closes: the consumers' ranges end */
    rt_group_wait(g, rc != 0); /* the coordinator waits for every consumer... */
    rt_chan_close(b->results); /* ...and only then closes the results */
    int got = 0;
    void *v;
    while (rt_chan_recv(b->results, &v, req->ctx) == 0) got++;
    rnc_batch_unref(b);
    if (got == st->items) return LB_COMPLETED;
    if (rt_ctx_err(req->ctx) != 0) return sc_outcome_of(rt_ctx_err(req->ctx));
    return LB_FAILED;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, rnc_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, rnc_state)

static const lb_scenario range_never_closed = {
    .name = "range_never_closed",
    .pattern = 5,
    .title = "range over a channel never closed",
    .trigger = "batches per second (load rate × knob batch_fraction), knob consumers tasks each",
    .source = "CGO'24 (Saioc et al., arXiv:2312.12002)",
    .description = "Consumer tasks range over a batch's work channel, but the producer never "
                   "closes it; after the last item every consumer waits forever for the close.",
    .fix = "The producer closes the work channel after the last item, consumers also watch the "
           "context, and the coordinator closes the results after the consumers' group is done.",
    .leak = {.ops = LB_OP_BIT(RT_OP_RECV),
             .name = "range over a channel never closed",
             .hint = "close the channel after the last item and let consumers watch the context"},
    .knobs = rnc_knobs,
    .n_knobs = 3,
    .leaky = {rnc_setup, leaky_handle, rnc_shutdown},
    .graceful = {rnc_setup, graceful_handle, rnc_shutdown},
};
LB_SCENARIO(range_never_closed)
