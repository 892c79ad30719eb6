/*
 * sched_coro_bench.c — what the coroutine scheduler adds to rt_bench: the
 * scheduler's own hand-off floor and a crowd of 50,000 blocked tasks.
 *
 * Prints one JSON object.  Runs on the scheduler LEAKBENCH_SCHED names
 * (threads | coroutines; default threads) with LEAKBENCH_WORKERS workers:
 *   - park_unpark_round_trip_ns: two tasks pass a token back and forth
 *     with nothing but the seam's park and unpark (rt_sched.h), the floor
 *     under every channel hand-off;
 *   - a crowd of LEAKBENCH_BENCH_CROWD tasks (default 50,000 on coroutines,
 *     2,000 on threads, whose tasks are OS threads) each blocked in a select
 *     on (jobs, ctx.done) like the seed's leaked workers: the time to create
 *     it until all are blocked, the resident memory it added per task
 *     (RSS delta from /proc/self/statm; measured first, on fresh stacks,
 *     because pooled stacks stay resident and a second crowd would cost
 *     nothing), and the time from cancelling ctx until every one exited.
 * Timings are medians of LEAKBENCH_BENCH_REPS (default 3) repetitions,
 * those measured during a machine stall left out (bench_util.h's stall
 * guard); every number printed is measured in this run.  Exit status 1 if
 * a benchmark could not run.
 */
#include "bench_util.h"
#include "rt_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int reps = 3;
static int failed;
static const char *const prog = "sched_coro_bench"; /* names this program in its messages */

/* ------------------------------------------------- park/unpark floor -- */

typedef struct token_pair {
    rt_task *a, *b;
    _Atomic int turn; /* 0: a's turn, 1: b's */
    long rounds;
    _Atomic int b_ready, b_done;
    _Atomic int a_done; /* a's last unpark of b has returned */
} token_pair;

static void token_b(void *p)
{
    token_pair *tp = p;
    tp->b = rt_self();
    atomic_store(&tp->b_ready, 1);
    for (long i = 0; i < tp->rounds; i++) {
        while (atomic_load(&tp->turn) != 1) rt__sched->park(RT_FOREVER);
        atomic_store(&tp->turn, 0);
        rt__sched->unpark(tp->a);
    }
    /* a's last unpark of us may still be running after we saw its turn:
     * end (and be freed) only once it has returned. */
    while (!atomic_load(&tp->a_done)) rt_yield();
    atomic_store(&tp->b_done, 1);
}

static double bench_park_unpark(long rounds)
{
    token_pair tp = {.a = rt_self(), .rounds = rounds};
    if (rt_go("token-b", token_b, &tp) != 0) {
        failed = 1;
        return -1;
    }
    while (!atomic_load(&tp.b_ready)) rt_yield();
    rt_time t0 = rt_now();
    for (long i = 0; i < rounds; i++) {
        atomic_store(&tp.turn, 1);
        rt__sched->unpark(tp.b);
        while (atomic_load(&tp.turn) != 0) rt__sched->park(RT_FOREVER);
    }
    double ns = (double)(rt_now() - t0) / (double)rounds;
    atomic_store(&tp.a_done, 1);
    while (!atomic_load(&tp.b_done) || rt_live_tasks() > 1) rt_sleep(RT_US(100), NULL);
    return ns;
}

/* -------------------------------------------------------------- main -- */

typedef struct bench_args {
    const char *sched;
    int crowd;
    long rounds;
} bench_args;

static void bench_main(void *arg)
{
    bench_args *a = arg;
    bench_series create = {0}, cancel = {0}, pu = {0};
    /* The crowd first: its resident memory is measured on fresh stacks. */
    bench_crowd_result first = {0};
    for (int i = 0; i < reps; i++) {
        bench_crowd_result r =
            bench_measure_crowd(prog, "crowd-worker", a->crowd, &failed, &create, &cancel);
        if (i == 0) first = r;
    }
    for (int i = 0; i < reps; i++) BENCH_MEASURE(&pu, bench_park_unpark(a->rounds));
    char fig[3][2048];
    bench_series_json(fig[0], sizeof fig[0], "park_unpark_round_trip_ns", "ns", &pu);
    bench_series_json(fig[1], sizeof fig[1], "create_crowd_until_blocked_ms", "ms", &create);
    bench_series_json(fig[2], sizeof fig[2], "cancel_crowd_until_exited_ms", "ms", &cancel);
    printf("{\n  \"benchmark\": \"sched_coro_bench\",\n  \"scheduler\": \"%s\",\n"
           "  \"repetitions\": %d,\n  \"cpus\": %ld,\n",
           a->sched, reps, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  %s,\n  \"park_unpark_rounds\": %ld,\n", fig[0], a->rounds);
    printf("  \"crowd_tasks\": %d,\n", first.spawned);
    printf("  %s,\n  %s,\n", fig[1], fig[2]);
    printf("  \"resident_bytes_per_blocked_task\": {\"value\": %.0f, \"unit\": \"bytes\", "
           "\"note\": \"first crowd, fresh stacks\"},\n",
           first.rss_per_task);
    printf("  \"stall_probe_fastest_us\": %.4g\n}\n", bench_probe_fastest_us);
}

int main(void)
{
    rt_config cfg = {0};
    if (bench_sched_from_env(prog, &cfg) != 0) return 2;
    cfg.workers = (int)bench_env_long(prog, "LEAKBENCH_WORKERS", 0);
    cfg.seed = (uint64_t)bench_env_long(prog, "LEAKBENCH_SEED", 1);
    reps = (int)bench_env_long(prog, "LEAKBENCH_BENCH_REPS", 3);
    if (reps > 32) reps = 32;
    bench_args a = {
        .sched = rt_sched_name(cfg.sched),
        .crowd = (int)bench_env_long(prog, "LEAKBENCH_BENCH_CROWD",
                                     cfg.sched == RT_SCHED_COROUTINES ? 50000 : 2000),
        .rounds = cfg.sched == RT_SCHED_COROUTINES ? 1000000 : 20000,
    };
    int rc = rt_run(&cfg, bench_main, &a);
    if (rc != 0) {
        fprintf(stderr, "sched_coro_bench: rt_run(%s): %s\n", a.sched, rt_strerror(rc));
        return 1;
    }
    return failed;
}
