/*
 * sampler.h — what the parent sees of a running child, tick by tick.
 *
 * lb_proc reads /proc/<pid>/statm (resident pages), /proc/<pid>/status
 * (OS threads) and /proc/<pid>/stat (CPU time) through descriptors opened
 * once per run.  statm and status cost about the same whatever the child
 * does (1 and 20 us at 5,000 threads on our machines), but stat sums the
 * CPU time of every thread (440 us at 5,000 threads), so the CPU time is
 * refreshed only every LB_PROC_CPU_PERIOD_MS and carried over in between.  lb_series keeps samples
 * in bounded memory: when it is full it drops every other sample and from then on keeps one tick in
 * two (decimation by 2, repeated as needed), so long runs keep their whole shape at a coarser
 * resolution.
 */
#ifndef LEAKBENCH_SAMPLER_H
#define LEAKBENCH_SAMPLER_H

#include "runtime/rt.h"
#include "scenarios/scenario.h"

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

#define LB_PROC_CPU_PERIOD_MS 100

typedef struct lb_proc {
    int statm_fd, status_fd, stat_fd;
    long page_size, clock_ticks;
    double cpu_s; /* last CPU time read */
} lb_proc;

/* 0 or negative errno. */
int lb_proc_open(lb_proc *p, pid_t pid);
void lb_proc_close(lb_proc *p);
/* Fills rss_bytes, threads and cpu_s of s, reading the CPU time afresh
 * only when read_cpu (else the last value); 0 or negative errno (the
 * process is gone, or /proc is unreadable). */
int lb_proc_read(lb_proc *p, lb_sample *s, bool read_cpu);

/* The calling thread's time on a CPU and its time runnable but waiting
 * for one, so far (the first two fields of /proc/thread-self/schedstat,
 * in ns; exact where rusage is sampled at the tick): 0, or -errno. */
int lb_thread_schedstat(int64_t *run_ns, int64_t *wait_ns);

/* Puts the calling thread, the sampler, at real-time priority (SCHED_FIFO
 * 1, not passed on to processes it forks) where the system allows it
 * (CAP_SYS_NICE or an RLIMIT_RTPRIO), so that the children it measures,
 * busy on every CPU, cannot make its ticks late: true if it did.  Each
 * tick is a few /proc reads, and the kernel's real-time throttling still
 * keeps a share of every CPU for others.  lb_sampler_priority_lower puts
 * it back to the normal policy. */
bool lb_sampler_priority_raise(void);
void lb_sampler_priority_lower(void);

typedef struct lb_series {
    lb_sample *rows;
    size_t n, cap;
    uint64_t stride; /* keep ticks whose index is a multiple of stride */
    uint64_t ticks;  /* ticks offered */
    bool decimated;
} lb_series;

/* 8192 samples: 82 s at 10 ms before the first decimation; about 1.4 MB
 * per run, which every run of a suite keeps until results are written. */
#define LB_SERIES_DEFAULT_CAP 8192
int lb_series_init(lb_series *s, size_t cap); /* 0 or -ENOMEM; cap >= 2 */
void lb_series_free(lb_series *s);
/* Offers one tick's sample; true if it was kept. */
bool lb_series_add(lb_series *s, const lb_sample *row);
/* Forces the last row in (the final sample must not be decimated away). */
void lb_series_add_final(lb_series *s, const lb_sample *row);

#endif
