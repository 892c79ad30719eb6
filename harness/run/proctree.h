/*
 * proctree.h — the processes of an external target, found from outside,
 * and their resident memory, threads and CPU time summed.
 *
 * A target is the process leakbench started plus everything it became: a
 * wrapper script's server, workers it forked, a daemon that double-forked
 * away from its parent.  Its members are every live (not zombie) process
 * that is a descendant of the root, or in the target's process group, or
 * listed in its cgroup (when it has one) — so a wrapper does not hide the
 * server, and a grandchild whose parent exited (reparented to init) is
 * still found through its process group or cgroup.
 *
 * How it works: one scan of /proc per call, reading /proc/PID/stat of
 * each process (fields after the last ')', so odd command names cannot
 * shift them: state, ppid, pgrp, utime, stime, num_threads, rss), then
 * membership by the three rules (descendants by repeated passes over the
 * parent links).  A full scan reads every process's stat file: about
 * 20 ms for 120 processes on these machines (160 us each), too slow for
 * every 10 ms sample.  lb_proctree_quick is the cheap form for sampling:
 * it reads only what it walks to.
 */
#ifndef LEAKBENCH_PROCTREE_H
#define LEAKBENCH_PROCTREE_H

#include <stdint.h>
#include <sys/types.h>

typedef struct lb_proctree_sample {
    int procs;         /* live members */
    int64_t threads;   /* OS threads over all members */
    int64_t rss_bytes; /* resident memory over all members */
    double cpu_s;      /* user + system CPU of the live members */
} lb_proctree_sample;

/*
 * Finds the members of the target rooted at root, in process group pgid
 * (0: none), and in the cgroup whose cgroup.procs file is cgroup_procs
 * (NULL: none).  Up to cap pids go to pids (may be NULL); the sums to
 * *out (may be NULL).  Returns the number of members (0 when everything
 * has exited), or a negative errno when /proc cannot be read.
 */
int lb_proctree_scan(pid_t root, pid_t pgid, const char *cgroup_procs, pid_t *pids, int cap,
                     lb_proctree_sample *out);

/*
 * The cheap form: root, the cgroup's list, and the known pids (members
 * found before, kept while still in process group pgid), with their
 * descendants through /proc/PID/task/TID/children — reading the stat
 * files of those alone.  It misses only a process that left the tree
 * (its parent exited) and is not in the cgroup or among the known pids;
 * a periodic lb_proctree_scan finds those.
 */
int lb_proctree_quick(pid_t root, pid_t pgid, const pid_t *known, int n_known,
                      const char *cgroup_procs, pid_t *pids, int cap, lb_proctree_sample *out);

#endif
