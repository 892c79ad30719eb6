/*
 * rt_internal.h — structures shared by the scheduler-independent parts of
 * the runtime (chan.c, select, ctx.c, wg.c, ...).  Not for scenarios.
 *
 * The channel and waiter structures follow Go's runtime/chan.go: a channel
 * has a ring buffer and two FIFO queues of waiter records (Go's sudog), one
 * for blocked senders and one for blocked receivers.  A blocked send, recv
 * or select owns one rt__sel on its stack and queues one rt__waiter per case
 * on the case's channel.  Whoever completes the operation (a peer, a close,
 * or the owner itself on timeout) first wins the compare-and-swap on
 * sel.state; everyone else skips that waiter.  See chan.c for the protocol.
 */
#ifndef LEAKBENCH_RT_INTERNAL_H
#define LEAKBENCH_RT_INTERNAL_H

#include "rt_lock.h"
#include "rt_sched.h"

#include <pthread.h>

/* ------------------------------------------------------------ waiters -- */

enum {
    RT__SEL_WAITING = 0, /* queued, nobody has claimed it */
    RT__SEL_CLAIMED = 1, /* a waker won the CAS and is completing it */
    RT__SEL_DONE = 2,    /* the waker has unparked the owner and let go */
    RT__SEL_SELF = 3,    /* the owner claimed it (deadline passed) */
};

typedef struct rt__sel {
    rt_task *task;
    _Atomic int state;         /* RT__SEL_*; the winner slot */
    int winner;                /* case index, written by the claimer */
    int result;                /* 0 or -EPIPE, written by the claimer */
    struct rt__sel *wake_next; /* the claimer's private list of owners to wake */
} rt__sel;

typedef struct rt__waiter {
    struct rt__waiter *prev, *next; /* in the channel's queue, under its lock */
    rt__sel *sel;
    void *elem; /* send: the value to send; recv: the value received */
    int case_idx;
    _Atomic bool queued; /* still linked in the channel's queue */
} rt__waiter;

typedef struct rt__waitq {
    rt__waiter *head, *tail;
} rt__waitq;

/* ----------------------------------------------------------- channels -- */

struct rt_chan {
    /* Protects everything below except the atomics that rt_snapshot and
     * rt_chan_len read without it.  Lock order: channel locks are taken
     * first (in address order when several), before any context or
     * registry lock; nobody parks or unparks while holding one.  A
     * spin-then-futex lock (rt_lock.h): held for nanoseconds. */
    rt__lock lock;
    int64_t cap;
    void **buf;            /* ring of cap slots */
    int64_t head;          /* index of the oldest value */
    _Atomic int64_t count; /* values in buf (written under lock) */
    _Atomic bool closed;
    rt__waitq sendq, recvq;
    _Atomic int64_t n_send_waiters, n_recv_waiters;
    /* Tasks whose snapshot entry points at this channel: rt_chan_free
     * refuses (-EBUSY) while non-zero, so snapshots never read freed memory. */
    _Atomic int64_t pinned;
    /* References: the creator's, plus internal holders (wait groups). */
    _Atomic int64_t refs;
};

rt_chan *rt__chan_retain(rt_chan *ch);
void rt__chan_release(rt_chan *ch);

/* The select engine behind every blocking channel operation.  ctx (NULL or
 * background for none) adds its done channel as an implicit case; deadline
 * bounds the wait (RT_FOREVER for none); op and *site are what snapshots
 * show while it blocks (a pointer: a 24-byte struct copied by value on
 * every channel operation cost a store-forwarding stall).  Returns the index of the case performed,
 * RT_SELECT_DEFAULT, the ctx's error when its done channel fired,
 * RT__DEADLINE when the deadline passed, or -EINVAL/-ENOMEM/-EDEADLK. */
#define RT__DEADLINE (-100000)
int rt__select(rt_case *cases, int n, bool has_default, rt_ctx *ctx, rt_time deadline, rt_op op,
               const rt_site *site);

/* ----------------------------------------------------------- contexts -- */

bool rt__ctx_is_background(const rt_ctx *ctx);

/* rt_go_at for a task that a join waits for: adds one to wg and has the
 * core call rt_wg_done(wg) after the task has left the registry. */
int rt__go_joined(const char *role, void (*fn)(void *), void *arg, rt_site site, rt_wg *wg);

/* Wait-group wait recording a chosen op (RT_OP_JOIN for groups/pools). */
int rt__wg_wait_op(rt_wg *wg, rt_ctx *ctx, rt_op op, rt_site site);

/* ----------------------------------------------------------- counters -- */

extern rt_counters *rt__counters;
uint64_t rt__seed_for(uint64_t id);
uint64_t rt__rand(void); /* per-task (or per-thread outside tasks) xorshift */

#endif
