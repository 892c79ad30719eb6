/*
 * cgroup.h — a memory cgroup for one external target: the kernel enforces
 * the memory guard and says when it OOM-killed the target.
 *
 * Where the machine allows it: cgroup v2 (memory.max, OOM kills counted in
 * memory.events) when the unified hierarchy at /sys/fs/cgroup has the
 * memory controller; else cgroup v1 (memory.limit_in_bytes, OOM kills in
 * memory.oom_control's oom_kill, limit hits in memory.failcnt) under
 * /sys/fs/cgroup/memory.  The group is made as a child of leakbench's own
 * cgroup in that hierarchy (from /proc/self/cgroup), so the target stays
 * inside whatever limits leakbench itself runs under, and it is named
 * leakbench-PID-N.  Creating one needs write access there (root, or a
 * delegated subtree); without it lb_cgroup_create fails and the caller
 * falls back to RSS polling (target.h).
 */
#ifndef LEAKBENCH_CGROUP_H
#define LEAKBENCH_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

typedef enum lb_cgroup_kind { LB_CGROUP_NONE = 0, LB_CGROUP_V1, LB_CGROUP_V2 } lb_cgroup_kind;

typedef struct lb_cgroup {
    lb_cgroup_kind kind;
    char dir[560];   /* the group's directory */
    char procs[600]; /* its cgroup.procs */
    int64_t limit_bytes;
} lb_cgroup;

const char *lb_cgroup_kind_name(lb_cgroup_kind k); /* "none", "cgroup v1", "cgroup v2" */

/* Makes a group limited to limit_bytes.  0, or a negative errno with the
 * reason in err (no memory controller, no permission, ...); cg->kind is
 * LB_CGROUP_NONE then. */
int lb_cgroup_create(lb_cgroup *cg, int64_t limit_bytes, char *err, size_t n);

/* Moves pid into the group (a forked child calls it with its own pid
 * before exec, so everything it starts is born inside).  0 or -errno. */
int lb_cgroup_enter(const lb_cgroup *cg, pid_t pid);

/* How many processes of the group the kernel's OOM killer has killed
 * (v1 oom_kill, v2 memory.events oom_kill).  0 or -errno. */
int lb_cgroup_oom_kills(const lb_cgroup *cg, int64_t *kills);

/* SIGKILLs every process in the group, waits up to wait_ms for it to
 * empty, then removes it.  0, or -EBUSY when it did not empty in time
 * (the directory is left; a later call may remove it), or -errno. */
int lb_cgroup_destroy(lb_cgroup *cg, int wait_ms);

#endif
