/*
 * sampler.c — /proc readers and the bounded sample series (sampler.h).
 *
 * /proc/<pid>/stat is parsed after the last ')' so a task name holding
 * spaces or parentheses cannot shift the fields; utime and stime are
 * fields 14 and 15 (proc(5)).  The thread count is the "Threads:" line
 * of /proc/<pid>/status.
 */
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_proc_file(pid_t pid, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

int lb_proc_open(lb_proc *p, pid_t pid)
{
    p->page_size = sysconf(_SC_PAGESIZE);
    p->clock_ticks = sysconf(_SC_CLK_TCK);
    p->cpu_s = 0;
    p->statm_fd = open_proc_file(pid, "statm");
    p->status_fd = open_proc_file(pid, "status");
    p->stat_fd = open_proc_file(pid, "stat");
    if (p->statm_fd < 0 || p->status_fd < 0 || p->stat_fd < 0) {
        int e = errno;
        lb_proc_close(p);
        return -e;
    }
    return 0;
}

void lb_proc_close(lb_proc *p)
{
    if (p->statm_fd >= 0) close(p->statm_fd);
    if (p->status_fd >= 0) close(p->status_fd);
    if (p->stat_fd >= 0) close(p->stat_fd);
    p->statm_fd = p->status_fd = p->stat_fd = -1;
}

int lb_thread_schedstat(int64_t *run_ns, int64_t *wait_ns)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "re");
    if (!f) return -errno;
    long long run, wait;
    int n = fscanf(f, "%lld %lld", &run, &wait);
    fclose(f);
    if (n != 2) return -EINVAL;
    *run_ns = run;
    *wait_ns = wait;
    return 0;
}

bool lb_sampler_priority_raise(void)
{
    struct sched_param p = {.sched_priority = 1};
    return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) == 0;
}

void lb_sampler_priority_lower(void)
{
    struct sched_param p = {.sched_priority = 0};
    sched_setscheduler(0, SCHED_OTHER, &p);
}

static ssize_t read_text(int fd, char *buf, size_t n)
{
    ssize_t got = pread(fd, buf, n - 1, 0);
    if (got <= 0) return got < 0 ? -errno : -ESRCH;
    buf[got] = 0;
    return got;
}

int lb_proc_read(lb_proc *p, lb_sample *s, bool read_cpu)
{
    char buf[4096];
    ssize_t r = read_text(p->statm_fd, buf, sizeof buf);
    if (r < 0) return (int)r;
    unsigned long size_pages, resident_pages;
    if (sscanf(buf, "%lu %lu", &size_pages, &resident_pages) != 2) return -EIO;
    s->rss_bytes = (int64_t)resident_pages * p->page_size;

    r = read_text(p->status_fd, buf, sizeof buf);
    if (r < 0) return (int)r;
    const char *threads = strstr(buf, "\nThreads:");
    if (!threads) return -EIO;
    s->threads = strtoll(threads + 9, NULL, 10);

    if (read_cpu) {
        r = read_text(p->stat_fd, buf, sizeof buf);
        if (r < 0) return (int)r;
        char *after = strrchr(buf, ')');
        if (!after) return -EIO;
        /* Fields from 3 (state) on; we want 14 utime and 15 stime. */
        unsigned long long utime = 0, stime = 0;
        int field = 2;
        char *save = NULL;
        for (char *tok = strtok_r(after + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            field++;
            if (field == 14) utime = strtoull(tok, NULL, 10);
            if (field == 15) {
                stime = strtoull(tok, NULL, 10);
                break;
            }
        }
        if (field != 15) return -EIO;
        p->cpu_s = (double)(utime + stime) / (double)p->clock_ticks;
    }
    s->cpu_s = p->cpu_s;
    return 0;
}

int lb_series_init(lb_series *s, size_t cap)
{
    memset(s, 0, sizeof *s);
    if (cap < 2) cap = 2;
    s->rows = malloc(cap * sizeof *s->rows);
    if (!s->rows) return -ENOMEM;
    s->cap = cap;
    s->stride = 1;
    return 0;
}

void lb_series_free(lb_series *s)
{
    free(s->rows);
    s->rows = NULL;
    s->n = s->cap = 0;
}

static void decimate(lb_series *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n; i += 2) s->rows[kept++] = s->rows[i];
    s->n = kept;
    s->stride *= 2;
    s->decimated = true;
}

bool lb_series_add(lb_series *s, const lb_sample *row)
{
    uint64_t tick = s->ticks++;
    if (tick % s->stride != 0) return false;
    if (s->n == s->cap) {
        decimate(s);
        if (tick % s->stride != 0) return false;
    }
    s->rows[s->n++] = *row;
    return true;
}

void lb_series_add_final(lb_series *s, const lb_sample *row)
{
    if (lb_series_add(s, row)) return;
    if (s->n == s->cap) decimate(s);
    s->rows[s->n++] = *row;
}
