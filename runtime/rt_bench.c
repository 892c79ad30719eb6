/*
 * rt_bench.c — micro-benchmarks of the runtime, printed as one JSON object.
 *
 * Runs on the scheduler named by LEAKBENCH_SCHED (threads | coroutines) and
 * measures, each as the median of several repetitions (those measured
 * during a machine stall left out: bench_util.h's stall guard):
 *   - unbuffered channel ping-pong round trip (ns), and in the same run a
 *     bare pthread mutex + condition-variable ping-pong between two threads,
 *     with the ratio runtime / bare (the floor a hand-off costs here);
 *   - buffered channel throughput, one sender and one receiver (ops/s);
 *   - a seed-style worker pool: W = 2 workers, buffered jobs and results
 *     channels, every send and receive a select on the context, zero-work
 *     jobs (jobs/s);
 *   - task spawn cost: spawn N tasks that end at once, until all ended (ns);
 *   - cancel latency: K workers blocked in a select on (jobs, ctx.done); time
 *     from cancel until every one of them has exited, for K = 120 and K =
 *     LEAKBENCH_BENCH_BIG (default 10000), plus how long it took to create
 *     the big crowd and the resident memory it added per blocked task (RSS
 *     delta from /proc/self/statm divided by K); and, as the OS floor for
 *     the big crowd, K bare pthreads woken by one condvar broadcast.
 * The big crowds run first, so the first one measures memory on fresh
 * stacks; the other benchmarks then run round after round on a warm stack
 * pool.
 * Environment: LEAKBENCH_SCHED, LEAKBENCH_WORKERS, LEAKBENCH_SEED,
 * LEAKBENCH_BENCH_REPS (default 5), LEAKBENCH_BENCH_BIG (default 10000),
 * LEAKBENCH_BENCH_SCALE (multiplies iteration counts; default 1).
 * Every number printed is measured in this run.  Exit status 1 if a
 * benchmark could not run (e.g. thread creation failed).
 */
#include "bench_util.h"
#include "rt.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int reps = 5;
static long scale = 1;
static int big = 10000;
static int failed;
static const char *const prog = "rt_bench"; /* names this program in its messages */

/* JSON output: one "name": {"median": m, "unit": u, "samples": [...],
 * "stalled": [...], "retried": n} each (bench_series_json). */
static char out[16384];
static size_t out_len;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + out_len, sizeof out - out_len, fmt, ap);
    va_end(ap);
    if (n > 0) out_len += (size_t)n < sizeof out - out_len ? (size_t)n : sizeof out - out_len - 1;
}

static void emit_metric(const char *name, const char *unit, const bench_series *s)
{
    char buf[2048];
    bench_series_json(buf, sizeof buf, name, unit, s);
    emit(",\n  %s", buf);
}

/* ---------------------------------------------------------- ping-pong -- */

typedef struct {
    rt_chan *ping, *pong;
    long rounds;
} pingpong;

static void ponger(void *p)
{
    pingpong *pp = p;
    void *v;
    for (long i = 0; i < pp->rounds; i++) {
        rt_chan_recv(pp->ping, &v, NULL);
        rt_chan_send(pp->pong, v, NULL);
    }
}

static double bench_pingpong(long rounds)
{
    pingpong pp = {rt_chan_new(0), rt_chan_new(0), rounds};
    rt_go("ponger", ponger, &pp);
    void *v;
    rt_time t0 = rt_now();
    for (long i = 0; i < rounds; i++) {
        rt_chan_send(pp.ping, &pp, NULL);
        rt_chan_recv(pp.pong, &v, NULL);
    }
    double ns = (double)(rt_now() - t0) / (double)rounds;
    while (rt_live_tasks() > 1) rt_sleep(RT_US(100), NULL);
    rt_chan_free(pp.ping);
    rt_chan_free(pp.pong);
    return ns;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int turn; /* 0: main's turn, 1: the other thread's */
    long rounds;
} bare_pp;

static void *bare_ponger(void *p)
{
    bare_pp *b = p;
    pthread_mutex_lock(&b->mu);
    for (long i = 0; i < b->rounds; i++) {
        while (b->turn != 1) pthread_cond_wait(&b->cv, &b->mu);
        b->turn = 0;
        pthread_cond_signal(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static double bench_bare_pingpong(long rounds)
{
    bare_pp b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, rounds};
    pthread_t th;
    if (pthread_create(&th, NULL, bare_ponger, &b) != 0) return -1;
    rt_time t0 = rt_now();
    pthread_mutex_lock(&b.mu);
    for (long i = 0; i < rounds; i++) {
        b.turn = 1;
        pthread_cond_signal(&b.cv);
        while (b.turn != 0) pthread_cond_wait(&b.cv, &b.mu);
    }
    pthread_mutex_unlock(&b.mu);
    double ns = (double)(rt_now() - t0) / (double)rounds;
    pthread_join(th, NULL);
    return ns;
}

/* ---------------------------------------------------- buffered stream -- */

typedef struct {
    rt_chan *ch;
    long n;
} stream;

static void stream_sender(void *p)
{
    stream *s = p;
    for (long i = 0; i < s->n; i++) rt_chan_send(s->ch, (void *)(uintptr_t)(i + 1), NULL);
}

static double bench_buffered(long n)
{
    stream s = {rt_chan_new(128), n};
    rt_time t0 = rt_now();
    rt_go("sender", stream_sender, &s);
    void *v;
    for (long i = 0; i < n; i++) rt_chan_recv(s.ch, &v, NULL);
    double ops = (double)n / ((double)(rt_now() - t0) / 1e9);
    while (rt_live_tasks() > 1) rt_sleep(RT_US(100), NULL);
    rt_chan_free(s.ch);
    return ops;
}

/* -------------------------------------------------- seed worker pool -- */

typedef struct {
    rt_chan *jobs, *results;
    rt_ctx *ctx;
    long n;
    rt_wg *wg;
} seed_pool;

static void seed_worker(void *p)
{
    seed_pool *sp = p;
    for (;;) {
        rt_case in[] = {RT_RECV_CASE(sp->jobs)};
        int r = rt_select(in, 1, false, sp->ctx);
        if (r != 0 || in[0].result != 0) break; /* cancelled or closed */
        rt_case outc[] = {RT_SEND_CASE(sp->results, in[0].recv)};
        if (rt_select(outc, 1, false, sp->ctx) != 0) break;
    }
    rt_wg_done(sp->wg);
}

static void seed_producer(void *p)
{
    seed_pool *sp = p;
    for (long i = 0; i < sp->n; i++) {
        rt_case c[] = {RT_SEND_CASE(sp->jobs, (void *)(uintptr_t)(i + 1))};
        if (rt_select(c, 1, false, sp->ctx) != 0) break;
    }
    rt_chan_close(sp->jobs);
    rt_wg_done(sp->wg);
}

static double bench_seed_pool(long n, int workers)
{
    seed_pool sp = {rt_chan_new(100), rt_chan_new(100), rt_ctx_with_cancel(NULL), n, rt_wg_new()};
    rt_time t0 = rt_now();
    rt_wg_add(sp.wg, workers + 1);
    for (int w = 0; w < workers; w++) rt_go("worker", seed_worker, &sp);
    rt_go("producer", seed_producer, &sp);
    long got = 0;
    while (got < n) {
        rt_case c[] = {RT_RECV_CASE(sp.results)};
        if (rt_select(c, 1, false, sp.ctx) != 0) break;
        got++;
    }
    double jobs = (double)got / ((double)(rt_now() - t0) / 1e9);
    rt_ctx_cancel(sp.ctx);
    rt_wg_wait(sp.wg, NULL);
    while (rt_live_tasks() > 1) rt_sleep(RT_US(100), NULL);
    rt_ctx_release(sp.ctx);
    rt_wg_free(sp.wg);
    rt_chan_free(sp.jobs);
    rt_chan_free(sp.results);
    return got == n ? jobs : -1;
}

/* -------------------------------------------------------------- spawn -- */

static void spawned(void *p)
{
    rt_wg_done(p);
}

static double bench_spawn(long n)
{
    rt_wg *wg = rt_wg_new();
    rt_wg_add(wg, n);
    rt_time t0 = rt_now();
    for (long i = 0; i < n; i++)
        if (rt_go("spawned", spawned, wg) < 0) {
            rt_wg_add(wg, -(n - i));
            failed = 1;
            break;
        }
    rt_wg_wait(wg, NULL);
    double ns = (double)(rt_now() - t0) / (double)n;
    while (rt_live_tasks() > 1) rt_sleep(RT_US(100), NULL);
    rt_wg_free(wg);
    return ns;
}

/* ------------------------------------------------------ cancel crowd -- */

static bench_crowd_result bench_cancel_crowd(int k)
{
    return bench_blocked_crowd(prog, "blocked-worker", k, &failed);
}

/* The OS floor for the same thing: K bare pthreads (same 64 KiB stacks)
 * waiting on one condition variable; time from the broadcast until every
 * one has returned from its function. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool go;
    int waiting;
    _Atomic int alive;
} bare_crowd;

static void *bare_crowd_thread(void *p)
{
    bare_crowd *b = p;
    pthread_mutex_lock(&b->mu);
    b->waiting++;
    while (!b->go) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    atomic_fetch_sub(&b->alive, 1);
    return NULL;
}

static double bench_bare_crowd(int k)
{
    static bare_crowd b; /* outlives the detached threads' last access */
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    b.go = false;
    b.waiting = 0;
    atomic_store(&b.alive, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int started = 0;
    for (; started < k; started++) {
        atomic_fetch_add(&b.alive, 1);
        pthread_t th;
        if (pthread_create(&th, &attr, bare_crowd_thread, &b) != 0) {
            atomic_fetch_sub(&b.alive, 1);
            failed = 1;
            break;
        }
    }
    pthread_attr_destroy(&attr);
    for (;;) {
        pthread_mutex_lock(&b.mu);
        int w = b.waiting;
        pthread_mutex_unlock(&b.mu);
        if (w == started) break;
        nanosleep(&(struct timespec){0, 200000}, NULL);
    }
    rt_time t0 = rt_now();
    pthread_mutex_lock(&b.mu);
    b.go = true;
    pthread_cond_broadcast(&b.cv);
    pthread_mutex_unlock(&b.mu);
    while (atomic_load(&b.alive) > 0) sched_yield();
    double ms = (double)(rt_now() - t0) / 1e6;
    nanosleep(&(struct timespec){0, 20000000}, NULL); /* let the last ones return */
    return ms;
}

/* --------------------------------------------------------------- main -- */

static long pp_rounds, buf_n, pool_n, spawn_n;
static bench_series pp, bare, buf, pool, spawn, c120, bigc, bigcreate, bigbare;
static double rss[BENCH_MAX_REPS];
static int big_reps, spawned_big;

/* Everything measured inside the runtime, as its main task. */
static void bench_main(void *arg)
{
    (void)arg;
    /* The big crowds first, so that the first one runs on fresh stacks
     * and its resident memory is what a blocked task costs; run after the
     * spawn benchmark, it reused the ~2,000 slots spawn had left resident
     * and showed a fifth less (so did Go's twin, which keeps the same
     * order).  Every benchmark after it starts with a warm stack pool, as
     * a long-running service's spawns do. */
    for (int i = 0; i < big_reps; i++) {
        bench_crowd_result r =
            bench_measure_crowd(prog, "blocked-worker", big, &failed, &bigcreate, &bigc);
        rss[i] = r.rss_per_task;
        spawned_big = r.spawned;
    }
    for (int i = 0; i < reps; i++) {
        BENCH_MEASURE(&pp, bench_pingpong(pp_rounds));
        BENCH_MEASURE(&buf, bench_buffered(buf_n));
        BENCH_MEASURE(&pool, bench_seed_pool(pool_n, 2));
        BENCH_MEASURE(&spawn, bench_spawn(spawn_n));
        BENCH_MEASURE(&c120, bench_cancel_crowd(120).cancel_ms);
    }
}

int main(void)
{
    rt_config cfg = {0};
    if (bench_sched_from_env(prog, &cfg) != 0) return 2;
    cfg.workers = (int)bench_env_long(prog, "LEAKBENCH_WORKERS", 0);
    cfg.seed = (uint64_t)bench_env_long(prog, "LEAKBENCH_SEED", 1);
    reps = (int)bench_env_long(prog, "LEAKBENCH_BENCH_REPS", 5);
    if (reps > 64) reps = 64;
    scale = bench_env_long(prog, "LEAKBENCH_BENCH_SCALE", 1);
    big = (int)bench_env_long(prog, "LEAKBENCH_BENCH_BIG", 10000);
    pp_rounds = 20000 * scale;
    buf_n = 500000 * scale;
    pool_n = 200000 * scale;
    spawn_n = 2000 * scale;
    big_reps = reps < 3 ? reps : 3;

    /* The bare pthread floors run outside the runtime, on plain threads:
     * ping-pong first, the big crowd last (its freed stacks would otherwise
     * be reused by the runtime's threads and hide their memory). */
    for (int i = 0; i < reps; i++) BENCH_MEASURE(&bare, bench_bare_pingpong(pp_rounds));
    int rc = rt_run(&cfg, bench_main, NULL);
    if (rc != 0) {
        fprintf(stderr, "rt_bench: rt_run(%s): %s\n", rt_sched_name(cfg.sched), rt_strerror(rc));
        return 1;
    }
    for (int i = 0; i < big_reps; i++) BENCH_MEASURE(&bigbare, bench_bare_crowd(big));

    emit("{\n  \"benchmark\": \"rt_bench\",\n  \"scheduler\": \"%s\",\n  \"repetitions\": %d,\n"
         "  \"cpus\": %ld",
         rt_sched_name(cfg.sched), reps, sysconf(_SC_NPROCESSORS_ONLN));
    int stalled;
    emit_metric("pingpong_unbuffered_round_trip_ns", "ns", &pp);
    emit_metric("bare_condvar_pingpong_round_trip_ns", "ns", &bare);
    emit(",\n  \"pingpong_ratio_runtime_over_bare\": %.4g",
         bench_series_median(&pp, &stalled) / bench_series_median(&bare, &stalled));
    emit_metric("buffered_chan_throughput", "ops/s", &buf);
    emit(",\n  \"seed_pool_workers\": 2");
    emit_metric("seed_pool_throughput", "jobs/s", &pool);
    emit_metric("spawn_cost_ns", "ns", &spawn);
    emit_metric("cancel_120_blocked_until_exited_ms", "ms", &c120);
    emit(",\n  \"big_crowd_workers\": %d", spawned_big);
    emit_metric("cancel_big_crowd_until_exited_ms", "ms", &bigc);
    emit_metric("bare_pthread_big_crowd_broadcast_until_exited_ms", "ms", &bigbare);
    emit_metric("create_big_crowd_until_blocked_ms", "ms", &bigcreate);
    emit(",\n  \"stall_probe_fastest_us\": %.4g", bench_probe_fastest_us);
    /* Only the first crowd (the first thing bench_main runs) gets fresh
     * stacks; later ones reuse pooled stacks that are already resident,
     * so they under-count. */
    emit(",\n  \"resident_bytes_per_blocked_task\": {\"value\": %.6g, \"unit\": \"bytes\", "
         "\"from\": \"first big crowd (fresh stacks)\", \"later_samples\": [",
         rss[0]);
    for (int i = 1; i < big_reps; i++) emit("%s%.6g", i > 1 ? ", " : "", rss[i]);
    emit("]}");
    emit(",\n  \"iterations\": {\"pingpong\": %ld, \"buffered\": %ld, \"seed_pool\": %ld, "
         "\"spawn\": %ld}\n}\n",
         pp_rounds, buf_n, pool_n, spawn_n);
    fputs(out, stdout);
    return failed;
}
