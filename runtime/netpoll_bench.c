/*
 * netpoll_bench.c — what an rt_fd_wait round trip costs, as JSON.
 *
 * Two tasks play ping-pong over a non-blocking Unix socket pair: each
 * writes one byte and waits (rt_fd_wait, then read) for the answer, so
 * every round is two readiness events through the poller thread.  For
 * reference the same ping-pong runs between two plain threads blocking in
 * read(2) — the kernel's own cost, with no runtime in between — so the
 * difference is what parking, the poller's hand-off and the wake-up add.
 * Median of LEAKBENCH_BENCH_REPS (default 3) repetitions of
 * LEAKBENCH_BENCH_ROUNDS (default 20000) rounds; LEAKBENCH_SCHED picks
 * the scheduler.
 */
#include "bench_util.h"

#include <pthread.h>
#include <sys/socket.h>

static const char *prog = "netpoll_bench";
static int reps;
static long rounds;
static _Atomic int failed;

/* Reads one byte from a non-blocking fd, waiting in rt_fd_wait. */
static int read_byte(int fd)
{
    char c;
    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n == 1) return 0;
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) return -1;
        if (rt_fd_wait(fd, RT_FD_READ, NULL) < 0) return -1;
    }
}

typedef struct pong_arg {
    int fd;
    rt_wg *done;
} pong_arg;

static void pong_task(void *p)
{
    pong_arg *a = p;
    for (long i = 0; i < rounds; i++)
        if (read_byte(a->fd) < 0 || write(a->fd, "o", 1) != 1) {
            atomic_store(&failed, 1);
            break;
        }
    rt_wg_done(a->done);
}

/* ns per round trip between two tasks. */
static double bench_tasks(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    pong_arg a = {.fd = sv[1], .done = rt_wg_new()};
    rt_wg_add(a.done, 1);
    rt_go("pong", pong_task, &a);
    rt_time t0 = rt_now();
    for (long i = 0; i < rounds; i++)
        if (write(sv[0], "i", 1) != 1 || read_byte(sv[0]) < 0) {
            atomic_store(&failed, 1);
            break;
        }
    double ns = (double)(rt_now() - t0) / (double)rounds;
    rt_wg_wait(a.done, NULL);
    rt_wg_free(a.done);
    close(sv[0]);
    close(sv[1]);
    return ns;
}

static void *pong_thread(void *p)
{
    int fd = *(int *)p;
    char c;
    for (long i = 0; i < rounds; i++)
        if (read(fd, &c, 1) != 1 || write(fd, "o", 1) != 1) break;
    return NULL;
}

/* ns per round trip between two threads blocking in read(2). */
static double bench_threads(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    pthread_t th;
    if (pthread_create(&th, NULL, pong_thread, &sv[1]) != 0) return -1;
    char c;
    rt_time t0 = rt_now();
    for (long i = 0; i < rounds; i++)
        if (write(sv[0], "i", 1) != 1 || read(sv[0], &c, 1) != 1) break;
    double ns = (double)(rt_now() - t0) / (double)rounds;
    pthread_join(th, NULL);
    close(sv[0]);
    close(sv[1]);
    return ns;
}

static void bench_main(void *arg)
{
    double tasks[BENCH_MAX_REPS], threads[BENCH_MAX_REPS];
    for (int i = 0; i < reps; i++) {
        tasks[i] = bench_tasks();
        threads[i] = bench_threads();
    }
    printf("{\n  \"benchmark\": \"%s\",\n  \"scheduler\": \"%s\",\n  \"rounds\": %ld,\n"
           "  \"repetitions\": %d,\n",
           prog, (const char *)arg, rounds, reps);
    printf("  \"fd_wait_pingpong_ns_per_round\": {\"median\": %.0f, \"unit\": \"ns\"},\n",
           bench_median(tasks, reps));
    printf(
        "  \"blocking_threads_pingpong_ns_per_round\": {\"median\": %.0f, \"unit\": \"ns\"}\n}\n",
        bench_median(threads, reps));
}

int main(void)
{
    rt_config cfg = {0};
    if (bench_sched_from_env(prog, &cfg) != 0) return 2;
    cfg.workers = (int)bench_env_long(prog, "LEAKBENCH_WORKERS", 0);
    reps = (int)bench_env_long(prog, "LEAKBENCH_BENCH_REPS", 3);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
    rounds = bench_env_long(prog, "LEAKBENCH_BENCH_ROUNDS", 20000);
    int rc = rt_run(&cfg, bench_main, (void *)rt_sched_name(cfg.sched));
    if (rc != 0) {
        fprintf(stderr, "%s: rt_run: %s\n", prog, rt_strerror(rc));
        return 1;
    }
    return atomic_load(&failed);
}
