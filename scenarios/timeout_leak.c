/*
 * timeout_leak.c — pattern 1, the seed: a timeout leak and its fix.
 *
 * Leaky twin.  Each request's handler spawns a worker that allocates and
 * touches the request's payload, does the work (a sleep of the request's
 * service time, with no context) and sends its result on an unbuffered
 * channel with no context.  The handler selects on that channel and on the
 * request's context.  When the client timeout fires first the handler
 * returns TIMED_OUT, nobody will ever receive, and the worker blocks in its
 * send forever, holding the payload.  Leaked tasks per second = request
 * rate x fraction of requests whose service time exceeds the timeout.
 *
 * Graceful twin.  A fixed pool of pool_size workers, started at setup, is
 * fed through a bounded queue (a channel of queue_cap).  Every channel
 * operation is a select that also watches the request's or the pool's
 * context: a request that cannot be queued before its deadline is
 * REJECTED; a worker whose request was abandoned stops working on it (its
 * sleep watches the request context) and sends into a result channel of
 * capacity one, so it can never block on the send.  Shutdown cancels the
 * pool context, waits for every worker, closes the queue and drops the
 * jobs still queued.
 *
 * Ownership.  A job is shared by the handler and the worker and freed by
 * whichever drops the last of its two references.  The graceful pool
 * state is reference counted by the owner and every handler inside it, so
 * shutdown cannot free the queue under a handler that is still running.
 */
#include "scenario.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Result values sent by workers (as void *). */
#define RESULT_OK    ((void *)(intptr_t)1)
#define RESULT_ERROR ((void *)(intptr_t)2)

static lb_outcome outcome_of_ctx_error(int err)
{
    return err == -ETIMEDOUT ? LB_TIMED_OUT : LB_CANCELLED;
}

/* ------------------------------------------------------------ leaky twin -- */

typedef struct leaky_job {
    _Atomic int refs; /* handler + worker */
    rt_chan *result;  /* unbuffered: the bug */
    int64_t service_ns;
    size_t payload_bytes;
    bool inject_error;
} leaky_job;

static void leaky_job_unref(leaky_job *job)
{
    if (atomic_fetch_sub(&job->refs, 1) != 1) return;
    rt_chan_free(job->result);
    free(job);
}

static int leaky_state; /* the leaky twin keeps no state; setup returns this */

static void *leaky_setup(const lb_env *env)
{
    (void)env;
    return &leaky_state;
}

static void leaky_worker(void *arg)
{
    leaky_job *job = arg;
    void *payload = lb_payload_new(job->payload_bytes);
    rt_sleep(job->service_ns, NULL); /* the work; nothing can interrupt it */
    /* No receiver once the handler has timed out: blocks forever. */
    void *result = job->inject_error ? RESULT_ERROR : RESULT_OK;
    rt_chan_send(job->result, result, NULL); /* LEAK SITE: nobody receives after a timeout */
    lb_payload_free(payload, job->payload_bytes);
    leaky_job_unref(job);
}

static lb_outcome leaky_handle(void *state, lb_request *req)
{
    (void)state;
    leaky_job *job = calloc(1, sizeof *job);
    if (!job) return LB_FAILED;
    job->result = rt_chan_new(0);
    if (!job->result) {
        free(job);
        return LB_FAILED;
    }
    atomic_init(&job->refs, 2);
    job->service_ns = req->service_ns;
    job->payload_bytes = req->payload_bytes;
    job->inject_error = req->inject_error;
    if (rt_go("worker", leaky_worker, job) != 0) {
        leaky_job_unref(job);
        leaky_job_unref(job);
        return LB_FAILED;
    }
    rt_case wait_result[1] = {RT_RECV_CASE(job->result)};
    int r = rt_select(wait_result, 1, false, req->ctx);
    lb_outcome outcome;
    if (r < 0)
        outcome = outcome_of_ctx_error(r); /* the worker is abandoned here */
    else
        outcome = wait_result[0].recv == RESULT_OK ? LB_COMPLETED : LB_FAILED;
    leaky_job_unref(job);
    return outcome;
}

static void leaky_shutdown(void *state)
{
    (void)state; /* nothing tracks the workers, so nothing can stop them */
}

/* --------------------------------------------------------- graceful twin -- */

typedef struct graceful_pool {
    _Atomic int refs; /* owner + handlers currently inside handle() */
    rt_chan *queue;   /* bounded: capacity queue_cap */
    rt_ctx *ctx;      /* the pool's context, child of env->root */
    rt_wg *workers;
} graceful_pool;

typedef struct graceful_job {
    _Atomic int refs; /* handler + worker (or the queue while queued) */
    rt_ctx *ctx;      /* the request's context, retained */
    rt_chan *result;  /* capacity 1: the worker's send never blocks */
    int64_t service_ns;
    size_t payload_bytes;
    bool inject_error;
} graceful_job;

static void graceful_job_unref(graceful_job *job)
{
    if (atomic_fetch_sub(&job->refs, 1) != 1) return;
    rt_ctx_release(job->ctx);
    rt_chan_free(job->result);
    free(job);
}

static void graceful_pool_unref(graceful_pool *pool)
{
    if (atomic_fetch_sub(&pool->refs, 1) != 1) return;
    rt_chan_free(pool->queue);
    rt_wg_free(pool->workers);
    rt_ctx_release(pool->ctx);
    free(pool);
}

static void graceful_run_job(graceful_job *job)
{
    if (rt_ctx_err(job->ctx) != 0) return; /* the client already gave up */
    void *payload = lb_payload_new(job->payload_bytes);
    if (rt_sleep(job->service_ns, job->ctx) == 0) {
        rt_case send_result[1] = {
            RT_SEND_CASE(job->result, job->inject_error ? RESULT_ERROR : RESULT_OK)};
        rt_select(send_result, 1, false, job->ctx);
    }
    lb_payload_free(payload, job->payload_bytes);
}

static void graceful_worker(void *arg)
{
    graceful_pool *pool = arg;
    for (;;) {
        rt_case next_job[1] = {RT_RECV_CASE(pool->queue)};
        if (rt_select(next_job, 1, false, pool->ctx) < 0) break; /* pool cancelled */
        if (next_job[0].result != 0) break;                      /* queue closed */
        graceful_job *job = next_job[0].recv;
        graceful_run_job(job);
        graceful_job_unref(job);
    }
    rt_wg_done(pool->workers);
}

static void *graceful_setup(const lb_env *env)
{
    graceful_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    atomic_init(&pool->refs, 1);
    pool->queue = rt_chan_new(env->queue_cap);
    pool->ctx = rt_ctx_with_cancel(env->root);
    pool->workers = rt_wg_new();
    if (!pool->queue || !pool->ctx || !pool->workers) goto fail;
    for (int i = 0; i < env->pool_size; i++) {
        rt_wg_add(pool->workers, 1);
        if (rt_go("pool-worker", graceful_worker, pool) != 0) {
            rt_wg_done(pool->workers);
            rt_ctx_cancel(pool->ctx);
            rt_wg_wait(pool->workers, NULL);
            goto fail;
        }
    }
    return pool;
fail:
    if (pool->queue) rt_chan_free(pool->queue);
    if (pool->workers) rt_wg_free(pool->workers);
    if (pool->ctx) rt_ctx_release(pool->ctx);
    free(pool);
    return NULL;
}

static lb_outcome graceful_handle(void *state, lb_request *req)
{
    graceful_pool *pool = state;
    atomic_fetch_add(&pool->refs, 1);
    lb_outcome outcome = LB_FAILED;
    graceful_job *job = calloc(1, sizeof *job);
    if (!job) goto out;
    job->result = rt_chan_new(1);
    if (!job->result) {
        free(job);
        goto out;
    }
    atomic_init(&job->refs, 2);
    job->ctx = rt_ctx_retain(req->ctx);
    job->service_ns = req->service_ns;
    job->payload_bytes = req->payload_bytes;
    job->inject_error = req->inject_error;

    /* Backpressure: wait for room in the queue only until the deadline. */
    rt_case enqueue[1] = {RT_SEND_CASE(pool->queue, job)};
    int r = rt_select(enqueue, 1, false, req->ctx);
    if (r < 0 || enqueue[0].result != 0) {
        outcome = r == -ETIMEDOUT ? LB_REJECTED : LB_CANCELLED;
        graceful_job_unref(job); /* the queue's reference, never taken */
        graceful_job_unref(job);
        goto out;
    }
    rt_case wait_result[1] = {RT_RECV_CASE(job->result)};
    r = rt_select(wait_result, 1, false, req->ctx);
    if (r < 0)
        outcome = outcome_of_ctx_error(r);
    else
        outcome = wait_result[0].recv == RESULT_OK ? LB_COMPLETED : LB_FAILED;
    graceful_job_unref(job);
out:
    graceful_pool_unref(pool);
    return outcome;
}

static void graceful_shutdown(void *state)
{
    graceful_pool *pool = state;
    rt_ctx_cancel(pool->ctx);
    rt_wg_wait(pool->workers, NULL); /* every worker sees the cancel and returns */
    rt_chan_close(pool->queue);
    void *queued;
    while (rt_chan_try_recv(pool->queue, &queued) == 0) graceful_job_unref(queued);
    graceful_pool_unref(pool);
}

/* ------------------------------------------------------------------ pair -- */

static const lb_scenario timeout_leak = {
    .name = "timeout_leak",
    .pattern = 1,
    .title = "timeout leak (the seed)",
    .trigger = "fraction of requests whose service time exceeds the client timeout "
               "(service_time vs timeout_ms)",
    .source = "Uber LeakProf blog; Saioc et al., CGO'24 (arXiv:2312.12002); GFix (ASPLOS'21)",
    .description = "The handler spawns a worker per request that sends its result on an "
                   "unbuffered channel with no context; when the client timeout fires first "
                   "the handler returns and the worker's send blocks forever, holding the "
                   "request's payload.",
    .fix = "A fixed pool of workers behind a bounded queue; every channel operation selects on "
           "the request's or the pool's context, results go into a channel of capacity one, "
           "requests that cannot be queued before their deadline are rejected, and shutdown "
           "cancels, waits for the workers and closes the queue.",
    .leak =
        {.ops = LB_OP_BIT(RT_OP_SEND),
         .name = "timeout leak",
         .hint =
             "give the result channel capacity one, or send in a select on the request's context"},
    .knobs = NULL,
    .n_knobs = 0,
    .leaky = {leaky_setup, leaky_handle, leaky_shutdown},
    .graceful = {graceful_setup, graceful_handle, graceful_shutdown},
};
LB_SCENARIO(timeout_leak)
