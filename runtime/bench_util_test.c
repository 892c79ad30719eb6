/*
 * bench_util_test.c — the benchmarks' stall guard (bench_util.h): a
 * repetition whose probes say the machine stalled is left out of its
 * figure's median, all of them count when every one stalled, a stalled
 * attempt is retried until no retries are left, and the figure's JSON
 * lists the samples, the stalled indices and the retries.
 *
 * The probes are set by hand (bench_probe_fastest_us and each sample's
 * probe), so that what is checked does not depend on this machine's
 * stalls.
 */
#include "bench_util.h"
#include "rt_test_util.h"

#include <jansson.h>

static void stalled_repetitions_leave_the_median(void **state)
{
    (void)state;
    bench_probe_fastest_us = 100;
    bench_series s = {0};
    bench_series_add(&s, 10, 100);
    bench_series_add(&s, 11, 150);
    bench_series_add(&s, 1000, 250); /* more than twice the fastest: a stall */
    bench_series_add(&s, 12, 190);
    int stalled = -1;
    /* With the stalled one, the median of four would be 11.5. */
    assert_true(bench_series_median(&s, &stalled) == 11);
    assert_int_equal(stalled, 1);
    assert_true(bench_series_stalled(&s, 2));
    assert_false(bench_series_stalled(&s, 3));
}

static void every_repetition_stalled_counts_them_all(void **state)
{
    (void)state;
    bench_probe_fastest_us = 100;
    bench_series s = {0};
    bench_series_add(&s, 30, 900);
    bench_series_add(&s, 10, 1000);
    bench_series_add(&s, 20, 1100);
    int stalled = -1;
    assert_true(bench_series_median(&s, &stalled) == 20);
    assert_int_equal(stalled, 3);
    bench_series empty = {0};
    assert_true(bench_series_median(&empty, &stalled) == 0);
    assert_int_equal(stalled, 0);
}

static void a_stalled_attempt_is_retried_until_none_are_left(void **state)
{
    (void)state;
    bench_probe_fastest_us = 100;
    int retries = 0;
    assert_true(bench_attempt_kept(190, 0, &retries)); /* within twice the fastest */
    assert_int_equal(retries, 0);
    /* A stall with retries left: not kept, counted (and waited out: the
     * real probes it takes are well under the 200 us a stall needs here,
     * or it gives up after BENCH_STALL_WAIT_MS). */
    assert_false(bench_attempt_kept(500, 0, &retries));
    assert_int_equal(retries, 1);
    assert_true(bench_attempt_kept(500, BENCH_STALL_RETRIES, &retries)); /* the last one stays */
    assert_int_equal(retries, 1);
}

static void json_lists_samples_stalled_and_retries(void **state)
{
    (void)state;
    bench_probe_fastest_us = 100;
    bench_series s = {0};
    bench_series_add(&s, 1.5, 120);
    bench_series_add(&s, 9.5, 500);
    bench_series_add(&s, 2.5, 110);
    s.retries = 3;
    char buf[512];
    int n = bench_series_json(buf, sizeof buf, "fig_ms", "ms", &s);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    char doc[600];
    snprintf(doc, sizeof doc, "{%s}", buf);
    json_error_t err;
    json_t *j = json_loads(doc, 0, &err);
    if (!j) fail_msg("not JSON (%s): %s", err.text, doc);
    json_t *fig = json_object_get(j, "fig_ms");
    assert_true(json_number_value(json_object_get(fig, "median")) == 2);
    assert_string_equal(json_string_value(json_object_get(fig, "unit")), "ms");
    assert_int_equal(json_array_size(json_object_get(fig, "samples")), 3);
    json_t *stalled = json_object_get(fig, "stalled");
    assert_int_equal(json_array_size(stalled), 1);
    assert_int_equal(json_integer_value(json_array_get(stalled, 0)), 1);
    assert_int_equal(json_integer_value(json_object_get(fig, "retried")), 3);
    json_decref(j);
    /* Too small a buffer: truncated, never overrun, and the length needed. */
    char small[16];
    memset(small, 'x', sizeof small);
    assert_int_equal(bench_series_json(small, 8, "fig_ms", "ms", &s), n);
    assert_int_equal(small[7], 0);
    assert_int_equal(small[8], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stalled_repetitions_leave_the_median),
        cmocka_unit_test(every_repetition_stalled_counts_them_all),
        cmocka_unit_test(a_stalled_attempt_is_retried_until_none_are_left),
        cmocka_unit_test(json_lists_samples_stalled_and_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
