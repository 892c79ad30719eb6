/*
 * early_return.c — pattern 2 of the leak catalogue (README): early return.
 *
 * Each request does two things at once: a "fetch" task loads the record
 * (it holds the request's payload for the service time) and sends it back
 * on a result channel, while the handler checks the caller's quota.  The
 * quota check fails for the requests the spec's error probability marks
 * (lb_request.inject_error), and the handler then returns LB_FAILED at once.
 *
 * Leaky: the result channel is unbuffered and the early return skips the
 * receive, so the fetch task blocks forever in its send (NULL context),
 * holding its payload.  Leaked tasks per second = rate × error probability.
 *
 * Graceful: the result channel has a buffer of one, so the fetch task's
 * single send always completes whether or not anybody receives; the fetch
 * works under a context the handler cancels when it returns early; a wait
 * group counts every fetch task so shutdown joins them.
 */
#include "scenario_util.h"

#include <stdlib.h>

/* ------------------------------------------------------------- leaky -- */

static void leaky_fetch(void *arg)
{
    sc_call *c = arg;
    void *payload = lb_payload_new(c->job.payload_bytes);
    sc_work(c->job.service_ns, NULL);
    rt_chan_send(c->ch, SC_OK_VALUE, NULL); /* LEAK SITE: no receiver after an early return */
    lb_payload_free(payload, c->job.payload_bytes);
    sc_call_unref(c);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    (void)state;
    sc_call *c = sc_call_new(req, 0, 2); /* handler + fetch task */
    if (!c) return LB_FAILED;
    if (rt_go("fetch", leaky_fetch, c) != 0) {
        sc_call_unref(c);
        sc_call_unref(c);
        return LB_FAILED;
    }
    if (req->inject_error) {
        /* The bug: the quota check failed, so return — without receiving. */
        sc_call_unref(c);
        return LB_FAILED;
    }
    void *v;
    int rc = rt_chan_recv(c->ch, &v, req->ctx);
    sc_call_unref(c);
    return sc_outcome_of(rc);
}

/* ---------------------------------------------------------- graceful -- */

static void graceful_fetch(void *arg)
{
    sc_call *c = arg;
    rt_wg *wg = c->wg;
    void *payload = lb_payload_new(c->job.payload_bytes);
    if (sc_work(c->job.service_ns, c->ctx) == 0) {
        /* Buffer of one: this send completes even if nobody receives. */
        rt_chan_send(c->ch, SC_OK_VALUE, c->ctx);
    }
    lb_payload_free(payload, c->job.payload_bytes);
    sc_call_unref(c);
    rt_wg_done(wg);
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    sc_state *st = state;
    sc_call *c = sc_call_new(req, 1, 2);
    if (!c) return LB_FAILED;
    c->wg = st->active;
    c->ctx = rt_ctx_with_cancel(req->ctx);
    if (!c->ctx || sc_go_tracked(st->active, "fetch", graceful_fetch, c) != 0) {
        sc_call_unref(c);
        sc_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out;
    if (req->inject_error) {
        rt_ctx_cancel(c->ctx); /* the fetch's work is no longer wanted */
        out = LB_FAILED;
    } else {
        void *v;
        out = sc_outcome_of(rt_chan_recv(c->ch, &v, req->ctx));
    }
    sc_call_unref(c);
    return out;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, sc_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, sc_state)

static const lb_scenario early_return = {
    .name = "early_return",
    .pattern = 2,
    .title = "early return",
    .trigger = "error_rate: the requests whose quota check fails",
    .source = "CGO'24 (Saioc et al., arXiv:2312.12002); Go 1.26 release notes",
    .description = "The handler starts a fetch task that sends its result on an unbuffered "
                   "channel, then returns on the error path before receiving; the fetch task "
                   "blocks forever in its send, holding its payload.",
    .fix = "Give the result channel a buffer of one so the single send always completes, and "
           "cancel the fetch's context on the early return.",
    .leak = {.ops = LB_OP_BIT(RT_OP_SEND),
             .name = "early return",
             .hint = "buffer the result channel by one and cancel the fetch on the early return"},
    .knobs = NULL,
    .n_knobs = 0,
    .leaky = {sc_state_setup, leaky_handle, sc_state_shutdown},
    .graceful = {sc_state_setup, graceful_handle, sc_state_shutdown},
};
LB_SCENARIO(early_return)
