/*
 * fanin_early_error.c — pattern 4 of the leak catalogue (README): fan-in with
 * an early error.
 *
 * Each request is split into N parts (knob "fanout") that run as tasks and
 * send their result to a collector (the handler), which needs all N.  For
 * the requests the spec's error probability marks (inject_error), one part
 * fails quickly (a tenth of the service time); the others take 0.5× to
 * 1.5× of the service time and hold the payload meanwhile.
 *
 * Leaky: the results channel is unbuffered, the parts send with no
 * context, and the collector returns at the first error; the parts that
 * had not sent yet block forever.  Leaked tasks per second = rate × error
 * probability × (fanout − 1).
 *
 * Graceful (errgroup style): the parts run in a task group; the failing
 * part returns its error, which cancels the group's context; every send
 * selects on that context; the collector stops at the first error and
 * joins the group, so every part has ended before the handler returns.
 */
#include "scenario_util.h"

#include <stdlib.h>

enum { FAN_KNOB_FANOUT = 0 };
static const lb_knob fan_knobs[] = {
    {"fanout", "parts per request, all needed by the collector", 4, 1, 64, true},
};

typedef struct fan_state {
    rt_wg *active; /* handle() calls in flight */
    int fanout;
} fan_state;

typedef struct fan_call {
    sc_call call; /* refs (leaky: handler + parts); ch: SC_OK_VALUE or SC_ERR_VALUE per part */
    int failing;  /* index of the part that fails, or -1 */
} fan_call;

#define FAN_PART_FAILED (-EIO)

static fan_call *fan_call_new(const lb_request *req, int fanout, int refs)
{
    fan_call *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (sc_call_init(&c->call, req, 0, refs) != 0) {
        free(c);
        return NULL;
    }
    c->failing = req->inject_error ? (int)(sc_mix(req->rand, 99) % (uint64_t)fanout) : -1;
    return c;
}

static void fan_call_unref(fan_call *c)
{
    if (sc_call_drop(&c->call)) free(c);
}

/* Part i's work time: the failing part fails fast, the others take
 * 0.5x to 1.5x of the service time. */
static int64_t fan_part_ns(const fan_call *c, int i)
{
    if (i == c->failing) return c->call.job.service_ns / 10;
    return sc_spread_ns(&c->call.job, i);
}

static void *fan_setup(const lb_env *env)
{
    fan_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->fanout = (int)env->knob[FAN_KNOB_FANOUT];
    if (st->fanout < 1) st->fanout = 1;
    return sc_state_ready(st, &st->active);
}

/* No task uses the state: shutdown waits for the handlers only. */
SC_DRAINING_SHUTDOWN(fan_shutdown, fan_state)

/* ------------------------------------------------------------- leaky -- */

static void leaky_part(void *arg)
{
    fan_call *c = arg;
    int i = atomic_fetch_add(&c->call.next_index, 1);
    void *payload = lb_payload_new(c->call.job.payload_bytes);
    sc_work(fan_part_ns(c, i), NULL);
    void *result = i == c->failing ? SC_ERR_VALUE : SC_OK_VALUE;
    rt_chan_send(c->call.ch, result, NULL); /* LEAK SITE: the collector left at the first error */
    lb_payload_free(payload, c->call.job.payload_bytes);
    fan_call_unref(c);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    fan_state *st = state;
    fan_call *c = fan_call_new(req, st->fanout, st->fanout + 1);
    if (!c) return LB_FAILED;
    int started = 0;
    for (int i = 0; i < st->fanout; i++)
        if (rt_go("part", leaky_part, c) == 0) started++;
    for (int i = started; i < st->fanout; i++) fan_call_unref(c);
    lb_outcome out = started == st->fanout ? LB_COMPLETED : LB_FAILED;
    for (int got = 0; got < started && out == LB_COMPLETED; got++) {
        void *v;
        int rc = rt_chan_recv(c->call.ch, &v, req->ctx);
        if (rc != 0)
            out = sc_outcome_of(rc);
        else if (v == SC_ERR_VALUE)
            out = LB_FAILED; /* the bug: return at the first error, parts still sending */
    }
    fan_call_unref(c);
    return out;
}

/* ---------------------------------------------------------- graceful -- */

static int graceful_part(rt_ctx *ctx, void *arg)
{
    fan_call *c = arg;
    int i = atomic_fetch_add(&c->call.next_index, 1);
    void *payload = lb_payload_new(c->call.job.payload_bytes);
    int rc = sc_work(fan_part_ns(c, i), ctx);
    if (rc == 0 && i == c->failing) rc = FAN_PART_FAILED; /* cancels the group's context */
    if (rc == 0) rc = rt_chan_send(c->call.ch, SC_OK_VALUE, ctx);
    lb_payload_free(payload, c->call.job.payload_bytes);
    return rc == FAN_PART_FAILED ? rc : 0;
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    fan_state *st = state;
    fan_call *c = fan_call_new(req, st->fanout, 1);
    if (!c) return LB_FAILED;
    rt_group *g = rt_group_new(req->ctx);
    if (!g) {
        fan_call_unref(c);
        return LB_FAILED;
    }
    int started = 0;
    for (int i = 0; i < st->fanout; i++)
        if (rt_group_go(g, "part", graceful_part, c) == 0) started++;
    int rc = started == st->fanout ? 0 : -ENOMEM;
    for (int got = 0; got < started && rc == 0; got++) {
        void *v;
        rc = rt_chan_recv(c->call.ch, &v, rt_group_ctx(g));
    }
    int group_err = rt_group_wait(g, rc != 0); /* joins every part */
    fan_call_unref(c);
    if (group_err == FAN_PART_FAILED) return LB_FAILED;
    /* The group's context reports its parent's end as its own. */
    if (rc != 0 && rt_ctx_err(req->ctx) != 0) return sc_outcome_of(rt_ctx_err(req->ctx));
    return sc_outcome_of(rc);
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, fan_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, fan_state)

static const lb_scenario fanin_early_error = {
    .name = "fanin_early_error",
    .pattern = 4,
    .title = "fan-in with early error",
    .trigger = "error_rate × knob fanout: fanout-1 parts leak per failed request",
    .source = "Go 1.26 release notes (goroutine leak profile example)",
    .description = "N parts send their results on an unbuffered channel to a collector that "
                   "returns at the first error; the parts that had not sent yet block forever.",
    .fix = "Errgroup style: the first error cancels the shared context, every send selects on "
           "it, and the collector waits for all parts before returning.",
    .leak = {.ops = LB_OP_BIT(RT_OP_SEND),
             .name = "fan-in with early error",
             .hint =
                 "cancel the shared context on the first error and let every send select on it"},
    .knobs = fan_knobs,
    .n_knobs = 1,
    .leaky = {fan_setup, leaky_handle, fan_shutdown},
    .graceful = {fan_setup, graceful_handle, fan_shutdown},
};
LB_SCENARIO(fanin_early_error)
