/*
 * wg.c — wait groups: a counter and a way to wait until it is zero.
 *
 * Waiting is a receive on a "zero" channel that is closed when the counter
 * drops to zero, so a wait with a context is an ordinary two-case select
 * and a close wakes every waiter at once.  The channel is created by the
 * first wait that finds the counter above zero and dropped when the
 * counter reaches zero; each waiter holds a reference to the channel it
 * waits on, so it stays valid after the group has moved on.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>

struct rt_wg {
    /* Protects zero, and every change of count to or from zero; changes
     * between positive values are a lone compare-and-swap on count.  A
     * leaf lock: nothing is taken under it except allocating a channel.
     * Spin-then-futex (rt_lock.h).  Every member of a spawn burst or a
     * cancelled crowd calls rt_wg_done once, from both workers at once:
     * only the last of them takes the lock. */
    rt__lock lock;
    _Atomic int64_t count;
    rt_chan *zero; /* closed when count reaches 0; NULL when nobody waits */
};

rt_wg *rt_wg_new(void)
{
    rt_wg *wg = calloc(1, sizeof *wg);
    if (!wg) return NULL;
    return wg;
}

void rt_wg_free(rt_wg *wg)
{
    if (!wg) return;
    if (wg->zero) rt__chan_release(wg->zero);
    free(wg);
}

int rt_wg_add(rt_wg *wg, int64_t delta)
{
    if (!wg) return -EINVAL;
    /* Fast path: positive before and after, so no waiter can be affected
     * (waiters look at count under the lock, and reaching or leaving
     * zero always happens under it). */
    int64_t c = atomic_load_explicit(&wg->count, memory_order_relaxed);
    while (c > 0 && c + delta > 0)
        if (atomic_compare_exchange_weak_explicit(&wg->count, &c, c + delta, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return 0;
    rt_chan *fire = NULL;
    rt__lock_acquire(&wg->lock);
    c = atomic_load_explicit(&wg->count, memory_order_relaxed);
    do {
        if (c + delta < 0) {
            rt__lock_release(&wg->lock);
            return -EINVAL;
        }
    } while (!atomic_compare_exchange_weak_explicit(&wg->count, &c, c + delta, memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (c + delta == 0) {
        fire = wg->zero;
        wg->zero = NULL;
    }
    rt__lock_release(&wg->lock);
    if (fire) {
        rt_chan_close(fire);
        rt__chan_release(fire);
    }
    return 0;
}

int rt_wg_done(rt_wg *wg)
{
    return rt_wg_add(wg, -1);
}

int rt__wg_wait_op(rt_wg *wg, rt_ctx *ctx, rt_op op, rt_site site)
{
    if (!wg) return -EINVAL;
    rt__lock_acquire(&wg->lock);
    if (atomic_load_explicit(&wg->count, memory_order_acquire) == 0) {
        rt__lock_release(&wg->lock);
        return 0;
    }
    if (!wg->zero) wg->zero = rt_chan_new(0);
    rt_chan *ch = wg->zero ? rt__chan_retain(wg->zero) : NULL;
    rt__lock_release(&wg->lock);
    if (!ch) return -ENOMEM;
    rt_case c = RT_RECV_CASE(ch);
    int r = rt__select(&c, 1, false, ctx, RT_FOREVER, op, &site);
    rt__chan_release(ch);
    if (r == 0) return 0; /* the channel was closed: count reached zero */
    return r;
}

int rt_wg_wait_at(rt_wg *wg, rt_ctx *ctx, rt_site site)
{
    return rt__wg_wait_op(wg, ctx, RT_OP_WAITGROUP, site);
}
