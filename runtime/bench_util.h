/*
 * bench_util.h — measuring helpers shared by the runtime's benchmark
 * programs (the runtime/ files named *_bench.c).
 *
 * Header-only on purpose: the Makefile links each *_bench.c with the
 * runtime objects alone, so helpers the benchmarks share live here as
 * static functions rather than in a .c file the runtime would carry.
 *   - bench_env_long: a positive integer from the environment, or the
 *     default when unset; anything else ends the program with status 2
 *     and a message naming the program and the variable.
 *   - bench_sched_from_env: the scheduler LEAKBENCH_SCHED names, into a
 *     run configuration.
 *   - bench_median: the median of up to BENCH_MAX_REPS repetitions.
 *   - bench_resident_bytes: this process's resident memory, from
 *     /proc/self/statm (the RSS deltas the benchmarks print per task).
 *   - bench_blocked_crowd: k tasks blocked in a select on (jobs,
 *     ctx.done) like the seed's leaked workers: how long creating them
 *     took until all were blocked, the memory each added, and how long
 *     from cancelling ctx until every one had exited.
 */
#ifndef LEAKBENCH_BENCH_UTIL_H
#define LEAKBENCH_BENCH_UTIL_H

#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most repetitions bench_median looks at; callers clamp their
 * repetition count to their own arrays, at most this. */
#define BENCH_MAX_REPS 64

static inline long bench_env_long(const char *prog, const char *name, long def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x <= 0) {
        fprintf(stderr, "%s: %s=%s: expected a positive integer\n", prog, name, v);
        exit(2);
    }
    return x;
}

/* Sets cfg->sched from LEAKBENCH_SCHED (unset or empty: the default).
 * 0, or -EINVAL after saying on stderr what was wrong. */
static inline int bench_sched_from_env(const char *prog, rt_config *cfg)
{
    const char *s = getenv("LEAKBENCH_SCHED");
    if (s && *s && rt_sched_parse(s, &cfg->sched) != 0) {
        fprintf(stderr, "%s: LEAKBENCH_SCHED=%s: expected threads or coroutines\n", prog, s);
        return -EINVAL;
    }
    return 0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (of the first BENCH_MAX_REPS when n is larger);
 * v itself is left in its order. */
static inline double bench_median(const double *v, int n)
{
    double s[BENCH_MAX_REPS];
    if (n > BENCH_MAX_REPS) n = BENCH_MAX_REPS;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Resident memory of this process in bytes, or -1 if /proc is unreadable. */
static inline long bench_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size, res;
    int n = fscanf(f, "%ld %ld", &size, &res);
    fclose(f);
    return n == 2 ? res * sysconf(_SC_PAGESIZE) : -1;
}

/* ------------------------------------------------------ blocked crowd -- */

typedef struct bench_crowd_state {
    rt_chan *jobs; /* nobody ever sends: the crowd waits on it */
    rt_ctx *ctx;   /* cancelled to release the crowd */
    rt_wg *exited; /* crowd members not yet ended */
} bench_crowd_state;

static inline void bench_crowd_member(void *p)
{
    bench_crowd_state *c = p;
    rt_case cs[] = {RT_RECV_CASE(c->jobs)};
    rt_select(cs, 1, false, c->ctx);
    rt_wg_done(c->exited);
}

typedef struct bench_crowd_result {
    double create_ms;    /* from the first spawn until all are blocked */
    double cancel_ms;    /* from the cancel until every one has exited */
    double rss_per_task; /* resident bytes the crowd added, per task */
    int spawned;         /* how many started (k unless a spawn failed) */
} bench_crowd_result;

/* Starts k tasks named role, each blocked in a select on (jobs, ctx.done),
 * and measures them (bench_crowd_result); "blocked" is read from the
 * runtime's select counter.  Must run inside rt_run with no other task
 * alive but the caller.  When a spawn fails it says so on stderr (naming
 * prog), sets *failed and measures the ones that started. */
static inline bench_crowd_result bench_blocked_crowd(const char *prog, const char *role, int k,
                                                     int *failed)
{
    bench_crowd_result r = {0};
    bench_crowd_state c = {rt_chan_new(0), rt_ctx_with_cancel(NULL), rt_wg_new()};
    rt_counters *ctr = rt_counters_get();
    int64_t base_select = atomic_load(&ctr->by_op[RT_OP_SELECT]);
    long rss0 = bench_resident_bytes();
    rt_time t0 = rt_now();
    for (int i = 0; i < k; i++) {
        rt_wg_add(c.exited, 1);
        if (rt_go(role, bench_crowd_member, &c) != 0) {
            rt_wg_done(c.exited);
            fprintf(stderr, "%s: started only %d of %d blocked tasks\n", prog, i, k);
            *failed = 1;
            break;
        }
        r.spawned++;
    }
    while (atomic_load(&ctr->by_op[RT_OP_SELECT]) - base_select < r.spawned)
        rt_sleep(RT_US(200), NULL);
    r.create_ms = (double)(rt_now() - t0) / 1e6;
    r.rss_per_task = r.spawned ? (double)(bench_resident_bytes() - rss0) / r.spawned : 0;

    rt_time t1 = rt_now();
    rt_ctx_cancel(c.ctx);
    rt_wg_wait(c.exited, NULL);
    while (rt_live_tasks() > 1) rt_yield(); /* until every one has exited */
    r.cancel_ms = (double)(rt_now() - t1) / 1e6;
    rt_ctx_release(c.ctx);
    rt_wg_free(c.exited);
    rt_chan_free(c.jobs);
    return r;
}

#endif
