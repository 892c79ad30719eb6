/*
 * double_send.c — pattern 8 of the leak catalogue (README): double send.
 *
 * Each request's handler starts a worker that holds the request's payload
 * for the service time and reports on a reply channel: an error for the
 * requests the spec's error probability marks (inject_error), the result
 * otherwise.  The handler receives exactly one reply.
 *
 * Leaky: on error the worker sends the error and, missing a return, falls
 * through to send the result too; the handler took the error and left, so
 * the second send blocks forever (unbuffered channel, NULL context).
 * Leaked tasks per second = rate × error probability.
 *
 * Graceful: the worker has a single exit path that sends exactly once, in
 * a select on its context (a child of the request's), so even that one
 * send cannot outlive the request.  A buffer would only hide the bug, so
 * the channel stays unbuffered.  A wait group lets shutdown join every
 * worker.
 */
#include "scenario_util.h"

#include <stdlib.h>

static lb_outcome ds_await_reply(sc_call *c, lb_request *req)
{
    void *v;
    int rc = rt_chan_recv(c->ch, &v, req->ctx);
    if (rc != 0) return sc_outcome_of(rc);
    return v == SC_ERR_VALUE ? LB_FAILED : LB_COMPLETED;
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_worker(void *arg)
{
    sc_call *c = arg;
    void *payload = lb_payload_new(c->job.payload_bytes);
    sc_work(c->job.service_ns, NULL);
    if (c->job.inject_error) {
        rt_chan_send(c->ch, SC_ERR_VALUE, NULL);
        /* The bug: no return here, so the worker falls through. */
    }
    rt_chan_send(c->ch, SC_OK_VALUE, NULL); /* LEAK SITE: second send, nobody receives */
    lb_payload_free(payload, c->job.payload_bytes);
    sc_call_unref(c);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    (void)state;
    sc_call *c = sc_call_new(req, 0, 2); /* unbuffered in both twins; handler + worker */
    if (!c) return LB_FAILED;
    if (rt_go("worker", leaky_worker, c) != 0) {
        sc_call_unref(c);
        sc_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out = ds_await_reply(c, req);
    sc_call_unref(c);
    return out;
}

/* ---------------------------------------------------------- graceful -- */

static void graceful_worker(void *arg)
{
    sc_call *c = arg;
    rt_wg *wg = c->wg;
    void *payload = lb_payload_new(c->job.payload_bytes);
    void *reply = SC_OK_VALUE;
    if (sc_work(c->job.service_ns, c->ctx) != 0) goto out; /* the request is gone */
    if (c->job.inject_error) reply = SC_ERR_VALUE;
    rt_chan_send(c->ch, reply, c->ctx); /* the one send, in a select on the context */
out:
    lb_payload_free(payload, c->job.payload_bytes);
    sc_call_unref(c);
    rt_wg_done(wg);
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    sc_state *st = state;
    sc_call *c = sc_call_new(req, 0, 2); /* unbuffered in both twins; handler + worker */
    if (!c) return LB_FAILED;
    c->wg = st->active;
    c->ctx = rt_ctx_with_cancel(req->ctx);
    if (!c->ctx || sc_go_tracked(st->active, "worker", graceful_worker, c) != 0) {
        sc_call_unref(c);
        sc_call_unref(c);
        return LB_FAILED;
    }
    lb_outcome out = ds_await_reply(c, req);
    rt_ctx_cancel(c->ctx); /* a worker still sending gives up now */
    sc_call_unref(c);
    return out;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, sc_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, sc_state)

static const lb_scenario double_send = {
    .name = "double_send",
    .pattern = 8,
    .title = "double send",
    .trigger = "error_rate: the workers that report an error",
    .source = "CGO'24 (Saioc et al., arXiv:2312.12002)",
    .description = "On error the worker sends the error and falls through to send the result "
                   "too; the handler received once and left, so the second send blocks forever.",
    .fix = "One exit path that sends exactly once, in a select on the request's context (a "
           "buffer would only hide the bug).",
    .leak = {.ops = LB_OP_BIT(RT_OP_SEND),
             .name = "double send",
             .hint = "send exactly once, in a select on the request's context"},
    .knobs = NULL,
    .n_knobs = 0,
    .leaky = {sc_state_setup, leaky_handle, sc_state_shutdown},
    .graceful = {sc_state_setup, graceful_handle, sc_state_shutdown},
};
LB_SCENARIO(double_send)
