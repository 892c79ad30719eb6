/*
 * sched_threads.c — the thread scheduler: one detached OS thread per task.
 *
 * Tasks.  rt_go spawns a detached pthread with a small stack (64 KiB by
 * default, more under sanitizers, or rt_config.stack_size).  The thread
 * records its task in a thread-local, runs rt__task_body and frees the task.
 * The main task runs on the thread that called rt_run.
 *
 * Parking.  Each task has a futex word `permit`:
 *   0 = no permit, 1 = a permit is waiting, 2 = the task sleeps in futex.
 * unpark exchanges in 1 and makes the futex syscall only if the word was 2,
 * so an unpark that comes first is remembered and an unpark of a running
 * task costs one atomic.  park consumes a permit if there is one, may spin
 * (LEAKBENCH_PARK_SPINS, off by default), then announces 2 and sleeps in
 * FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline.  The atomics, not the futex, carry
 * the happens-before edges, so ThreadSanitizer understands them.
 *
 * Timers.  One internal thread serves every timer from a min-heap ordered
 * by expiry, sleeping on a CLOCK_MONOTONIC condition variable.  It runs the
 * callback without holding its lock.  A timer is freed by whichever of
 * "timer_stop was called" and "the callback has finished" comes second.
 * The thread is started once per process (again in a forked child) and
 * kept (leaked tasks of an earlier rt_run may still hold deadlines).
 */
#include "rt_internal.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(LEAKBENCH_TSAN) || defined(LEAKBENCH_ASAN)
#define THREAD_STACK_DEFAULT (512 * 1024) /* sanitizer runtimes need room */
#else
#define THREAD_STACK_DEFAULT (64 * 1024)
#endif
#ifndef LEAKBENCH_PARK_SPINS
/* Pause-loop iterations before sleeping in futex.  0 by default: measured
 * with rt_bench on the shared 2-vCPU machines, 20 or 100 spins made the
 * ping-pong 10-40% slower and did not help throughput, since the peer
 * needs a futex wake-up (microseconds) before it can answer anyway. */
#define LEAKBENCH_PARK_SPINS 0
#endif
#define PARK_SPINS LEAKBENCH_PARK_SPINS

typedef struct thr_task {
    rt_task base; /* first: rt_task * and thr_task * convert */
    _Atomic uint32_t permit;
} thr_task;

static _Thread_local rt_task *current;
static size_t stack_size = THREAD_STACK_DEFAULT;
/* Task threads that have not yet finished their last instruction that
 * touches runtime memory; stop() waits (briefly) for exiting ones. */
static _Atomic int64_t threads_running;

/* -------------------------------------------------------------- futex -- */

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts,
                  uint32_t mask)
{
    return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, mask);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* -------------------------------------------------------------- tasks -- */

static rt_task *thr_task_alloc(void)
{
    return calloc(1, sizeof(thr_task));
}
static void thr_task_free(rt_task *t)
{
    free(t);
}
static rt_task *thr_self(void)
{
    return current;
}

static void *thread_main(void *p)
{
    rt_task *t = p;
    current = t;
    rt__task_body(t);
    current = NULL;
    free(t);
    atomic_fetch_sub_explicit(&threads_running, 1, memory_order_release);
    return NULL;
}

static int thr_spawn(rt_task *t)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, stack_size);
    pthread_t th;
    atomic_fetch_add_explicit(&threads_running, 1, memory_order_relaxed);
    int rc = pthread_create(&th, &attr, thread_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_fetch_sub_explicit(&threads_running, 1, memory_order_relaxed);
        return -rc;
    }
    return 0;
}

static int thr_park(rt_time deadline)
{
    thr_task *t = (thr_task *)current;
    if (!t) return -EDEADLK;
    for (int i = 0; i < PARK_SPINS; i++) {
        uint32_t one = 1;
        if (atomic_compare_exchange_weak_explicit(&t->permit, &one, 0, memory_order_acquire,
                                                  memory_order_relaxed))
            return 0;
        cpu_relax();
    }
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&t->permit, &zero, 2, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        /* It was 1: a permit is pending.  Consume it with an exchange, not
         * a store: an unpark may land between the failed CAS and here, and
         * a plain store would wipe its 1 without synchronising with it, so
         * the caller's re-check could miss the unparker's writes and park
         * again with no permit left (the lost wake-up park_test.c pins). */
        atomic_exchange_explicit(&t->permit, 0, memory_order_acquire);
        return 0;
    }
    struct timespec ts, *tsp = NULL;
    if (deadline != RT_FOREVER) {
        if (deadline < 0) deadline = 0;
        ts.tv_sec = deadline / 1000000000LL;
        ts.tv_nsec = deadline % 1000000000LL;
        tsp = &ts;
    }
    bool timed_out = false;
    for (;;) {
        long r = futex(&t->permit, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 2, tsp,
                       FUTEX_BITSET_MATCH_ANY);
        if (r == -1 && errno == ETIMEDOUT) {
            timed_out = true;
            break;
        }
        if (atomic_load_explicit(&t->permit, memory_order_acquire) != 2) break;
        /* EINTR or a stale wake with the word still 2: sleep on. */
    }
    uint32_t was = atomic_exchange_explicit(&t->permit, 0, memory_order_acquire);
    if (was == 1) return 0;
    return timed_out ? -ETIMEDOUT : 0;
}

static void thr_unpark(rt_task *task)
{
    thr_task *t = (thr_task *)task;
    uint32_t was = atomic_exchange_explicit(&t->permit, 1, memory_order_release);
    if (was == 2) futex(&t->permit, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, 0);
}

static void thr_yield(void)
{
    sched_yield();
}

/* ------------------------------------------------------------- timers -- */

struct rt_timer {
    rt_time when;
    void (*cb)(void *);
    void *arg;
    size_t heap_index; /* valid while state == TIMER_PENDING */
    int state;
    bool stopped; /* timer_stop was called */
};
enum { TIMER_PENDING, TIMER_FIRING, TIMER_FIRED };

/* Protects the heap and every timer's state/stopped/heap_index.  A leaf
 * lock: callbacks run without it, and no other lock is taken under it. */
static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static rt_timer **heap;
static size_t heap_len, heap_cap;
static pthread_once_t timer_once = PTHREAD_ONCE_INIT;

static void heap_swap(size_t a, size_t b)
{
    rt_timer *t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
    heap[a]->heap_index = a;
    heap[b]->heap_index = b;
}

static void heap_up(size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (heap[p]->when <= heap[i]->when) break;
        heap_swap(p, i);
        i = p;
    }
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_len && heap[l]->when < heap[m]->when) m = l;
        if (r < heap_len && heap[r]->when < heap[m]->when) m = r;
        if (m == i) return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_remove(size_t i)
{
    heap_len--;
    if (i != heap_len) {
        heap[i] = heap[heap_len];
        heap[i]->heap_index = i;
        heap_down(i);
        heap_up(i);
    }
}

static void *timer_thread(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&timer_lock);
    for (;;) {
        if (heap_len == 0) {
            pthread_cond_wait(&timer_cond, &timer_lock);
            continue;
        }
        rt_timer *t = heap[0];
        rt_time now = rt_now();
        if (t->when > now) {
            struct timespec ts = {.tv_sec = t->when / 1000000000LL,
                                  .tv_nsec = t->when % 1000000000LL};
            pthread_cond_timedwait(&timer_cond, &timer_lock, &ts);
            continue;
        }
        heap_remove(0);
        t->state = TIMER_FIRING;
        pthread_mutex_unlock(&timer_lock);
        t->cb(t->arg);
        pthread_mutex_lock(&timer_lock);
        t->state = TIMER_FIRED;
        if (t->stopped) free(t);
    }
    return NULL;
}

/* The timer thread of this process.  A forked child has none (only the
 * forking thread survives fork), so it is (re)started whenever the pid
 * changed; the atfork handlers keep timer_lock usable in the child. */
static pid_t timer_pid;

static void timer_atfork_prepare(void)
{
    pthread_mutex_lock(&timer_lock);
}
static void timer_atfork_parent(void)
{
    pthread_mutex_unlock(&timer_lock);
}
static void timer_atfork_child(void)
{
    /* The parent's pending timers belong to tasks that do not exist here. */
    heap_len = 0;
    pthread_mutex_unlock(&timer_lock);
}

static void timer_init_once(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&timer_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_atfork(timer_atfork_prepare, timer_atfork_parent, timer_atfork_child);
}

/* Makes sure this process has a timer thread: 0 or a negative errno. */
static int timer_thread_ensure(void)
{
    pthread_once(&timer_once, timer_init_once);
    pthread_mutex_lock(&timer_lock);
    int rc = 0;
    if (timer_pid != getpid()) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t th;
        rc = -pthread_create(&th, &attr, timer_thread, NULL);
        pthread_attr_destroy(&attr);
        if (rc == 0) timer_pid = getpid();
    }
    pthread_mutex_unlock(&timer_lock);
    return rc;
}

static rt_timer *thr_timer_start(rt_time when, void (*cb)(void *), void *arg)
{
    if (timer_thread_ensure() < 0) return NULL;
    rt_timer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->when = when;
    t->cb = cb;
    t->arg = arg;
    t->state = TIMER_PENDING;
    pthread_mutex_lock(&timer_lock);
    if (heap_len == heap_cap) {
        size_t ncap = heap_cap ? heap_cap * 2 : 64;
        rt_timer **nh = realloc(heap, ncap * sizeof *nh);
        if (!nh) {
            pthread_mutex_unlock(&timer_lock);
            free(t);
            return NULL;
        }
        heap = nh;
        heap_cap = ncap;
    }
    t->heap_index = heap_len;
    heap[heap_len++] = t;
    heap_up(t->heap_index);
    if (t->heap_index == 0) pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_lock);
    return t;
}

static bool thr_timer_stop(rt_timer *t)
{
    if (!t) return false;
    bool prevented = false;
    pthread_mutex_lock(&timer_lock);
    if (t->state == TIMER_PENDING) {
        heap_remove(t->heap_index);
        prevented = true;
        free(t);
    } else if (t->state == TIMER_FIRED) {
        free(t);
    } else {
        t->stopped = true; /* firing: the timer thread frees it after cb */
    }
    pthread_mutex_unlock(&timer_lock);
    return prevented;
}

/* ---------------------------------------------------------- lifecycle -- */

static int thr_start(const rt_config *cfg)
{
    size_t want = cfg->stack_size ? cfg->stack_size : THREAD_STACK_DEFAULT;
    if (want < (size_t)PTHREAD_STACK_MIN) want = PTHREAD_STACK_MIN;
    stack_size = want;
    return timer_thread_ensure();
}

static int thr_run_main(rt_task *t)
{
    current = t;
    rt__task_body(t);
    current = NULL;
    free(t);
    return 0;
}

static void thr_stop(void)
{
    /* Let threads whose task already returned finish their last few
     * instructions (free, counter) so that a process exiting right after
     * rt_run sees no half-exited task.  Leaked tasks stay blocked. */
    rt_time until = rt_now() + RT_MS(200);
    while (rt_now() < until) {
        int64_t live = rt_live_tasks();
        int64_t running = atomic_load_explicit(&threads_running, memory_order_acquire);
        if (running <= live) break;
        sched_yield();
    }
}

const rt_sched_ops rt__sched_threads = {
    .name = "threads",
    .start = thr_start,
    .run_main = thr_run_main,
    .stop = thr_stop,
    .task_alloc = thr_task_alloc,
    .task_free = thr_task_free,
    .spawn = thr_spawn,
    .self = thr_self,
    .park = thr_park,
    .unpark = thr_unpark,
    .yield = thr_yield,
    .timer_start = thr_timer_start,
    .timer_stop = thr_timer_stop,
};
