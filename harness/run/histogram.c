/*
 * histogram.c — fixed-memory log-bucketed histogram (see histogram.h).
 *
 * Bucket index for a value v >= LB_HIST_SUB: let e be the position of its
 * highest set bit; the bucket is (e - SUB_BITS + 1) * SUB + the SUB_BITS
 * bits right below the top bit.  Values below SUB map to themselves.
 */
#include "histogram.h"

#include <string.h>

void lb_hist_reset(lb_histogram *h)
{
    memset(h, 0, sizeof *h);
}

void lb_hist_copy(lb_histogram *dst, const lb_histogram *src)
{
    lb_histogram *s = (lb_histogram *)src; /* atomic_load takes a non-const pointer in C11 */
    atomic_store_explicit(&dst->count, atomic_load_explicit(&s->count, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&dst->sum_us, atomic_load_explicit(&s->sum_us, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&dst->max_us, atomic_load_explicit(&s->max_us, memory_order_relaxed),
                          memory_order_relaxed);
    for (int b = 0; b < LB_HIST_BUCKETS; b++)
        atomic_store_explicit(&dst->bucket[b],
                              atomic_load_explicit(&s->bucket[b], memory_order_relaxed),
                              memory_order_relaxed);
}

int lb_hist_bucket_of(uint64_t us)
{
    if (us < LB_HIST_SUB) return (int)us;
    int e = 63 - __builtin_clzll(us);
    if (e > LB_HIST_MAX_EXP) return LB_HIST_BUCKETS - 1;
    int sub = (int)((us >> (e - LB_HIST_SUB_BITS)) & (LB_HIST_SUB - 1));
    return (e - LB_HIST_SUB_BITS + 1) * LB_HIST_SUB + sub;
}

uint64_t lb_hist_bucket_lo(int b)
{
    if (b < LB_HIST_SUB) return (uint64_t)b;
    int e = b / LB_HIST_SUB + LB_HIST_SUB_BITS - 1;
    int sub = b % LB_HIST_SUB;
    return ((uint64_t)1 << e) + ((uint64_t)sub << (e - LB_HIST_SUB_BITS));
}

uint64_t lb_hist_bucket_hi(int b)
{
    if (b < LB_HIST_SUB) return (uint64_t)b + 1;
    int e = b / LB_HIST_SUB + LB_HIST_SUB_BITS - 1;
    return lb_hist_bucket_lo(b) + ((uint64_t)1 << (e - LB_HIST_SUB_BITS));
}

void lb_hist_record_us(lb_histogram *h, uint64_t us)
{
    atomic_fetch_add_explicit(&h->bucket[lb_hist_bucket_of(us)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    while (us > max && !atomic_compare_exchange_weak_explicit(
                           &h->max_us, &max, us, memory_order_relaxed, memory_order_relaxed)) {
    }
}

double lb_hist_quantile_us(const lb_histogram *h, double q)
{
    uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
    if (count == 0) return 0;
    if (q < 0) q = 0;
    if (q > 1) q = 1;
    /* The rank of the wanted value, 1-based: ceil(q * count), at least 1. */
    uint64_t rank = (uint64_t)(q * (double)count);
    if ((double)rank < q * (double)count) rank++;
    if (rank == 0) rank = 1;
    uint64_t max = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    uint64_t seen = 0;
    for (int b = 0; b < LB_HIST_BUCKETS; b++) {
        seen += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
        if (seen >= rank) {
            if (b < LB_HIST_SUB) return (double)b; /* exact */
            double mid = ((double)lb_hist_bucket_lo(b) + (double)lb_hist_bucket_hi(b) - 1) / 2;
            return mid > (double)max ? (double)max : mid;
        }
    }
    return (double)max;
}

double lb_hist_mean_us(const lb_histogram *h)
{
    uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
    if (count == 0) return 0;
    return (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / (double)count;
}
