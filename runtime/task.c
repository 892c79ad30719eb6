/*
 * task.c — tasks: rt_run, spawning, the registry of live tasks, the shared
 * counters, blocking state and snapshots.
 *
 * Every live task is in the registry (arrays of slots under shard locks),
 * marked live from the moment rt_go_at accepts it until its function has
 * returned, so a snapshot or a counter never misses a task that has been
 * spawned but has not started running yet.  On a scheduler that reuses
 * task headers in place (the coroutine scheduler's stack slots) a header
 * joins the registry once and stays, dead between tasks: spawning and
 * exiting then take no registry lock, only the task's own info_lock
 * (perf, 2,000-task bursts among rt_bench's other benchmarks: the spawner
 * locked its shard and every exit on the other worker locked it again,
 * so the lock line, the slot arrays and the shard's fields crossed cores
 * on every task; without it a burst took about 0.8 of the time).
 *
 * The counters (rt_counters) are updated with relaxed atomics and may
 * live in a page shared with the harness; by_op[] always sums to
 * live_tasks: a task counts under RT_OP_RUNNING until rt__block_begin
 * moves it to the op it blocks in.
 *
 * A task's blocking state (op, site, since, channel) is written by the task
 * itself under its own info_lock spin flag and read by rt_snapshot under
 * its registry shard's lock plus that flag, so the blocking fast path
 * never takes a registry lock.
 *
 * Which scheduler runs the tasks is chosen per rt_run from rt_config; the
 * coroutine scheduler is a weak symbol until its file is linked in.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------- globals -- */

const rt_sched_ops *rt__sched = &rt__sched_threads;
extern const rt_sched_ops rt__sched_coroutines __attribute__((weak));

static rt_counters private_counters;
rt_counters *rt__counters = &private_counters;

/* The registry: REGISTRY_SHARDS shards, each an array of slots, one per
 * registered task header (NULL when free), with a stack of free slot
 * numbers, under its own lock.  A header holds a live task or, on a
 * scheduler that reuses headers, a finished one waiting for its next task
 * (rt_task.live tells them apart).  A task joins the shard of the thread
 * that spawns it (threads take shards round-robin on their first spawn)
 * and knows its place (rt_task.reg_slot = 1 + slot * REGISTRY_SHARDS +
 * shard; 0 = not registered), so leaving touches that shard's array only:
 * a doubly linked list made every exit write into two other tasks'
 * headers, each on its own stack page (perf: half of task_unregister), and
 * one lock for every spawn and exit was a cache line both workers fought
 * over in a spawn burst (perf, 2,000-task bursts among rt_bench's other
 * benchmarks: the lock's acquire and release were three fifths of
 * task_register; with shards a burst took 0.86-0.94 of the time).
 * rt_snapshot walks every shard's slots up to its high-water mark, one
 * shard at a time, and lists the live ones; order is not part of its
 * contract.  A shard's lock protects its fields.  Innermost but one in the
 * lock order: taken after channel and context locks, never two shard
 * locks at once; only a task's info_lock nests inside one.  A
 * spin-then-futex lock (rt_lock.h): glibc's mutex made each collision a
 * pair of system calls. */
#define REGISTRY_SHARDS 8
typedef struct registry_shard {
    _Alignas(64) rt__lock lock; /* one cache line per shard */
    rt_task **slots;            /* cap slots */
    size_t *free;               /* free slot numbers below top */
    size_t cap, top, nfree;
    int64_t len;
} registry_shard;
static registry_shard registry[REGISTRY_SHARDS];
static _Atomic unsigned registry_next_shard;
static _Thread_local int registry_thread_shard = -1; /* this thread's spawns go here */

static _Atomic uint64_t next_task_id = 1;
static _Atomic bool run_active;
static uint64_t run_seed;

static _Thread_local uint64_t thread_rng; /* select outside any task */

/* The latest rt_now() reading made anywhere in the process (a running
 * maximum): the floor of every blocked_since, so that a block is never
 * stamped earlier than a reading that happened before it. */
static _Atomic rt_time clock_published;

rt_time rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    rt_time t = (rt_time)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    rt_time seen = atomic_load_explicit(&clock_published, memory_order_relaxed);
    while (seen < t &&
           !atomic_compare_exchange_weak_explicit(&clock_published, &seen, t, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    return t;
}

/* blocked_since for a task blocking now.  Every blocking operation stamps
 * one, and CLOCK_MONOTONIC cost ~37 ns here (perf: 17% of a coroutine
 * ping-pong, two blocks per round trip), so the stamp is the later of
 * CLOCK_MONOTONIC_COARSE (~6 ns, the time of the last kernel tick) and the
 * latest rt_now() reading (clock_published).  Bounds, as rt.h promises:
 *  - never later than the block: the coarse clock trails CLOCK_MONOTONIC
 *    and clock_published holds readings already made;
 *  - never earlier than an rt_now() reading that happened before the
 *    block (it is in clock_published, a running maximum: coherence makes
 *    a later load see it or something larger);
 *  - it trails the true blocking time by at most the coarse clock's lag
 *    behind CLOCK_MONOTONIC: one tick (4 ms at HZ=250) normally, measured
 *    up to 5.1 ms on this project's VMs (tickless idle delays the tick;
 *    df5f219 reverted a coarse clock that promised the tick alone).
 *    snapshot_age_within_coarse_bound in chan_test.c pins 100 ms. */
static rt_time block_clock_now(void)
{
#ifdef CLOCK_MONOTONIC_COARSE
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    rt_time coarse = (rt_time)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    rt_time pub = atomic_load_explicit(&clock_published, memory_order_relaxed);
    return coarse > pub ? coarse : pub;
#else
    return rt_now();
#endif
}

/* ---------------------------------------------------------- randomness -- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t rt__seed_for(uint64_t id)
{
    uint64_t s = splitmix64(run_seed ^ splitmix64(id));
    return s ? s : 1;
}

static uint64_t xorshift64star(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

uint64_t rt__rand(void)
{
    rt_task *t = rt_self();
    if (t) return xorshift64star(&t->rng);
    if (!thread_rng)
        thread_rng = rt__seed_for((uint64_t)(uintptr_t)&thread_rng ^ (uint64_t)rt_now());
    return xorshift64star(&thread_rng);
}

/* ------------------------------------------------------------ counters -- */

static void counter_add(_Atomic int64_t *c, int64_t d)
{
    atomic_fetch_add_explicit(c, d, memory_order_relaxed);
}

rt_counters *rt_counters_get(void)
{
    return rt__counters;
}

int64_t rt_live_tasks(void)
{
    return atomic_load_explicit(&rt__counters->live_tasks, memory_order_relaxed);
}

/* ------------------------------------------------------------ registry -- */

static void info_lock(rt_task *t)
{
    while (atomic_flag_test_and_set_explicit(&t->info_lock, memory_order_acquire)) {
    }
}

static void info_unlock(rt_task *t)
{
    atomic_flag_clear_explicit(&t->info_lock, memory_order_release);
}

static void task_init(rt_task *t, const char *role, void (*fn)(void *), void *arg, rt_site site)
{
    t->id = atomic_fetch_add_explicit(&next_task_id, 1, memory_order_relaxed);
    t->role = role ? role : "task";
    t->spawn_site = site;
    t->fn = fn;
    t->arg = arg;
    atomic_store_explicit(&t->op, RT_OP_RUNNING, memory_order_relaxed);
    /* info_lock is clear already (task_alloc zeroes it, and a reused
     * header's is clear unless a snapshot holds it: never write it). */
    t->rng = rt__seed_for(t->id);
}

void rt__task_header_reset(rt_task *t)
{
    memset(t, 0, offsetof(rt_task, info_lock));
    memset(&t->join_wg, 0, sizeof *t - offsetof(rt_task, join_wg));
}

/* Doubles a shard's arrays.  Under its lock.  0 or -ENOMEM. */
static int registry_grow(registry_shard *r)
{
    size_t ncap = r->cap ? r->cap * 2 : 1024;
    rt_task **slots = realloc(r->slots, ncap * sizeof *slots);
    if (!slots) return -ENOMEM;
    r->slots = slots;
    size_t *free_slots = realloc(r->free, ncap * sizeof *free_slots);
    if (!free_slots) return -ENOMEM; /* the larger slot array is kept; cap unchanged */
    r->free = free_slots;
    r->cap = ncap;
    return 0;
}

/* Puts t in a free slot of the calling thread's shard.  0 or -ENOMEM. */
static int registry_insert(rt_task *t)
{
    if (registry_thread_shard < 0)
        registry_thread_shard =
            (int)(atomic_fetch_add_explicit(&registry_next_shard, 1, memory_order_relaxed) %
                  REGISTRY_SHARDS);
    int shard = registry_thread_shard;
    registry_shard *r = &registry[shard];
    rt__lock_acquire(&r->lock);
    size_t slot;
    if (r->nfree > 0) {
        slot = r->free[--r->nfree];
    } else {
        if (r->top == r->cap && registry_grow(r) < 0) {
            rt__lock_release(&r->lock);
            return -ENOMEM;
        }
        slot = r->top++;
    }
    r->slots[slot] = t;
    t->reg_slot = 1 + slot * REGISTRY_SHARDS + (size_t)shard;
    r->len++;
    rt__lock_release(&r->lock);
    return 0;
}

/* Frees t's slot.  Under its shard's lock. */
static void registry_remove_locked(registry_shard *r, rt_task *t)
{
    size_t slot = (t->reg_slot - 1) / REGISTRY_SHARDS;
    r->slots[slot] = NULL;
    t->reg_slot = 0;
    r->len--;
    if (r->len == 0) {
        r->top = r->nfree = 0; /* empty again: start from slot 0 */
    } else {
        r->free[r->nfree++] = slot;
    }
}

static registry_shard *registry_shard_of(const rt_task *t)
{
    return &registry[(t->reg_slot - 1) % REGISTRY_SHARDS];
}

/* Marks t live (or not) for rt_snapshot. */
static void set_live(rt_task *t, bool live)
{
    info_lock(t);
    t->live = live;
    info_unlock(t);
}

/* Registers t as live and counts it as live and running: a header that is
 * still in the registry from its previous task (reuses_headers) only
 * becomes live again.  0 or -ENOMEM. */
static int task_register(rt_task *t)
{
    if (t->reg_slot == 0 && registry_insert(t) < 0) return -ENOMEM;
    set_live(t, true);
    counter_add(&rt__counters->live_tasks, 1);
    counter_add(&rt__counters->spawned_total, 1);
    counter_add(&rt__counters->by_op[RT_OP_RUNNING], 1);
    return 0;
}

/* Marks t finished and uncounts it; its header leaves the registry unless
 * the scheduler reuses headers (then it stays, dead, for the next task in
 * it: no registry lock on an exit). */
static void task_unregister(rt_task *t)
{
    set_live(t, false);
    if (!rt__sched->reuses_headers) {
        registry_shard *r = registry_shard_of(t);
        rt__lock_acquire(&r->lock);
        registry_remove_locked(r, t);
        rt__lock_release(&r->lock);
    }
    counter_add(&rt__counters->by_op[atomic_load_explicit(&t->op, memory_order_relaxed)], -1);
    counter_add(&rt__counters->exited_total, 1);
    counter_add(&rt__counters->live_tasks, -1);
}

void rt__task_body(rt_task *t)
{
    t->fn(t->arg);
    task_unregister(t);
    if (t->join_wg) rt_wg_done(t->join_wg);
    /* A waker that completed our last blocking call may still be inside
     * unpark(t): the scheduler must not free t before it is out. */
    while (atomic_load_explicit(&t->wakers, memory_order_acquire) != 0) rt__sched->yield();
}

/* ------------------------------------------------------------- rt_run -- */

int rt_run(const rt_config *cfg, void (*main_fn)(void *), void *arg)
{
    static const rt_config defaults = {0};
    if (!main_fn) return -EINVAL;
    if (!cfg) cfg = &defaults;

    const rt_sched_ops *ops;
    switch (cfg->sched) {
    case RT_SCHED_THREADS:
        ops = &rt__sched_threads;
        break;
    case RT_SCHED_COROUTINES:
        if (!&rt__sched_coroutines) return -ENOSYS;
        ops = &rt__sched_coroutines;
        break;
    default:
        return -EINVAL;
    }
    if (atomic_exchange(&run_active, true)) return -EBUSY;
    if (rt_self()) {
        atomic_store(&run_active, false);
        return -EDEADLK;
    }
    rt_counters *c = cfg->counters ? cfg->counters : &private_counters;
    int64_t leftover = (int64_t)rt_snapshot(NULL, 0);
    if (leftover > 0) { /* tasks leaked by a previous run still live */
        atomic_store(&run_active, false);
        return -EBUSY;
    }
    if (c == &private_counters) memset(&private_counters, 0, sizeof private_counters);
    rt__counters = c;
    run_seed = cfg->seed ? cfg->seed : (uint64_t)rt_now();
    rt__sched = ops;
    atomic_store(&rt__lock_spin_rounds, ops == &rt__sched_threads ? 0 : RT__LOCK_SPIN);

    int rc = ops->start(cfg);
    if (rc < 0) {
        atomic_store(&run_active, false);
        return rc;
    }
    rt_task *main_task = ops->task_alloc();
    if (!main_task) {
        ops->stop();
        atomic_store(&run_active, false);
        return -ENOMEM;
    }
    task_init(main_task, "main", main_fn, arg, RT_SITE);
    if (task_register(main_task) < 0) {
        ops->task_free(main_task);
        ops->stop();
        atomic_store(&run_active, false);
        return -ENOMEM;
    }
    rc = ops->run_main(main_task);
    ops->stop();
    atomic_store(&run_active, false);
    return rc;
}

/* -------------------------------------------------------------- tasks -- */

static int go(const char *role, void (*fn)(void *), void *arg, rt_site spawn_site, rt_wg *join)
{
    if (!fn) return -EINVAL;
    rt_task *t = rt__sched->task_alloc();
    if (!t) return -ENOMEM;
    task_init(t, role, fn, arg, spawn_site);
    if (join) {
        rt_wg_add(join, 1);
        t->join_wg = join;
    }
    if (task_register(t) < 0) {
        if (join) rt_wg_done(join);
        rt__sched->task_free(t);
        return -ENOMEM;
    }
    int rc = rt__sched->spawn(t);
    if (rc < 0) {
        if (join) rt_wg_done(join);
        task_unregister(t);
        /* It never ran: take it back out of the totals as well. */
        counter_add(&rt__counters->spawned_total, -1);
        counter_add(&rt__counters->exited_total, -1);
        rt__sched->task_free(t);
    }
    return rc;
}

int rt_go_at(const char *role, void (*fn)(void *), void *arg, rt_site spawn_site)
{
    return go(role, fn, arg, spawn_site, NULL);
}

int rt__go_joined(const char *role, void (*fn)(void *), void *arg, rt_site site, rt_wg *wg)
{
    return go(role, fn, arg, site, wg);
}

rt_task *rt_self(void)
{
    return rt__sched->self();
}

uint64_t rt_task_id(const rt_task *t)
{
    return t ? t->id : 0;
}

void rt_yield(void)
{
    rt__sched->yield();
}

void rt_task_hold(size_t bytes)
{
    rt_task *t = rt_self();
    if (!t) return;
    info_lock(t);
    t->held_bytes = bytes;
    info_unlock(t);
}

/* ------------------------------------------------------ blocking state -- */

void rt__block_begin(rt_op op, rt_site site, bool cancellable, void *chan)
{
    rt_task *t = rt_self();
    if (!t) return;
    rt_time now = block_clock_now();
    info_lock(t);
    t->block_site = site;
    t->blocked_since = now;
    t->cancellable = cancellable;
    t->block_chan = chan;
    atomic_store_explicit(&t->op, op, memory_order_relaxed);
    info_unlock(t);
    counter_add(&rt__counters->by_op[op], 1);
    counter_add(&rt__counters->by_op[RT_OP_RUNNING], -1);
}

void rt__block_end(void)
{
    rt_task *t = rt_self();
    if (!t) return;
    info_lock(t);
    int op = atomic_load_explicit(&t->op, memory_order_relaxed);
    t->block_chan = NULL;
    atomic_store_explicit(&t->op, RT_OP_RUNNING, memory_order_relaxed);
    info_unlock(t);
    counter_add(&rt__counters->by_op[op], -1);
    counter_add(&rt__counters->by_op[RT_OP_RUNNING], 1);
}

/* ------------------------------------------------------------ snapshot -- */

/* Reads t's live flag; and, if live and o is not NULL, its state into o. */
static bool task_info_if_live(rt_task *t, rt_task_info *o)
{
    info_lock(t);
    bool live = t->live;
    if (live && o) {
        memset(o, 0, sizeof *o);
        o->id = t->id;
        o->role = t->role;
        o->spawn_site = t->spawn_site;
        o->op = (rt_op)atomic_load_explicit(&t->op, memory_order_relaxed);
        o->held_bytes = t->held_bytes;
        if (o->op != RT_OP_RUNNING) {
            o->block_site = t->block_site;
            o->blocked_since = t->blocked_since;
            o->cancellable = t->cancellable;
            /* The channel cannot be freed while the task is blocked on it
             * (pinned), and the task cannot leave its blocking call without
             * taking info_lock, which we hold. */
            rt_chan *ch = t->block_chan;
            if (ch) {
                o->has_chan = true;
                o->chan_cap = ch->cap;
                o->chan_len = atomic_load_explicit(&ch->count, memory_order_relaxed);
                o->chan_closed = atomic_load_explicit(&ch->closed, memory_order_relaxed);
                o->chan_send_waiters =
                    atomic_load_explicit(&ch->n_send_waiters, memory_order_relaxed);
                o->chan_recv_waiters =
                    atomic_load_explicit(&ch->n_recv_waiters, memory_order_relaxed);
            }
        }
    }
    info_unlock(t);
    return live;
}

size_t rt_snapshot(rt_task_info *out, size_t max)
{
    size_t n = 0;
    for (int k = 0; k < REGISTRY_SHARDS; k++) {
        registry_shard *r = &registry[k];
        rt__lock_acquire(&r->lock);
        for (size_t i = 0; i < r->top; i++) {
            rt_task *t = r->slots[i];
            if (t && task_info_if_live(t, out && n < max ? &out[n] : NULL)) n++;
        }
        rt__lock_release(&r->lock);
    }
    return n;
}

void rt__registry_forget_dead(void)
{
    for (int k = 0; k < REGISTRY_SHARDS; k++) {
        registry_shard *r = &registry[k];
        rt__lock_acquire(&r->lock);
        for (size_t i = 0; i < r->top && r->len > 0; i++) {
            rt_task *t = r->slots[i];
            if (t && !task_info_if_live(t, NULL)) registry_remove_locked(r, t);
        }
        rt__lock_release(&r->lock);
    }
}
