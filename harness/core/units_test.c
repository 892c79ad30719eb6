/*
 * units_test.c — the formatters of units.c at their edges: zero, NaN,
 * unit boundaries (1023 B, 1 KiB, values that round up into the next
 * unit), negative and huge values, and the µs/ms/s switch.
 */
#include "units.h"
#include "test_util.h"

#include <string.h>

#define arm_timeout lb_test_arm_timeout

static char buf[LB_UNITS_LEN];

static void bytes_iec(void **state)
{
    (void)state;
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 0), "0 B");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, NAN), "n/a");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 512), "512 B");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 1023), "1023 B");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 1024), "1 KiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 1536), "1.5 KiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 45.9e6), "43.8 MiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 1.5 * LB_GIB), "1.5 GiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 4.2e9), "3.91 GiB");
    /* Rounding to three digits never leaves "1024 KiB". */
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, LB_MIB - 1), "1 MiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 1023.6), "1 KiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, -1.5 * LB_MIB), "-1.5 MiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, -100), "-100 B");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 3.0 * 1024 * LB_GIB), "3 TiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, 1e30), "867361737988 EiB");
    assert_string_equal(lb_fmt_bytes(buf, sizeof buf, INFINITY), "inf");
    assert_string_equal(lb_fmt_byte_rate(buf, sizeof buf, 1.25 * LB_MIB), "1.25 MiB/s");
    assert_string_equal(lb_fmt_byte_rate(buf, sizeof buf, -65536), "-64 KiB/s");
    assert_string_equal(lb_fmt_byte_rate(buf, sizeof buf, NAN), "n/a");
}

static void durations(void **state)
{
    (void)state;
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 0), "0 ms");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, NAN), "n/a");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 0.0042), "4.2 µs");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 0.52), "520 µs");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 0.9996), "1 ms");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 1.25), "1.25 ms");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 84), "84 ms");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 999.96), "1 s");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 7400), "7.4 s");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 20460), "20.5 s");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, 3.6e9), "3600000 s");
    assert_string_equal(lb_fmt_ms(buf, sizeof buf, -5), "-5 ms");
}

static void counts_and_rates(void **state)
{
    (void)state;
    assert_string_equal(lb_fmt_count(buf, sizeof buf, 0), "0");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, 120), "120");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, 5012), "5,012");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, 50000), "50,000");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, -1234567), "-1,234,567");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, NAN), "n/a");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, 2.5), "2.5");
    assert_string_equal(lb_fmt_count(buf, sizeof buf, 1e18), "1000000000000000000");
    assert_string_equal(lb_fmt_num(buf, sizeof buf, 2.50, 3), "2.5");
    assert_string_equal(lb_fmt_num(buf, sizeof buf, 1234.5, 3), "1235");
    assert_string_equal(lb_fmt_num(buf, sizeof buf, -0.0001, 1), "-0.0001");
    assert_string_equal(lb_fmt_num(buf, sizeof buf, -0.0000001, 1), "0");
    assert_string_equal(lb_fmt_rate(buf, sizeof buf, 3135.5, "tasks"), "3,136 tasks/s");
    assert_string_equal(lb_fmt_rate(buf, sizeof buf, 12.25, "req"), "12.3 req/s");
    assert_string_equal(lb_fmt_rate(buf, sizeof buf, 0.5, NULL), "0.5/s");
    assert_string_equal(lb_fmt_rate(buf, sizeof buf, NAN, "req"), "n/a");
    /* A short buffer truncates but stays terminated. */
    char small[4];
    assert_string_equal(lb_fmt_bytes(small, sizeof small, 45.9e6), "43.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(bytes_iec, arm_timeout),
        cmocka_unit_test_setup(durations, arm_timeout),
        cmocka_unit_test_setup(counts_and_rates, arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
