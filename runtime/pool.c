/*
 * pool.c — a worker pool with a bounded queue, backpressure and an honest
 * shutdown.
 *
 * The queue is a channel of queue_cap slots; workers tasks receive from it
 * with the pool's context (a child of the parent given at creation).
 * rt_pool_submit is a select on "send to the queue" and "the pool's
 * context is done", bounded by the caller's context: a full queue makes the
 * caller wait (backpressure) until its own deadline.
 *
 * Shutdown closes the queue (blocked and later submitters get -EPIPE) and
 * then either
 *   DRAIN:  workers keep taking jobs until the closed queue is empty; or
 *   CANCEL: the pool's context is cancelled first, so running jobs see it
 *           and workers stop taking jobs; a job a worker took after the
 *           cancel is put aside instead of run.
 * It joins every worker, then collects jobs never run (put aside, or still
 * in the queue) for the caller: every submitted job is either started or
 * returned, none is dropped.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>

struct rt_pool {
    rt_chan *queue;
    rt_ctx *ctx;
    rt_wg *workers;
    rt_wg *submitters; /* submits in flight; shutdown waits for them */
    rt_job_fn fn;
    _Atomic int64_t submitted, started, finished;
    /* Protects stopping (with the submitters count taken under it, so no
     * submit starts once shutdown has begun) and the unrun list (jobs
     * taken by workers after a cancel).  A leaf lock. */
    pthread_mutex_t lock;
    bool stopping;
    void **unrun;
    size_t n_unrun, cap_unrun;
    size_t lost_count;
};

static void unrun_add(rt_pool *p, void *job)
{
    pthread_mutex_lock(&p->lock);
    if (p->n_unrun == p->cap_unrun) {
        size_t ncap = p->cap_unrun ? p->cap_unrun * 2 : 16;
        void **n = realloc(p->unrun, ncap * sizeof *n);
        if (!n) {
            p->lost_count++; /* still counted in n_unrun by shutdown */
            pthread_mutex_unlock(&p->lock);
            return;
        }
        p->unrun = n;
        p->cap_unrun = ncap;
    }
    p->unrun[p->n_unrun++] = job;
    pthread_mutex_unlock(&p->lock);
}

static void pool_worker(void *arg)
{
    rt_pool *p = arg;
    for (;;) {
        if (rt_ctx_err(p->ctx)) break;
        void *job;
        int rc = rt_chan_recv(p->queue, &job, p->ctx);
        if (rc < 0) break; /* -EPIPE: closed and drained; or cancelled */
        if (rt_ctx_err(p->ctx)) {
            unrun_add(p, job); /* taken after the cancel: not to be run */
            break;
        }
        atomic_fetch_add_explicit(&p->started, 1, memory_order_relaxed);
        p->fn(p->ctx, job);
        atomic_fetch_add_explicit(&p->finished, 1, memory_order_relaxed);
    }
    /* The core signals p->workers once this task has left the registry. */
}

rt_pool *rt_pool_new(int workers, int64_t queue_cap, rt_job_fn fn, rt_ctx *parent, const char *role)
{
    if (workers <= 0 || queue_cap < 0 || !fn) return NULL;
    rt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->fn = fn;
    p->queue = rt_chan_new(queue_cap);
    p->ctx = rt_ctx_with_cancel(parent);
    p->workers = rt_wg_new();
    p->submitters = rt_wg_new();
    if (!p->queue || !p->ctx || !p->workers || !p->submitters) goto fail;
    for (int i = 0; i < workers; i++)
        if (rt__go_joined(role ? role : "pool-worker", pool_worker, p, RT_SITE, p->workers) < 0)
            goto fail_started;
    return p;

fail_started:
    rt_ctx_cancel(p->ctx);
    rt__wg_wait_op(p->workers, NULL, RT_OP_JOIN, RT_SITE);
fail:
    if (p->queue) rt_chan_free(p->queue);
    rt_ctx_release(p->ctx);
    rt_wg_free(p->workers);
    rt_wg_free(p->submitters);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
}

int rt_pool_submit_at(rt_pool *p, void *job, rt_ctx *ctx, rt_site site)
{
    if (!p) return -EINVAL;
    pthread_mutex_lock(&p->lock);
    /* A cancelled pool refuses deterministically (the select below would
     * pick at random between a free slot and the done channel). */
    bool stopping = p->stopping || rt_ctx_err(p->ctx) != 0;
    if (!stopping) rt_wg_add(p->submitters, 1);
    pthread_mutex_unlock(&p->lock);
    if (stopping) return -EPIPE;
    rt_case cs[] = {RT_SEND_CASE(p->queue, job), RT_RECV_CASE(rt_ctx_done(p->ctx))};
    int r = rt__select(cs, 2, false, ctx, RT_FOREVER, RT_OP_SEND, &site);
    if (r == 0) {
        if (cs[0].result < 0)
            r = -EPIPE; /* closed by shutdown */
        else
            atomic_fetch_add_explicit(&p->submitted, 1, memory_order_relaxed);
    } else if (r == 1) {
        r = -EPIPE; /* the pool's context ended: it takes no more */
    }
    rt_wg_done(p->submitters); /* last touch of p */
    return r;
}

rt_pool_stats rt_pool_get_stats(rt_pool *p)
{
    rt_pool_stats s = {0};
    if (!p) return s;
    s.submitted = atomic_load_explicit(&p->submitted, memory_order_relaxed);
    s.started = atomic_load_explicit(&p->started, memory_order_relaxed);
    s.finished = atomic_load_explicit(&p->finished, memory_order_relaxed);
    return s;
}

int rt_pool_shutdown(rt_pool *p, rt_pool_stop how, void **unrun, size_t max_unrun, size_t *n_unrun)
{
    if (!p || (how != RT_POOL_DRAIN && how != RT_POOL_CANCEL)) return -EINVAL;
    if (!rt_self()) return -EDEADLK;
    pthread_mutex_lock(&p->lock);
    bool again = p->stopping;
    p->stopping = true;
    pthread_mutex_unlock(&p->lock);
    if (again) return -EINVAL;
    if (how == RT_POOL_CANCEL) rt_ctx_cancel(p->ctx);
    rt_chan_close(p->queue); /* blocked submitters get -EPIPE */
    rt__wg_wait_op(p->submitters, NULL, RT_OP_JOIN, RT_SITE);
    rt__wg_wait_op(p->workers, NULL, RT_OP_JOIN, RT_SITE);
    /* Workers are gone: whatever is still queued never ran. */
    void *job;
    while (rt_chan_try_recv(p->queue, &job) == 0) unrun_add(p, job);
    size_t total = p->n_unrun + p->lost_count;
    if (n_unrun) *n_unrun = total;
    if (unrun)
        for (size_t i = 0; i < p->n_unrun && i < max_unrun; i++) unrun[i] = p->unrun[i];
    int rc = p->lost_count ? -ENOMEM : 0;
    rt_ctx_release(p->ctx);
    rt_chan_free(p->queue);
    rt_wg_free(p->workers);
    rt_wg_free(p->submitters);
    free(p->unrun);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return rc;
}
