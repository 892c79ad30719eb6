/*
 * target.c — start, watch, guard and stop an external target (target.h
 * has the contract and the keeper's design).
 *
 * Start, step by step:
 *   1. pick the port (bind 127.0.0.1:0, read it back, close) and build
 *      argv and the environment with {port} substituted;
 *   2. make the cgroup when a memory limit is asked for (else, or when it
 *      cannot be made, the guard is RSS polling and guard_note says why);
 *   3. make a control socket pair (so writing to a dead keeper is an
 *      error, not a SIGPIPE) and the stdout and stderr pipes, and fork the
 *      keeper, which keeps its ends and closes every other descriptor;
 *   4. fork the target: own process group, PDEATHSIG, into the cgroup,
 *      stdout/stderr to the pipes, stdin from /dev/null, cwd, exec.  An
 *      exec failure comes back as an errno over a close-on-exec pipe, so
 *      "no such program" is an error of lb_target_start, not an exit code;
 *   5. tell the keeper the target's pid (it kills -pid if we vanish).
 *
 * The keeper's log files: while a stream is within its cap it is appended
 * to the file as it comes; the keeper also keeps the last cap bytes in a
 * ring, and once the stream has passed the cap it rewrites the file from
 * the ring (under a line saying how much was dropped) every 200 ms while
 * new output arrives, and once more at the end.
 */
#include "target.h"

#include "http_get.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

const char *lb_guard_mechanism_name(lb_guard_mechanism m)
{
    switch (m) {
    case LB_GUARD_CGROUP_V1:
        return "cgroup v1";
    case LB_GUARD_CGROUP_V2:
        return "cgroup v2";
    case LB_GUARD_RSS_POLL:
        return "rss polling";
    default:
        return "off";
    }
}

const char *lb_shutdown_outcome_name(lb_shutdown_outcome o)
{
    switch (o) {
    case LB_SHUTDOWN_EXITED:
        return "exited";
    case LB_SHUTDOWN_KILLED:
        return "killed after the grace";
    default:
        return "already gone";
    }
}

const char *lb_signal_name(int sig, char *buf, size_t n)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, n, "SIG%s", abbrev);
    else
        snprintf(buf, n, "signal %d", sig);
    return buf;
}

const char *lb_wait_status_text(int status, char *buf, size_t n)
{
    char name[32];
    if (WIFEXITED(status))
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "killed by %s", lb_signal_name(WTERMSIG(status), name, sizeof name));
    else
        snprintf(buf, n, "wait status %#x", status);
    return buf;
}

/* ------------------------------------------------------------- ports -- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int rc = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        rc = -errno;
    close(fd);
    return rc < 0 ? rc : ntohs(a.sin_port);
}

/* s with every "{port}" replaced by port (malloc'd), or NULL. */
static char *substitute(const char *s, int port)
{
    char num[16];
    snprintf(num, sizeof num, "%d", port);
    size_t n = strlen(s) + 1;
    for (const char *p = s; (p = strstr(p, "{port}")); p += 6) n += strlen(num);
    char *out = malloc(n), *o = out;
    if (!out) return NULL;
    for (const char *p = s; *p;) {
        if (port >= 0 && strncmp(p, "{port}", 6) == 0) {
            o += sprintf(o, "%s", num);
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

/* A copy of v (NULL-terminated) with {port} substituted. */
static char **substitute_all(const char *const *v, int port)
{
    size_t n = 0;
    while (v && v[n]) n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = substitute(v[i], port))) {
            free_strv(out);
            return NULL;
        }
    return out;
}

/* leakbench's environment, then extra ("NAME=VALUE", replacing a name
 * already there), then PORT when there is a port. */
static char **build_env(char **extra, int port)
{
    size_t n = 0, m = 0;
    while (environ[n]) n++;
    while (extra && extra[m]) m++;
    char **out = calloc(n + m + 2, sizeof *out);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strcspn(environ[i], "=");
        bool replaced = port >= 0 && nl == 4 && strncmp(environ[i], "PORT", 4) == 0;
        for (size_t j = 0; j < m && !replaced; j++)
            replaced = strncmp(extra[j], environ[i], nl + 1) == 0;
        if (!replaced && !(out[k++] = strdup(environ[i]))) goto fail;
    }
    for (size_t j = 0; j < m; j++)
        if (!(out[k++] = strdup(extra[j]))) goto fail;
    if (port >= 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "PORT=%d", port);
        if (!(out[k++] = strdup(buf))) goto fail;
    }
    return out;
fail:
    free_strv(out);
    return NULL;
}

/* ------------------------------------------------------------ keeper -- */

typedef struct log_stream {
    int in;  /* pipe read end; -1 at EOF */
    int out; /* file; -1 when discarded */
    size_t cap;
    char *ring;     /* last cap bytes */
    size_t head;    /* next write position in ring */
    uint64_t total; /* bytes seen */
    bool dirty;     /* past the cap, ring newer than the file */
} log_stream;

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void log_take(log_stream *s, const char *buf, size_t n)
{
    if (s->out < 0) return;
    if (s->total + n <= s->cap)
        write_all(s->out, buf, n);
    else
        s->dirty = true;
    s->total += n;
    size_t start = n > s->cap ? n - s->cap : 0;
    for (size_t i = start; i < n; i++) {
        s->ring[s->head] = buf[i];
        s->head = (s->head + 1) % s->cap;
    }
}

/* Rewrites the file from the ring: "[... N bytes dropped ...]" + tail. */
static void log_flush(log_stream *s)
{
    if (s->out < 0 || !s->dirty) return;
    char head[128];
    int hl = snprintf(head, sizeof head,
                      "[leakbench: %llu earlier bytes dropped; the last %zu bytes follow]\n",
                      (unsigned long long)(s->total - s->cap), s->cap);
    if (ftruncate(s->out, 0) == 0 && lseek(s->out, 0, SEEK_SET) == 0) {
        write_all(s->out, head, (size_t)hl);
        write_all(s->out, s->ring + s->head, s->cap - s->head);
        write_all(s->out, s->ring, s->head);
    }
    s->dirty = false;
}

/* Reads what is there; false at EOF or error. */
static bool log_read(log_stream *s)
{
    char buf[65536];
    ssize_t r = read(s->in, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (r <= 0) {
        close(s->in);
        s->in = -1;
        return false;
    }
    log_take(s, buf, (size_t)r);
    return true;
}

static void kill_everything(pid_t pgid, const char *cgroup_procs)
{
    if (pgid > 0) kill(-pgid, SIGKILL);
    pid_t pids[LB_TARGET_MAX_MEMBERS];
    int n = lb_proctree_scan(pgid, pgid, cgroup_procs, pids, LB_TARGET_MAX_MEMBERS, NULL);
    for (int i = 0; i < n && i < LB_TARGET_MAX_MEMBERS; i++) kill(pids[i], SIGKILL);
}

/* What leakbench tells the keeper once the target is forked. */
typedef struct keeper_msg {
    pid_t pgid;
} keeper_msg;

#define KEEPER_DONE 'D'

static void close_other_fds(const int *keep, int n)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int dfd = dirfd(d), fds[1024], m = 0;
    struct dirent *e;
    while ((e = readdir(d)) && m < 1024) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dfd || fd <= 2) continue;
        bool kept = false;
        for (int i = 0; i < n; i++) kept |= keep[i] == fd;
        if (!kept) fds[m++] = fd;
    }
    closedir(d);
    for (int i = 0; i < m; i++) close(fds[i]);
}

static _Noreturn void keeper_main(int ctl, int out_in, int err_in, const lb_target_config *c,
                                  size_t cap, const char *cgroup_dir, const char *cgroup_procs)
{
    /* None of leakbench's signal handlers may run here (a handler that
     * longjmps or cleans up would act as leakbench inside the keeper). */
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    setpgid(0, 0);
    int keep[] = {ctl, out_in, err_in};
    close_other_fds(keep, 3);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 2) close(devnull);
    }
    log_stream s[2] = {{out_in, -1, cap, NULL, 0, 0, false}, {err_in, -1, cap, NULL, 0, 0, false}};
    const char *paths[2] = {c->stdout_path, c->stderr_path};
    for (int i = 0; i < 2; i++) {
        if (paths[i]) s[i].out = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (s[i].out >= 0 && !(s[i].ring = malloc(cap))) {
            close(s[i].out);
            s[i].out = -1;
        }
    }
    keeper_msg msg = {0};
    bool have_pid = false, done = false;
    double done_at = 0, last_flush = now_ms();
    for (;;) {
        struct pollfd p[3] = {
            {done ? -1 : ctl, POLLIN, 0}, {s[0].in, POLLIN, 0}, {s[1].in, POLLIN, 0}};
        int rc = poll(p, 3, 100);
        if (rc < 0 && errno != EINTR) break;
        if (p[0].revents) {
            char buf[sizeof msg];
            ssize_t r = read(ctl, buf, have_pid ? 1 : sizeof msg);
            if (r == (ssize_t)sizeof msg && !have_pid) {
                memcpy(&msg, buf, sizeof msg);
                have_pid = true;
            } else if (r == 1 && buf[0] == KEEPER_DONE) {
                done = true;
                done_at = now_ms();
            } else if (r == 0 || (r < 0 && errno != EINTR)) {
                /* leakbench is gone: nothing of its target may outlive it */
                kill_everything(have_pid ? msg.pgid : 0, cgroup_procs);
                if (cgroup_dir[0]) {
                    lb_cgroup cg = {LB_CGROUP_V1, "", "", 0};
                    snprintf(cg.dir, sizeof cg.dir, "%s", cgroup_dir);
                    snprintf(cg.procs, sizeof cg.procs, "%s", cgroup_procs);
                    lb_cgroup_destroy(&cg, 1000);
                }
                done = true;
                done_at = now_ms();
            }
        }
        for (int i = 0; i < 2; i++)
            if (p[i + 1].revents) log_read(&s[i]);
        double t = now_ms();
        if (t - last_flush >= 200) {
            log_flush(&s[0]);
            log_flush(&s[1]);
            last_flush = t;
        }
        /* Done: drain what the target wrote, but never wait on an orphan
         * that escaped the group and still holds the pipe. */
        if (done && ((s[0].in < 0 && s[1].in < 0) || t - done_at > 300)) break;
    }
    for (int i = 0; i < 2; i++) {
        log_flush(&s[i]);
        if (s[i].out >= 0) close(s[i].out);
    }
    _exit(0);
}

/* ------------------------------------------------------------- start -- */

static _Noreturn void target_main(const lb_target_config *c, char **argv, char **envp, int out_w,
                                  int err_w, int exec_w, pid_t parent, const lb_cgroup *cg)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* leakbench died before we got here */
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int err = 0;
    if (cg->kind != LB_CGROUP_NONE) err = lb_cgroup_enter(cg, getpid());
    int devnull = open("/dev/null", O_RDONLY);
    if (!err && (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0))
        err = -errno;
    if (!err && c->cwd && chdir(c->cwd) != 0) err = -errno;
    if (!err) {
        environ = envp;
        execvp(argv[0], argv);
        err = -errno;
    }
    int e = -err;
    ssize_t w = write(exec_w, &e, sizeof e);
    (void)w;
    _exit(127);
}

static void target_init(lb_target *t)
{
    memset(t, 0, sizeof *t);
    t->pid = t->keeper = -1;
    t->keeper_fd = -1;
    t->port = -1;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0) close(p[i]);
    p[0] = p[1] = -1;
}

int lb_target_start(const lb_target_config *c, lb_target *t, char *err, size_t n)
{
    target_init(t);
    if (!c->argv || !c->argv[0] || !c->argv[0][0]) {
        snprintf(err, n, "the target's command is empty");
        return -EINVAL;
    }
    int port = c->port;
    if (port == LB_TARGET_PORT_AUTO && (port = free_port()) < 0) {
        snprintf(err, n, "no free loopback port: %s", strerror(-port));
        return port;
    }
    if (port > 65535 || port < -1) {
        snprintf(err, n, "port %d is not 1-65535, auto or none", port);
        return -EINVAL;
    }
    t->port = port;
    if (port > 0) {
        lb_http_loopback(port, &t->addr, &t->addr_len);
        snprintf(t->host, sizeof t->host, "127.0.0.1:%d", port);
    }
    char **argv = substitute_all(c->argv, port), **extra = substitute_all(c->env, port);
    char **envp = argv && extra ? build_env(extra, port) : NULL;
    free_strv(extra);
    if (!argv || !envp) {
        free_strv(argv);
        free_strv(envp);
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    /* The memory guard: a cgroup where possible, else polling. */
    t->memory_limit_bytes = c->memory_limit_bytes;
    if (c->memory_limit_bytes > 0) {
        char why[200] = "disabled by the caller";
        int rc = c->no_cgroup
                     ? -EPERM
                     : lb_cgroup_create(&t->cgroup, c->memory_limit_bytes, why, sizeof why);
        if (rc == 0) {
            t->guard = t->cgroup.kind == LB_CGROUP_V2 ? LB_GUARD_CGROUP_V2 : LB_GUARD_CGROUP_V1;
        } else {
            t->guard = LB_GUARD_RSS_POLL;
            snprintf(t->guard_note, sizeof t->guard_note, "no cgroup: %s", why);
        }
    }
    int ctl[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, ex[2] = {-1, -1};
    int rc = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) || pipe2(out, O_CLOEXEC) ||
        pipe2(errp, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
        rc = -errno;
        snprintf(err, n, "pipe: %s", strerror(errno));
        goto fail;
    }
    size_t cap = c->log_cap_bytes ? c->log_cap_bytes : LB_TARGET_LOG_CAP;
    fflush(NULL);
    t->keeper = fork();
    if (t->keeper < 0) {
        rc = -errno;
        snprintf(err, n, "fork: %s", strerror(errno));
        goto fail;
    }
    if (t->keeper == 0)
        keeper_main(ctl[0], out[0], errp[0], c, cap, t->cgroup.kind ? t->cgroup.dir : "",
                    t->cgroup.kind ? t->cgroup.procs : "");
    close(ctl[0]);
    close(out[0]);
    close(errp[0]);
    ctl[0] = out[0] = errp[0] = -1;
    pid_t parent = getpid();
    t->pid = fork();
    if (t->pid < 0) {
        rc = -errno;
        snprintf(err, n, "fork: %s", strerror(errno));
        goto fail;
    }
    if (t->pid == 0) target_main(c, argv, envp, out[1], errp[1], ex[1], parent, &t->cgroup);
    setpgid(t->pid, t->pid); /* also here: no window where signals to -pid miss it */
    t->started_ms = now_ms();
    keeper_msg msg = {t->pid};
    if (send(ctl[1], &msg, sizeof msg, MSG_NOSIGNAL) != (ssize_t)sizeof msg) {
        rc = -EIO;
        snprintf(err, n, "cannot reach the keeper process");
        goto fail;
    }
    t->keeper_fd = ctl[1];
    ctl[1] = -1;
    close_pair(out);
    close_pair(errp);
    close(ex[1]);
    ex[1] = -1;
    int exec_errno = 0;
    ssize_t r;
    do r = read(ex[0], &exec_errno, sizeof exec_errno);
    while (r < 0 && errno == EINTR);
    close(ex[0]);
    free_strv(argv);
    free_strv(envp);
    if (r == (ssize_t)sizeof exec_errno) {
        lb_target_shutdown sd;
        lb_target_stop(t, SIGKILL, 0, &sd);
        snprintf(err, n, "cannot start %s: %s", c->argv[0], strerror(exec_errno));
        return -exec_errno;
    }
    return 0;
fail:
    close_pair(ctl);
    close_pair(out);
    close_pair(errp);
    close_pair(ex);
    free_strv(argv);
    free_strv(envp);
    if (t->pid > 0) {
        kill(-t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
    }
    if (t->keeper > 0) waitpid(t->keeper, NULL, 0); /* its control pipe is closed: it exits */
    lb_cgroup_destroy(&t->cgroup, 1000);
    target_init(t);
    return rc;
}

/* ----------------------------------------------------------- watching -- */

static const char *cgroup_procs(const lb_target *t)
{
    return t->cgroup.kind != LB_CGROUP_NONE ? t->cgroup.procs : NULL;
}

static void reap_main(lb_target *t)
{
    if (t->main_exited || t->pid <= 0) return;
    int status;
    if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
        t->main_exited = true;
        t->main_status = status;
    }
}

/* Scans that must agree before "no member is left" is believed. */
#define GONE_CONFIRM_SCANS 3

/* Live members (reaping the started process first, so it is not counted
 * as a zombie member).  /proc's listing can leave out a live process for
 * an instant: seen (kernel 6.18) with a server forked by the started
 * process just as that process exited, missing from one scan and back in
 * the next, which made a live target look gone.  So an empty scan is
 * repeated, and "none left" needs GONE_CONFIRM_SCANS empty scans in a row. */
static int members(lb_target *t, pid_t *pids, int cap, lb_proctree_sample *s)
{
    reap_main(t);
    if (t->pid <= 0) return 0;
    int m = 0;
    for (int i = 0; m == 0 && i < GONE_CONFIRM_SCANS; i++)
        m = lb_proctree_scan(t->pid, t->pid, cgroup_procs(t), pids, cap, s);
    /* Nothing alive, but the started process was not reaped yet: it
     * exited between the two looks and is a zombie, so this wait is short. */
    if (m == 0 && !t->main_exited && waitpid(t->pid, &t->main_status, 0) == t->pid)
        t->main_exited = true;
    return m;
}

#define FULL_SCAN_EVERY_MS 1000

/* Members for sampling: the cheap walk, with a full scan (that refreshes
 * the known pids) every FULL_SCAN_EVERY_MS and whenever the walk finds
 * nothing (so "gone" is always the full scan's word). */
static int members_quick(lb_target *t, lb_proctree_sample *s)
{
    reap_main(t);
    if (t->pid <= 0) return 0;
    double now = now_ms();
    int m = 0;
    if (now - t->scanned_ms < FULL_SCAN_EVERY_MS) {
        m = lb_proctree_quick(t->pid, t->pid, t->known, t->n_known, cgroup_procs(t), NULL, 0, s);
        if (m != 0) return m;
    }
    pid_t pids[LB_TARGET_MAX_MEMBERS];
    m = members(t, pids, LB_TARGET_MAX_MEMBERS, s);
    if (m >= 0) {
        t->n_known = m < 64 ? m : 64;
        memcpy(t->known, pids, (size_t)t->n_known * sizeof *pids);
        t->scanned_ms = now;
    }
    return m;
}

static void signal_members(lb_target *t, int sig)
{
    pid_t pids[LB_TARGET_MAX_MEMBERS];
    if (t->pid > 0) kill(-t->pid, sig);
    int m = members(t, pids, LB_TARGET_MAX_MEMBERS, NULL);
    for (int i = 0; i < m && i < LB_TARGET_MAX_MEMBERS; i++) kill(pids[i], sig);
}

static void format_mib(char *buf, size_t n, int64_t b)
{
    snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
}

int lb_target_poll(lb_target *t, lb_proctree_sample *s)
{
    lb_proctree_sample local;
    if (!s) s = &local;
    int m = members_quick(t, s);
    if (m < 0 || t->guard_fired) return m;
    char a[32], b[32];
    format_mib(b, sizeof b, t->memory_limit_bytes);
    if (t->guard == LB_GUARD_CGROUP_V1 || t->guard == LB_GUARD_CGROUP_V2) {
        int64_t kills = 0;
        if (lb_cgroup_oom_kills(&t->cgroup, &kills) == 0 && kills > 0) {
            t->guard_fired = true;
            snprintf(t->guard_reason, sizeof t->guard_reason, "%s OOM kill (limit %s)",
                     lb_guard_mechanism_name(t->guard), b);
        }
    } else if (t->guard == LB_GUARD_RSS_POLL && s->rss_bytes > t->memory_limit_bytes) {
        t->guard_fired = true;
        format_mib(a, sizeof a, s->rss_bytes);
        snprintf(t->guard_reason, sizeof t->guard_reason, "rss %s > limit %s (rss polling)", a, b);
    }
    /* A guard kill takes the whole target, as a container's OOM kill does. */
    if (t->guard_fired) signal_members(t, SIGKILL);
    return m;
}

static int tcp_connects(const lb_target *t, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int rc = connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) == 0 ? 0 : -errno;
    if (rc == -EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        rc = poll(&p, 1, timeout_ms) == 1 ? 0 : -ETIMEDOUT;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr)
            rc = -soerr;
    }
    close(fd);
    return rc;
}

int lb_target_wait_ready(lb_target *t, lb_ready_kind kind, const char *path, int timeout_ms,
                         double *ready_ms, char *err, size_t n)
{
    double deadline = now_ms() + timeout_ms;
    snprintf(err, n, "no attempt made");
    if (kind != LB_READY_NONE && t->port <= 0) {
        snprintf(err, n, "a readiness check needs a port");
        return -EINVAL;
    }
    for (;;) {
        if (kind == LB_READY_NONE) break;
        int rc;
        int left = (int)(deadline - now_ms());
        int attempt = left < 250 ? (left > 10 ? left : 10) : 250;
        if (kind == LB_READY_TCP) {
            rc = tcp_connects(t, attempt);
            if (rc < 0) snprintf(err, n, "connect to %s: %s", t->host, strerror(-rc));
        } else {
            lb_http_response r;
            rc = lb_http_get((const struct sockaddr *)&t->addr, t->addr_len, t->host,
                             path ? path : "/", attempt, 4096, &r, err, n);
            if (rc == 0) {
                if (r.status < 200 || r.status > 299) {
                    snprintf(err, n, "GET %s: HTTP %d", path ? path : "/", r.status);
                    rc = -EPROTO;
                }
                lb_http_response_free(&r);
            }
        }
        if (rc == 0) break;
        if (members(t, NULL, 0, NULL) == 0) {
            char st[64];
            snprintf(err, n, "the target exited before it was ready (%s)",
                     t->main_exited ? lb_wait_status_text(t->main_status, st, sizeof st)
                                    : "status unknown");
            return -ECHILD;
        }
        if (now_ms() >= deadline) {
            char last[256];
            snprintf(last, sizeof last, "%s", err);
            snprintf(err, n, "not ready after %d ms: %s", timeout_ms, last);
            return -ETIMEDOUT;
        }
        sleep_ms(20);
    }
    if (ready_ms) *ready_ms = now_ms() - t->started_ms;
    return 0;
}

/* ----------------------------------------------------------- stopping -- */

/* Waits up to ms for every member to exit; the time taken (until the
 * look that found none began, so confirming it is not counted), or -1. */
static double wait_gone(lb_target *t, double start, int ms)
{
    for (;;) {
        double looked = now_ms();
        if (members_quick(t, NULL) <= 0) return looked - start;
        if (now_ms() - start >= ms) return -1;
        sleep_ms(5);
    }
}

int lb_target_stop(lb_target *t, int sig, int grace_ms, lb_target_shutdown *out)
{
    memset(out, 0, sizeof *out);
    if (t->pid > 0) {
        double start = now_ms();
        if (members(t, NULL, 0, NULL) == 0) {
            out->outcome = LB_SHUTDOWN_ALREADY_GONE;
        } else {
            signal_members(t, sig);
            double took = wait_gone(t, start, grace_ms);
            if (took >= 0) {
                out->outcome = LB_SHUTDOWN_EXITED;
                out->shutdown_ms = took;
            } else {
                out->outcome = LB_SHUTDOWN_KILLED;
                signal_members(t, SIGKILL);
                double killed = now_ms();
                if (wait_gone(t, killed, 1000) < 0) out->leftover = members(t, NULL, 0, NULL);
                out->shutdown_ms = now_ms() - start;
            }
        }
        if (!t->main_exited) { /* a zombie by now, or stuck: reap it for good */
            kill(t->pid, SIGKILL);
            if (waitpid(t->pid, &t->main_status, 0) == t->pid) t->main_exited = true;
        }
        out->main_exited = t->main_exited;
        out->main_status = t->main_status;
    }
    if (t->keeper_fd >= 0) {
        char done = KEEPER_DONE;
        ssize_t w = send(t->keeper_fd, &done, 1, MSG_NOSIGNAL);
        (void)w;
        close(t->keeper_fd);
        t->keeper_fd = -1;
    }
    if (t->keeper > 0) waitpid(t->keeper, NULL, 0); /* it drains for at most 300 ms */
    t->keeper = -1;
    int rc = lb_cgroup_destroy(&t->cgroup, 1000);
    t->pid = -1;
    return rc;
}
