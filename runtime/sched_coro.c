/*
 * sched_coro.c — the M:N coroutine scheduler: many tasks on a few threads.
 *
 * Tasks are coroutines multiplexed onto N worker threads (rt_config.workers,
 * else env LEAKBENCH_WORKERS, else one per online CPU).  Everything the core
 * needs goes through the seam in rt_sched.h; channel, select, context and
 * wait-group code is the same as on the thread scheduler.
 *
 * Context switch.  A hand-written switch saves the callee-saved registers
 * on the old stack and loads the new stack pointer (coro_switch_x86_64.S,
 * coro_switch_aarch64.S); elsewhere, or with -DLEAKBENCH_CORO_UCONTEXT, the
 * portable swapcontext() is used (about 100x slower: it makes a signal-mask
 * system call per switch).  Never setjmp/longjmp.  The switch returns a
 * "transfer" value from whoever resumed us: the worker we now run on.  A
 * task may park on one worker and be resumed on another, so code never
 * trusts a thread-local read cached across a switch (cur_worker() is an
 * out-of-line function for that reason).
 *
 * Handing over.  A task that parks, yields or exits switches directly to
 * the next runnable task of its worker, or to the worker's own scheduler
 * context ("g0", the thread's native stack) when there is none.  What the
 * old task wanted (park / requeue / free me) is left in the worker's
 * `pending_*` fields and carried out by the context that resumes, once the
 * old task's registers are safely saved: only then may another worker pick
 * it up.  Every resume point calls after_switch().
 *
 * Park and unpark.  Each task has a `state` (RUNNING or PARKED), a `permit`
 * and a `timer_fired` flag.  unpark sets the permit, then moves a PARKED
 * task to RUNNING with a compare-and-swap and queues it; park's epilogue
 * (after_switch) stores PARKED and then re-checks permit and timer_fired,
 * so a wake-up that raced with the switch is never lost, and the CAS makes
 * sure a task is queued exactly once.  All of these are sequentially
 * consistent atomics (a Dekker-style store-then-load on both sides).
 *
 * Run queues.  Per worker: a run-next slot and a RUNQ_SIZE ring in the
 * style of Go's runq (single producer — the owning worker — and many
 * consumers by CAS on head), overflowing half of itself into a global
 * injection queue (a growable array of task pointers under a mutex).  A
 * task woken by a task lands in the waker's run-next slot, so it runs as
 * soon as the waker blocks (ping-pong stays on one core, hot in cache);
 * spawned tasks and tasks kicked out of run-next go to the ring, and
 * threads that are not workers use the injection queue.  Fairness: every
 * GLOBAL_CHECK_EVERY schedules look at the injection queue first, and
 * after RUNNEXT_STREAK_MAX run-next picks in a row the ring gets a turn.
 * An idle worker steals half of another worker's ring.
 *
 * Idle workers.  A worker that finds nothing keeps looking for
 * IDLE_SPIN_NS as the "spinning" worker, then registers as idle and sleeps
 * on its own futex word (with a timeout: its earliest timer, at most
 * IDLE_POLL_NS).
 * Producers wake an idle worker only when no worker is spinning (Go's
 * wakep), so a burst of work wakes one thread, not all of them.  The
 * last spinner that finds work wakes another.  The periodic wake-up lets
 * an idle worker take over a run-next task whose worker has been stuck in
 * one task for a whole poll period.  While tasks wait for fds, one idle
 * worker sleeps in epoll_wait instead of on its futex and completes the
 * ready waits itself (netpoll.c, rt__netpoll_claim); worker_wake breaks
 * that sleep through the netpoller's eventfd.
 *
 * Timers.  A binary min-heap per worker, under that worker's timer lock.
 * Timers fire on their worker's scheduler context: park deadlines wake the
 * task directly (under the heap lock, so timer_stop either removes a timer
 * or finds it completely fired); callbacks (context deadlines) are run
 * after the lock is dropped.  Running tasks check the heap's earliest
 * expiry (one atomic load, plus a clock read only when a timer exists) on
 * every 8th switch and drop to the scheduler context when it is due; an
 * idle worker sleeps until its earliest timer.  There is no preemption: a
 * worker stuck in one task that never blocks fires no timers meanwhile.
 *
 * Stacks.  Fixed-size slots (STACK_DEFAULT, or rt_config.stack_size) carved
 * from large MAP_NORESERVE regions, so 50,000 stacks cost about a hundred
 * mappings instead of two per stack (the kernel's map count limit is 65530).
 * The task structure lives at the top of its own stack slot, so a blocked
 * task whose frames fit in the rest of that page costs one resident page:
 *
 *   | stack (grows left) ........ | coro_task | canary zone |
 *   ^ stack_lo                    ^ stack_top               ^ next slot's stack_lo
 *
 * Instead of a guard page, a canary word just below each stack is checked
 * every time the task switches out (parks, yields or exits: an overflow
 * is caught at the task's next switch); a damaged canary aborts with
 * this file's line and the task's spawn site.  The canary of slot k is the
 * last word of slot k-1's canary zone, in a page that slot k-1 touches
 * anyway (the first slot of a region keeps it at its own stack_lo), so the
 * canary costs no resident page.  An overflow runs into it before anything
 * else.  rt_config.debug_guard_pages adds a PROT_NONE page below each stack
 * (two mappings per stack: for debugging only; the canary then sits at
 * stack_lo).  Freed slots are cached per worker and in a global pool; a
 * slot whose task went deeper than WATERMARK_DEPTH (the word there is no
 * longer zero; reading an untouched page maps the shared zero page and
 * costs no resident memory; pool_carve reads it once, so that the page
 * fault of that first read is taken when the slot is created, not when
 * its first task exits) has the deeper pages returned to the kernel
 * with MADV_DONTNEED on free, so a pooled stack stays small in resident
 * memory.
 *
 * Sanitizers.  Under LEAKBENCH_ASAN every switch is announced with
 * __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber, stack
 * regions are LeakSanitizer root regions (parked tasks hold pointers), and
 * a reused stack is unpoisoned.  Under LEAKBENCH_TSAN each task is a TSan
 * fiber (__tsan_create_fiber / __tsan_switch_to_fiber / __tsan_destroy_fiber).
 *
 * Locks (all scheduler-internal leaves: no core lock is ever taken while
 * one of them is held).  Order: worker timer_lock > global.lock and
 * idle.lock; pool.lock > a registry shard's lock (pool_configure's
 * rt__registry_forget_dead), and main_lock is taken alone.  Two timer locks
 * are held together only by adopt_orphan_timers, while no worker runs.
 * global, idle and pool locks are spin-then-futex locks (rt_lock.h): held
 * for a few stores, by two workers at once on every spawn-heavy run.
 */
#include "rt_lock.h"
#include "rt_sched.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(LEAKBENCH_CORO_UCONTEXT) || !(defined(__x86_64__) || defined(__aarch64__))
#define CORO_UCONTEXT 1
#include <ucontext.h>
#endif

#ifdef LEAKBENCH_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif
#ifdef LEAKBENCH_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ------------------------------------------------------------- knobs -- */

#if defined(LEAKBENCH_ASAN) || defined(LEAKBENCH_TSAN)
#define STACK_DEFAULT (256 * 1024) /* instrumented frames are larger */
#else
#define STACK_DEFAULT (64 * 1024)
#endif
#define STACK_MIN             (16 * 1024)
#define REGION_MIN            (16 * 1024 * 1024) /* stacks are carved from regions this big */
#define WATERMARK_DEPTH       (16 * 1024)        /* deeper pages are trimmed on free */
#define STACK_CACHE_MAX       256                /* free slots a worker keeps */
#define RUNQ_SIZE             1024
#define RESUME_PREFETCH_BYTES 512 /* frames above a queued task's stack pointer, prefetched */
#define MAX_WORKERS           256
#define GLOBAL_CHECK_EVERY    61            /* schedules between injection-queue looks */
#define RUNNEXT_STREAK_MAX    64            /* run-next picks before the ring gets a turn */
#define IDLE_SPIN_NS          (50 * 1000LL) /* an idle worker polls this long before sleeping */
#define RUNNEXT_STEAL_NS      (10 * 1000LL) /* a worker that has not switched this long is stuck */
#define IDLE_POLL_NS          (10 * 1000 * 1000LL)
#define CANARY_SEED           0x5afec0de57ac4b1dULL
#define CANARY_ZONE           64 /* bytes at the top of a slot: the canary of the slot above */

#if defined(__GNUC__) && !defined(__clang__)
#define NO_INLINE __attribute__((noinline, noipa))
#else
#define NO_INLINE __attribute__((noinline))
#endif
#define CACHE_ALIGNED _Alignas(64)

/* ----------------------------------------------------------- context -- */

typedef struct coro_ctx {
#ifdef CORO_UCONTEXT
    ucontext_t uc;
    void *transfer;
    void (*entry)(void *, void *);
    void *entry_arg;
#else
    void *sp;
#endif
} coro_ctx;

#ifndef CORO_UCONTEXT
void *rt__coro_switch(void **save_sp, void *load_sp, void *transfer);
void rt__coro_trampoline(void);

/* Builds the frame rt__coro_switch pops on its first switch into a new
 * context: entry(arg, transfer) runs on [lo, top). */
static void ctx_make(coro_ctx *c, char *lo, char *top, void (*entry)(void *, void *), void *arg)
{
    (void)lo;
    uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* r15 r14 r13 r12 rbx rbp ret; the trampoline starts 16-aligned. */
    void **sp = (void **)(t - 72);
    sp[0] = NULL;
    sp[1] = NULL;
    sp[2] = (void *)entry; /* r13 */
    sp[3] = arg;           /* r12 */
    sp[4] = NULL;
    sp[5] = NULL;
    sp[6] = (void *)rt__coro_trampoline;
#else
    void **sp = (void **)(t - 176);
    memset(sp, 0, 176);
    sp[8] = arg;                          /* x19 */
    sp[9] = (void *)entry;                /* x20 */
    sp[19] = (void *)rt__coro_trampoline; /* x30 */
#endif
    c->sp = sp;
}

static inline void *ctx_switch(coro_ctx *from, coro_ctx *to, void *transfer)
{
    return rt__coro_switch(&from->sp, to->sp, transfer);
}
#else
static void ucontext_entry(unsigned hi, unsigned lo)
{
    coro_ctx *c = (coro_ctx *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
    c->entry(c->entry_arg, c->transfer);
    abort();
}

static void ctx_make(coro_ctx *c, char *lo, char *top, void (*entry)(void *, void *), void *arg)
{
    if (getcontext(&c->uc) != 0) abort();
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = (size_t)(top - lo) & ~(size_t)15;
    c->uc.uc_link = NULL;
    c->entry = entry;
    c->entry_arg = arg;
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))ucontext_entry, 2, (unsigned)(p >> 32),
                (unsigned)(p & 0xffffffffu));
}

static inline void *ctx_switch(coro_ctx *from, coro_ctx *to, void *transfer)
{
    to->transfer = transfer;
    if (swapcontext(&from->uc, &to->uc) != 0) abort();
    return from->transfer;
}
#endif

/* ------------------------------------------------------------- types -- */

enum { TASK_RUNNING = 0, TASK_PARKED = 1 };
enum { ACT_NONE = 0, ACT_PARK, ACT_YIELD, ACT_EXIT };

typedef struct worker worker;
typedef struct coro_task coro_task;

struct rt_timer {
    rt_time when;
    int64_t heap_index; /* -1 once fired or removed; under owner->timer_lock */
    worker *owner;      /* whose heap; fixed at start */
    void (*cb)(void *);
    void *arg;
    coro_task *park_task; /* non-NULL: a park deadline, fired in place */
};

struct coro_task {
    rt_task base; /* first: rt_task * and coro_task * convert */
    coro_ctx ctx;
    char *stack_lo;   /* lowest usable byte */
    char *stack_top;  /* == (char *)this task */
    uint64_t *canary; /* just below stack_lo, or at it (see the top) */
    _Atomic int state;
    _Atomic int permit;
    _Atomic int timer_fired;
    bool is_main;
    rt_timer park_timer;
#ifdef LEAKBENCH_ASAN
    void *asan_fake_stack;
#endif
#ifdef LEAKBENCH_TSAN
    void *tsan_fiber;
#endif
};

struct worker {
    int index;
    pthread_t thread;
    bool thread_started;
    coro_ctx g0; /* the thread's own stack: the scheduler loop */

    /* Touched only by the worker's own thread. */
    coro_task *current; /* running task; NULL in g0 */
    int pending_action; /* what the task we left wants done (after_switch) */
    coro_task *pending_task;
    uint32_t tick;
    bool spinning;
    uint64_t rng;
    coro_task *stack_cache[STACK_CACHE_MAX]; /* free slots, most recently freed last */
    int stack_cache_len;
    /* Slots this worker's thread took for tasks and gave back (written by
     * it alone, read by slots_in_use). */
    _Atomic uint64_t slots_taken, slots_returned;
    bool global_first;                  /* look at the injection queue first next time */
    int runnext_streak;                 /* consecutive run-next picks (fairness) */
    uint64_t seen_nswitch[MAX_WORKERS]; /* per victim: its nswitch at our last look */
    rt_time seen_since[MAX_WORKERS];    /* per victim: when we first saw that nswitch */
#ifdef LEAKBENCH_ASAN
    void *g0_fake_stack;
    const void *g0_stack_lo;
    size_t g0_stack_size;
#endif
#ifdef LEAKBENCH_TSAN
    void *g0_tsan_fiber;
#endif

    /* Idle list, under idle.lock. */
    worker *idle_next;
    bool idle_listed;
    bool woken_spinning; /* the waker handed us the "spinning" role */

    CACHE_ALIGNED _Atomic uint32_t wake_word; /* futex: bumped to wake */
    _Atomic bool polling;                     /* sleeping in rt__netpoll_wait instead */
    _Atomic uint64_t nswitch;                 /* schedules so far */
    _Atomic rt_time next_when;                /* earliest timer, RT_FOREVER if none */

    /* Run queue: the owner writes tail and runnext puts; anyone CASes head. */
    CACHE_ALIGNED _Atomic uint32_t head;
    CACHE_ALIGNED _Atomic uint32_t tail;
    _Atomic(coro_task *) runnext;
    _Atomic(coro_task *) buf[RUNQ_SIZE];

    /* Timer heap.  timer_lock protects heap, heap_len, heap_cap and the
     * heap_index of every timer in it; first in the scheduler's lock order. */
    CACHE_ALIGNED pthread_mutex_t timer_lock;
    rt_timer **heap;
    size_t heap_len, heap_cap;
};

/* Stack slot geometry, fixed while any slot is in use. */
typedef struct stack_region {
    struct stack_region *next;
    char *base;
    size_t size;
} stack_region;

static struct {
    int nworkers;
    worker *workers[MAX_WORKERS]; /* allocated once, kept (timers may outlive a run) */
    bool running;
    _Atomic bool shutdown;
    /* Slots taken and given back by threads that are not workers (the
     * workers count their own: slots_in_use). */
    _Atomic uint64_t offworker_taken, offworker_returned;

    /* Injection queue: a growable circular array of task pointers (moving
     * tasks in and out touches no task memory).  lock protects buf, cap
     * and head; len is written under it and readable without it. */
    struct {
        rt__lock lock;
        coro_task **buf;
        size_t cap, head;
        _Atomic int64_t len;
    } global;

    /* Idle workers: lock protects the list and each worker's idle fields. */
    struct {
        rt__lock lock;
        worker *list;
        _Atomic int nidle;
    } idle;
    _Atomic int nspinning;

    /* Stack pool: lock protects everything in it. */
    struct {
        rt__lock lock;
        size_t slot_size;  /* guard + stack + task header */
        size_t stack_size; /* usable stack bytes */
        size_t guard;      /* 0 or one page */
        stack_region *regions;
        char *carve_next, *carve_end;
        coro_task **free_slots; /* free_len free slots; room for every carved one */
        int64_t free_len, free_cap, carved;
    } pool;

    /* run_main waits here for the main task to be freed. */
    pthread_mutex_t main_lock;
    pthread_cond_t main_cond;
    bool main_done;
} S = {
    .global = {.lock = RT__LOCK_INIT},
    .idle = {.lock = RT__LOCK_INIT},
    .pool = {.lock = RT__LOCK_INIT},
    .main_lock = PTHREAD_MUTEX_INITIALIZER,
    .main_cond = PTHREAD_COND_INITIALIZER,
};

static _Thread_local worker *tls_worker;

/* Out of line on purpose: a task that parked on one thread may resume on
 * another, and the compiler must not reuse a thread-local address it
 * computed before the switch. */
static NO_INLINE worker *cur_worker(void)
{
    return tls_worker;
}

static inline coro_task *task_of(rt_task *t)
{
    return (coro_task *)t;
}

static rt_time mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (rt_time)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* ------------------------------------------------------------ stacks -- */

static inline uint64_t canary_for(const uint64_t *where)
{
    return CANARY_SEED ^ (uint64_t)(uintptr_t)where;
}

#define CANARY_CHECK(t) canary_check((t), __FILE__, __LINE__)
static inline void canary_check(coro_task *t, const char *file, int line)
{
    if (__builtin_expect(*t->canary == canary_for(t->canary), 1)) return;
    fprintf(stderr,
            "%s:%d: coroutine stack overflow or corruption: task %llu (%s, spawned at %s:%d) "
            "overwrote the canary at the bottom of its %zu-byte stack; raise "
            "rt_config.stack_size or use debug_guard_pages\n",
            file, line, (unsigned long long)t->base.id, t->base.role ? t->base.role : "?",
            t->base.spawn_site.file ? t->base.spawn_site.file : "?", t->base.spawn_site.line,
            (size_t)(t->stack_top - t->stack_lo));
    abort();
}

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

/* Header size: the task structure at the top of a slot, cache aligned. */
#define TASK_HDR ((sizeof(coro_task) + 63) & ~(size_t)63)
#define SLOT_TOP (TASK_HDR + CANARY_ZONE) /* bytes of a slot above its stack */

/* Sets the slot geometry.  Only while no slot is in use (slots_in_use). */
static void pool_configure(size_t stack_size, bool guard)
{
    size_t ps = page_size();
    if (stack_size == 0) stack_size = STACK_DEFAULT;
    if (stack_size < STACK_MIN) stack_size = STACK_MIN;
    stack_size = (stack_size + ps - 1) & ~(ps - 1);
    size_t g = guard ? ps : 0;
    size_t slot = g + stack_size; /* the header takes the top of the stack area */
    rt__lock_acquire(&S.pool.lock);
    if (S.pool.slot_size != slot || S.pool.guard != g) {
        /* New geometry: forget every slot and unmap the regions (no task
         * is live, so every header the registry still holds is dead). */
        rt__registry_forget_dead();
        for (stack_region *r = S.pool.regions, *n; r; r = n) {
            n = r->next;
#ifdef LEAKBENCH_ASAN
            __lsan_unregister_root_region(r->base, r->size);
#endif
            munmap(r->base, r->size);
            free(r);
        }
        S.pool.regions = NULL;
        S.pool.carve_next = S.pool.carve_end = NULL;
        S.pool.free_len = 0;
        S.pool.carved = 0;
        for (int i = 0; i < MAX_WORKERS; i++)
            if (S.workers[i]) S.workers[i]->stack_cache_len = 0;
        S.pool.slot_size = slot;
        S.pool.stack_size = stack_size;
        S.pool.guard = g;
    }
    rt__lock_release(&S.pool.lock);
}

/* Carves a new slot.  Under pool.lock.  NULL when out of memory. */
static coro_task *pool_carve(void)
{
    size_t slot = S.pool.slot_size;
    if (S.pool.carved == S.pool.free_cap) { /* keep room to free every slot */
        int64_t ncap = S.pool.free_cap ? S.pool.free_cap * 2 : 4096;
        coro_task **nf = realloc(S.pool.free_slots, (size_t)ncap * sizeof *nf);
        if (!nf) return NULL;
        S.pool.free_slots = nf;
        S.pool.free_cap = ncap;
    }
    if (S.pool.carve_next == NULL || S.pool.carve_next + slot > S.pool.carve_end) {
        size_t size = slot * 64 > REGION_MIN ? slot * 64 : (REGION_MIN / slot) * slot;
        stack_region *r = malloc(sizeof *r);
        if (!r) return NULL;
        void *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (base == MAP_FAILED) {
            free(r);
            return NULL;
        }
        r->base = base;
        r->size = size;
        r->next = S.pool.regions;
        S.pool.regions = r;
#ifdef LEAKBENCH_ASAN
        __lsan_register_root_region(base, size);
#endif
        S.pool.carve_next = base;
        S.pool.carve_end = (char *)base + size;
    }
    char *s = S.pool.carve_next;
    bool first_in_region = s == S.pool.regions->base;
    S.pool.carve_next += slot;
    S.pool.carved++;
    if (S.pool.guard && mprotect(s, S.pool.guard, PROT_NONE) != 0) return NULL;
    coro_task *t = (coro_task *)(s + slot - SLOT_TOP);
    t->stack_lo = s + S.pool.guard;
    t->stack_top = (char *)t;
    /* The slot below was carved just before, so its top page is resident. */
    t->canary = S.pool.guard || first_in_region ? (uint64_t *)t->stack_lo : (uint64_t *)s - 1;
    *t->canary = canary_for(t->canary);
    return t;
}

/* The word stack_put reads to tell whether a task went deep, or NULL for
 * a stack too small to trim. */
static volatile uint64_t *watermark_of(const coro_task *t)
{
    if ((size_t)(t->stack_top - t->stack_lo) <= 2 * WATERMARK_DEPTH) return NULL;
    return (volatile uint64_t *)(t->stack_top - WATERMARK_DEPTH);
}

/* A slot for a new task, from the worker's cache, the pool or a region.
 * Free slots are kept in arrays of pointers, moved between a worker's
 * cache and the pool with memcpy: an intrusive list through the headers
 * made each refill touch 128 slots' pages (perf: 80% of task allocation). */
static coro_task *stack_get(worker *w)
{
    if (w && w->stack_cache_len > 0) return w->stack_cache[--w->stack_cache_len];
    rt__lock_acquire(&S.pool.lock);
    coro_task *t;
    if (S.pool.free_len > 0) {
        t = S.pool.free_slots[--S.pool.free_len];
        if (w) { /* refill the (empty) cache with up to half of its size */
            int64_t k =
                S.pool.free_len < STACK_CACHE_MAX / 2 ? S.pool.free_len : STACK_CACHE_MAX / 2;
            memcpy(w->stack_cache, &S.pool.free_slots[S.pool.free_len - k],
                   (size_t)k * sizeof *w->stack_cache);
            S.pool.free_len -= k;
            w->stack_cache_len = (int)k;
        }
        rt__lock_release(&S.pool.lock);
        return t;
    }
    t = pool_carve();
    rt__lock_release(&S.pool.lock);
    /* A fresh slot: map its watermark word's page (to the shared zero
     * page, no resident memory) now, outside the lock.  stack_put reads it
     * at every exit, and on a fresh slot that read was a page fault in the
     * exit path (10,000 fresh tasks, 8 runs each way: their first cancel
     * took a median of 8.7 ms, now 4.7; creating them takes about 6 ms
     * longer instead). */
    volatile uint64_t *mark = t ? watermark_of(t) : NULL;
    if (mark) (void)*mark;
    return t;
}

/* Returns a slot whose task has finished (or never ran). */
static void stack_put(worker *w, coro_task *t)
{
    char *lo = t->stack_lo, *top = t->stack_top;
    uint64_t *canary = t->canary;
    bool trimmed = false;
#ifdef LEAKBENCH_ASAN
    __asan_unpoison_memory_region(lo, (size_t)(top - lo));
#endif
    volatile uint64_t *mark = watermark_of(t);
    if (mark && *mark != 0) {
        /* The task went deep: give the deep pages back (they read as
         * zeros again afterwards). */
        size_t ps = page_size();
        char *start = (char *)(((uintptr_t)lo + ps - 1) & ~(uintptr_t)(ps - 1));
        char *end = (char *)((uintptr_t)(top - WATERMARK_DEPTH) & ~(uintptr_t)(ps - 1));
        if (end > start) trimmed = madvise(start, (size_t)(end - start), MADV_DONTNEED) == 0;
    }
    /* The header is reused: keep only the geometry, and the core's
     * fields that outlive a task (its registry place: see
     * rt__task_header_reset). */
    rt__task_header_reset(&t->base);
    memset((char *)t + sizeof t->base, 0, sizeof *t - sizeof t->base);
    t->stack_lo = lo;
    t->stack_top = top;
    /* The canary was checked intact when the task switched out for the
     * last time (or it never ran), so it is written again only if the trim
     * may have zeroed it (when it sits at stack_lo): rewriting it always
     * touched the slot below's page on every exit. */
    t->canary = canary;
    if (trimmed) *canary = canary_for(canary);
    if (!w) {
        rt__lock_acquire(&S.pool.lock);
        S.pool.free_slots[S.pool.free_len++] = t;
        rt__lock_release(&S.pool.lock);
        return;
    }
    w->stack_cache[w->stack_cache_len++] = t;
    if (w->stack_cache_len < STACK_CACHE_MAX) return;
    /* Full: hand the older half of the cache to the pool in one go. */
    enum { HALF = STACK_CACHE_MAX / 2 };
    rt__lock_acquire(&S.pool.lock);
    memcpy(&S.pool.free_slots[S.pool.free_len], w->stack_cache, HALF * sizeof *w->stack_cache);
    S.pool.free_len += HALF;
    rt__lock_release(&S.pool.lock);
    memmove(w->stack_cache, w->stack_cache + HALF,
            (size_t)(w->stack_cache_len - HALF) * sizeof *w->stack_cache);
    w->stack_cache_len -= HALF;
}

/* Counts a slot taken (or given back) by the calling thread, whose worker
 * is w (NULL: not a worker): a worker's own counts take a plain load and
 * store, not a locked instruction (one shared counter bounced between the
 * spawning worker and the worker running the exits on every task: perf,
 * 2,000-task bursts). */
static void count_slot(worker *w, bool taken)
{
    if (!w) {
        atomic_fetch_add(taken ? &S.offworker_taken : &S.offworker_returned, 1);
        return;
    }
    _Atomic uint64_t *c = taken ? &w->slots_taken : &w->slots_returned;
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_release);
}

static void sum_slot_counts(uint64_t *taken, uint64_t *returned)
{
    *taken = atomic_load(&S.offworker_taken);
    *returned = atomic_load(&S.offworker_returned);
    for (int i = 0; i < MAX_WORKERS && S.workers[i]; i++) {
        *taken += atomic_load_explicit(&S.workers[i]->slots_taken, memory_order_acquire);
        *returned += atomic_load_explicit(&S.workers[i]->slots_returned, memory_order_acquire);
    }
}

/* Slots held by tasks (allocated and not yet freed).  The counts only
 * grow, so two passes that agree saw them all at one instant between the
 * passes, and the difference is exact (one pass could see a slot given
 * back on one worker and miss its taking on another).  Counts that keep
 * moving mean slots are in use: at least 1. */
static int64_t slots_in_use(void)
{
    uint64_t t1, r1, t2, r2;
    sum_slot_counts(&t1, &r1);
    for (int tries = 0; tries < 100; tries++) {
        sum_slot_counts(&t2, &r2);
        if (t1 == t2 && r1 == r2) return (int64_t)(t2 - r2);
        t1 = t2;
        r1 = r2;
    }
    int64_t n = (int64_t)(t2 - r2);
    return n > 0 ? n : 1;
}

/* -------------------------------------------------------- idle / wake -- */

static void worker_wake(worker *v)
{
    /* Sequentially consistent, against find_runnable's store to polling
     * and its second look at wake_word: either it sees the bump and does
     * not poll, or we see it polling and break its epoll_wait. */
    atomic_fetch_add(&v->wake_word, 1);
    if (atomic_load(&v->polling))
        rt__netpoll_break();
    else
        futex(&v->wake_word, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* After making work visible: wake an idle worker unless one is already
 * spinning (it will find the work or wake another).  Go's wakep. */
static void wake_idle_if_needed(void)
{
    /* The caller published its work with a sequentially consistent store,
     * so these loads cannot pass it; an idle worker does the mirror image
     * (seq_cst idle registration, then it looks at the queues). */
    if (atomic_load(&S.idle.nidle) == 0 || atomic_load(&S.nspinning) != 0) return;
    int zero = 0;
    if (!atomic_compare_exchange_strong(&S.nspinning, &zero, 1)) return;
    rt__lock_acquire(&S.idle.lock);
    worker *v = S.idle.list;
    if (v) {
        S.idle.list = v->idle_next;
        v->idle_listed = false;
        v->woken_spinning = true;
        atomic_fetch_sub(&S.idle.nidle, 1);
    }
    rt__lock_release(&S.idle.lock);
    if (!v) {
        atomic_fetch_sub(&S.nspinning, 1);
        return;
    }
    worker_wake(v);
}

/* ---------------------------------------------------------- run queues -- */

/* Makes room for n more tasks.  Under global.lock.  A runnable task must
 * never be dropped, so running out of memory here is fatal. */
static void global_reserve(size_t n)
{
    size_t len = (size_t)atomic_load_explicit(&S.global.len, memory_order_relaxed);
    if (len + n <= S.global.cap) return;
    size_t ncap = S.global.cap ? S.global.cap : 4096;
    while (ncap < len + n) ncap *= 2;
    coro_task **nb = malloc(ncap * sizeof *nb);
    if (!nb) {
        fprintf(stderr, "%s:%d: out of memory growing the run queue to %zu tasks\n", __FILE__,
                __LINE__, ncap);
        abort();
    }
    for (size_t i = 0; i < len; i++) nb[i] = S.global.buf[(S.global.head + i) % S.global.cap];
    free(S.global.buf);
    S.global.buf = nb;
    S.global.cap = ncap;
    S.global.head = 0;
}

/* Under global.lock, after global_reserve. */
static inline void global_push_locked(coro_task *t)
{
    size_t len = (size_t)atomic_load_explicit(&S.global.len, memory_order_relaxed);
    S.global.buf[(S.global.head + len) % S.global.cap] = t;
    atomic_store(&S.global.len, (int64_t)len + 1); /* seq_cst: see wake_idle_if_needed */
}

static void global_put(coro_task *t)
{
    rt__lock_acquire(&S.global.lock);
    global_reserve(1);
    global_push_locked(t);
    rt__lock_release(&S.global.lock);
}

/* Ring puts and gets (Go's runqput / runqget).  A full ring moves its
 * older half and t to the injection queue. */
static bool runq_put_slow(worker *w, coro_task *t, uint32_t h, uint32_t tl)
{
    uint32_t n = (tl - h) / 2;
    if (n != RUNQ_SIZE / 2) return false; /* the ring is not full any more */
    if (!atomic_compare_exchange_strong_explicit(&w->head, &h, h + n, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return false;
    /* Those slots are ours now: only the owner (we) writes ring slots. */
    rt__lock_acquire(&S.global.lock);
    global_reserve(n + 1);
    for (uint32_t i = 0; i < n; i++)
        global_push_locked(
            atomic_load_explicit(&w->buf[(h + i) % RUNQ_SIZE], memory_order_relaxed));
    global_push_locked(t);
    rt__lock_release(&S.global.lock);
    return true;
}

/* Queues t on w's ring; only w's own thread may call this. */
static void runq_put_ring(worker *w, coro_task *t)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&w->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed);
        if (tl - h < RUNQ_SIZE) {
            atomic_store_explicit(&w->buf[tl % RUNQ_SIZE], t, memory_order_relaxed);
            atomic_store_explicit(&w->tail, tl + 1,
                                  memory_order_seq_cst); /* see wake_idle_if_needed */
            break;
        }
        if (runq_put_slow(w, t, h, tl)) break;
    }
    wake_idle_if_needed();
}

/* Queues t on w (w's own thread only): in the run-next slot, or the ring. */
static void runq_put(worker *w, coro_task *t, bool next)
{
    if (next) {
        t = atomic_exchange_explicit(&w->runnext, t, memory_order_acq_rel);
        if (!t) return; /* the waker runs it when it blocks; no wake-up needed */
    }
    runq_put_ring(w, t);
}

static coro_task *runq_take_runnext(worker *w)
{
    coro_task *t = atomic_load_explicit(&w->runnext, memory_order_relaxed);
    if (t && atomic_compare_exchange_strong_explicit(&w->runnext, &t, NULL, memory_order_acq_rel,
                                                     memory_order_relaxed))
        return t;
    return NULL;
}

/* Asks for the lines the task queued at ring position `at` touches first
 * when it resumes (the RESUME_PREFETCH_BYTES of frames at its saved stack
 * pointer, and the canary its switch-out reads), so that their cache
 * misses overlap the task about to run instead of following it; and for
 * the header lines of the task queued after it, whose saved stack pointer
 * the next call reads (reading this one's is then a hit, not a stall).
 * Waking a crowd is a run of such misses, each task on its own pages: with
 * this, a cancelled crowd exits in about half the time (interleaved runs
 * on 2026-12-01, medians of the per-pair ratios: 10,000 tasks 0.49-0.55,
 * 50,000 tasks 0.39-0.48, on one worker and on two).  Owner only, for
 * entries between head and tail: they were written in this run, and a
 * stealer may take one and its task run and exit meanwhile, but its slot
 * stays mapped until pool_configure, which runs with no task live; a stale
 * stack pointer only wastes a prefetch, which never faults.  The reads race
 * with the task's own writes by design, so TSan builds leave them out. */
static void prefetch_queued(worker *w, uint32_t at, uint32_t tail)
{
#if !defined(LEAKBENCH_TSAN) && !defined(CORO_UCONTEXT)
    if (at + 1 != tail) {
        coro_task *later =
            atomic_load_explicit(&w->buf[(at + 1) % RUNQ_SIZE], memory_order_relaxed);
        __builtin_prefetch(later);
        __builtin_prefetch(&later->ctx);
    }
    coro_task *t = atomic_load_explicit(&w->buf[at % RUNQ_SIZE], memory_order_relaxed);
    const char *sp = *(void *volatile *)&t->ctx.sp;
    for (int off = 0; off < RESUME_PREFETCH_BYTES; off += 64) __builtin_prefetch(sp + off);
    __builtin_prefetch(*(uint64_t *volatile *)&t->canary);
#else
    (void)w;
    (void)at;
    (void)tail;
#endif
}

/* Next task of w (w's own thread only): run-next first, except that after
 * RUNNEXT_STREAK_MAX run-next picks in a row the ring gets a turn, so a
 * ping-pong pair cannot starve the rest of the queue.  A task taken from
 * the ring has the one queued after it prefetched. */
static coro_task *runq_get(worker *w)
{
    coro_task *t;
    if (w->runnext_streak < RUNNEXT_STREAK_MAX && (t = runq_take_runnext(w))) {
        w->runnext_streak++;
        return t;
    }
    w->runnext_streak = 0;
    for (;;) {
        uint32_t h = atomic_load_explicit(&w->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed);
        if (tl == h) return runq_take_runnext(w);
        t = atomic_load_explicit(&w->buf[h % RUNQ_SIZE], memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&w->head, &h, h + 1, memory_order_release,
                                                    memory_order_relaxed)) {
            if (h + 1 != tl) prefetch_queued(w, h + 1, tl);
            return t;
        }
    }
}

static bool runq_empty(worker *w)
{
    return atomic_load_explicit(&w->head, memory_order_acquire) ==
               atomic_load_explicit(&w->tail, memory_order_acquire) &&
           atomic_load_explicit(&w->runnext, memory_order_acquire) == NULL;
}

/* Takes up to a batch from the injection queue: returns one task and
 * queues the rest on w. */
static coro_task *global_get(worker *w)
{
    if (atomic_load_explicit(&S.global.len, memory_order_acquire) == 0) return NULL;
    rt__lock_acquire(&S.global.lock);
    int64_t len = atomic_load(&S.global.len);
    if (len == 0) { /* emptied by another worker since the check above */
        rt__lock_release(&S.global.lock);
        return NULL;
    }
    int64_t n = len / S.nworkers + 1;
    if (n > len) n = len;
    if (n > RUNQ_SIZE / 2) n = RUNQ_SIZE / 2;
    uint32_t used = atomic_load_explicit(&w->tail, memory_order_relaxed) -
                    atomic_load_explicit(&w->head, memory_order_acquire);
    if (n > (int64_t)(RUNQ_SIZE - used) + 1) n = (int64_t)(RUNQ_SIZE - used) + 1;
    coro_task *first = S.global.buf[S.global.head];
    uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed);
    for (int64_t i = 1; i < n; i++)
        atomic_store_explicit(&w->buf[(tl + (uint32_t)i - 1) % RUNQ_SIZE],
                              S.global.buf[(S.global.head + (size_t)i) % S.global.cap],
                              memory_order_relaxed);
    atomic_store_explicit(&w->tail, tl + (uint32_t)n - 1, memory_order_release);
    S.global.head = (S.global.head + (size_t)n) % S.global.cap;
    atomic_fetch_sub(&S.global.len, n);
    rt__lock_release(&S.global.lock);
    return first;
}

/* Steals half of victim's ring into w's (empty) ring; returns one task. */
static coro_task *runq_steal(worker *w, worker *victim, bool take_runnext)
{
    coro_task *batch[RUNQ_SIZE / 2];
    for (;;) {
        uint32_t h = atomic_load_explicit(&victim->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&victim->tail, memory_order_acquire);
        uint32_t n = tl - h;
        n = n - n / 2;
        if (n == 0) {
            if (!take_runnext) return NULL;
            coro_task *t = atomic_load_explicit(&victim->runnext, memory_order_acquire);
            if (t && atomic_compare_exchange_strong(&victim->runnext, &t, NULL)) return t;
            return NULL;
        }
        if (n > RUNQ_SIZE / 2) continue; /* read head and tail inconsistently */
        for (uint32_t i = 0; i < n; i++)
            batch[i] =
                atomic_load_explicit(&victim->buf[(h + i) % RUNQ_SIZE], memory_order_relaxed);
        if (!atomic_compare_exchange_strong_explicit(&victim->head, &h, h + n, memory_order_acq_rel,
                                                     memory_order_relaxed))
            continue;
        uint32_t mytl = atomic_load_explicit(&w->tail, memory_order_relaxed);
        for (uint32_t i = 1; i < n; i++)
            atomic_store_explicit(&w->buf[(mytl + i - 1) % RUNQ_SIZE], batch[i],
                                  memory_order_relaxed);
        atomic_store_explicit(&w->tail, mytl + n - 1, memory_order_release);
        return batch[0];
    }
}

/* Takes the oldest task of victim's ring, if any. */
static coro_task *runq_steal_one(worker *victim)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&victim->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&victim->tail, memory_order_acquire);
        if (tl == h || tl - h > RUNQ_SIZE) return NULL; /* empty, or read inconsistently */
        coro_task *t = atomic_load_explicit(&victim->buf[h % RUNQ_SIZE], memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&victim->head, &h, h + 1, memory_order_acq_rel,
                                                    memory_order_relaxed))
            return t;
    }
}

static coro_task *steal_work(worker *w)
{
    int n = S.nworkers;
    rt_time now = 0; /* read once, when first needed */
    for (int round = 0; round < 3; round++) {
        int start = (int)(xorshift(&w->rng) % (uint64_t)n);
        for (int k = 0; k < n; k++) {
            worker *v = S.workers[(start + k) % n];
            if (v == w) continue;
            /* A run-next task is only taken from a worker that has not
             * switched for RUNNEXT_STEAL_NS (stuck in one task), as Go
             * waits ~3 us before stealing runnext: a task that filled a
             * buffer or answered a ping switches to it sooner, and taking
             * it earlier split producer and consumer over two workers that
             * then fought over one channel (buffered stream: 15 M ops/s
             * split, 28 M kept together on one worker). */
            bool stuck = false;
            if (round == 2) {
                uint64_t sw = atomic_load_explicit(&v->nswitch, memory_order_relaxed);
                if (!now) now = mono_now();
                if (sw != w->seen_nswitch[v->index]) {
                    w->seen_nswitch[v->index] = sw;
                    w->seen_since[v->index] = now;
                }
                stuck = now - w->seen_since[v->index] >= RUNNEXT_STEAL_NS;
            }
            coro_task *t = runq_steal(w, v, stuck);
            if (t) return t;
        }
        coro_task *t = global_get(w);
        if (t) return t;
    }
    return NULL;
}

static bool any_work_visible(void)
{
    if (atomic_load(&S.global.len) > 0) return true;
    for (int i = 0; i < S.nworkers; i++) {
        worker *v = S.workers[i];
        if (atomic_load(&v->head) != atomic_load(&v->tail)) return true;
    }
    return false;
}

/* -------------------------------------------------------------- timers -- */

static void heap_swap(worker *w, size_t a, size_t b)
{
    rt_timer *t = w->heap[a];
    w->heap[a] = w->heap[b];
    w->heap[b] = t;
    w->heap[a]->heap_index = (int64_t)a;
    w->heap[b]->heap_index = (int64_t)b;
}

static void heap_up(worker *w, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (w->heap[p]->when <= w->heap[i]->when) break;
        heap_swap(w, p, i);
        i = p;
    }
}

static void heap_down(worker *w, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->heap_len && w->heap[l]->when < w->heap[m]->when) m = l;
        if (r < w->heap_len && w->heap[r]->when < w->heap[m]->when) m = r;
        if (m == i) return;
        heap_swap(w, i, m);
        i = m;
    }
}

static void heap_publish_next(worker *w)
{
    atomic_store_explicit(&w->next_when, w->heap_len ? w->heap[0]->when : RT_FOREVER,
                          memory_order_release);
}

/* Under w->timer_lock. */
static int heap_insert(worker *w, rt_timer *tm)
{
    if (w->heap_len == w->heap_cap) {
        size_t ncap = w->heap_cap ? w->heap_cap * 2 : 64;
        rt_timer **nh = realloc(w->heap, ncap * sizeof *nh);
        if (!nh) return -ENOMEM;
        w->heap = nh;
        w->heap_cap = ncap;
    }
    tm->owner = w;
    tm->heap_index = (int64_t)w->heap_len;
    w->heap[w->heap_len++] = tm;
    heap_up(w, (size_t)tm->heap_index);
    heap_publish_next(w);
    return 0;
}

/* Under w->timer_lock. */
static void heap_remove(worker *w, rt_timer *tm)
{
    size_t i = (size_t)tm->heap_index;
    tm->heap_index = -1;
    w->heap_len--;
    if (i != w->heap_len) {
        w->heap[i] = w->heap[w->heap_len];
        w->heap[i]->heap_index = (int64_t)i;
        heap_down(w, i);
        heap_up(w, i);
    }
    heap_publish_next(w);
}

static inline bool timers_due(worker *w)
{
    rt_time next = atomic_load_explicit(&w->next_when, memory_order_acquire);
    return next != RT_FOREVER && mono_now() >= next;
}

static void wake_task(worker *w, coro_task *t);

/* Fires w's due timers; runs on w's scheduler context only. */
static void run_timers(worker *w)
{
    if (!timers_due(w)) return;
    enum { BATCH = 32 };
    void (*cbs[BATCH])(void *);
    void *args[BATCH];
    int n = 0;
    rt_time now = mono_now();
    pthread_mutex_lock(&w->timer_lock);
    while (w->heap_len && w->heap[0]->when <= now && n < BATCH) {
        rt_timer *tm = w->heap[0];
        heap_remove(w, tm);
        if (tm->park_task) {
            coro_task *t = tm->park_task;
            atomic_store(&t->timer_fired, 1);
            wake_task(w, t);
        } else {
            cbs[n] = tm->cb;
            args[n] = tm->arg;
            n++;
        }
    }
    pthread_mutex_unlock(&w->timer_lock);
    for (int i = 0; i < n; i++) cbs[i](args[i]);
}

/* ------------------------------------------------------------ switching -- */

/* Switches from `from` (NULL: w's scheduler context) to `to` (NULL: the
 * scheduler context) and returns the worker we run on once resumed. */
static worker *switch_ctx(worker *w, coro_task *from, coro_task *to, bool from_exits)
{
    coro_ctx *fc = from ? &from->ctx : &w->g0;
    coro_ctx *tc = to ? &to->ctx : &w->g0;
    /* Only the task leaving is checked: its canary can only be damaged by
     * its own frames, and checking the one resuming as well cost a second
     * page per switch (the canary sits in the slot below's page): perf put
     * a quarter of waking a cancelled crowd on that one load. */
    if (from) CANARY_CHECK(from);
    w->current = to;
    atomic_store_explicit(&w->nswitch, atomic_load_explicit(&w->nswitch, memory_order_relaxed) + 1,
                          memory_order_relaxed);
#ifdef LEAKBENCH_ASAN
    void **fake = from ? &from->asan_fake_stack : &w->g0_fake_stack;
    if (to)
        __sanitizer_start_switch_fiber(from_exits ? NULL : fake, to->stack_lo,
                                       (size_t)(to->stack_top - to->stack_lo));
    else
        __sanitizer_start_switch_fiber(from_exits ? NULL : fake, w->g0_stack_lo, w->g0_stack_size);
#else
    (void)from_exits;
#endif
#ifdef LEAKBENCH_TSAN
    __tsan_switch_to_fiber(to ? to->tsan_fiber : w->g0_tsan_fiber, 0);
#endif
    worker *nw = ctx_switch(fc, tc, w);
#ifdef LEAKBENCH_ASAN
    __sanitizer_finish_switch_fiber(from ? from->asan_fake_stack : nw->g0_fake_stack, NULL, NULL);
#endif
    return nw;
}

static void task_release(worker *w, coro_task *t);

/* Carries out what the task we just left asked for; runs first thing on
 * every resumed context. */
static void after_switch(worker *w)
{
    int act = w->pending_action;
    coro_task *t = w->pending_task;
    w->pending_action = ACT_NONE;
    w->pending_task = NULL;
    switch (act) {
    case ACT_PARK:
        atomic_store(&t->state, TASK_PARKED);
        if (atomic_load(&t->permit) || atomic_load(&t->timer_fired)) {
            int parked = TASK_PARKED;
            if (atomic_compare_exchange_strong(&t->state, &parked, TASK_RUNNING))
                runq_put_ring(w, t);
        }
        break;
    case ACT_YIELD:
        runq_put_ring(w, t);
        break;
    case ACT_EXIT:
        task_release(w, t);
        break;
    default:
        break;
    }
}

/* Leaves the running task `self` on worker w for the next runnable task
 * (or the scheduler context), asking for `action` to be done to it. */
static void switch_away(worker *w, coro_task *self, int action)
{
    coro_task *next = NULL;
    /* Timers are looked at on every 8th switch (a clock read costs as much
     * as a switch); an idle worker always looks. */
    uint32_t tick = ++w->tick;
    if (tick % GLOBAL_CHECK_EVERY == 0)
        w->global_first = true; /* the scheduler context looks there first */
    else if (tick % 8 != 0 || !timers_due(w))
        next = runq_get(w);
    w->pending_action = action;
    w->pending_task = self;
    worker *nw = switch_ctx(w, self, next, action == ACT_EXIT);
    after_switch(nw);
}

/* Makes a parked task runnable (any thread). */
static void wake_task(worker *w, coro_task *t)
{
    if (atomic_load(&t->state) != TASK_PARKED) return;
    int parked = TASK_PARKED;
    if (!atomic_compare_exchange_strong(&t->state, &parked, TASK_RUNNING)) return;
    if (w)
        runq_put(w, t, w->current != NULL);
    else {
        global_put(t);
        wake_idle_if_needed();
    }
}

/* First code a new task runs. */
static void task_entry(void *arg, void *transfer)
{
    coro_task *t = arg;
#ifdef LEAKBENCH_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    after_switch(transfer);
    rt__task_body(&t->base);
    switch_away(cur_worker(), t, ACT_EXIT);
    abort(); /* an exited task is never resumed */
}

static void task_release(worker *w, coro_task *t)
{
    bool is_main = t->is_main;
#ifdef LEAKBENCH_TSAN
    if (t->tsan_fiber) __tsan_destroy_fiber(t->tsan_fiber);
#endif
    stack_put(w, t);
    count_slot(w, false);
    if (is_main) {
        pthread_mutex_lock(&S.main_lock);
        S.main_done = true;
        pthread_cond_broadcast(&S.main_cond);
        pthread_mutex_unlock(&S.main_lock);
    }
}

/* ------------------------------------------------------- worker loop -- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static coro_task *find_runnable(worker *w)
{
    rt_time spin_until = 0;
    for (;;) {
        if (atomic_load(&S.shutdown)) return NULL;
        run_timers(w);
        coro_task *t = NULL;
        if (w->global_first || ++w->tick % GLOBAL_CHECK_EVERY == 0) {
            w->global_first = false;
            /* A busy worker looks at the network too (idle ones sleep in
             * it): fd waits complete while every worker has work. */
            if (rt__netpoll_claim()) {
                rt__netpoll_wait(0);
                rt__netpoll_deliver();
            }
            t = global_get(w);
        }
        if (!t) t = runq_get(w);
        if (!t) t = global_get(w);
        if (!t) {
            if (!w->spinning) {
                w->spinning = true;
                atomic_fetch_add(&S.nspinning, 1);
            }
            t = steal_work(w);
        }
        if (t) {
            if (w->spinning) {
                w->spinning = false;
                /* The last spinner found work: there may be more. */
                if (atomic_fetch_sub(&S.nspinning, 1) == 1) wake_idle_if_needed();
            }
            return t;
        }

        /* Nothing: keep looking for a short while as the spinning worker
         * (producers do not wake anyone meanwhile), since going to sleep and
         * being woken costs two system calls and microseconds of latency. */
        if (w->spinning && S.nworkers > 1 && !rt__netpoll_waiting()) {
            rt_time now = mono_now();
            if (spin_until == 0) spin_until = now + IDLE_SPIN_NS;
            if (now < spin_until) {
                for (int i = 0; i < 32; i++) cpu_relax();
                continue;
            }
        }
        spin_until = 0;

        /* Still nothing: register as idle, then look once more before
         * sleeping. */
        uint32_t seen = atomic_load_explicit(&w->wake_word, memory_order_acquire);
        rt__lock_acquire(&S.idle.lock);
        w->idle_next = S.idle.list;
        S.idle.list = w;
        w->idle_listed = true;
        atomic_fetch_add(&S.idle.nidle, 1);
        rt__lock_release(&S.idle.lock);
        if (w->spinning) {
            w->spinning = false;
            atomic_fetch_sub(&S.nspinning, 1);
        }
        bool sleep = !any_work_visible() && !atomic_load(&S.shutdown) && runq_empty(w);
        bool polled = false;
        if (sleep) {
            rt_time now = mono_now();
            rt_time next = atomic_load(&w->next_when);
            int64_t wait = IDLE_POLL_NS;
            if (next != RT_FOREVER) wait = next - now < wait ? next - now : wait;
            if (wait > 0 && (polled = rt__netpoll_claim())) {
                /* Sleep in epoll_wait (netpoll.c): see worker_wake. */
                atomic_store(&w->polling, true);
                if (atomic_load(&w->wake_word) == seen) rt__netpoll_wait(wait);
                atomic_store(&w->polling, false);
            } else if (wait > 0) {
                struct timespec ts = {.tv_sec = wait / 1000000000LL,
                                      .tv_nsec = wait % 1000000000LL};
                futex(&w->wake_word, FUTEX_WAIT_PRIVATE, seen, &ts);
            }
        }
        rt__lock_acquire(&S.idle.lock);
        if (w->idle_listed) {
            worker **pp = &S.idle.list;
            while (*pp != w) pp = &(*pp)->idle_next;
            *pp = w->idle_next;
            w->idle_listed = false;
            atomic_fetch_sub(&S.idle.nidle, 1);
        }
        if (w->woken_spinning) {
            w->woken_spinning = false;
            w->spinning = true; /* nspinning was raised for us by the waker */
        }
        rt__lock_release(&S.idle.lock);
        /* Off the idle list, so the tasks this queues here wake nobody
         * needlessly. */
        if (polled) rt__netpoll_deliver();
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    tls_worker = w;
#ifdef LEAKBENCH_ASAN
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo;
        size_t size;
        pthread_attr_getstack(&attr, &lo, &size);
        w->g0_stack_lo = lo;
        w->g0_stack_size = size;
        pthread_attr_destroy(&attr);
    }
#endif
#ifdef LEAKBENCH_TSAN
    w->g0_tsan_fiber = __tsan_get_current_fiber();
#endif
    for (;;) {
        after_switch(w);
        coro_task *t = find_runnable(w);
        if (!t) break;
        worker *nw = switch_ctx(w, NULL, t, false);
        (void)nw; /* the scheduler context never migrates */
    }
    if (w->spinning) {
        w->spinning = false;
        atomic_fetch_sub(&S.nspinning, 1);
    }
    tls_worker = NULL;
    return NULL;
}

/* --------------------------------------------------------- seam: tasks -- */

static rt_task *coro_task_alloc(void)
{
    if (S.pool.slot_size == 0) pool_configure(0, false);
    worker *w = cur_worker();
    coro_task *t = stack_get(w);
    if (!t) return NULL;
    /* stack_put / pool_carve left the header zeroed except the geometry
     * (and the core's fields that outlive a task). */
    count_slot(w, true);
    return &t->base;
}

static void coro_task_free(rt_task *bt)
{
    coro_task *t = task_of(bt);
#ifdef LEAKBENCH_TSAN
    if (t->tsan_fiber) __tsan_destroy_fiber(t->tsan_fiber);
#endif
    worker *w = cur_worker();
    stack_put(w, t);
    count_slot(w, false);
}

static int coro_spawn(rt_task *bt)
{
    if (!S.running) return -EINVAL;
    coro_task *t = task_of(bt);
    ctx_make(&t->ctx, t->stack_lo, t->stack_top, task_entry, t);
#ifdef LEAKBENCH_TSAN
    t->tsan_fiber = __tsan_create_fiber(0);
#endif
    atomic_store_explicit(&t->state, TASK_RUNNING, memory_order_relaxed);
    worker *w = cur_worker();
    if (w) {
        runq_put_ring(w, t);
    } else {
        global_put(t);
        wake_idle_if_needed();
    }
    return 0;
}

static rt_task *coro_self(void)
{
    /* A direct thread-local read is safe here: nothing below switches. */
    worker *w = tls_worker;
    return w && w->current ? &w->current->base : NULL;
}

/* ------------------------------------------------------ seam: parking -- */

static int coro_park(rt_time deadline)
{
    worker *w = cur_worker();
    if (!w || !w->current) return -EDEADLK;
    coro_task *t = w->current;
    if (atomic_exchange(&t->permit, 0)) return 0;
    bool timed = deadline != RT_FOREVER;
    if (timed) {
        if (mono_now() >= deadline) return -ETIMEDOUT;
        t->park_timer.when = deadline;
        t->park_timer.park_task = t;
        pthread_mutex_lock(&w->timer_lock);
        int rc = heap_insert(w, &t->park_timer);
        pthread_mutex_unlock(&w->timer_lock);
        if (rc < 0) return rc;
    }
    switch_away(w, t, ACT_PARK);
    /* Resumed, possibly on another worker. */
    int r = 0;
    if (!atomic_exchange(&t->permit, 0) && timed &&
        (atomic_load(&t->timer_fired) || mono_now() >= deadline))
        r = -ETIMEDOUT;
    if (timed) {
        worker *owner = t->park_timer.owner;
        pthread_mutex_lock(&owner->timer_lock);
        if (t->park_timer.heap_index >= 0) heap_remove(owner, &t->park_timer);
        pthread_mutex_unlock(&owner->timer_lock);
        atomic_store(&t->timer_fired, 0);
    }
    return r;
}

static void coro_unpark(rt_task *bt)
{
    coro_task *t = task_of(bt);
    if (atomic_exchange(&t->permit, 1)) return; /* a permit was already pending */
    wake_task(cur_worker(), t);
}

static void coro_yield(void)
{
    worker *w = cur_worker();
    if (!w || !w->current) {
        sched_yield();
        return;
    }
    bool global_waiting = atomic_load(&S.global.len) > 0;
    if (runq_empty(w) && !global_waiting && !timers_due(w)) {
        /* Nothing queued here.  A task queued behind a busy task on another
         * worker would wait for that worker (no preemption) while we spin:
         * take it over. */
        coro_task *t = NULL;
        for (int k = 0; k < S.nworkers && !t; k++)
            if (S.workers[k] != w) t = runq_steal_one(S.workers[k]);
        if (!t) {
            /* The caller is spin-waiting for another worker (select waits
             * out a waker between its claim and its unpark this way).
             * Give the CPU away in case that worker's thread was preempted
             * on this core. */
            sched_yield();
            return;
        }
        runq_put_ring(w, t);
    }
    if (global_waiting) w->global_first = true;
    switch_away(w, w->current, ACT_YIELD);
}

/* ------------------------------------------------------- seam: timers -- */

static rt_timer *coro_timer_start(rt_time when, void (*cb)(void *), void *arg)
{
    worker *w = cur_worker();
    bool foreign = w == NULL;
    if (foreign) {
        if (!S.running) return NULL;
        w = S.workers[0];
    }
    rt_timer *tm = calloc(1, sizeof *tm);
    if (!tm) return NULL;
    tm->when = when;
    tm->cb = cb;
    tm->arg = arg;
    pthread_mutex_lock(&w->timer_lock);
    int rc = heap_insert(w, tm);
    pthread_mutex_unlock(&w->timer_lock);
    if (rc < 0) {
        free(tm);
        return NULL;
    }
    if (foreign) worker_wake(w); /* let it recompute its sleep */
    return tm;
}

static bool coro_timer_stop(rt_timer *tm)
{
    if (!tm) return false;
    worker *w = tm->owner;
    pthread_mutex_lock(&w->timer_lock);
    bool prevented = tm->heap_index >= 0;
    if (prevented) heap_remove(w, tm);
    pthread_mutex_unlock(&w->timer_lock);
    /* A fired timer's callback was copied out before it ran: free now. */
    free(tm);
    return prevented;
}

/* --------------------------------------------------- seam: lifecycle -- */

/* rt_config.workers, else env LEAKBENCH_WORKERS, else one per online CPU. */
static int workers_from_env(const rt_config *cfg)
{
    if (cfg->workers > 0) return cfg->workers;
    const char *env = getenv("LEAKBENCH_WORKERS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v > 0 && v <= MAX_WORKERS) return (int)v;
        fprintf(stderr, "leakbench: LEAKBENCH_WORKERS=%s: expected 1..%d, ignored\n", env,
                MAX_WORKERS);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < MAX_WORKERS ? n : MAX_WORKERS) : 1;
}

static void stop_workers(void)
{
    atomic_store(&S.shutdown, true);
    for (int i = 0; i < S.nworkers; i++) worker_wake(S.workers[i]);
    for (int i = 0; i < S.nworkers; i++)
        if (S.workers[i]->thread_started) {
            pthread_join(S.workers[i]->thread, NULL);
            S.workers[i]->thread_started = false;
        }
    S.running = false;
}

/* Waits (up to 200 ms) until every task the core has unregistered has
 * also been freed here: a task that returned from rt__task_body is freed
 * by the next context on its worker, a moment later. */
static void wait_exiting_tasks(void)
{
    rt_time until = mono_now() + 200 * 1000 * 1000LL;
    while (slots_in_use() > rt_live_tasks() && mono_now() < until) {
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Timers (context deadlines) can outlive an rt_run.  When this run has
 * fewer workers than an earlier one, the heaps of the workers left out
 * would never fire: move their timers to worker 0.  Only while no worker
 * thread runs and no task is live (nothing else touches the heaps). */
static void adopt_orphan_timers(int n)
{
    worker *w0 = S.workers[0];
    for (int i = n; i < MAX_WORKERS && S.workers[i]; i++) {
        worker *old = S.workers[i];
        pthread_mutex_lock(&old->timer_lock);
        pthread_mutex_lock(&w0->timer_lock);
        while (old->heap_len) {
            rt_timer *tm = old->heap[0];
            heap_remove(old, tm);
            if (heap_insert(w0, tm) < 0) { /* no memory: leave it where it was */
                heap_insert(old, tm);
                break;
            }
        }
        pthread_mutex_unlock(&w0->timer_lock);
        pthread_mutex_unlock(&old->timer_lock);
    }
}

static int coro_start(const rt_config *cfg)
{
    if (cfg->workers < 0 || cfg->workers > MAX_WORKERS) return -EINVAL;
    if (S.running) {
        wait_exiting_tasks();
        if (slots_in_use() != 0) return -EBUSY; /* leaked tasks still live */
        stop_workers();
    }
    if (slots_in_use() != 0) return -EBUSY;
    pool_configure(cfg->stack_size, cfg->debug_guard_pages);
    int n = workers_from_env(cfg);
    atomic_store(&S.shutdown, false);
    atomic_store(&S.nspinning, 0);
    atomic_store(&S.idle.nidle, 0);
    S.idle.list = NULL;
    S.main_done = false;
    for (int i = 0; i < n; i++) {
        worker *w = S.workers[i];
        if (!w) {
            w = aligned_alloc(64, (sizeof *w + 63) & ~(size_t)63);
            if (!w) return -ENOMEM;
            memset(w, 0, sizeof *w);
            pthread_mutex_init(&w->timer_lock, NULL);
            atomic_store(&w->next_when, RT_FOREVER);
            S.workers[i] = w;
        }
        w->index = i;
        w->current = NULL;
        w->pending_action = ACT_NONE;
        w->spinning = false;
        w->idle_listed = false;
        w->woken_spinning = false;
        w->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
        atomic_store(&w->head, 0);
        atomic_store(&w->tail, 0);
        atomic_store(&w->runnext, NULL);
    }
    adopt_orphan_timers(n);
    S.nworkers = n;
    S.running = true;
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&S.workers[i]->thread, NULL, worker_main, S.workers[i]);
        if (rc != 0) {
            S.nworkers = i;
            stop_workers();
            return -rc;
        }
        S.workers[i]->thread_started = true;
    }
    return 0;
}

static int coro_run_main(rt_task *bt)
{
    coro_task *t = task_of(bt);
    t->is_main = true;
    pthread_mutex_lock(&S.main_lock);
    S.main_done = false;
    pthread_mutex_unlock(&S.main_lock);
    int rc = coro_spawn(bt);
    if (rc < 0) return rc;
    pthread_mutex_lock(&S.main_lock);
    while (!S.main_done) pthread_cond_wait(&S.main_cond, &S.main_lock);
    pthread_mutex_unlock(&S.main_lock);
    return 0;
}

static void coro_stop(void)
{
    /* Leaked tasks stay parked on running workers; otherwise shut down. */
    if (!S.running) return;
    wait_exiting_tasks();
    if (slots_in_use() == 0) stop_workers();
}

const rt_sched_ops rt__sched_coroutines = {
    .name = "coroutines",
    .start = coro_start,
    .run_main = coro_run_main,
    .stop = coro_stop,
    .task_alloc = coro_task_alloc,
    .task_free = coro_task_free,
    .reuses_headers = true, /* slots are pooled, never unmapped but by pool_configure */
    .spawn = coro_spawn,
    .self = coro_self,
    .park = coro_park,
    .unpark = coro_unpark,
    .yield = coro_yield,
    .timer_start = coro_timer_start,
    .timer_stop = coro_timer_stop,
};

/* White-box hook for sched_coro_test.c: task t's usable stack and the
 * address of its canary. */
int rt__coro_stack_info(const rt_task *t, void **lo, void **top, void **canary);
int rt__coro_stack_info(const rt_task *t, void **lo, void **top, void **canary)
{
    if (!t || rt__sched != &rt__sched_coroutines) return -EINVAL;
    const coro_task *ct = (const coro_task *)t;
    *lo = ct->stack_lo;
    *top = ct->stack_top;
    *canary = ct->canary;
    return 0;
}
