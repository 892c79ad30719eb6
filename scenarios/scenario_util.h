/*
 * scenario_util.h — small helpers shared by the leak catalogue's scenario
 * pairs (the C files in scenarios/).  Internal to scenarios/: the harness never sees it.
 *
 * What is here and why:
 *  - sc_job: the part of an lb_request a task may keep after handle()
 *    returned (the harness frees the request and releases its context then).
 *  - sc_frac: a deterministic fraction in [0, 1) from a request's random
 *    number, so "fraction of requests that hit the trigger" follows the
 *    spec's seed and a test can choose which requests hit it.
 *  - sc_outcome_of: turns a runtime error from the handler's last wait into
 *    the request's outcome (client timeout, shutdown, pipeline error).
 *  - sc_unref: the last of several owners frees a per-request object.
 *  - sc_go_tracked / sc_wait_all: graceful twins count every task they
 *    start in a wait group, and their shutdown joins them with a bound so a
 *    bug shows up as leaked tasks in the report, never as a hung child.
 *  - SC_LEAK_VALUE / SC_ERR_VALUE: non-NULL markers sent on channels when
 *    the value itself does not matter.
 *  - sc_call: one request's call shared by its handler and the tasks it
 *    starts (a reply channel, the job, a reference count), and
 *    sc_spread_ns, the work time of task i of a fan-out.
 *  - sc_serve_inline: a request served in the handler itself, no task
 *    started (the requests a pair's trigger leaves alone).
 *  - sc_state_ready / SC_DRAINING_SHUTDOWN / sc_state: the life of a
 *    catalogue state: setup gives it its `active` wait group, shutdown
 *    drains that group and frees the state only when nothing runs any more.
 */
#ifndef LEAKBENCH_SCENARIO_UTIL_H
#define LEAKBENCH_SCENARIO_UTIL_H

#include "scenario.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define SC_OK_VALUE  ((void *)(uintptr_t)1)
#define SC_ERR_VALUE ((void *)(uintptr_t)2)

/* How long a graceful shutdown waits for the tasks it started. */
#define SC_SHUTDOWN_LIMIT_NS RT_MS(5000)

typedef struct sc_job {
    uint64_t id;
    int64_t service_ns;
    size_t payload_bytes;
    bool inject_error;
    uint64_t rand;
} sc_job;

static inline sc_job sc_job_of(const lb_request *req)
{
    return (sc_job){.id = req->id,
                    .service_ns = req->service_ns,
                    .payload_bytes = req->payload_bytes,
                    .inject_error = req->inject_error,
                    .rand = req->rand};
}

/* splitmix64: a well-mixed 64-bit value from r and a salt, so one request's
 * random number yields several independent draws. */
static inline uint64_t sc_mix(uint64_t r, uint64_t salt)
{
    uint64_t z = r + 0x9e3779b97f4a7c15ULL * (salt + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A fraction in [0, 1) drawn from r; draws with different salts are
 * independent. */
static inline double sc_frac(uint64_t r, uint64_t salt)
{
    return (double)(sc_mix(r, salt) >> 11) * (1.0 / 9007199254740992.0);
}

static inline lb_outcome sc_outcome_of(int err)
{
    switch (err) {
    case 0:
        return LB_COMPLETED;
    case -ETIMEDOUT:
        return LB_TIMED_OUT;
    case -ECANCELED:
        return LB_CANCELLED;
    default:
        return LB_FAILED;
    }
}

/* Drops one of several references; true for the caller that dropped the
 * last one and must free the object. */
static inline bool sc_unref(_Atomic int *refs)
{
    return atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) == 1;
}

/* Starts fn(arg) as a task counted in wg (add before spawn, so a wait can
 * never miss it).  The task must call rt_wg_done(wg) as its last action. */
#define sc_go_tracked(wg, role, fn, arg) sc_go_tracked_at((wg), (role), (fn), (arg), RT_SITE)
static inline int sc_go_tracked_at(rt_wg *wg, const char *role, void (*fn)(void *), void *arg,
                                   rt_site site)
{
    int rc = rt_wg_add(wg, 1);
    if (rc != 0) return rc;
    rc = rt_go_at(role, fn, arg, site);
    if (rc != 0) rt_wg_add(wg, -1);
    return rc;
}

/* Joins every task counted in wg, waiting at most SC_SHUTDOWN_LIMIT_NS.
 * 0 when all ended; otherwise the tasks are still alive (and will show up as
 * leaked) and the caller must not free what they use. */
static inline int sc_wait_all(rt_wg *wg)
{
    rt_ctx *limit = rt_ctx_with_timeout(rt_ctx_background(), SC_SHUTDOWN_LIMIT_NS);
    if (!limit) return -ENOMEM;
    int rc = rt_wg_wait(wg, limit);
    rt_ctx_release(limit);
    return rc;
}

/*
 * Defines handler(state, req) as serve(state, req) counted in the state's
 * `active` wait group (a field of every catalogue state): the harness may
 * cancel the root and call shutdown while a client is still returning from
 * handle(), so a shutdown first waits for `active` before it frees anything
 * a handler uses.  Graceful twins count the tasks they start in the same
 * group.
 */
#define SC_COUNTED_HANDLER(handler, serve, state_type)                                             \
    static lb_outcome handler(void *state, lb_request *req)                                        \
    {                                                                                              \
        state_type *st_ = state;                                                                   \
        if (rt_wg_add(st_->active, 1) != 0) return LB_FAILED;                                      \
        lb_outcome out_ = serve(st_, req);                                                         \
        rt_wg_done(st_->active);                                                                   \
        return out_;                                                                               \
    }

/* Waits for everything counted in active (sc_wait_all) and frees it;
 * false when something is still running and nothing may be freed. */
static inline bool sc_drain(rt_wg *active)
{
    if (sc_wait_all(active) != 0) return false;
    rt_wg_free(active);
    return true;
}

/*
 * One request's call, shared by its handler and the task or tasks it starts
 * (a worker, the parts or replicas of a fan-out).  Every owner holds a
 * reference; the last to let go releases what the call holds.  A scenario
 * that needs more per call embeds it and frees its own struct when
 * sc_call_drop says so; the others use sc_call_new and sc_call_unref.
 */
typedef struct sc_call {
    _Atomic int refs;       /* the handler + every task that may outlive it */
    _Atomic int next_index; /* fan-outs: each task takes its index from here */
    rt_chan *ch;            /* what the tasks send back to the handler */
    rt_ctx *ctx; /* graceful twins: the tasks' context, or NULL; released with the call */
    rt_wg *wg;   /* graceful twins: the state's count each task leaves with rt_wg_done */
    sc_job job;
} sc_call;

/* Fills a zeroed c: a channel of capacity cap, refs references.  0 or
 * -ENOMEM. */
static inline int sc_call_init(sc_call *c, const lb_request *req, int64_t cap, int refs)
{
    c->ch = rt_chan_new(cap);
    if (!c->ch) return -ENOMEM;
    atomic_init(&c->refs, refs);
    atomic_init(&c->next_index, 0);
    c->job = sc_job_of(req);
    return 0;
}

/* Drops one reference; for the last one releases the context and the
 * channel and returns true: the caller then frees the memory c lives in. */
static inline bool sc_call_drop(sc_call *c)
{
    if (!sc_unref(&c->refs)) return false;
    if (c->ctx) rt_ctx_release(c->ctx);
    rt_chan_free(c->ch);
    return true;
}

static inline sc_call *sc_call_new(const lb_request *req, int64_t cap, int refs)
{
    sc_call *c = calloc(1, sizeof *c);
    if (c && sc_call_init(c, req, cap, refs) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

static inline void sc_call_unref(sc_call *c)
{
    if (sc_call_drop(c)) free(c);
}

/* Task i of a fan-out works 0.5x to 1.5x of the job's service time, drawn
 * from the request's random number (a different share per task). */
static inline int64_t sc_spread_ns(const sc_job *job, int i)
{
    return (int64_t)((double)job->service_ns * (0.5 + sc_frac(job->rand, (uint64_t)i)));
}

/* The last step of every setup: gives st (a freshly allocated state, not
 * NULL) its `active` wait group.  st, or NULL after freeing st when the
 * group cannot be made. */
static inline void *sc_state_ready(void *st, rt_wg **active)
{
    *active = rt_wg_new();
    if (!*active) {
        free(st);
        return NULL;
    }
    return st;
}

/*
 * Defines shutdown(state) for a state that owns nothing but its `active`
 * group and plain values: waits for everything counted there (sc_drain),
 * then frees the state; when something still runs, it keeps both, because
 * those tasks still use them (they show up as leaked in the report).
 */
#define SC_DRAINING_SHUTDOWN(shutdown, state_type)                                                 \
    static inline void shutdown(void *state)                                                       \
    {                                                                                              \
        state_type *st_ = state;                                                                   \
        if (sc_drain(st_->active)) free(st_);                                                      \
    }

/* The state of a pair whose handlers and tasks share nothing but the count
 * of what is in flight (no knobs). */
typedef struct sc_state {
    rt_wg *active; /* handle() calls in flight; graceful: also the tasks they started */
} sc_state;

static inline void *sc_state_setup(const lb_env *env)
{
    (void)env;
    sc_state *st = calloc(1, sizeof *st);
    return st ? sc_state_ready(st, &st->active) : NULL;
}

SC_DRAINING_SHUTDOWN(sc_state_shutdown, sc_state)

/* Sleeps for the job's service time (a stand-in for real work). */
static inline int sc_work(int64_t ns, rt_ctx *ctx)
{
    if (ns <= 0) return ctx ? rt_ctx_err(ctx) : 0;
    return rt_sleep(ns, ctx);
}

/* Serves req in the handler itself: holds its payload for the service
 * time, under the request's context; no task is started. */
static inline lb_outcome sc_serve_inline(const lb_request *req)
{
    void *payload = lb_payload_new(req->payload_bytes);
    int rc = sc_work(req->service_ns, req->ctx);
    lb_payload_free(payload, req->payload_bytes);
    return sc_outcome_of(rc);
}

#endif
