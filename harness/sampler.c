/*
 * sampler.c — /proc readers and the bounded sample series (sampler.h).
 *
 * /proc/<pid>/stat is parsed after the last ')' so a task name holding
 * spaces or parentheses cannot shift the fields; utime and stime are
 * fields 14 and 15, num_threads field 20 (proc(5)).
 */
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lb_proc_open(lb_proc *p, pid_t pid)
{
    char path[64];
    p->page_size = sysconf(_SC_PAGESIZE);
    p->clock_ticks = sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    p->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (p->statm_fd < 0) return -errno;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    p->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (p->stat_fd < 0) {
        int e = errno;
        close(p->statm_fd);
        return -e;
    }
    return 0;
}

void lb_proc_close(lb_proc *p)
{
    if (p->statm_fd >= 0) close(p->statm_fd);
    if (p->stat_fd >= 0) close(p->stat_fd);
    p->statm_fd = p->stat_fd = -1;
}

static ssize_t read_text(int fd, char *buf, size_t n)
{
    ssize_t got = pread(fd, buf, n - 1, 0);
    if (got <= 0) return got < 0 ? -errno : -ESRCH;
    buf[got] = 0;
    return got;
}

int lb_proc_read(lb_proc *p, lb_sample *s)
{
    char buf[1024];
    ssize_t r = read_text(p->statm_fd, buf, sizeof buf);
    if (r < 0) return (int)r;
    unsigned long size_pages, resident_pages;
    if (sscanf(buf, "%lu %lu", &size_pages, &resident_pages) != 2) return -EIO;
    s->rss_bytes = (int64_t)resident_pages * p->page_size;

    r = read_text(p->stat_fd, buf, sizeof buf);
    if (r < 0) return (int)r;
    char *after = strrchr(buf, ')');
    if (!after) return -EIO;
    /* Fields from 3 (state) on; we want 14 utime, 15 stime, 20 num_threads. */
    unsigned long long utime = 0, stime = 0;
    long long threads = 0;
    int field = 2;
    for (char *tok = strtok(after + 1, " "); tok; tok = strtok(NULL, " ")) {
        field++;
        if (field == 14)
            utime = strtoull(tok, NULL, 10);
        else if (field == 15)
            stime = strtoull(tok, NULL, 10);
        else if (field == 20) {
            threads = strtoll(tok, NULL, 10);
            break;
        }
    }
    if (field != 20) return -EIO;
    s->threads = threads;
    s->cpu_s = (double)(utime + stime) / (double)p->clock_ticks;
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
