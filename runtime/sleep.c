/*
 * sleep.c — a sleep that wakes early when its context ends.
 *
 * A select with no cases of its own: only the context's done channel and a
 * deadline, so the scheduler's park(deadline) does the waiting.
 */
#include "rt_internal.h"

#include <errno.h>

int rt_sleep_at(int64_t ns, rt_ctx *ctx, rt_site site)
{
    if (!rt_self()) return -EDEADLK;
    int err = rt_ctx_err(ctx);
    if (err) return err;
    if (ns <= 0) return 0;
    rt_time now = rt_now();
    rt_time deadline = ns > RT_FOREVER - now ? RT_FOREVER : now + ns;
    int r = rt__select(NULL, 0, false, ctx, deadline, RT_OP_SLEEP, &site);
    return r == RT__DEADLINE ? 0 : r;
}
