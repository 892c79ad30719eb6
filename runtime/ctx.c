/*
 * ctx.c — contexts: cancellation trees with deadlines, after Go's context.
 *
 * A context has a done channel that is closed when it is cancelled, so
 * waiting for cancellation is one more receive case in a select (rt__select
 * adds it implicitly when a ctx is passed).  Cancelling a context sets its
 * err (once), closes its done channel and cancels every child, which do
 * the same for theirs: cancellation reaches every descendant.
 *
 * Lifetime.  Contexts are reference counted.  The creator holds one
 * reference, each child holds one on its parent, a pending deadline timer
 * holds one, and rt__select holds one while it waits on the done channel.
 * A parent's children list does not hold references: a child unlinks itself
 * when it is cancelled or freed.
 *
 * Locking.  Each context's lock protects its children list, its sibling
 * links in its parent's list (child->parent_linked, prev/next are protected
 * by the PARENT's lock), its timer pointer and its cause.  Only one
 * context lock is ever held at a time, no channel is touched and nobody is
 * woken under it: cancel collects what to do under the lock and does it
 * after.  err is atomic so rt_ctx_err never locks.  Lock order: after
 * channel locks (never taken together in practice), before the registry.
 *
 * Deadlines use the scheduler's timer (seam timer_start/timer_stop); the
 * timer callback cancels with -ETIMEDOUT.  A child's deadline is the
 * earlier of its own and its parent's.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>

struct rt_ctx {
    pthread_mutex_t lock;
    _Atomic int64_t refs;
    _Atomic int err;             /* 0 until cancelled */
    int cause;                   /* under lock; valid once err != 0 */
    rt_ctx *parent;              /* NULL for background */
    rt_ctx *children;            /* under this ctx's lock */
    rt_ctx *sib_prev, *sib_next; /* under the parent's lock */
    rt_ctx *cancel_next;         /* private to the ctx_cancel that detached it */
    bool parent_linked;          /* under the parent's lock */
    rt_chan *done;
    rt_time deadline;
    rt_timer *timer; /* under lock; NULL when none pending */
    bool background;
};

static struct rt_chan background_done = {
    .lock = RT__LOCK_INIT,
    .refs = 1,
};
static rt_ctx background = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .refs = 1,
    .done = &background_done,
    .deadline = RT_FOREVER,
    .background = true,
};

rt_ctx *rt_ctx_background(void)
{
    return &background;
}

bool rt__ctx_is_background(const rt_ctx *ctx)
{
    return ctx->background;
}

static void ctx_cancel(rt_ctx *ctx, int err, int cause);

rt_ctx *rt_ctx_retain(rt_ctx *ctx)
{
    if (ctx && !ctx->background) atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

/* Takes a reference unless the count already reached zero (being freed). */
static bool ctx_try_retain(rt_ctx *ctx)
{
    int64_t r = atomic_load_explicit(&ctx->refs, memory_order_relaxed);
    while (r > 0)
        if (atomic_compare_exchange_weak_explicit(&ctx->refs, &r, r + 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    return false;
}

/* Unlinks ctx from its parent's children list if it is still there. */
static void ctx_unlink_from_parent(rt_ctx *ctx)
{
    rt_ctx *p = ctx->parent;
    if (!p || p->background) return;
    pthread_mutex_lock(&p->lock);
    if (ctx->parent_linked) {
        if (ctx->sib_prev)
            ctx->sib_prev->sib_next = ctx->sib_next;
        else
            p->children = ctx->sib_next;
        if (ctx->sib_next) ctx->sib_next->sib_prev = ctx->sib_prev;
        ctx->sib_prev = ctx->sib_next = NULL;
        ctx->parent_linked = false;
    }
    pthread_mutex_unlock(&p->lock);
}

/* Drops one reference; frees the context when it was the last, which drops
 * its reference on the parent, and so on up the chain (a loop, not
 * recursion: chains may be long and task stacks are small). */
static void ctx_drop(rt_ctx *ctx)
{
    while (ctx && !ctx->background) {
        if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1) return;
        /* Last reference.  It was cancelled by the release that got here
         * (or earlier), so no timer is pending and it has no children
         * left (each would hold a reference). */
        ctx_unlink_from_parent(ctx);
        rt_ctx *parent = ctx->parent;
        rt__chan_release(ctx->done);
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        ctx = parent;
    }
}

void rt_ctx_unref(rt_ctx *ctx)
{
    if (ctx && !ctx->background) ctx_drop(ctx);
}

void rt_ctx_release(rt_ctx *ctx)
{
    if (!ctx || ctx->background) return;
    ctx_cancel(ctx, -ECANCELED, -ECANCELED);
    ctx_drop(ctx);
}

static void deadline_fired(void *arg)
{
    rt_ctx *ctx = arg;
    ctx_cancel(ctx, -ETIMEDOUT, -ETIMEDOUT);
    ctx_drop(ctx); /* the timer's reference */
}

/*
 * Cancels root and every descendant, breadth first with an explicit work
 * list (cancel_next) rather than recursion, so a deep chain cannot
 * overflow a small task stack.  Each context is handled under its own
 * lock only: set err and cause once, take its timer, detach its children
 * (taking a reference on each one still alive); then, with no lock held,
 * stop the timer, close the done channel (waking every waiter) and move on
 * to the children.
 */
static void ctx_cancel(rt_ctx *root, int err, int cause)
{
    if (!root || root->background) return;
    rt_ctx *todo = NULL; /* detached children, each holding our reference */
    rt_ctx *ctx = root;
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        bool first = atomic_load_explicit(&ctx->err, memory_order_relaxed) == 0;
        rt_timer *timer = NULL;
        if (first) {
            ctx->cause = cause;
            atomic_store_explicit(&ctx->err, err, memory_order_release);
            timer = ctx->timer;
            ctx->timer = NULL;
            rt_ctx *kids = ctx->children;
            ctx->children = NULL;
            while (kids) {
                rt_ctx *k = kids;
                kids = k->sib_next;
                k->sib_prev = k->sib_next = NULL;
                k->parent_linked = false;
                if (ctx_try_retain(k)) {
                    k->cancel_next = todo;
                    todo = k;
                }
            }
        }
        pthread_mutex_unlock(&ctx->lock);
        if (first) {
            /* A stopped timer never runs: drop the reference it held. */
            if (timer && rt__sched->timer_stop(timer)) ctx_drop(ctx);
            rt_chan_close(ctx->done);
        }
        if (ctx == root)
            ctx_unlink_from_parent(root);
        else
            ctx_drop(ctx); /* the reference taken when it was detached */
        if (!todo) break;
        ctx = todo;
        todo = ctx->cancel_next;
    }
}

void rt_ctx_cancel(rt_ctx *ctx)
{
    ctx_cancel(ctx, -ECANCELED, -ECANCELED);
}

void rt_ctx_cancel_cause(rt_ctx *ctx, int cause)
{
    ctx_cancel(ctx, -ECANCELED, cause);
}

static rt_ctx *ctx_new(rt_ctx *parent, rt_time deadline)
{
    if (!parent) parent = &background;
    rt_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->done = rt_chan_new(0);
    if (!ctx->done) {
        free(ctx);
        return NULL;
    }
    pthread_mutex_init(&ctx->lock, NULL);
    atomic_init(&ctx->refs, 1);
    ctx->parent = rt_ctx_retain(parent);
    if (parent->deadline < deadline) deadline = parent->deadline;
    ctx->deadline = deadline;

    /* Link under the parent's lock, unless the parent is already done: then
     * the child starts cancelled with the parent's error and cause. */
    int perr = 0, pcause = 0;
    if (!parent->background) {
        pthread_mutex_lock(&parent->lock);
        perr = atomic_load_explicit(&parent->err, memory_order_relaxed);
        pcause = parent->cause;
        if (!perr) {
            ctx->sib_next = parent->children;
            if (parent->children) parent->children->sib_prev = ctx;
            parent->children = ctx;
            ctx->parent_linked = true;
        }
        pthread_mutex_unlock(&parent->lock);
    }
    if (perr) {
        ctx_cancel(ctx, perr, pcause);
        return ctx;
    }
    if (deadline != RT_FOREVER && deadline != parent->deadline) {
        if (deadline <= rt_now()) {
            ctx_cancel(ctx, -ETIMEDOUT, -ETIMEDOUT);
            return ctx;
        }
        rt_ctx_retain(ctx); /* the timer's reference */
        pthread_mutex_lock(&ctx->lock);
        rt_timer *t = NULL;
        if (!atomic_load_explicit(&ctx->err, memory_order_relaxed)) {
            t = rt__sched->timer_start(deadline, deadline_fired, ctx);
            ctx->timer = t;
        }
        pthread_mutex_unlock(&ctx->lock);
        if (!t) {
            ctx_drop(ctx);
            if (!atomic_load(&ctx->err)) { /* timer_start failed */
                rt_ctx_release(ctx);
                return NULL;
            }
        }
    }
    return ctx;
}

rt_ctx *rt_ctx_with_cancel(rt_ctx *parent)
{
    return ctx_new(parent, RT_FOREVER);
}

rt_ctx *rt_ctx_with_deadline(rt_ctx *parent, rt_time deadline)
{
    return ctx_new(parent, deadline);
}

rt_ctx *rt_ctx_with_timeout(rt_ctx *parent, int64_t timeout_ns)
{
    rt_time now = rt_now();
    rt_time deadline = timeout_ns > RT_FOREVER - now ? RT_FOREVER : now + timeout_ns;
    return ctx_new(parent, deadline);
}

rt_chan *rt_ctx_done(rt_ctx *ctx)
{
    return ctx ? ctx->done : NULL;
}

int rt_ctx_err(const rt_ctx *ctx)
{
    if (!ctx) return 0;
    return atomic_load_explicit(&((rt_ctx *)ctx)->err, memory_order_acquire);
}

int rt_ctx_cause(const rt_ctx *ctx)
{
    if (!ctx || ctx->background) return 0;
    rt_ctx *c = (rt_ctx *)ctx;
    if (!atomic_load_explicit(&c->err, memory_order_acquire)) return 0;
    pthread_mutex_lock(&c->lock);
    int cause = c->cause;
    pthread_mutex_unlock(&c->lock);
    return cause;
}

rt_time rt_ctx_deadline(const rt_ctx *ctx)
{
    return ctx ? ctx->deadline : RT_FOREVER;
}
