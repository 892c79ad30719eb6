/*
 * mutex.c — a task-aware mutex: blocks the task, not the worker thread, and
 * can be abandoned when a context ends.
 *
 * It is a channel of capacity one holding a single token: lock receives the
 * token (FIFO among waiters, cancellable like any receive), unlock puts it
 * back.  An unlock that finds the token already there means the mutex was
 * not locked.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdlib.h>

struct rt_mutex {
    rt_chan *token;
};

static char token_value;

rt_mutex *rt_mutex_new(void)
{
    rt_mutex *m = malloc(sizeof *m);
    if (!m) return NULL;
    m->token = rt_chan_new(1);
    if (!m->token) {
        free(m);
        return NULL;
    }
    rt_chan_try_send(m->token, &token_value);
    return m;
}

void rt_mutex_free(rt_mutex *m)
{
    if (!m) return;
    rt__chan_release(m->token);
    free(m);
}

int rt_mutex_lock_at(rt_mutex *m, rt_ctx *ctx, rt_site site)
{
    if (!m) return -EINVAL;
    rt_case c = RT_RECV_CASE(m->token);
    int r = rt__select(&c, 1, false, ctx, RT_FOREVER, RT_OP_LOCK, &site);
    return r == 0 ? c.result : r;
}

int rt_mutex_unlock(rt_mutex *m)
{
    if (!m) return -EINVAL;
    int r = rt_chan_try_send(m->token, &token_value);
    return r == -EAGAIN ? -EPERM : r;
}
