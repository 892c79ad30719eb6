/*
 * sampler.h — what the parent sees of a running child, tick by tick.
 *
 * lb_proc reads /proc/<pid>/statm (resident pages) and /proc/<pid>/stat
 * (CPU time, OS threads) through descriptors opened once per run, so a
 * sample costs two pread calls.  lb_series keeps samples in bounded
 * memory: when it is full it drops every other sample and from then on
 * keeps one tick in two (decimation by 2, repeated as needed), so long
 * runs keep their whole shape at a coarser resolution.
 */
#ifndef LEAKBENCH_SAMPLER_H
#define LEAKBENCH_SAMPLER_H

#include "../runtime/rt.h"
#include "../scenarios/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct lb_sample {
    double t_s; /* since the run's start (fork) */
    int phase;  /* lb_phase */
    int64_t tasks, rss_bytes, threads;
    double cpu_s;
    int64_t by_op[RT_OP_COUNT];
    int64_t submitted;
    int64_t outcome[LB_OUTCOME_COUNT];
    double lateness_ms;
} lb_sample;

typedef struct lb_proc {
    int statm_fd, stat_fd;
    long page_size, clock_ticks;
} lb_proc;

/* 0 or negative errno. */
int lb_proc_open(lb_proc *p, pid_t pid);
void lb_proc_close(lb_proc *p);
/* Fills rss_bytes, threads and cpu_s of s; 0 or negative errno (the
 * process is gone, or /proc is unreadable). */
int lb_proc_read(lb_proc *p, lb_sample *s);

typedef struct lb_series {
    lb_sample *rows;
    size_t n, cap;
    uint64_t stride; /* keep ticks whose index is a multiple of stride */
    uint64_t ticks;  /* ticks offered */
    bool decimated;
} lb_series;

#define LB_SERIES_DEFAULT_CAP 20000
int lb_series_init(lb_series *s, size_t cap); /* 0 or -ENOMEM; cap >= 2 */
void lb_series_free(lb_series *s);
/* Offers one tick's sample; true if it was kept. */
bool lb_series_add(lb_series *s, const lb_sample *row);
/* Forces the last row in (the final sample must not be decimated away). */
void lb_series_add_final(lb_series *s, const lb_sample *row);

#endif
