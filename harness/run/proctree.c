/*
 * proctree.c — a target's processes by descent, process group and cgroup.
 * (proctree.h has the rules.)  lb_proctree_scan reads every process's
 * stat; lb_proctree_quick walks children lists from known pids instead.
 */
#include "proctree.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct proc_row {
    pid_t pid, ppid, pgrp;
    char state;
    unsigned long long utime, stime;
    long threads, rss_pages;
    bool member;
} proc_row;

static bool read_stat(pid_t pid, proc_row *r)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    char *after = strrchr(buf, ')');
    if (!after || after[1] != ' ') return false;
    /* Field 3 is the state; count the rest by spaces. */
    char *p = after + 2;
    memset(r, 0, sizeof *r);
    r->pid = pid;
    r->state = *p;
    int field = 3;
    for (char *tok = p; tok && *tok; field++) {
        char *next = strchr(tok, ' ');
        long long v = strtoll(tok, NULL, 10);
        switch (field) {
        case 4:
            r->ppid = (pid_t)v;
            break;
        case 5:
            r->pgrp = (pid_t)v;
            break;
        case 14:
            r->utime = (unsigned long long)v;
            break;
        case 15:
            r->stime = (unsigned long long)v;
            break;
        case 20:
            r->threads = (long)v;
            break;
        case 24:
            r->rss_pages = (long)v;
            break;
        default:
            break;
        }
        if (field == 24) break;
        tok = next ? next + 1 : NULL;
    }
    return field == 24;
}

/* Pids listed in a cgroup.procs file, sorted; count or -errno. */
static int read_cgroup(const char *path, pid_t **out)
{
    *out = NULL;
    FILE *f = fopen(path, "re");
    if (!f) return -errno;
    int n = 0, cap = 0;
    long v;
    while (fscanf(f, "%ld", &v) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            pid_t *np = realloc(*out, (size_t)cap * sizeof *np);
            if (!np) {
                fclose(f);
                free(*out);
                *out = NULL;
                return -ENOMEM;
            }
            *out = np;
        }
        (*out)[n++] = (pid_t)v;
    }
    fclose(f);
    return n;
}

int lb_proctree_scan(pid_t root, pid_t pgid, const char *cgroup_procs, pid_t *pids, int cap,
                     lb_proctree_sample *out)
{
    DIR *d = opendir("/proc");
    if (!d) return -errno;
    proc_row *rows = NULL;
    int n = 0, rcap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        if (n == rcap) {
            rcap = rcap ? rcap * 2 : 512;
            proc_row *nr = realloc(rows, (size_t)rcap * sizeof *nr);
            if (!nr) {
                closedir(d);
                free(rows);
                return -ENOMEM;
            }
            rows = nr;
        }
        if (read_stat((pid_t)atoi(e->d_name), &rows[n])) n++;
    }
    closedir(d);
    pid_t *cg = NULL;
    int ncg = cgroup_procs ? read_cgroup(cgroup_procs, &cg) : 0;
    if (ncg < 0) ncg = 0; /* the cgroup is gone: the other rules still hold */
    for (int i = 0; i < n; i++) {
        proc_row *r = &rows[i];
        r->member = r->pid == root || (pgid > 0 && r->pgrp == pgid);
        for (int j = 0; j < ncg && !r->member; j++) r->member = cg[j] == r->pid;
    }
    /* Descendants: mark children of members until nothing changes. */
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < n; i++) {
            if (rows[i].member) continue;
            for (int j = 0; j < n; j++)
                if (rows[j].member && rows[j].pid == rows[i].ppid) {
                    rows[i].member = changed = true;
                    break;
                }
        }
    }
    long page = sysconf(_SC_PAGESIZE), hz = sysconf(_SC_CLK_TCK);
    lb_proctree_sample s = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        const proc_row *r = &rows[i];
        if (!r->member || r->state == 'Z' || r->state == 'X') continue;
        if (pids && s.procs < cap) pids[s.procs] = r->pid;
        s.procs++;
        s.threads += r->threads;
        s.rss_bytes += (int64_t)r->rss_pages * page;
        s.cpu_s += (double)(r->utime + r->stime) / (double)hz;
    }
    free(rows);
    free(cg);
    if (out) *out = s;
    return s.procs;
}

/* ------------------------------------------------------------- quick -- */

typedef struct pid_set {
    pid_t *v;
    int n, cap;
} pid_set;

static bool set_has(const pid_set *s, pid_t p)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == p) return true;
    return false;
}

static int set_add(pid_set *s, pid_t p)
{
    if (p <= 0 || set_has(s, p)) return 0;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        pid_t *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v) return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = p;
    return 0;
}

/* Adds the children of every thread of pid. */
static int add_children(pid_set *s, pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return 0; /* gone */
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char file[64];
        snprintf(file, sizeof file, "/proc/%d/task/%d/children", (int)pid, atoi(e->d_name));
        FILE *f = fopen(file, "re");
        if (!f) continue;
        long child;
        while (rc == 0 && fscanf(f, "%ld", &child) == 1) rc = set_add(s, (pid_t)child);
        fclose(f);
    }
    closedir(d);
    return rc;
}

int lb_proctree_quick(pid_t root, pid_t pgid, const pid_t *known, int n_known,
                      const char *cgroup_procs, pid_t *pids, int cap, lb_proctree_sample *out)
{
    pid_set s = {NULL, 0, 0};
    int rc = set_add(&s, root);
    if (rc == 0 && cgroup_procs) {
        pid_t *cg = NULL;
        int ncg = read_cgroup(cgroup_procs, &cg);
        for (int i = 0; rc == 0 && i < ncg; i++) rc = set_add(&s, cg[i]);
        free(cg);
    }
    int walked = 0;
    for (; rc == 0 && walked < s.n; walked++) rc = add_children(&s, s.v[walked]);
    /* A known pid not reached above counts only while it is still in the
     * process group: its number may have been reused since. */
    for (int i = 0; rc == 0 && i < n_known; i++) {
        proc_row r;
        if (set_has(&s, known[i]) || !read_stat(known[i], &r) || pgid <= 0 || r.pgrp != pgid)
            continue;
        rc = set_add(&s, known[i]);
        for (; rc == 0 && walked < s.n; walked++) rc = add_children(&s, s.v[walked]);
    }
    if (rc < 0) {
        free(s.v);
        return rc;
    }
    long page = sysconf(_SC_PAGESIZE), hz = sysconf(_SC_CLK_TCK);
    lb_proctree_sample sum = {0, 0, 0, 0};
    for (int i = 0; i < s.n; i++) {
        proc_row r;
        if (!read_stat(s.v[i], &r) || r.state == 'Z' || r.state == 'X') continue;
        if (pids && sum.procs < cap) pids[sum.procs] = r.pid;
        sum.procs++;
        sum.threads += r.threads;
        sum.rss_bytes += (int64_t)r.rss_pages * page;
        sum.cpu_s += (double)(r.utime + r.stime) / (double)hz;
    }
    free(s.v);
    if (out) *out = sum;
    return sum.procs;
}
