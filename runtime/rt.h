/*
 * rt.h — leakbench's Go-like concurrency runtime: the whole public API.
 *
 * Pipelines (scenarios/) are written against this header only.  It offers
 * tasks (goroutines), channels (unbuffered and buffered) with select,
 * contexts with cancellation and deadlines, wait groups, task groups, a
 * worker pool and a cancellable sleep.  Two schedulers sit under one seam
 * (runtime/rt_sched.h): one OS thread per task, and M:N coroutines.
 *
 * Conventions
 *  - Every function returns 0 or a negative errno-style code; nothing
 *    reports through errno.  Codes used: -ECANCELED (context cancelled),
 *    -ETIMEDOUT (deadline passed), -EPIPE (channel closed), -EAGAIN (a try
 *    operation would block), -EINVAL (misuse: NULL, negative capacity,
 *    double close...), -ENOMEM, -EDEADLK (blocking call made from outside
 *    any task).  rt_strerror() names them.
 *  - Every blocking call takes a context (rt_ctx *).  Passing NULL means "no
 *    escape hatch": the call may block forever.  The leaky scenario twins
 *    do exactly that.  A context's deadline bounds the call.
 *  - Blocking calls are macros that record the calling source site
 *    (file:line, function) so the leak report can say where a task blocked.
 *    The *_at functions take the site explicitly.
 *  - All runtime calls except rt_run() must be made from inside a task
 *    (the main function given to rt_run, or anything spawned from it).
 */
#ifndef LEAKBENCH_RT_H
#define LEAKBENCH_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- time -- */

/* Absolute time in nanoseconds on CLOCK_MONOTONIC. */
typedef int64_t rt_time;
#define RT_FOREVER INT64_MAX
#define RT_MS(n)   ((int64_t)(n)*1000000LL)
#define RT_US(n)   ((int64_t)(n)*1000LL)
rt_time rt_now(void);

/* --------------------------------------------------------- source site -- */

typedef struct rt_site {
    const char *file;
    int line;
    const char *func;
} rt_site;
#define RT_SITE ((rt_site){__FILE__, __LINE__, __func__})

const char *rt_strerror(int err);

/* ----------------------------------------------------- shared counters -- */

/* What a task is doing.  RT_OP_RUNNING means runnable or running. */
typedef enum rt_op {
    RT_OP_RUNNING = 0,
    RT_OP_SEND,
    RT_OP_RECV,
    RT_OP_SELECT,
    RT_OP_SLEEP,
    RT_OP_WAITGROUP,
    RT_OP_LOCK,
    RT_OP_JOIN, /* task group / pool waiting for children */
    RT_OP_IO,   /* rt_fd_wait: waiting for a file descriptor (network I/O) */
    RT_OP_COUNT
} rt_op;
const char *rt_op_name(rt_op op); /* "running", "send", "recv", ... */

/*
 * Counters another process can read.  Lock-free; each field is updated with
 * relaxed atomics, so a reader sees each value exactly but not all of them
 * at one instant.  The struct has no pointers and may live in a MAP_SHARED
 * page; the harness maps one and passes it in rt_config.
 */
typedef struct rt_counters {
    _Atomic int64_t live_tasks; /* spawned and not yet returned */
    _Atomic int64_t spawned_total;
    _Atomic int64_t exited_total;
    _Atomic int64_t by_op[RT_OP_COUNT]; /* live tasks per current op */
} rt_counters;

/* ------------------------------------------------------------- runtime -- */

typedef enum rt_sched_kind { RT_SCHED_THREADS = 0, RT_SCHED_COROUTINES = 1 } rt_sched_kind;
const char *rt_sched_name(rt_sched_kind k);               /* "threads", "coroutines" */
int rt_sched_parse(const char *name, rt_sched_kind *out); /* 0 or -EINVAL */

typedef struct rt_config {
    rt_sched_kind sched;
    int workers;            /* coroutines: worker threads; 0 = one per core */
    size_t stack_size;      /* per task; 0 = scheduler default */
    rt_counters *counters;  /* NULL = runtime-owned private counters */
    uint64_t seed;          /* select's random choice; 0 = from the clock */
    bool debug_guard_pages; /* coroutines: guard page per stack (debug) */
} rt_config;

/*
 * Starts the scheduler, runs main_fn(arg) as the first task and returns
 * when main_fn returns.  Tasks that are still alive then (leaked tasks) are
 * left as they are: on threads they stay blocked, on coroutines the
 * workers keep them.  A process calls rt_run at most once at a time; it
 * may call it again after a previous rt_run left no live tasks.
 */
int rt_run(const rt_config *cfg, void (*main_fn)(void *), void *arg);

/* Counters of the current runtime (the shared page when one was given). */
rt_counters *rt_counters_get(void);
int64_t rt_live_tasks(void);

/* --------------------------------------------------------------- tasks -- */

typedef struct rt_task rt_task;

/*
 * Starts fn(arg) as a new task.  role is a static string naming what the
 * task is for ("handler", "worker", ...); it groups tasks in leak reports.
 * The task is detached: it ends when fn returns.  Use a wait group or a
 * task group to wait for it.
 */
#define rt_go(role, fn, arg) rt_go_at((role), (fn), (arg), RT_SITE)
int rt_go_at(const char *role, void (*fn)(void *), void *arg, rt_site spawn_site);

rt_task *rt_self(void); /* NULL outside any task */
uint64_t rt_task_id(const rt_task *t);
void rt_yield(void);

/* One entry of a snapshot of live tasks. */
typedef struct rt_task_info {
    uint64_t id;
    const char *role;
    rt_site spawn_site;
    rt_op op;           /* RT_OP_RUNNING when not blocked */
    rt_site block_site; /* valid when op != RT_OP_RUNNING */
    /* When it blocked: never later than the block and never earlier than
     * any rt_now() reading that happened before it; it may trail the
     * block by the kernel's coarse-clock lag (a tick; measured <= 5.1 ms
     * here), so ages computed from it are accurate to a few ms. */
    rt_time blocked_since;
    bool cancellable; /* the blocking call had a context or deadline */
    /* Channel state when blocked on send/recv (first channel of a select). */
    bool has_chan;
    int64_t chan_cap, chan_len, chan_send_waiters, chan_recv_waiters;
    bool chan_closed;
    size_t held_bytes; /* rt_task_hold(): memory the task says it holds */
} rt_task_info;

/*
 * Copies up to max entries describing live tasks into out and returns the
 * number of live tasks (which may exceed max).  Safe from any task.
 */
size_t rt_snapshot(rt_task_info *out, size_t max);

/* Declares memory the current task holds (payloads), for leak reports. */
void rt_task_hold(size_t bytes);

/* ------------------------------------------------------------ contexts -- */

typedef struct rt_ctx rt_ctx;
typedef struct rt_chan rt_chan;

rt_ctx *rt_ctx_background(void); /* never cancelled; not to be released */
/* Children of parent (which may be background).  NULL on -ENOMEM. */
rt_ctx *rt_ctx_with_cancel(rt_ctx *parent);
rt_ctx *rt_ctx_with_deadline(rt_ctx *parent, rt_time deadline);
rt_ctx *rt_ctx_with_timeout(rt_ctx *parent, int64_t timeout_ns);
/*
 * Cancels ctx and every descendant: closes their done channels, sets err to
 * -ECANCELED (or -ETIMEDOUT for a passed deadline) and records the cause.
 * Idempotent: only the first cancel sets err and cause.
 */
void rt_ctx_cancel(rt_ctx *ctx);
void rt_ctx_cancel_cause(rt_ctx *ctx, int cause);
/* Cancels (as rt_ctx_cancel) and drops the caller's reference.  Contexts are
 * reference counted: a child holds its parent. */
void rt_ctx_release(rt_ctx *ctx);
rt_ctx *rt_ctx_retain(rt_ctx *ctx);
/* Drops a reference taken with rt_ctx_retain WITHOUT cancelling: for a
 * task that kept a context alive to watch it but does not own its
 * lifetime (rt_ctx_release would cancel it for everyone). */
void rt_ctx_unref(rt_ctx *ctx);
rt_chan *rt_ctx_done(rt_ctx *ctx);          /* closed when cancelled; receive it in select */
int rt_ctx_err(const rt_ctx *ctx);          /* 0, -ECANCELED or -ETIMEDOUT */
int rt_ctx_cause(const rt_ctx *ctx);        /* the cause given to cancel_cause, else err */
rt_time rt_ctx_deadline(const rt_ctx *ctx); /* RT_FOREVER when none */

/* ------------------------------------------------------------ channels -- */

/* A channel of void * values.  cap 0 is a rendezvous.  NULL on error. */
rt_chan *rt_chan_new(int64_t cap);
/* Frees a channel no task uses any more. -EBUSY if tasks wait on it. */
int rt_chan_free(rt_chan *ch);

#define rt_chan_send(ch, v, ctx)   rt_chan_send_at((ch), (v), (ctx), RT_SITE)
#define rt_chan_recv(ch, out, ctx) rt_chan_recv_at((ch), (out), (ctx), RT_SITE)
/* 0, -EPIPE (closed), -ECANCELED/-ETIMEDOUT (ctx), -EINVAL. */
int rt_chan_send_at(rt_chan *ch, void *v, rt_ctx *ctx, rt_site site);
/* 0 with *out set; -EPIPE when closed and drained (*out = NULL). */
int rt_chan_recv_at(rt_chan *ch, void **out, rt_ctx *ctx, rt_site site);
int rt_chan_try_send(rt_chan *ch, void *v);    /* -EAGAIN if it would block */
int rt_chan_try_recv(rt_chan *ch, void **out); /* -EAGAIN if it would block */
/* Wakes every waiter: receivers drain then get -EPIPE, senders get -EPIPE.
 * -EINVAL on NULL or a second close. */
int rt_chan_close(rt_chan *ch);
int64_t rt_chan_len(rt_chan *ch);
int64_t rt_chan_cap(rt_chan *ch);

/* -------------------------------------------------------------- select -- */

typedef enum rt_case_kind { RT_CASE_SEND = 1, RT_CASE_RECV = 2 } rt_case_kind;
typedef struct rt_case {
    rt_case_kind kind;
    rt_chan *ch; /* a NULL channel never becomes ready (as in Go) */
    void *send;  /* value to send */
    void *recv;  /* received value (out) */
    int result;  /* out: 0, or -EPIPE for a closed channel */
} rt_case;
#define RT_SEND_CASE(c, v) ((rt_case){.kind = RT_CASE_SEND, .ch = (c), .send = (v)})
#define RT_RECV_CASE(c)    ((rt_case){.kind = RT_CASE_RECV, .ch = (c)})

/*
 * Waits until one case can proceed, performs it and returns its index; the
 * case's result field says whether it succeeded (0) or found its channel
 * closed (-EPIPE).  Chooses at random among ready cases.  With
 * has_default, returns RT_SELECT_DEFAULT instead of blocking.  ctx (may be
 * NULL) adds its done channel as an implicit case: returns -ECANCELED or
 * -ETIMEDOUT when it fires first.  -EINVAL on misuse.
 */
#define RT_SELECT_DEFAULT (-1000)
#define rt_select(cases, n, has_default, ctx)                                                      \
    rt_select_at((cases), (n), (has_default), (ctx), RT_SITE)
int rt_select_at(rt_case *cases, int n, bool has_default, rt_ctx *ctx, rt_site site);

/* ---------------------------------------------------------- wait group -- */

typedef struct rt_wg rt_wg;
rt_wg *rt_wg_new(void);
void rt_wg_free(rt_wg *wg);
int rt_wg_add(rt_wg *wg, int64_t delta); /* -EINVAL if the counter goes negative */
int rt_wg_done(rt_wg *wg);
#define rt_wg_wait(wg, ctx) rt_wg_wait_at((wg), (ctx), RT_SITE)
int rt_wg_wait_at(rt_wg *wg, rt_ctx *ctx, rt_site site);

/* --------------------------------------------------------------- mutex -- */

/* A task-aware mutex (blocks the task, not the worker thread). */
typedef struct rt_mutex rt_mutex;
rt_mutex *rt_mutex_new(void);
void rt_mutex_free(rt_mutex *m);
#define rt_mutex_lock(m, ctx) rt_mutex_lock_at((m), (ctx), RT_SITE)
int rt_mutex_lock_at(rt_mutex *m, rt_ctx *ctx, rt_site site);
int rt_mutex_unlock(rt_mutex *m); /* -EPERM if not locked */

/* --------------------------------------------------------------- sleep -- */

/* 0 after the full duration; -ECANCELED/-ETIMEDOUT if ctx ends first. */
#define rt_sleep(ns, ctx) rt_sleep_at((ns), (ctx), RT_SITE)
int rt_sleep_at(int64_t ns, rt_ctx *ctx, rt_site site);

/* ------------------------------------------------------------ fd waits -- */

/*
 * Waiting for a file descriptor without blocking the worker thread (Go's
 * netpoller, libdill's fdin/fdout): the task parks and the poller wakes
 * it when the fd is ready — an idle worker on coroutines, a poller thread
 * on threads (runtime/netpoll.c).  Use with
 * non-blocking fds: try the read or write, and on EAGAIN wait and retry.
 *
 * rt_fd_wait returns 0 when fd is ready for one of events (RT_FD_READ,
 * RT_FD_WRITE or both); an error or hang-up on fd counts as ready, so the
 * retried call reports it.  A wake-up may be spurious (retry, wait again).
 * -ECANCELED/-ETIMEDOUT when ctx ends first (NULL: no escape hatch, as
 * everywhere), -EBADF when fd is not open or rt_fd_close closed it while
 * the task waited, -EINVAL for bad events, -ENOMEM.  An fd that cannot be
 * polled (a regular file) is always ready, as with poll(2).  While it
 * waits the task's operation is RT_OP_IO ("io") at the calling site.
 */
#define RT_FD_READ                  1
#define RT_FD_WRITE                 2
#define rt_fd_wait(fd, events, ctx) rt_fd_wait_at((fd), (events), (ctx), RT_SITE)
int rt_fd_wait_at(int fd, int events, rt_ctx *ctx, rt_site site);
/* Closes fd after waking every task waiting on it (they get -EBADF): the
 * way to close an fd other tasks may be waiting on (a plain close() leaves
 * them waiting until their ctx ends).  May be called from any thread.
 * 0 or -errno from close(2). */
int rt_fd_close(int fd);

/* ---------------------------------------------------------- task group -- */

/*
 * A scope that cannot be outlived by its children: rt_group_wait cancels
 * the group's context (when cancel is true) and joins every child.  The
 * first child error (non-zero return) is kept, errgroup style, and cancels
 * the group's context.
 */
typedef struct rt_group rt_group;
rt_group *rt_group_new(rt_ctx *parent);
rt_ctx *rt_group_ctx(rt_group *g); /* children should watch this */
#define rt_group_go(g, role, fn, arg) rt_group_go_at((g), (role), (fn), (arg), RT_SITE)
int rt_group_go_at(rt_group *g, const char *role, int (*fn)(rt_ctx *ctx, void *arg), void *arg,
                   rt_site site);
/* Joins all children (cancelling first if cancel), returns the first child
 * error or 0, and frees the group. */
#define rt_group_wait(g, cancel) rt_group_wait_at((g), (cancel), RT_SITE)
int rt_group_wait_at(rt_group *g, bool cancel, rt_site site);

/* --------------------------------------------------------- worker pool -- */

typedef void (*rt_job_fn)(rt_ctx *ctx, void *job);
typedef struct rt_pool rt_pool;
/* workers tasks run fn on jobs from a queue of queue_cap (>= 0). */
rt_pool *rt_pool_new(int workers, int64_t queue_cap, rt_job_fn fn, rt_ctx *parent,
                     const char *role);
/* Queues job; blocks while the queue is full until ctx ends (backpressure):
 * 0, -ECANCELED/-ETIMEDOUT (not queued), -EPIPE (pool shutting down). */
#define rt_pool_submit(p, job, ctx) rt_pool_submit_at((p), (job), (ctx), RT_SITE)
int rt_pool_submit_at(rt_pool *p, void *job, rt_ctx *ctx, rt_site site);
typedef enum rt_pool_stop { RT_POOL_DRAIN = 0, RT_POOL_CANCEL = 1 } rt_pool_stop;
/*
 * Stops the pool.  DRAIN: no new jobs, queued jobs still run, then workers
 * exit.  CANCEL: the pool context is cancelled, running jobs see it, jobs
 * still queued are not run.  Either way waits for every worker, stores up
 * to max_unrun jobs that never ran in unrun (may be NULL), sets *n_unrun to
 * how many there were, and frees the pool.
 */
int rt_pool_shutdown(rt_pool *p, rt_pool_stop how, void **unrun, size_t max_unrun, size_t *n_unrun);
/* Statistics: jobs submitted, started, finished. */
typedef struct rt_pool_stats {
    int64_t submitted, started, finished;
} rt_pool_stats;
rt_pool_stats rt_pool_get_stats(rt_pool *p);

#ifdef __cplusplus
}
#endif
#endif
