/*
 * group.c — task groups: a scope its children cannot outlive.
 *
 * A group owns a context (a child of the parent given at creation) and a
 * wait group.  Each child runs fn(group ctx, arg); the first non-zero
 * return is kept and cancels the group's context with that error as the
 * cause, so its siblings see cancellation (errgroup style).
 * rt_group_wait optionally cancels first, then joins every child (blocked
 * as RT_OP_JOIN, with no escape: the point is that nothing outlives the
 * scope; a child counts as joined only once it has left the live-task
 * registry), returns the first error and frees the group.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>

struct rt_group {
    rt_ctx *ctx;
    rt_wg *wg;
    _Atomic int first_err; /* 0 until a child fails; set once by CAS */
};

typedef struct group_child {
    rt_group *g;
    int (*fn)(rt_ctx *ctx, void *arg);
    void *arg;
} group_child;

rt_group *rt_group_new(rt_ctx *parent)
{
    rt_group *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->ctx = rt_ctx_with_cancel(parent);
    g->wg = rt_wg_new();
    if (!g->ctx || !g->wg) {
        rt_ctx_release(g->ctx);
        rt_wg_free(g->wg);
        free(g);
        return NULL;
    }
    return g;
}

rt_ctx *rt_group_ctx(rt_group *g)
{
    return g ? g->ctx : NULL;
}

static void group_child_main(void *p)
{
    group_child *c = p;
    rt_group *g = c->g;
    int rc = c->fn(g->ctx, c->arg);
    free(c);
    if (rc != 0) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&g->first_err, &expected, rc))
            rt_ctx_cancel_cause(g->ctx, rc);
    }
    /* The core signals g->wg once this task has left the registry. */
}

int rt_group_go_at(rt_group *g, const char *role, int (*fn)(rt_ctx *ctx, void *arg), void *arg,
                   rt_site site)
{
    if (!g || !fn) return -EINVAL;
    group_child *c = malloc(sizeof *c);
    if (!c) return -ENOMEM;
    *c = (group_child){.g = g, .fn = fn, .arg = arg};
    int rc = rt__go_joined(role, group_child_main, c, site, g->wg);
    if (rc < 0) free(c);
    return rc;
}

int rt_group_wait_at(rt_group *g, bool cancel, rt_site site)
{
    if (!g) return -EINVAL;
    if (!rt_self()) return -EDEADLK;
    if (cancel) rt_ctx_cancel(g->ctx);
    int rc = rt__wg_wait_op(g->wg, NULL, RT_OP_JOIN, site);
    if (rc == 0) rc = atomic_load(&g->first_err);
    rt_ctx_release(g->ctx);
    rt_wg_free(g->wg);
    free(g);
    return rc;
}
