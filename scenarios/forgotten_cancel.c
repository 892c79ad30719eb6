/*
 * forgotten_cancel.c — pattern 9 of the leak catalogue (README): forgotten
 * cancel.
 *
 * Every request takes a lease (a buffer of the request's payload size)
 * that must be returned when the request is over.  The handler derives a
 * cancellable context for the lease and spawns a watcher task that waits
 * for that context's done channel and then returns the lease (Go's
 * `go func() { <-ctx.Done(); release() }()`).  The handler does the work;
 * it fails for the requests the spec's error probability marks.
 *
 * Leaky: the lease's context hangs off the background context and only the
 * error path calls cancel; on the success path nobody ever cancels it, so
 * the watcher waits forever in its receive on the done channel (NULL
 * context), holding the lease.  Leaked tasks per second = rate × success
 * fraction (1 − error probability).
 *
 * Graceful: the lease's context is a child of the request's and the
 * handler cancels it on every path (one exit path, cancel then release);
 * the watcher is counted in a wait group so shutdown joins every watcher.
 */
#include "scenario_util.h"

#include <stdlib.h>

typedef struct fc_lease {
    rt_ctx *ctx;          /* the watcher's reference; the handler holds another */
    size_t payload_bytes; /* the leased buffer */
    rt_wg *wg;            /* graceful: the state's task count */
} fc_lease;

/* A lease whose watcher will hold a reference to ctx (taken here). */
static fc_lease *fc_lease_new(rt_ctx *ctx, const lb_request *req)
{
    fc_lease *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ctx = rt_ctx_retain(ctx);
    l->payload_bytes = req->payload_bytes;
    return l;
}

static void fc_lease_free(fc_lease *l)
{
    rt_ctx_release(l->ctx);
    free(l);
}

/* ------------------------------------------------------------- leaky -- */

static void leaky_watcher(void *arg)
{
    fc_lease *l = arg;
    void *lease = lb_payload_new(l->payload_bytes);
    void *v;
    rt_chan_recv(rt_ctx_done(l->ctx), &v, NULL); /* LEAK SITE: nobody cancels on success */
    lb_payload_free(lease, l->payload_bytes);
    fc_lease_free(l);
}

static lb_outcome leaky_serve(void *state, lb_request *req)
{
    (void)state;
    rt_ctx *lease_ctx = rt_ctx_with_cancel(rt_ctx_background());
    if (!lease_ctx) return LB_FAILED;
    fc_lease *l = fc_lease_new(lease_ctx, req);
    if (!l || rt_go("watcher", leaky_watcher, l) != 0) {
        if (l) fc_lease_free(l);
        rt_ctx_release(lease_ctx);
        return LB_FAILED;
    }
    int rc = sc_work(req->service_ns, req->ctx);
    if (rc != 0 || req->inject_error) {
        rt_ctx_release(lease_ctx); /* the error path remembers to cancel */
        return rc != 0 ? sc_outcome_of(rc) : LB_FAILED;
    }
    /* The bug: the success path returns without cancelling lease_ctx. */
    return LB_COMPLETED;
}

/* ---------------------------------------------------------- graceful -- */

static void graceful_watcher(void *arg)
{
    fc_lease *l = arg;
    rt_wg *wg = l->wg;
    void *lease = lb_payload_new(l->payload_bytes);
    void *v;
    rt_chan_recv(rt_ctx_done(l->ctx), &v, l->ctx); /* ends when the lease is cancelled */
    lb_payload_free(lease, l->payload_bytes);
    fc_lease_free(l);
    rt_wg_done(wg);
}

static lb_outcome graceful_serve(void *state, lb_request *req)
{
    sc_state *st = state;
    rt_ctx *lease_ctx = rt_ctx_with_cancel(req->ctx);
    if (!lease_ctx) return LB_FAILED;
    fc_lease *l = fc_lease_new(lease_ctx, req);
    if (l) l->wg = st->active;
    if (!l || sc_go_tracked(st->active, "watcher", graceful_watcher, l) != 0) {
        if (l) fc_lease_free(l);
        rt_ctx_release(lease_ctx);
        return LB_FAILED;
    }
    int rc = sc_work(req->service_ns, req->ctx);
    lb_outcome out = rc != 0 ? sc_outcome_of(rc) : req->inject_error ? LB_FAILED : LB_COMPLETED;
    rt_ctx_release(lease_ctx); /* cancel on every path */
    return out;
}

SC_COUNTED_HANDLER(leaky_handle, leaky_serve, sc_state)
SC_COUNTED_HANDLER(graceful_handle, graceful_serve, sc_state)

static const lb_scenario forgotten_cancel = {
    .name = "forgotten_cancel",
    .pattern = 9,
    .title = "forgotten cancel",
    .trigger = "load rate × success fraction (1 − error_rate)",
    .source = "Go context package documentation (\"failing to call the CancelFunc leaks\")",
    .description = "A watcher task waits on a lease context's done channel to return the lease; "
                   "only the error path cancels that context, so after a success the watcher "
                   "waits forever.",
    .fix = "Derive the lease context from the request's and cancel it on every path (one exit "
           "path: cancel, then release); join the watchers at shutdown.",
    .leak = {.ops = LB_OP_BIT(RT_OP_RECV),
             .name = "forgotten cancel",
             .hint = "cancel the derived context on every path"},
    .knobs = NULL,
    .n_knobs = 0,
    .leaky = {sc_state_setup, leaky_handle, sc_state_shutdown},
    .graceful = {sc_state_setup, graceful_handle, sc_state_shutdown},
};
LB_SCENARIO(forgotten_cancel)
