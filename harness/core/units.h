/*
 * units.h — how leakbench writes a number for a human: one unit system
 * for every view (terminal table, progress line, report.md, report.html,
 * chart labels, compare, history), like wrk's units.c.
 *
 * Memory is in IEC binary units — B, KiB, MiB, GiB, TiB, PiB, EiB, each
 * 1024 times the last — because RSS is counted in pages and the kernel's
 * limits are powers of two.  Metric names follow the same rule
 * (peak_rss_mib is bytes / 2^20).  Durations are taken in milliseconds,
 * the unit of results.json, and printed in µs, ms or s.  Every function
 * writes into buf (size n, always NUL-terminated), returns buf, and prints
 * NAN as "n/a".  Values keep three significant digits (counts below 10^15
 * are printed whole) and drop trailing zeros: "1 KiB", "1.5 GiB", "84 ms".
 */
#ifndef LEAKBENCH_UNITS_H
#define LEAKBENCH_UNITS_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes in one KiB, MiB and GiB. */
#define LB_KIB 1024.0
#define LB_MIB 1048576.0
#define LB_GIB 1073741824.0

/* Big enough for any value these functions print, with its unit. */
#define LB_UNITS_LEN 48

/* v with sig significant digits, no unit, trailing zeros dropped:
 * (2.5, 3) -> "2.5", (1234.5, 3) -> "1235" (never fewer integer digits). */
char *lb_fmt_num(char *buf, size_t n, double v, int sig);
/* Whole numbers with thousands separators: 5012 -> "5,012", -1234567 ->
 * "-1,234,567"; fractions and |v| >= 10^15 as lb_fmt_num with 3 digits. */
char *lb_fmt_count(char *buf, size_t n, double v);
/* 512 -> "512 B", 1023 -> "1023 B", 1024 -> "1 KiB", 45.9e6 -> "43.8 MiB",
 * 1.5 * 2^30 -> "1.5 GiB"; negative values keep their sign. */
char *lb_fmt_bytes(char *buf, size_t n, double bytes);
/* A memory rate: "1.2 MiB/s", "-64 KiB/s". */
char *lb_fmt_byte_rate(char *buf, size_t n, double bytes_per_s);
/* A duration given in ms: 0.0042 -> "4.2 µs", 0.52 -> "520 µs",
 * 84 -> "84 ms", 7400 -> "7.4 s"; 0 -> "0 ms". */
char *lb_fmt_ms(char *buf, size_t n, double ms);
/* A rate of things per second: (3135.5, "tasks") -> "3,136 tasks/s",
 * (12.25, "req") -> "12.3 req/s", (0.5, NULL) -> "0.5/s". */
char *lb_fmt_rate(char *buf, size_t n, double per_s, const char *what);

/* ------------------------------------------------------------ scanning --
 * The other direction, for numbers a user types on the command line: plain
 * decimals only — an optional '-', digits, an optional '.' with digits,
 * an optional exponent — so "0x10", " 5", "inf", "5 " and ".5" are
 * refused instead of meaning something unexpected. */

/* The whole of TEXT as a decimal; false if it is anything else. */
bool lb_scan_decimal(const char *text, double *out);
/* A duration with its unit: "250ms", "5s", "2m", "1.5s" -> ms.  A bare
 * number is refused (is "2" two milliseconds or two seconds?). */
bool lb_scan_duration_ms(const char *text, double *out);

/* For messages that quote what a user typed or a file held: copies TEXT
 * into buf (size n, always terminated) with control bytes and DEL written
 * as \xNN, so no input can move the cursor, ring the bell or colour the
 * terminal.  Returns buf. */
char *lb_escape_controls(char *buf, size_t n, const char *text);

#endif
