/*
 * start_without_stop.c — pattern 7 of the leak catalogue (README): start
 * without stop.
 *
 * Every request opens a session object whose start() spawns the session's
 * loop: it holds a session buffer (the request's payload size) and serves
 * jobs from the session's inbox until stop() closes the inbox.  The
 * handler then performs a handshake, which fails for the requests the
 * spec's error probability marks (inject_error), submits one job, waits for
 * its reply and stops the session.
 *
 * Leaky: the handshake's error path returns without calling stop(), so the
 * loop waits forever in its receive on the inbox (NULL context), holding
 * its buffer.  Leaked tasks per second = object churn (one per request) ×
 * error probability.
 *
 * Graceful: the loop is owned by a scope (a task group under the
 * request's context) and every receive, send and sleep in it watches the
 * scope's context; the handler has one exit path that closes the scope,
 * which cancels and joins the loop whichever way the handler leaves.
 */
#include "scenario_util.h"

#include <stdlib.h>

typedef struct session {
    _Atomic int refs; /* leaky: handler + loop; last one frees */
    rt_chan *inbox;   /* jobs; stop() closes it */
    rt_chan *replies; /* capacity 1: one job in flight per session */
    rt_group *scope;  /* graceful: owns the loop */
    sc_job job;
} session;

static session *session_new(const lb_request *req, int refs)
{
    session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->inbox = rt_chan_new(0);
    s->replies = rt_chan_new(1);
    if (!s->inbox || !s->replies) {
        if (s->inbox) rt_chan_free(s->inbox);
        if (s->replies) rt_chan_free(s->replies);
        free(s);
        return NULL;
    }
    atomic_init(&s->refs, refs);
    s->job = sc_job_of(req);
    return s;
}

static void session_free(session *s)
{
    rt_chan_free(s->inbox);
    rt_chan_free(s->replies);
    free(s);
}

static void session_unref(session *s)
{
    if (sc_unref(&s->refs)) session_free(s);
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_session_loop(void *arg)
{
    session *s = arg;
    void *buffer = lb_payload_new(s->job.payload_bytes);
    for (;;) {
        void *job;
        int rc = rt_chan_recv(s->inbox, &job, NULL); /* LEAK SITE: waits for stop() */
        if (rc != 0) break;
        sc_work(s->job.service_ns, NULL);
        rt_chan_send(s->replies, job, NULL); /* capacity 1: never blocks */
    }
    lb_payload_free(buffer, s->job.payload_bytes);
    session_unref(s);
}

static int leaky_session_start(session *s)
{
    return rt_go("session-loop", leaky_session_loop, s);
}
static void leaky_session_stop(session *s)
{
    rt_chan_close(s->inbox);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    (void)state;
    session *s = session_new(req, 2);
    if (!s) return LB_FAILED;
    if (leaky_session_start(s) != 0) {
        session_free(s);
        return LB_FAILED;
    }
    if (req->inject_error) {
        /* The bug: the handshake failed and this path forgets stop(). */
        session_unref(s);
        return LB_FAILED;
    }
    int rc = rt_chan_send(s->inbox, SC_OK_VALUE, req->ctx);
    void *v;
    if (rc == 0) rc = rt_chan_recv(s->replies, &v, req->ctx);
    leaky_session_stop(s);
    session_unref(s);
    return sc_outcome_of(rc);
}

/* ---------------------------------------------------------- graceful -- */

static int graceful_session_loop(rt_ctx *ctx, void *arg)
{
    session *s = arg;
    void *buffer = lb_payload_new(s->job.payload_bytes);
    for (;;) {
        void *job;
        if (rt_chan_recv(s->inbox, &job, ctx) != 0) break; /* stopped, or the scope ended */
        if (sc_work(s->job.service_ns, ctx) != 0) break;
        if (rt_chan_send(s->replies, job, ctx) != 0) break;
    }
    lb_payload_free(buffer, s->job.payload_bytes);
    return 0;
}

/* Opens the session with its loop owned by a scope under parent. */
static session *graceful_session_open(const lb_request *req)
{
    session *s = session_new(req, 1);
    if (!s) return NULL;
    s->scope = rt_group_new(req->ctx);
    if (!s->scope) {
        session_free(s);
        return NULL;
    }
    if (rt_group_go(s->scope, "session-loop", graceful_session_loop, s) != 0) {
        rt_group_wait(s->scope, true);
        session_free(s);
        return NULL;
    }
    return s;
}

/* Stops the loop on every exit path: cancel the scope, join, free. */
static void graceful_session_close(session *s)
{
    rt_group_wait(s->scope, true);
    session_free(s);
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    (void)state;
    session *s = graceful_session_open(req);
    if (!s) return LB_FAILED;
    lb_outcome out;
    if (req->inject_error) {
        out = LB_FAILED; /* the handshake failed; the scope still stops the loop */
    } else {
        int rc = rt_chan_send(s->inbox, SC_OK_VALUE, req->ctx);
        void *v;
        if (rc == 0) rc = rt_chan_recv(s->replies, &v, req->ctx);
        out = sc_outcome_of(rc);
    }
    graceful_session_close(s);
    return out;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, sc_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, sc_state)

static const lb_scenario start_without_stop = {
    .name = "start_without_stop",
    .pattern = 7,
    .title = "start without stop",
    .trigger = "object churn (one session per request) × error_rate (failed handshakes)",
    .source = "CGO'24 (Saioc et al., arXiv:2312.12002)",
    .description = "A session's start() spawns a loop that exits only when stop() closes its "
                   "inbox; the handshake's error path forgets stop(), so the loop waits forever.",
    .fix = "Let a scope (task group) own the loop: every exit path closes the scope, which "
           "cancels the loop's context and joins it.",
    .leak = {.ops = LB_OP_BIT(RT_OP_RECV),
             .name = "start without stop",
             .hint = "let a scope own the loop and close the scope on every path"},
    .knobs = NULL,
    .n_knobs = 0,
    .leaky = {sc_state_setup, leaky_handle, sc_state_shutdown},
    .graceful = {sc_state_setup, graceful_handle, sc_state_shutdown},
};
LB_SCENARIO(start_without_stop)
