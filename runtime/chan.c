/*
 * chan.c — channels and select, after Go's runtime/chan.go and select.go.
 *
 * A channel is a ring buffer of cap slots plus two FIFO queues of waiter
 * records: blocked senders and blocked receivers.  At most one queue is
 * non-empty at a time in a quiet channel (senders wait only when the buffer
 * is full, receivers only when it is empty).
 *
 * Every blocking operation goes through rt__select:
 *   1. lock every distinct channel of the cases in address order;
 *   2. visit the cases in a random order and perform the first one that can
 *      proceed without waiting (hand-off to a queued peer, buffer space or
 *      data, or a closed channel); with a default, give up here;
 *   3. otherwise queue one waiter per case, unlock everything, and park;
 *   4. after waking, dequeue the waiters that nobody consumed.
 * The parked task owns an rt__sel (on its stack) shared by all its waiters.
 * A peer (or close) that dequeues a waiter must win the compare-and-swap of
 * sel.state from WAITING to CLAIMED; if it loses, the select was already
 * completed through another channel (or timed out) and the peer just drops
 * that waiter.  The winner copies the value and the result while it still
 * holds the channel lock, then — after unlocking every channel, since no
 * one parks or unparks under a channel lock — stores DONE and unparks the
 * owner.  The owner may see DONE and return before the unpark lands; the
 * waker counts itself in the task's `wakers` from the CAS until its unpark
 * has returned, and rt__task_body waits for that count to drop before the
 * task can be freed (the seam's rule).  The stray permit only makes a
 * later park return early.  An owner that wakes and sees CLAIMED (the
 * waker is between its CAS and DONE) yields until DONE.  On a deadline the owner claims its own sel
 * (SELF).
 *
 * The implicit context case is the ctx's done channel, closed on cancel, so
 * cancellation is just close waking every waiter.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_CASES 8

/* ------------------------------------------------------------ waitq -- */

static void waitq_push(rt__waitq *q, rt__waiter *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    atomic_store_explicit(&w->queued, true, memory_order_relaxed);
}

static void waitq_unlink(rt__waitq *q, rt__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
}

/*
 * Dequeues waiters from q until one is claimed (returned, still owned by
 * the caller until it stores DONE) or the queue is empty (NULL).  Waiters
 * whose select already finished elsewhere are dropped.  Channel locked.
 */
static rt__waiter *waitq_claim_slow(rt__waitq *q, _Atomic int64_t *n_waiters)
{
    for (;;) {
        rt__waiter *w = q->head;
        if (!w) return NULL;
        waitq_unlink(q, w);
        atomic_fetch_sub_explicit(n_waiters, 1, memory_order_relaxed);
        int expected = RT__SEL_WAITING;
        bool won = atomic_compare_exchange_strong_explicit(
            &w->sel->state, &expected, RT__SEL_CLAIMED, memory_order_acq_rel, memory_order_acquire);
        /* Last touch of a lost waiter: its owner may return as soon as it
         * sees queued == false (or takes our lock after we drop it). */
        atomic_store_explicit(&w->queued, false, memory_order_release);
        if (won) return w;
    }
}

/* The common case, inline: nobody waiting. */
static inline rt__waiter *waitq_claim(rt__waitq *q, _Atomic int64_t *n_waiters)
{
    return q->head ? waitq_claim_slow(q, n_waiters) : NULL;
}

/* Records the outcome in a claimed waiter's select and adds it to the
 * caller's wake list. */
static void complete(rt__waiter *w, int result, rt__sel **wake)
{
    /* The owner is still waiting (we won its CAS), so its task is alive;
     * count ourselves in flight until our unpark has returned. */
    if (w->sel->task) atomic_fetch_add_explicit(&w->sel->task->wakers, 1, memory_order_relaxed);
    w->sel->winner = w->case_idx;
    w->sel->result = result;
    w->sel->wake_next = *wake;
    *wake = w->sel;
}

/* Publishes DONE to every owner on the list and unparks it; call with no
 * channel lock held.  After DONE the owner may return and its rt__sel (on
 * its stack) is gone, so read it first; the task itself stays valid until
 * our wakers count is dropped. */
static void wake_all(rt__sel *s)
{
    while (s) {
        rt__sel *next = s->wake_next;
        rt_task *t = s->task;
        atomic_store_explicit(&s->state, RT__SEL_DONE, memory_order_release);
        rt__sched->unpark(t);
        atomic_fetch_sub_explicit(&t->wakers, 1, memory_order_release);
        s = next;
    }
}

/* ------------------------------------------------------------ channel -- */

rt_chan *rt_chan_new(int64_t cap)
{
    if (cap < 0 || cap > (INT64_MAX / (int64_t)sizeof(void *))) return NULL;
    rt_chan *ch = calloc(1, sizeof *ch);
    if (!ch) return NULL;
    if (cap > 0) {
        ch->buf = malloc((size_t)cap * sizeof(void *));
        if (!ch->buf) {
            free(ch);
            return NULL;
        }
    }
    ch->cap = cap;
    atomic_init(&ch->refs, 1);
    return ch;
}

rt_chan *rt__chan_retain(rt_chan *ch)
{
    atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
    return ch;
}

void rt__chan_release(rt_chan *ch)
{
    if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) != 1) return;
    free(ch->buf);
    free(ch);
}

int rt_chan_free(rt_chan *ch)
{
    if (!ch) return -EINVAL;
    rt__lock_acquire(&ch->lock);
    bool busy = ch->sendq.head || ch->recvq.head ||
                atomic_load_explicit(&ch->pinned, memory_order_acquire) > 0;
    rt__lock_release(&ch->lock);
    if (busy) return -EBUSY;
    rt__chan_release(ch);
    return 0;
}

int64_t rt_chan_len(rt_chan *ch)
{
    if (!ch) return -EINVAL;
    return atomic_load_explicit(&ch->count, memory_order_relaxed);
}

int64_t rt_chan_cap(rt_chan *ch)
{
    if (!ch) return -EINVAL;
    return ch->cap;
}

int rt_chan_close(rt_chan *ch)
{
    if (!ch) return -EINVAL;
    rt__sel *wake = NULL;
    rt__lock_acquire(&ch->lock);
    if (atomic_load_explicit(&ch->closed, memory_order_relaxed)) {
        rt__lock_release(&ch->lock);
        return -EINVAL;
    }
    atomic_store_explicit(&ch->closed, true, memory_order_relaxed);
    /* Wake the waiters CLOSE_BATCH at a time, dropping the lock between
     * batches: each waiter's select lives on its own task's stack page,
     * and claiming all of a big crowd before waking any meant touching
     * every page twice, the second time after it had left the cache and
     * TLB.  Dropping the lock is safe once closed is set: no waiter can
     * join a closed channel, and whoever takes the lock meanwhile sees it
     * closed (or dequeues its own waiter, which we then no longer find). */
    enum { CLOSE_BATCH = 64 };
    for (;;) {
        rt__waiter *w;
        int k = 0;
        while (k < CLOSE_BATCH && (w = waitq_claim(&ch->recvq, &ch->n_recv_waiters))) {
            w->elem = NULL;
            complete(w, -EPIPE, &wake);
            k++;
        }
        while (k < CLOSE_BATCH && (w = waitq_claim(&ch->sendq, &ch->n_send_waiters))) {
            complete(w, -EPIPE, &wake);
            k++;
        }
        rt__lock_release(&ch->lock);
        /* The wake list was built newest first; wake in queue order, so
         * that each woken select, unlinking its other waiters, finds its
         * predecessors gone instead of writing into their tasks' pages.
         * The batch is still in cache: reversing it costs nothing. */
        rt__sel *fifo = NULL;
        while (wake) {
            rt__sel *next = wake->wake_next;
            wake->wake_next = fifo;
            fifo = wake;
            wake = next;
        }
        wake_all(fifo);
        if (k < CLOSE_BATCH) return 0;
        wake = NULL;
        rt__lock_acquire(&ch->lock);
    }
}

/* ------------------------------------------------- one non-blocking try -- */

/* Ring index arithmetic without a division: i < 2 * cap.  A 64-bit modulo
 * per buffered operation was a quarter of a one-worker buffered stream. */
static inline int64_t ring_wrap(int64_t i, int64_t cap)
{
    return i >= cap ? i - cap : i;
}

/* Tries to send v on a locked channel: 1 done, -EPIPE closed, 0 would block. */
static inline int try_send_locked(rt_chan *ch, void *v, rt__sel **wake)
{
    if (atomic_load_explicit(&ch->closed, memory_order_relaxed)) return -EPIPE;
    rt__waiter *w = waitq_claim(&ch->recvq, &ch->n_recv_waiters);
    if (w) {
        w->elem = v;
        complete(w, 0, wake);
        return 1;
    }
    int64_t n = atomic_load_explicit(&ch->count, memory_order_relaxed);
    if (n < ch->cap) {
        ch->buf[ring_wrap(ch->head + n, ch->cap)] = v;
        atomic_store_explicit(&ch->count, n + 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

/* Tries to receive from a locked channel into *out: 1 done, -EPIPE closed
 * and drained (*out = NULL), 0 would block. */
static inline int try_recv_locked(rt_chan *ch, void **out, rt__sel **wake)
{
    int64_t n = atomic_load_explicit(&ch->count, memory_order_relaxed);
    rt__waiter *w = waitq_claim(&ch->sendq, &ch->n_send_waiters);
    if (w) {
        if (n > 0) {
            /* Full buffer: take the oldest, the sender's value goes last. */
            *out = ch->buf[ch->head];
            ch->buf[ch->head] = w->elem;
            ch->head = ring_wrap(ch->head + 1, ch->cap);
        } else {
            *out = w->elem;
        }
        complete(w, 0, wake);
        return 1;
    }
    if (n > 0) {
        *out = ch->buf[ch->head];
        ch->head = ring_wrap(ch->head + 1, ch->cap);
        atomic_store_explicit(&ch->count, n - 1, memory_order_relaxed);
        return 1;
    }
    if (atomic_load_explicit(&ch->closed, memory_order_relaxed)) {
        *out = NULL;
        return -EPIPE;
    }
    return 0;
}

int rt_chan_try_send(rt_chan *ch, void *v)
{
    if (!ch) return -EINVAL;
    rt__sel *wake = NULL;
    rt__lock_acquire(&ch->lock);
    int r = try_send_locked(ch, v, &wake);
    rt__lock_release(&ch->lock);
    wake_all(wake);
    return r == 1 ? 0 : r == 0 ? -EAGAIN : r;
}

int rt_chan_try_recv(rt_chan *ch, void **out)
{
    if (!ch || !out) return -EINVAL;
    rt__sel *wake = NULL;
    rt__lock_acquire(&ch->lock);
    int r = try_recv_locked(ch, out, &wake);
    rt__lock_release(&ch->lock);
    wake_all(wake);
    return r == 1 ? 0 : r == 0 ? -EAGAIN : r;
}

/* ------------------------------------------------------------- select -- */

static void lock_all(rt_chan **order, int n)
{
    for (int i = 0; i < n; i++) rt__lock_acquire(&order[i]->lock);
}

static void unlock_all(rt_chan **order, int n)
{
    for (int i = n - 1; i >= 0; i--) rt__lock_release(&order[i]->lock);
}

int rt__select(rt_case *cases, int n, bool has_default, rt_ctx *ctx, rt_time deadline, rt_op op,
               const rt_site *site)
{
    if (n < 0 || (n > 0 && !cases)) return -EINVAL;
    for (int i = 0; i < n; i++)
        if (cases[i].kind != RT_CASE_SEND && cases[i].kind != RT_CASE_RECV) return -EINVAL;
    rt_task *self = rt_self();
    if (!self && !has_default) return -EDEADLK;

    rt_ctx *held_ctx = NULL;
    /* done_case and sel are filled in only once the operation may wait:
     * the fast path below never looks at them. */
    rt_case done_case;
    bool has_ctx = ctx && !rt__ctx_is_background(ctx);
    int total = n + (has_ctx ? 1 : 0);
#define CASE(i) ((i) < n ? &cases[i] : &done_case)
    rt_chan *order_small[SMALL_CASES];
    int perm_small[SMALL_CASES];
    rt__waiter waiters_small[SMALL_CASES];
    rt_chan **order = order_small;
    int *perm = perm_small;
    rt__waiter *waiters = waiters_small;
    rt__sel sel;
    rt__sel *wake = NULL;
    int ret, n_locks;

    /* Fast path: one channel case (every plain send and recv, and the
     * seed's "select on ch and ctx.done"), with the context not cancelled
     * yet.  Only the case's own channel is locked: the done channel's lock
     * is shared by every task of that context, and is not needed to see
     * that it is still open.  Choosing the case then is one of the outcomes
     * the full select allows (the case is ready while we hold its lock; if
     * the context is cancelled in between, both were ready and either may
     * win); once done is closed the general path below picks at random
     * between the two as Go does.  No context reference is taken unless it
     * waits: nothing else here outlives the caller's own.  When the
     * operation must wait, its waiters are queued under the lock already
     * held (plus done's, with a context). */
    if (n == 1 && cases[0].ch &&
        (!has_ctx || !atomic_load_explicit(&rt_ctx_done(ctx)->closed, memory_order_acquire))) {
        rt_case *c = &cases[0];
        rt__lock_acquire(&c->ch->lock);
        int r = c->kind == RT_CASE_SEND ? try_send_locked(c->ch, c->send, &wake)
                                        : try_recv_locked(c->ch, &c->recv, &wake);
        if (r != 0 || has_default) {
            rt__lock_release(&c->ch->lock);
            if (wake) wake_all(wake);
            if (r == 0) return RT_SELECT_DEFAULT;
            c->result = r == 1 ? 0 : r;
            return 0;
        }
        if (!has_ctx) {
            order[0] = c->ch;
            n_locks = 1;
            sel = (rt__sel){.task = self, .winner = -1};
            goto queue_locked;
        }
        /* It waits with a context: take the done channel's lock as well
         * (in address order, or by a try that cannot deadlock) and queue
         * on both without starting over; the general path would lock the
         * case's channel a second time and poll it again. */
        rt_chan *done = rt_ctx_done(ctx);
        bool done_ahead = (uintptr_t)done > (uintptr_t)c->ch;
        if (done != c->ch &&
            (done_ahead ? (rt__lock_acquire(&done->lock), true) : rt__lock_try(&done->lock))) {
            if (!atomic_load_explicit(&done->closed, memory_order_relaxed)) {
                held_ctx = rt_ctx_retain(ctx);
                done_case = (rt_case){.kind = RT_CASE_RECV, .ch = done};
                sel = (rt__sel){.task = self, .winner = -1};
                order[0] = done_ahead ? c->ch : done;
                order[1] = done_ahead ? done : c->ch;
                n_locks = 2;
                goto queue_locked;
            }
            rt__lock_release(&done->lock); /* cancelled meanwhile */
        }
        rt__lock_release(&c->ch->lock);
    }

    /* The context's done channel is case n; the ctx is held for the call so
     * a release by another task cannot free its channel while we wait. */
    done_case = (rt_case){.kind = RT_CASE_RECV};
    sel = (rt__sel){.task = self, .winner = -1};
    if (has_ctx) {
        held_ctx = rt_ctx_retain(ctx);
        done_case.ch = rt_ctx_done(ctx);
    }
    if (total > SMALL_CASES) {
        order = malloc((size_t)total * sizeof *order);
        perm = malloc((size_t)total * sizeof *perm);
        waiters = malloc((size_t)total * sizeof *waiters);
        if (!order || !perm || !waiters) {
            free(order);
            free(perm);
            free(waiters);
            if (held_ctx) rt_ctx_unref(held_ctx);
            return -ENOMEM;
        }
    }

    /* Lock order: distinct non-NULL channels sorted by address. */
    n_locks = 0;
    for (int i = 0; i < total; i++) {
        rt_chan *c = CASE(i)->ch;
        if (!c) continue;
        int j = n_locks;
        while (j > 0 && (uintptr_t)order[j - 1] > (uintptr_t)c) j--;
        if (j > 0 && order[j - 1] == c) continue;
        memmove(&order[j + 1], &order[j], (size_t)(n_locks - j) * sizeof *order);
        order[j] = c;
        n_locks++;
    }
    /* Poll order: a uniformly random permutation (Fisher-Yates).  Its first
     * step always picks j = 0, so it is done without drawing a random
     * number: a single-case operation (every plain send and recv) then
     * skips the draw and its 64-bit division, measured at ~5% of a
     * coroutine ping-pong. */
    perm[0] = 0;
    for (int i = 1; i < total; i++) {
        int j = (int)(rt__rand() % (uint64_t)(i + 1));
        perm[i] = perm[j];
        perm[j] = i;
    }

    lock_all(order, n_locks);
    for (int k = 0; k < total; k++) {
        int i = perm[k];
        rt_case *c = CASE(i);
        if (!c->ch) continue;
        int r = c->kind == RT_CASE_SEND ? try_send_locked(c->ch, c->send, &wake)
                                        : try_recv_locked(c->ch, &c->recv, &wake);
        if (r != 0) {
            c->result = r == 1 ? 0 : r;
            ret = i;
            goto done_locked;
        }
    }
    if (has_default) {
        ret = RT_SELECT_DEFAULT;
        goto done_locked;
    }

    /* Nothing ready: queue a waiter on every case's channel and park. */
queue_locked:;
    rt_chan *shown = NULL; /* the channel snapshots report */
    for (int i = 0; i < total; i++) {
        rt_case *c = CASE(i);
        rt__waiter *w = &waiters[i];
        memset(w, 0, sizeof *w);
        w->sel = &sel;
        w->case_idx = i;
        if (!c->ch) continue;
        if (!shown && i < n) shown = c->ch;
        if (c->kind == RT_CASE_SEND) {
            w->elem = c->send;
            waitq_push(&c->ch->sendq, w);
            atomic_fetch_add_explicit(&c->ch->n_send_waiters, 1, memory_order_relaxed);
        } else {
            waitq_push(&c->ch->recvq, w);
            atomic_fetch_add_explicit(&c->ch->n_recv_waiters, 1, memory_order_relaxed);
        }
    }
    if (shown) atomic_fetch_add_explicit(&shown->pinned, 1, memory_order_relaxed);
    unlock_all(order, n_locks);

    rt__block_begin(op, *site, held_ctx != NULL || deadline != RT_FOREVER, shown);
    int state;
    for (;;) {
        state = atomic_load_explicit(&sel.state, memory_order_acquire);
        if (state == RT__SEL_DONE) break;
        if (state == RT__SEL_CLAIMED) {
            /* The waker is between its CAS and DONE: a few instructions
             * and its unlocks.  Yield rather than spin: measured, spinning
             * here is slower, since the woken owner often runs on the
             * waker's CPU and would keep it from finishing. */
            rt__sched->yield();
            continue;
        }
        if (rt__sched->park(deadline) == -ETIMEDOUT) {
            int expected = RT__SEL_WAITING;
            if (atomic_compare_exchange_strong_explicit(&sel.state, &expected, RT__SEL_SELF,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire)) {
                state = RT__SEL_SELF;
                break;
            }
        }
    }
    rt__block_end();
    /* Release: rt_chan_free (acquire) must see everything we did with it. */
    if (shown) atomic_fetch_sub_explicit(&shown->pinned, 1, memory_order_release);

    /* Take back the waiters nobody consumed.  A waiter no longer queued
     * was dequeued by a peer under that channel's lock and is never looked
     * at again. */
    for (int i = 0; i < total; i++) {
        rt_case *c = CASE(i);
        rt__waiter *w = &waiters[i];
        if (!c->ch || !atomic_load_explicit(&w->queued, memory_order_acquire)) continue;
        rt__lock_acquire(&c->ch->lock);
        if (atomic_load_explicit(&w->queued, memory_order_relaxed)) {
            if (c->kind == RT_CASE_SEND) {
                waitq_unlink(&c->ch->sendq, w);
                atomic_fetch_sub_explicit(&c->ch->n_send_waiters, 1, memory_order_relaxed);
            } else {
                waitq_unlink(&c->ch->recvq, w);
                atomic_fetch_sub_explicit(&c->ch->n_recv_waiters, 1, memory_order_relaxed);
            }
            atomic_store_explicit(&w->queued, false, memory_order_relaxed);
        }
        rt__lock_release(&c->ch->lock);
    }
    if (state == RT__SEL_SELF) {
        ret = RT__DEADLINE;
    } else {
        ret = sel.winner;
        rt_case *c = CASE(ret);
        c->result = sel.result;
        if (c->kind == RT_CASE_RECV) c->recv = waiters[ret].elem;
    }
    goto out;

done_locked:
    unlock_all(order, n_locks);
    wake_all(wake);
out:
    if (held_ctx && ret == n) {
        /* The done channel fired: report the context's error. */
        ret = rt_ctx_err(held_ctx);
        if (ret == 0) ret = -ECANCELED;
    }
    if (held_ctx) rt_ctx_unref(held_ctx);
    if (order != order_small) {
        free(order);
        free(perm);
        free(waiters);
    }
    return ret;
#undef CASE
}

int rt_select_at(rt_case *cases, int n, bool has_default, rt_ctx *ctx, rt_site site)
{
    return rt__select(cases, n, has_default, ctx, RT_FOREVER, RT_OP_SELECT, &site);
}

/* ------------------------------------------------- blocking send / recv -- */

int rt_chan_send_at(rt_chan *ch, void *v, rt_ctx *ctx, rt_site site)
{
    if (!ch) return -EINVAL;
    rt_case c = RT_SEND_CASE(ch, v);
    int r = rt__select(&c, 1, false, ctx, RT_FOREVER, RT_OP_SEND, &site);
    return r == 0 ? c.result : r;
}

int rt_chan_recv_at(rt_chan *ch, void **out, rt_ctx *ctx, rt_site site)
{
    if (!ch || !out) return -EINVAL;
    rt_case c = RT_RECV_CASE(ch);
    int r = rt__select(&c, 1, false, ctx, RT_FOREVER, RT_OP_RECV, &site);
    if (r == 0) {
        *out = c.recv;
        return c.result;
    }
    *out = NULL;
    return r;
}
