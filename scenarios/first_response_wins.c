/*
 * first_response_wins.c — pattern 3 of the leak catalogue (README): first
 * response wins (N-cast).
 *
 * Each request is sent to N replicas at once (knob "fanout") and the
 * handler answers with whichever reply comes first.  Every replica holds
 * the request's payload and takes a different share of the service time
 * (0.5× to 1.5×, drawn from the request's random number).
 *
 * Leaky: the replicas send on one unbuffered channel with no context and
 * the handler receives once, so the N−1 losers block forever in their
 * send.  Leaked tasks per second = rate × (fanout − 1); fanout 1 leaks
 * nothing.
 *
 * Graceful: the reply channel has capacity N, the replicas run in a task
 * group under the request's context and every send selects on it; once the
 * first reply is in, the handler cancels the group (the losers stop
 * working) and joins it before returning, so nothing outlives the request.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { FRW_KNOB_FANOUT = 0 };
static const lb_knob frw_knobs[] = {
    {"fanout", "replicas asked per request (N); N-1 lose the race", 3, 1, 64, true},
};

typedef struct frw_state {
    rt_wg *active; /* handle() calls in flight */
    int fanout;
} frw_state;

static void *frw_setup(const lb_env *env)
{
    frw_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->fanout = (int)env->knob[FRW_KNOB_FANOUT];
    if (st->fanout < 1) st->fanout = 1;
    return sc_state_ready(st, &st->active);
}

/* Both twins' handlers join or abandon their replicas before returning
 * and no task uses the state: shutdown waits for the handlers only. */
SC_DRAINING_SHUTDOWN(frw_shutdown, frw_state)

/* ------------------------------------------------------------- leaky -- */

static void leaky_replica(void *arg)
{
    sc_call *c = arg;
    int i = atomic_fetch_add(&c->next_index, 1);
    void *payload = lb_payload_new(c->job.payload_bytes);
    sc_work(sc_spread_ns(&c->job, i), NULL);
    rt_chan_send(c->ch, SC_OK_VALUE, NULL); /* LEAK SITE: only the first reply is received */
    lb_payload_free(payload, c->job.payload_bytes);
    sc_call_unref(c);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    frw_state *st = state;
    sc_call *c = sc_call_new(req, 0, st->fanout + 1);
    if (!c) return LB_FAILED;
    int started = 0;
    for (int i = 0; i < st->fanout; i++)
        if (rt_go("replica", leaky_replica, c) == 0) started++;
    for (int i = started; i < st->fanout; i++) sc_call_unref(c);
    if (started == 0) {
        sc_call_unref(c);
        return LB_FAILED;
    }
    void *v;
    int rc = rt_chan_recv(c->ch, &v, req->ctx); /* the first reply wins */
    sc_call_unref(c);
    return sc_outcome_of(rc);
}

/* ---------------------------------------------------------- graceful -- */

static int graceful_replica(rt_ctx *ctx, void *arg)
{
    sc_call *c = arg;
    int i = atomic_fetch_add(&c->next_index, 1);
    void *payload = lb_payload_new(c->job.payload_bytes);
    if (sc_work(sc_spread_ns(&c->job, i), ctx) == 0)
        rt_chan_send(c->ch, SC_OK_VALUE, ctx); /* capacity N: never blocks */
    lb_payload_free(payload, c->job.payload_bytes);
    return 0; /* a loser being cancelled is not an error of the group */
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    frw_state *st = state;
    sc_call *c = sc_call_new(req, st->fanout, 1);
    if (!c) return LB_FAILED;
    rt_group *g = rt_group_new(req->ctx);
    if (!g) {
        sc_call_unref(c);
        return LB_FAILED;
    }
    int started = 0;
    for (int i = 0; i < st->fanout; i++)
        if (rt_group_go(g, "replica", graceful_replica, c) == 0) started++;
    int rc = -ENOMEM;
    if (started > 0) {
        void *v;
        rc = rt_chan_recv(c->ch, &v, req->ctx);
    }
    rt_group_wait(g, true); /* cancel the losers and join every replica */
    sc_call_unref(c);
    return sc_outcome_of(rc);
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, frw_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, frw_state)

static const lb_scenario first_response_wins = {
    .name = "first_response_wins",
    .pattern = 3,
    .title = "first response wins (N-cast)",
    .trigger = "fan-out width N (knob fanout): N-1 replicas per request lose the race",
    .source = "CGO'24 (Saioc et al., arXiv:2312.12002)",
    .description = "N replicas send their reply on one unbuffered channel and the caller takes "
                   "the first; the N-1 losers block forever in their send, each holding a "
                   "payload.",
    .fix = "Give the reply channel capacity N, run the replicas in a task group whose sends "
           "select on its context, and cancel and join the group once the first reply is in.",
    .leak = {.ops = LB_OP_BIT(RT_OP_SEND),
             .name = "first response wins",
             .hint = "give the reply channel capacity N, then cancel and join the losers"},
    .knobs = frw_knobs,
    .n_knobs = 1,
    .leaky = {frw_setup, leaky_handle, frw_shutdown},
    .graceful = {frw_setup, graceful_handle, frw_shutdown},
};
LB_SCENARIO(first_response_wins)
