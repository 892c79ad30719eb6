/*
 * rt_sched.h — the scheduler seam (internal to runtime/).
 *
 * Channel, select, context, wait-group, mutex, sleep, group and pool code is
 * written once against this seam and never against a particular
 * scheduler.  A scheduler provides: spawn, self, park(deadline), unpark with
 * "permit" semantics, yield, timers, and a way to run the main task.
 *
 *  - park(deadline): blocks the calling task until unpark() is called for
 *    it or the deadline passes.  If an unpark arrived since the last park
 *    returned, park consumes that permit and returns 0 at once.  park may
 *    also return 0 spuriously: callers re-check their own condition (for a
 *    channel waiter: "was I completed?") in a loop.  Returns -ETIMEDOUT
 *    when the deadline passed; RT_FOREVER means no deadline.
 *  - unpark(t): may be called from any thread, including threads that are
 *    not tasks (the timer thread).  Never call it while holding a channel
 *    lock is the rule for callers (it may switch tasks on coroutines).
 *  - A task's struct stays valid until rt__task_body has returned; the
 *    core guarantees that no unpark targets a task after that (wakers in
 *    flight are counted in rt_task.wakers and rt__task_body waits for
 *    them).  An unpark may arrive after the blocking call it was meant
 *    for has returned (the waker publishes the result first, then
 *    unparks): it leaves a permit that makes a later park return early,
 *    which callers absorb by re-checking their condition.
 *  - timer_start(when, cb, arg): runs cb(arg) on some thread (never inside
 *    a channel lock) at or after `when`; timer_stop returns true if it
 *    prevented the call, false if cb already ran or is running.  Every
 *    timer_start is paired with exactly one timer_stop, also after cb ran:
 *    timer_stop releases the timer (the scheduler frees it then, or after
 *    a running cb returns), so the timer stays valid until it is called.
 *    timer_stop may be called from inside cb.  timer_start returns NULL on
 *    allocation failure.
 *
 * Lock order in the core: channel locks (in address order within select) >
 * context lock > a registry shard's lock.  No scheduler lock is ever held while a
 * core lock is taken.
 */
#ifndef LEAKBENCH_RT_SCHED_H
#define LEAKBENCH_RT_SCHED_H

#include "rt.h"

/*
 * The scheduler-independent part of a task.  A scheduler allocates
 * rt_task followed by its own private data (task_alloc / task_free).
 */
struct rt_task {
    uint64_t id;
    const char *role;
    rt_site spawn_site;
    void (*fn)(void *);
    void *arg;

    /* select's random choice among ready cases (xorshift64*), seeded from
     * rt_config.seed and the task id; touched only by the task itself. */
    uint64_t rng;

    /* Blocking state, written by the task itself, read by rt_snapshot
     * under its registry shard's lock.  Together with info_lock it fills the
     * header's second cache line, so blocking and unblocking write one
     * line. */
    _Atomic int op; /* rt_op */
    rt_site block_site;
    rt_time blocked_since;
    void *block_chan; /* struct rt_chan * when blocked on a channel op */
    size_t held_bytes;
    bool cancellable;
    /* Guards the blocking-state fields above and `live` against
     * rt_snapshot: the task writes them and the snapshot reads them under
     * this spin flag (held for a few stores; innermost in the lock order). */
    atomic_flag info_lock;

    /* From here to reg_slot the fields outlive the task on a scheduler
     * that reuses headers (rt_sched_ops.reuses_headers): a snapshot may
     * hold info_lock of a finished task's header, so rt__task_header_reset
     * leaves them alone.  live: registered and its function has not
     * returned (under info_lock).  reg_slot: 0 when not in the registry,
     * else 1 + slot number times the shard count plus its shard (task.c;
     * under that shard's lock). */
    bool live;
    size_t reg_slot;

    /* Joined tasks (groups, pools): the core calls rt_wg_done on it after
     * the task has left the registry, so a join that returns never sees
     * the task still counted as live. */
    struct rt_wg *join_wg;

    /* Wakers that have completed this task's blocking operation and have
     * not yet returned from unpark(); rt__task_body waits for zero before
     * the scheduler may free the task.  Last, so that it shares a cache
     * line with the start of the scheduler's part of the task, where
     * the coroutine scheduler keeps its park state: a waker touches one
     * line of the task it wakes, not two (a cancelled crowd's closer wakes
     * thousands of tasks, each on its own page). */
    _Atomic int wakers;
};

typedef struct rt_timer rt_timer;

typedef struct rt_sched_ops {
    const char *name;
    /* Start the scheduler's threads; called once per rt_run. */
    int (*start)(const rt_config *cfg);
    /* Run main as a task and return when its function has returned. */
    int (*run_main)(rt_task *main_task);
    /* Stop what can be stopped after main returned (leaked tasks stay). */
    void (*stop)(void);

    rt_task *(*task_alloc)(void); /* zeroed, or reset by rt__task_header_reset */
    void (*task_free)(rt_task *t);
    /* True if task headers are reused in place and stay mapped while the
     * registry points at them: a finished task then stays in the registry,
     * marked dead, and the next task in its header takes its place there
     * without a registry lock.  Such a scheduler resets a header for reuse
     * with rt__task_header_reset (never memset: a snapshot may hold its
     * info_lock) and calls rt__registry_forget_dead before unmapping
     * headers. */
    bool reuses_headers;
    /* Start t; the new task must call rt__task_body(t) and then end. */
    int (*spawn)(rt_task *t);
    rt_task *(*self)(void);
    int (*park)(rt_time deadline);
    void (*unpark)(rt_task *t);
    void (*yield)(void);

    rt_timer *(*timer_start)(rt_time when, void (*cb)(void *), void *arg);
    bool (*timer_stop)(rt_timer *t);
} rt_sched_ops;

extern const rt_sched_ops rt__sched_threads;
extern const rt_sched_ops rt__sched_coroutines;

/* The scheduler in use (set by rt_run). */
extern const rt_sched_ops *rt__sched;

/* Core entry for every task: runs fn(arg), then unregisters it and updates
 * the counters (the core registered and counted it before spawn, so live
 * counts never miss a task that has not started yet).  rt_self() must
 * already return t.  The scheduler frees the task afterwards. */
void rt__task_body(rt_task *t);

/* For schedulers that reuse headers (rt_sched_ops.reuses_headers): zeroes
 * every field of a finished task's header but info_lock, live and
 * reg_slot; and drops every finished task from the registry (before the
 * scheduler unmaps their headers; takes the registry's shard locks). */
void rt__task_header_reset(rt_task *t);
void rt__registry_forget_dead(void);

/* True while tasks wait in rt_fd_wait (netpoll.c).  Their wake-ups come
 * from the poller thread, which needs a CPU to run: a scheduler should
 * let an idle worker sleep rather than spin-wait for work meanwhile (on
 * two cores, two spinning workers kept the poller off the CPU and
 * tripled a socket ping-pong's round trip).  A relaxed read: a hint. */
bool rt__netpoll_waiting(void);

/* Polling from coroutine workers (netpoll.c; Go's findrunnable polls the
 * network this way).  A worker with nothing to run claims the poll (true:
 * fd waiters exist, no poller thread runs and no other worker holds it),
 * sleeps in rt__netpoll_wait for up to timeout_ns (0: only looks), then
 * calls rt__netpoll_deliver from its scheduler context, which completes
 * the waits that became ready — their tasks are unparked onto the
 * calling worker — releases the claim and returns how many it completed.
 * rt__netpoll_break (any thread) ends the claimant's rt__netpoll_wait
 * early; the scheduler calls it to wake a worker that sleeps there. */
bool rt__netpoll_claim(void);
void rt__netpoll_wait(int64_t timeout_ns);
int64_t rt__netpoll_deliver(void);
void rt__netpoll_break(void);

/* Marks the current task blocked in op at site (and back to running). */
void rt__block_begin(rt_op op, rt_site site, bool cancellable, void *chan);
void rt__block_end(void);

#endif
