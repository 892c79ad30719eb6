/*
 * rt_test_util.h — shared scaffolding for the runtime's cmocka tests.
 *
 * RT_TEST(name) { body } defines a cmocka test whose body runs as the main
 * task of a fresh rt_run, on the scheduler named by LEAKBENCH_SCHED
 * (threads | coroutines; default threads), with LEAKBENCH_WORKERS and
 * LEAKBENCH_SEED passed through to rt_config.  Each test is guarded by
 * alarm() (LEAKBENCH_TEST_TIMEOUT seconds, default 60): a hung test kills
 * the program with a message naming it.  After the body returns, the test
 * waits (up to 5 s) for every other task to end and then fails unless the
 * live-task count is back to zero — tests that block tasks on purpose must
 * unblock them first.
 *
 * Bodies run inside tasks (possibly on coroutine stacks or other threads),
 * where cmocka's assert_* (longjmp) must not be used: use CHECK / CHECK_EQ,
 * which record the first failure from any task; the test fails after
 * rt_run returns.  A failed CHECK does not stop the body.
 */
#ifndef LEAKBENCH_RT_TEST_UTIL_H
#define LEAKBENCH_RT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

#if defined(LEAKBENCH_TSAN) || defined(LEAKBENCH_ASAN)
#define RT_TEST_SANITIZED 1
#else
#define RT_TEST_SANITIZED 0
#endif

/* Protects the first-failure record below; a leaf lock (tests only). */
static pthread_mutex_t rt_test_lock = PTHREAD_MUTEX_INITIALIZER;
static char rt_test_failure[1024];
static int rt_test_failures;
static const char *rt_test_current = "?";

static void rt_test_failf(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void rt_test_failf(const char *file, int line, const char *fmt, ...)
{
    pthread_mutex_lock(&rt_test_lock);
    if (rt_test_failures++ == 0) {
        int n = snprintf(rt_test_failure, sizeof rt_test_failure, "%s:%d: ", file, line);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rt_test_failure + n, sizeof rt_test_failure - (size_t)n, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&rt_test_lock);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) rt_test_failf(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                 \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long rt_a_ = (long long)(a), rt_b_ = (long long)(b);                                  \
        if (rt_a_ != rt_b_)                                                                        \
            rt_test_failf(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, rt_a_, rt_b_);     \
    } while (0)
#define CHECK_ERR(expr, want)                                                                      \
    do {                                                                                           \
        int rt_r_ = (int)(expr), rt_w_ = (want);                                                   \
        if (rt_r_ != rt_w_)                                                                        \
            rt_test_failf(__FILE__, __LINE__, "%s: got %d (%s), want %d (%s)", #expr, rt_r_,       \
                          rt_strerror(rt_r_), rt_w_, rt_strerror(rt_w_));                          \
    } while (0)

static long rt_test_env_long(const char *name, long def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end) {
        fprintf(stderr, "rt_test: %s=%s is not an integer\n", name, v);
        exit(2);
    }
    return x;
}

/* The seed a randomised test runs with: LEAKBENCH_SEED when given, else
 * one from the clock and the pid, put into the environment so that
 * rt_test_config (the runtime's select choices) uses it too.  Printed
 * first, as "<label>: seed N (replay with LEAKBENCH_SEED=N)", so a failure
 * can be replayed (as far as the OS's thread scheduling allows). */
static inline long rt_test_seed(const char *label)
{
    long seed = rt_test_env_long("LEAKBENCH_SEED", 0);
    if (seed == 0) {
        seed = (long)(((uint64_t)rt_now() ^ ((uint64_t)getpid() << 32)) & 0x7fffffffffffffffULL);
        if (seed == 0) seed = 1;
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", seed);
        setenv("LEAKBENCH_SEED", buf, 1);
    }
    printf("%s: seed %ld (replay with LEAKBENCH_SEED=%ld)\n", label, seed, seed);
    fflush(stdout);
    return seed;
}

static rt_config rt_test_config(void)
{
    rt_config cfg = {0};
    const char *s = getenv("LEAKBENCH_SCHED");
    if (s && *s && rt_sched_parse(s, &cfg.sched) != 0) {
        fprintf(stderr, "rt_test: LEAKBENCH_SCHED=%s: expected threads or coroutines\n", s);
        exit(2);
    }
    cfg.workers = (int)rt_test_env_long("LEAKBENCH_WORKERS", 0);
    cfg.seed = (uint64_t)rt_test_env_long("LEAKBENCH_SEED", 0);
    return cfg;
}

static void rt_test_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "rt_test: time limit reached in test ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w += write(2, rt_test_current, strlen(rt_test_current));
    w += write(2, "\n", 1);
    (void)w;
    _exit(3);
}

/* Polls cond (an expression) every millisecond for up to ms milliseconds;
 * evaluates to whether it became true.  Only inside tasks. */
#define RT_WAIT_UNTIL(cond, ms)                                                                    \
    ({                                                                                             \
        rt_time rt_until_ = rt_now() + RT_MS(ms);                                                  \
        while (!(cond) && rt_now() < rt_until_) rt_sleep(RT_MS(1), NULL);                          \
        (bool)(cond);                                                                              \
    })

/* The next number of a xorshift64 sequence (*state must not be 0). */
static inline uint64_t rt_test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Blocked tasks per op, from the runtime's counters. */
static inline int64_t rt_test_blocked(rt_op op)
{
    return atomic_load_explicit(&rt_counters_get()->by_op[op], memory_order_relaxed);
}

static void rt_test_main(void *arg)
{
    void (*body)(void) = (void (*)(void))arg;
    body();
    if (!RT_WAIT_UNTIL(rt_live_tasks() == 1, 5000))
        rt_test_failf(__FILE__, __LINE__, "%lld tasks still live 5 s after the test body returned",
                      (long long)rt_live_tasks() - 1);
}

static inline void rt_test_run(const char *name, void (*body)(void))
{
    rt_test_current = name;
    rt_test_failures = 0;
    rt_test_failure[0] = 0;
    signal(SIGALRM, rt_test_alarm);
    alarm((unsigned)rt_test_env_long("LEAKBENCH_TEST_TIMEOUT", 60));
    rt_config cfg = rt_test_config();
    int rc = rt_run(&cfg, rt_test_main, (void *)body);
    alarm(0);
    if (rc != 0) fail_msg("rt_run(%s): %s", rt_sched_name(cfg.sched), rt_strerror(rc));
    if (rt_live_tasks() != 0) fail_msg("%lld tasks live after rt_run", (long long)rt_live_tasks());
    if (rt_test_failures) fail_msg("%s (%d failed checks)", rt_test_failure, rt_test_failures);
}

#define RT_TEST(name)                                                                              \
    static void name##_body(void);                                                                 \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        rt_test_run(#name, name##_body);                                                           \
    }                                                                                              \
    static void name##_body(void)

#endif
