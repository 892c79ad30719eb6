/*
 * cgroup.c — create, enter, read and remove one memory cgroup (v2 or v1).
 *
 * How it works: the hierarchy is chosen by what is mounted: v2 when
 * /sys/fs/cgroup/cgroup.controllers lists "memory", else v1 when
 * /sys/fs/cgroup/memory exists.  leakbench's own place in it is read from
 * /proc/self/cgroup ("0::/path" for v2, "N:memory:/path" for v1) and the
 * group is made below it; on v2 the parent must delegate memory
 * (cgroup.subtree_control lists it), which is tried and otherwise fails.
 * Writing a pid to cgroup.procs moves that process; its future children
 * are born inside.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

const char *lb_cgroup_kind_name(lb_cgroup_kind k)
{
    switch (k) {
    case LB_CGROUP_V1:
        return "cgroup v1";
    case LB_CGROUP_V2:
        return "cgroup v2";
    default:
        return "none";
    }
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int rc = w == (ssize_t)n ? 0 : (w < 0 ? -errno : -EIO);
    close(fd);
    return rc;
}

static int read_file(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t r = read(fd, buf, n - 1);
    int e = errno;
    close(fd);
    if (r < 0) return -e;
    buf[r] = 0;
    return 0;
}

/* leakbench's own path in the hierarchy: for v1 the memory line, for v2
 * the "0::" line.  "/" when not found. */
static void own_path(bool v2, char *out, size_t n)
{
    snprintf(out, n, "/");
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = 0;
        const char *controllers = c1 + 1;
        bool match = v2 ? (strncmp(line, "0", 1) == 0 && !*controllers)
                        : strstr(controllers, "memory") != NULL;
        if (match) {
            snprintf(out, n, "%s", c2 + 1);
            break;
        }
    }
    fclose(f);
}

static bool v2_has_memory(void)
{
    char buf[512];
    return read_file(CGROUP_ROOT "/cgroup.controllers", buf, sizeof buf) == 0 &&
           strstr(buf, "memory") != NULL;
}

int lb_cgroup_create(lb_cgroup *cg, int64_t limit_bytes, char *err, size_t n)
{
    static _Atomic int seq;
    memset(cg, 0, sizeof *cg);
    bool v2 = v2_has_memory();
    char base[64], path[400];
    if (v2) {
        snprintf(base, sizeof base, CGROUP_ROOT);
    } else {
        struct stat st;
        if (stat(CGROUP_ROOT "/memory", &st) != 0) {
            snprintf(err, n,
                     "no memory cgroup: neither cgroup v2 with the memory controller "
                     "nor a v1 hierarchy at " CGROUP_ROOT "/memory");
            return -ENOTSUP;
        }
        snprintf(base, sizeof base, CGROUP_ROOT "/memory");
    }
    own_path(v2, path, sizeof path);
    if (strcmp(path, "/") == 0) path[0] = 0;
    snprintf(cg->dir, sizeof cg->dir, "%s%s/leakbench-%d-%d", base, path, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    if (v2) {
        char ctl[600];
        snprintf(ctl, sizeof ctl, "%s%s/cgroup.subtree_control", base, path);
        write_file(ctl, "+memory"); /* delegate memory if we may; checked below */
    }
    if (mkdir(cg->dir, 0755) != 0) {
        int e = errno;
        snprintf(err, n, "cannot create the cgroup %s: %s", cg->dir, strerror(e));
        return -e;
    }
    char file[600], num[32];
    snprintf(file, sizeof file, "%s/%s", cg->dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    snprintf(num, sizeof num, "%lld", (long long)limit_bytes);
    int rc = write_file(file, num);
    if (rc == 0 && !v2) {
        /* Without swap accounting the limit could push pages to swap
         * instead of OOM-killing; limit memory+swap too where it exists. */
        snprintf(file, sizeof file, "%s/memory.memsw.limit_in_bytes", cg->dir);
        if (access(file, F_OK) == 0) write_file(file, num);
    }
    if (rc < 0) {
        snprintf(err, n, "cannot set the memory limit in %s: %s", file, strerror(-rc));
        rmdir(cg->dir);
        return rc;
    }
    snprintf(cg->procs, sizeof cg->procs, "%s/cgroup.procs", cg->dir);
    cg->kind = v2 ? LB_CGROUP_V2 : LB_CGROUP_V1;
    cg->limit_bytes = limit_bytes;
    return 0;
}

int lb_cgroup_enter(const lb_cgroup *cg, pid_t pid)
{
    char num[32];
    snprintf(num, sizeof num, "%d", (int)pid);
    return write_file(cg->procs, num);
}

/* The number after "key " in a flat keyed file. */
static int keyed_value(const char *path, const char *key, int64_t *v)
{
    char buf[4096];
    int rc = read_file(path, buf, sizeof buf);
    if (rc < 0) return rc;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
            *v = strtoll(line + kl + 1, NULL, 10);
            return 0;
        }
    return -ENOENT;
}

int lb_cgroup_oom_kills(const lb_cgroup *cg, int64_t *kills)
{
    char path[600];
    *kills = 0;
    if (cg->kind == LB_CGROUP_NONE) return -EINVAL;
    snprintf(path, sizeof path, "%s/%s", cg->dir,
             cg->kind == LB_CGROUP_V2 ? "memory.events" : "memory.oom_control");
    return keyed_value(path, "oom_kill", kills);
}

/* SIGKILLs what is listed; the number listed, or -errno. */
static int kill_listed(const lb_cgroup *cg)
{
    FILE *f = fopen(cg->procs, "re");
    if (!f) return -errno;
    long pid;
    int n = 0;
    while (fscanf(f, "%ld", &pid) == 1) {
        kill((pid_t)pid, SIGKILL);
        n++;
    }
    fclose(f);
    return n;
}

int lb_cgroup_destroy(lb_cgroup *cg, int wait_ms)
{
    if (cg->kind == LB_CGROUP_NONE) return 0;
    for (int waited = 0;; waited += 10) {
        int listed = kill_listed(cg);
        if (listed == -ENOENT) break; /* already removed */
        if (listed <= 0 && rmdir(cg->dir) == 0) break;
        if (waited >= wait_ms) return -EBUSY;
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    cg->kind = LB_CGROUP_NONE;
    return 0;
}
