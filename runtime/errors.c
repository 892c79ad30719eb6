/*
 * errors.c — the one place that turns the runtime's codes and enums into
 * names: error codes (negative errno values), blocking operations and
 * scheduler kinds.
 */
#include "rt.h"

#include <errno.h>
#include <string.h>

const char *rt_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case -ECANCELED:
        return "context cancelled";
    case -ETIMEDOUT:
        return "deadline exceeded";
    case -EPIPE:
        return "channel closed";
    case -EAGAIN:
        return "would block (or out of threads)";
    case -EINVAL:
        return "invalid argument";
    case -ENOMEM:
        return "out of memory";
    case -EDEADLK:
        return "blocking call outside any task";
    case -EBUSY:
        return "busy: tasks still use it";
    case -EPERM:
        return "not locked";
    case -ENOSYS:
        return "scheduler not built in";
    default:
        return "unknown error";
    }
}

static const char *const op_names[RT_OP_COUNT] = {
    [RT_OP_RUNNING] = "running", [RT_OP_SEND] = "send",   [RT_OP_RECV] = "recv",
    [RT_OP_SELECT] = "select",   [RT_OP_SLEEP] = "sleep", [RT_OP_WAITGROUP] = "waitgroup",
    [RT_OP_LOCK] = "lock",       [RT_OP_JOIN] = "join",   [RT_OP_IO] = "io",
};

const char *rt_op_name(rt_op op)
{
    if ((int)op < 0 || op >= RT_OP_COUNT) return "unknown";
    return op_names[op];
}

const char *rt_sched_name(rt_sched_kind k)
{
    switch (k) {
    case RT_SCHED_THREADS:
        return "threads";
    case RT_SCHED_COROUTINES:
        return "coroutines";
    }
    return "unknown";
}

int rt_sched_parse(const char *name, rt_sched_kind *out)
{
    if (!name || !out) return -EINVAL;
    if (strcmp(name, "threads") == 0) {
        *out = RT_SCHED_THREADS;
        return 0;
    }
    if (strcmp(name, "coroutines") == 0) {
        *out = RT_SCHED_COROUTINES;
        return 0;
    }
    return -EINVAL;
}
