/*
 * timer_never_stopped.c — pattern 13 of the leak catalogue (README): a timer
 * never stopped (C-specific).
 *
 * A fraction of the requests (knob "keepalive_fraction") open a
 * connection that arms a repeating keepalive timer: a ticker task that
 * wakes every "interval_ms", and touches the connection's state.  The
 * connection holds a buffer of the request's payload size; the handler
 * serves the request (service time) and closes the connection.
 *
 * Leaky: close() frees what it knows about but never stops the timer.
 * The ticker's closure keeps the connection (and its buffer) alive, and it
 * keeps sleeping and ticking forever (its sleeps have no context), long
 * after its owner is gone.  Leaked tasks per second = owner churn = rate ×
 * keepalive_fraction.
 *
 * Graceful: the timer belongs to the connection's scope (a task group
 * under the request's context); close() cancels and joins it, and the
 * ticker's sleep wakes early on cancellation.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { TNS_KNOB_KEEPALIVE_FRACTION = 0, TNS_KNOB_INTERVAL_MS };
static const lb_knob tns_knobs[] = {
    {"keepalive_fraction", "fraction of requests whose connection arms a keepalive timer", 1, 0, 1,
     false},
    {"interval_ms", "keepalive timer period", 100, 1, 10000, false},
};

typedef struct tns_state {
    rt_wg *active; /* handle() calls in flight */
    double keepalive_fraction;
    int64_t interval_ns;
} tns_state;

typedef struct tns_conn {
    _Atomic int refs; /* leaky: handler + ticker; last one frees */
    _Atomic int64_t keepalives;
    void *buffer; /* the connection's buffer */
    size_t buffer_bytes;
    int64_t interval_ns;
    rt_group *scope; /* graceful: owns the ticker */
} tns_conn;

static tns_conn *tns_conn_new(const tns_state *st, const lb_request *req, int refs)
{
    tns_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, refs);
    atomic_init(&c->keepalives, 0);
    c->buffer_bytes = req->payload_bytes;
    c->interval_ns = st->interval_ns;
    return c;
}

static void tns_conn_free(tns_conn *c)
{
    lb_payload_free(c->buffer, c->buffer_bytes);
    free(c);
}

static void tns_conn_unref(tns_conn *c)
{
    if (sc_unref(&c->refs)) tns_conn_free(c);
}

static void *tns_setup(const lb_env *env)
{
    tns_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->keepalive_fraction = env->knob[TNS_KNOB_KEEPALIVE_FRACTION];
    st->interval_ns = (int64_t)(env->knob[TNS_KNOB_INTERVAL_MS] * 1e6);
    if (st->interval_ns < RT_MS(1)) st->interval_ns = RT_MS(1);
    return sc_state_ready(st, &st->active);
}

/* No task uses the state: shutdown waits for the handlers only. */
SC_DRAINING_SHUTDOWN(tns_shutdown, tns_state)

static bool tns_has_keepalive(const tns_state *st, const lb_request *req)
{
    return sc_frac(req->rand, 13) < st->keepalive_fraction;
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_ticker(void *arg)
{
    tns_conn *c = arg;
    /* The ticker's memory is the connection's: declare it for the report. */
    rt_task_hold(c->buffer_bytes);
    for (;;) {
        rt_sleep(c->interval_ns, NULL); /* LEAK SITE: nobody stops this timer */
        atomic_fetch_add(&c->keepalives, 1);
    }
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    tns_state *st = state;
    if (!tns_has_keepalive(st, req)) return sc_serve_inline(req);
    tns_conn *c = tns_conn_new(st, req, 2);
    if (!c) return LB_FAILED;
    c->buffer = lb_payload_new(c->buffer_bytes);
    if (rt_go("ticker", leaky_ticker, c) != 0) {
        tns_conn_free(c);
        return LB_FAILED;
    }
    int rc = sc_work(req->service_ns, req->ctx);
    /* close(): the bug is that it drops the connection but never stops the
     * timer, whose reference keeps the connection alive forever. */
    tns_conn_unref(c);
    return sc_outcome_of(rc);
}

/* ---------------------------------------------------------- graceful -- */

static int graceful_ticker(rt_ctx *ctx, void *arg)
{
    tns_conn *c = arg;
    while (rt_sleep(c->interval_ns, ctx) == 0) atomic_fetch_add(&c->keepalives, 1);
    return 0;
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    tns_state *st = state;
    if (!tns_has_keepalive(st, req)) return sc_serve_inline(req);
    tns_conn *c = tns_conn_new(st, req, 1);
    if (!c) return LB_FAILED;
    c->buffer = lb_payload_new(c->buffer_bytes);
    c->scope = rt_group_new(req->ctx);
    if (!c->scope) {
        tns_conn_free(c);
        return LB_FAILED;
    }
    int rc = rt_group_go(c->scope, "ticker", graceful_ticker, c);
    if (rc == 0) rc = sc_work(req->service_ns, req->ctx);
    /* close(): the connection's scope stops and joins its timer. */
    rt_group_wait(c->scope, true);
    tns_conn_free(c);
    return rc == -ENOMEM || rc == -EAGAIN ? LB_FAILED : sc_outcome_of(rc);
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, tns_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, tns_state)

static const lb_scenario timer_never_stopped = {
    .name = "timer_never_stopped",
    .pattern = 13,
    .title = "timer never stopped (C-specific)",
    .trigger = "owner churn: request rate × knob keepalive_fraction (connections with a timer)",
    .source = "leakbench catalogue (C-specific; cf. Go's time.Ticker that must be stopped)",
    .description = "A connection arms a repeating keepalive timer task; close() never stops "
                   "it, so the ticker keeps the connection's buffer alive and ticks forever "
                   "after its owner is gone.",
    .fix = "Let the connection's scope own the timer: close() cancels the scope and joins the "
           "ticker, whose sleep wakes early on cancellation.",
    .leak = {.ops = LB_OP_BIT(RT_OP_SLEEP) | LB_OP_BIT(RT_OP_RUNNING),
             .name = "timer never stopped",
             .hint = "let the owner's scope stop and join the loop"},
    .knobs = tns_knobs,
    .n_knobs = 2,
    .leaky = {tns_setup, leaky_handle, tns_shutdown},
    .graceful = {tns_setup, graceful_handle, tns_shutdown},
};
LB_SCENARIO(timer_never_stopped)
