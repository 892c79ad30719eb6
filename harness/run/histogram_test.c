/*
 * histogram_test.c — the log-bucketed latency histogram: bucket bounds
 * tile the value range without gaps, every value lands in the bucket
 * whose bounds hold it, quantiles are within the bucket width (6.25%) of
 * the exact ones, and concurrent recording from many threads loses no
 * count.
 */
#include "histogram.h"
#include "core/test_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void buckets_tile_the_range(void **state)
{
    (void)state;
    for (int b = 0; b + 1 < LB_HIST_BUCKETS; b++) {
        assert_true(lb_hist_bucket_lo(b) < lb_hist_bucket_hi(b));
        assert_int_equal(lb_hist_bucket_hi(b), lb_hist_bucket_lo(b + 1));
    }
    assert_int_equal(lb_hist_bucket_lo(0), 0);
}

static void values_land_in_their_bucket(void **state)
{
    (void)state;
    uint64_t values[] = {
        0, 1, 15, 16, 17, 31, 32, 33, 1000, 65535, 65536, 123456789, (uint64_t)1 << 39};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        int b = lb_hist_bucket_of(values[i]);
        assert_true(b >= 0 && b < LB_HIST_BUCKETS);
        assert_true(lb_hist_bucket_lo(b) <= values[i]);
        assert_true(values[i] < lb_hist_bucket_hi(b));
        /* relative width at most 1/16 above the exact range */
        if (values[i] >= LB_HIST_SUB)
            assert_true((lb_hist_bucket_hi(b) - lb_hist_bucket_lo(b)) * LB_HIST_SUB <=
                        lb_hist_bucket_lo(b));
    }
    /* Values beyond the range are clamped into the last bucket. */
    assert_int_equal(lb_hist_bucket_of(UINT64_MAX), LB_HIST_BUCKETS - 1);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void quantiles_are_within_bucket_width(void **state)
{
    (void)state;
    static lb_histogram h;
    lb_hist_reset(&h);
    enum { N = 10000 };
    static uint64_t v[N];
    srand(7);
    uint64_t sum = 0;
    for (int i = 0; i < N; i++) {
        v[i] = (uint64_t)(rand() % 200000) + 1; /* 1 us .. 200 ms */
        sum += v[i];
        lb_hist_record_us(&h, v[i]);
    }
    qsort(v, N, sizeof v[0], compare_u64);
    double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < 4; i++) {
        size_t rank = (size_t)(qs[i] * N + 0.999999);
        double exact = (double)v[rank - 1];
        double got = lb_hist_quantile_us(&h, qs[i]);
        assert_near(got, exact, exact / LB_HIST_SUB + 1);
    }
    assert_near(lb_hist_quantile_us(&h, 1.0), (double)v[N - 1], 0);
    assert_near(lb_hist_mean_us(&h), (double)sum / N, 1e-6);
    assert_int_equal(atomic_load(&h.max_us), v[N - 1]);
}

static void empty_histogram_reports_zero(void **state)
{
    (void)state;
    static lb_histogram h;
    lb_hist_reset(&h);
    assert_near(lb_hist_quantile_us(&h, 0.5), 0, 0);
    assert_near(lb_hist_mean_us(&h), 0, 0);
}

static lb_histogram shared_hist;

static void *record_many(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg;
    for (uint64_t i = 0; i < 100000; i++) lb_hist_record_us(&shared_hist, base + i % 1000);
    return NULL;
}

static void concurrent_recording_loses_nothing(void **state)
{
    (void)state;
    lb_hist_reset(&shared_hist);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, record_many, (void *)(uintptr_t)(i * 5000)),
                         0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&shared_hist.count), 400000);
    uint64_t total = 0;
    for (int b = 0; b < LB_HIST_BUCKETS; b++) total += atomic_load(&shared_hist.bucket[b]);
    assert_int_equal(total, 400000);
    assert_int_equal(atomic_load(&shared_hist.max_us), 15000 + 999);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(buckets_tile_the_range, lb_test_arm_timeout),
        cmocka_unit_test_setup(values_land_in_their_bucket, lb_test_arm_timeout),
        cmocka_unit_test_setup(quantiles_are_within_bucket_width, lb_test_arm_timeout),
        cmocka_unit_test_setup(empty_histogram_reports_zero, lb_test_arm_timeout),
        cmocka_unit_test_setup(concurrent_recording_loses_nothing, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
