/*
 * bench_util.h — measuring helpers shared by the runtime's benchmark
 * programs (the runtime/ files named *_bench.c).
 *
 * Header-only on purpose: the Makefile links each *_bench.c with the
 * runtime objects alone, so helpers the benchmarks share live here as
 * static functions rather than in a .c file the runtime would carry.
 *   - bench_env_long: a positive integer from the environment, or the
 *     default when unset; anything else ends the program with status 2
 *     and a message naming the program and the variable.
 *   - bench_sched_from_env: the scheduler LEAKBENCH_SCHED names, into a
 *     run configuration.
 *   - bench_median: the median of up to BENCH_MAX_REPS repetitions.
 *   - bench_resident_bytes: this process's resident memory, from
 *     /proc/self/statm (the RSS deltas the benchmarks print per task).
 */
#ifndef LEAKBENCH_BENCH_UTIL_H
#define LEAKBENCH_BENCH_UTIL_H

#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most repetitions bench_median looks at; callers clamp their
 * repetition count to their own arrays, at most this. */
#define BENCH_MAX_REPS 64

static inline long bench_env_long(const char *prog, const char *name, long def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x <= 0) {
        fprintf(stderr, "%s: %s=%s: expected a positive integer\n", prog, name, v);
        exit(2);
    }
    return x;
}

/* Sets cfg->sched from LEAKBENCH_SCHED (unset or empty: the default).
 * 0, or -EINVAL after saying on stderr what was wrong. */
static inline int bench_sched_from_env(const char *prog, rt_config *cfg)
{
    const char *s = getenv("LEAKBENCH_SCHED");
    if (s && *s && rt_sched_parse(s, &cfg->sched) != 0) {
        fprintf(stderr, "%s: LEAKBENCH_SCHED=%s: expected threads or coroutines\n", prog, s);
        return -EINVAL;
    }
    return 0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (of the first BENCH_MAX_REPS when n is larger);
 * v itself is left in its order. */
static inline double bench_median(const double *v, int n)
{
    double s[BENCH_MAX_REPS];
    if (n > BENCH_MAX_REPS) n = BENCH_MAX_REPS;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Resident memory of this process in bytes, or -1 if /proc is unreadable. */
static inline long bench_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size, res;
    int n = fscanf(f, "%ld %ld", &size, &res);
    fclose(f);
    return n == 2 ? res * sysconf(_SC_PAGESIZE) : -1;
}

#endif
