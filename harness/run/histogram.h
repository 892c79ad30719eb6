/*
 * histogram.h — a fixed-memory, log-bucketed latency histogram.
 *
 * Values are recorded in microseconds into buckets that split every power
 * of two into LB_HIST_SUB equal parts (HdrHistogram's layout with one
 * significant binary digit group): values below LB_HIST_SUB us get one
 * bucket each, and every bucket above is at most 1/LB_HIST_SUB (6.25%)
 * wide relative to its lower bound.  The struct has no pointers, so it can
 * live in the shared page between a run's child (which records, from many
 * tasks at once, with relaxed atomics) and the parent (which reads it
 * after the child has exited).
 */
#ifndef LEAKBENCH_HISTOGRAM_H
#define LEAKBENCH_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#define LB_HIST_SUB_BITS 4
#define LB_HIST_SUB      (1 << LB_HIST_SUB_BITS)
#define LB_HIST_MAX_EXP  40 /* values up to 2^40 us (~12.7 days) */
#define LB_HIST_BUCKETS  ((LB_HIST_MAX_EXP - LB_HIST_SUB_BITS + 1) * LB_HIST_SUB + LB_HIST_SUB)

typedef struct lb_histogram {
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us;
    _Atomic uint64_t max_us;
    _Atomic uint64_t bucket[LB_HIST_BUCKETS];
} lb_histogram;

void lb_hist_reset(lb_histogram *h);
/* Copies src into dst, every counter read with relaxed ordering (a copy
 * taken while src is being recorded is not one instant's). */
void lb_hist_copy(lb_histogram *dst, const lb_histogram *src);
void lb_hist_record_us(lb_histogram *h, uint64_t us);
/* Index of the bucket holding us, and the bucket's bounds [lo, hi). */
int lb_hist_bucket_of(uint64_t us);
uint64_t lb_hist_bucket_lo(int b);
uint64_t lb_hist_bucket_hi(int b);
/* The value at quantile q (0..1): the midpoint of the bucket holding it,
 * clamped to the recorded maximum; 0 when empty. */
double lb_hist_quantile_us(const lb_histogram *h, double q);
double lb_hist_mean_us(const lb_histogram *h);

#endif
