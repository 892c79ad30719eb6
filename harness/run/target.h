/*
 * target.h — an external target (a user's program) started, watched,
 * guarded and stopped from outside, with nothing ever left running.
 *
 * lb_target_start runs a command (an argv array, no shell) in its own
 * process group, in a working directory, with extra environment and a
 * port ("auto": a free loopback port, passed as $PORT and substituted for
 * every "{port}" in argv and in environment values).  Its stdout and
 * stderr go to two files, each bounded: past the cap only the tail is
 * kept, under a line saying how much was dropped.  Where the machine
 * allows, it is born inside its own memory cgroup (cgroup.h) whose limit
 * is the memory guard; otherwise the guard is RSS polling in
 * lb_target_poll, which SIGKILLs the group past the limit.
 *
 * The keeper.  Before the target, lb_target_start forks a small keeper
 * process that holds one end of a socket pair whose other end only
 * leakbench has (close-on-exec, and closed in every other child).  The
 * keeper copies the target's output into the bounded files and waits.
 * When leakbench finishes with the target it says so on the socket and the
 * keeper flushes the logs and exits; when leakbench disappears instead —
 * exit without cleanup, SIGINT, SIGTERM, even SIGKILL — the socket reads
 * EOF and the keeper SIGKILLs the target's process group and everything
 * in its cgroup, then exits.  The keeper ignores SIGINT, SIGTERM and
 * SIGHUP and sits in a process group of its own, so the signal that
 * kills leakbench does not kill it first.  The target also gets
 * PR_SET_PDEATHSIG(SIGKILL), which covers the moment before the keeper
 * knows its pid.
 *
 * Members.  What "the target" is when sampling and stopping: the started
 * process, everything in its process group, its descendants and its
 * cgroup (proctree.h), so a wrapper script does not hide the server and a
 * forked grandchild whose parent exited is still found and killed.
 *
 * Not thread-safe: one thread owns a target.  Every call that waits takes
 * a timeout; none blocks past it.
 */
#ifndef LEAKBENCH_TARGET_H
#define LEAKBENCH_TARGET_H

#include "cgroup.h"
#include "proctree.h"
#include "core/target_spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define LB_TARGET_LOG_CAP     (1u << 20)
#define LB_TARGET_MAX_MEMBERS 4096

typedef struct lb_target_config {
    const char *const *argv; /* NULL-terminated; argv[0] looked up in PATH */
    const char *cwd;         /* NULL: leakbench's */
    const char *const
        *env; /* "NAME=VALUE" added to leakbench's environment; NULL-terminated, or NULL */
    int port; /* a port, LB_TARGET_PORT_AUTO or LB_TARGET_PORT_NONE */
    const char *stdout_path, *stderr_path; /* NULL: discarded */
    size_t log_cap_bytes;                  /* per file; 0: LB_TARGET_LOG_CAP */
    int64_t memory_limit_bytes;            /* 0: no memory guard */
    bool no_cgroup;                        /* use RSS polling even where a cgroup is possible */
} lb_target_config;

typedef enum lb_guard_mechanism {
    LB_GUARD_OFF = 0, /* no memory limit asked for */
    LB_GUARD_CGROUP_V1,
    LB_GUARD_CGROUP_V2,
    LB_GUARD_RSS_POLL,
} lb_guard_mechanism;
const char *
lb_guard_mechanism_name(lb_guard_mechanism m); /* "off", "cgroup v1", "cgroup v2", "rss polling" */

typedef struct lb_target {
    pid_t pid;                    /* the started process; also its process group */
    pid_t keeper;                 /* the keeper process */
    int keeper_fd;                /* leakbench's end of the keeper's socket; -1 once released */
    int port;                     /* the port it was given, or -1 */
    struct sockaddr_storage addr; /* 127.0.0.1:port */
    socklen_t addr_len;
    char host[32]; /* "127.0.0.1:port", the Host header */
    lb_cgroup cgroup;
    lb_guard_mechanism guard;
    char guard_note[320]; /* why no cgroup, when the guard is RSS polling */
    int64_t memory_limit_bytes;
    bool main_exited; /* the started process was reaped */
    int main_status;  /* its wait status, valid when main_exited */
    bool guard_fired;
    char guard_reason[160]; /* "cgroup v1 OOM kill (limit 64.0 MiB)", "rss 70.1 MiB > limit 64.0
                               MiB" */
    double started_ms;      /* CLOCK_MONOTONIC */
    /* Members as last found by a full /proc scan, and when: samples use
     * the cheap walk from these (proctree.h) and rescan every second. */
    pid_t known[64];
    int n_known;
    double scanned_ms;
} lb_target;

/* Starts the target.  0, or a negative errno with the reason in err:
 * -ENOENT / -EACCES when argv[0] cannot be executed (checked before the
 * call returns), -EINVAL for an empty argv, ... Nothing is left running
 * after an error. */
int lb_target_start(const lb_target_config *c, lb_target *t, char *err, size_t n);

/* lb_ready_kind and the port sentinels LB_TARGET_PORT_AUTO / _NONE live
 * with the spec that names them (core/target_spec.h). */

/*
 * Waits until the target answers: LB_READY_HTTP a GET of path with a 2xx
 * status, LB_READY_TCP a TCP connect to its port, LB_READY_NONE at once.
 * 0 when ready (*ready_ms, if not NULL, is the time since start);
 * -ECHILD when every member exited first (t->main_status says how);
 * -ETIMEDOUT when timeout_ms passed (err has the last attempt's error).
 */
int lb_target_wait_ready(lb_target *t, lb_ready_kind kind, const char *path, int timeout_ms,
                         double *ready_ms, char *err, size_t n);

/*
 * One sample of the whole process tree; enforces the memory guard (a
 * cgroup OOM kill, or RSS past the limit under polling: then the whole
 * target is SIGKILLed and t->guard_fired set).  Returns the number of
 * live members (0: the target is gone), or a negative errno.
 */
int lb_target_poll(lb_target *t, lb_proctree_sample *s);

typedef enum lb_shutdown_outcome {
    LB_SHUTDOWN_ALREADY_GONE = 0, /* nothing was left to signal */
    LB_SHUTDOWN_EXITED,           /* every member exited within the grace */
    LB_SHUTDOWN_KILLED,           /* past the grace: SIGKILLed */
} lb_shutdown_outcome;
const char *lb_shutdown_outcome_name(
    lb_shutdown_outcome o); /* "already gone", "exited", "killed after the grace" */

typedef struct lb_target_shutdown {
    lb_shutdown_outcome outcome;
    double shutdown_ms; /* from the signal until no member was left */
    bool main_exited;
    int main_status; /* wait status of the started process */
    int leftover; /* members still found after SIGKILL and a second: 0 unless the kernel refused */
} lb_target_shutdown;

/*
 * Stops the target: sig to every member (process group, descendants,
 * cgroup), waits up to grace_ms for all to exit, then SIGKILL and up to a
 * second more; then tells the keeper to flush the logs and exit, reaps it
 * and removes the cgroup.  Safe to call on a target that is already gone.
 * Afterwards t holds no process or descriptor.  0 or a negative errno.
 */
int lb_target_stop(lb_target *t, int sig, int grace_ms, lb_target_shutdown *out);

/* "SIGTERM" (or "signal 64" for one without a name) in buf; returns buf. */
const char *lb_signal_name(int sig, char *buf, size_t n);

/* "exited with status 3", "killed by SIGKILL" (buf, n bytes); returns buf. */
const char *lb_wait_status_text(int status, char *buf, size_t n);

#endif
