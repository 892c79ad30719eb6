/*
 * units.c — the one place numbers get their units (units.h).
 *
 * How it works: a value is first rounded to the digits it will be printed
 * with (round_sig), and the unit is chosen from the rounded value, so that
 * 1023.99 KiB prints as "1 MiB" and 999.96 ms as "1 s" rather than "1024
 * KiB" and "1000 ms".  lb_fmt_num then prints it and drops trailing zeros.
 * NAN is "n/a"; infinities (which no measurement produces) print as "inf"
 * or "-inf" without a unit rather than as a nonsense magnitude.
 */
#include "units.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes "n/a" or "inf" for values that have no magnitude; true if it did. */
static bool not_finite(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "n/a");
    else if (isinf(v))
        snprintf(buf, n, "%s", v < 0 ? "-inf" : "inf");
    else
        return false;
    return true;
}

/* Decimals that give sig significant digits, never fewer integer digits,
 * at most 6. */
static int decimals_for(double v, int sig)
{
    double a = fabs(v);
    if (a == 0) return 0;
    int mag = (int)floor(log10(a)) + 1; /* digits before the point */
    int d = sig - mag;
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

static double round_sig(double v, int sig)
{
    double scale = pow(10, decimals_for(v, sig));
    return round(v * scale) / scale;
}

char *lb_fmt_num(char *buf, size_t n, double v, int sig)
{
    if (not_finite(buf, n, v)) return buf;
    /* round() rounds halves away from zero, as people do; printf would
     * round 1234.5 to even. */
    snprintf(buf, n, "%.*f", decimals_for(v, sig), round_sig(v, sig));
    /* Drop trailing zeros after a decimal point: "2.50" -> "2.5". */
    if (strchr(buf, '.')) {
        char *e = buf + strlen(buf) - 1;
        while (*e == '0') *e-- = 0;
        if (*e == '.') *e = 0;
    }
    if (!strcmp(buf, "-0")) snprintf(buf, n, "0");
    return buf;
}

char *lb_fmt_count(char *buf, size_t n, double v)
{
    if (not_finite(buf, n, v)) return buf;
    if (fabs(v) >= 1e15 || v != floor(v)) return lb_fmt_num(buf, n, v, 3);
    char digits[32], out[48];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), o = 0;
    if (v < 0) out[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    snprintf(buf, n, "%s", out);
    return buf;
}

char *lb_fmt_bytes(char *buf, size_t n, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    enum { LAST = sizeof units / sizeof units[0] - 1 };
    if (not_finite(buf, n, bytes)) return buf;
    double v = bytes;
    int u = 0;
    while (u < LAST && fabs(u ? round_sig(v, 3) : round(v)) >= 1024) {
        v /= 1024;
        u++;
    }
    char num[LB_UNITS_LEN];
    if (u == 0)
        lb_fmt_num(num, sizeof num, round(v), 1); /* whole bytes */
    else
        lb_fmt_num(num, sizeof num, v, 3);
    snprintf(buf, n, "%s %s", num, units[u]);
    return buf;
}

char *lb_fmt_byte_rate(char *buf, size_t n, double bytes_per_s)
{
    char b[LB_UNITS_LEN];
    if (not_finite(buf, n, bytes_per_s)) return buf;
    snprintf(buf, n, "%s/s", lb_fmt_bytes(b, sizeof b, bytes_per_s));
    return buf;
}

char *lb_fmt_ms(char *buf, size_t n, double ms)
{
    char num[LB_UNITS_LEN];
    if (not_finite(buf, n, ms)) return buf;
    double a = fabs(round_sig(ms, 3));
    if (a == 0)
        snprintf(buf, n, "0 ms");
    else if (a < 1)
        snprintf(buf, n, "%s µs", lb_fmt_num(num, sizeof num, ms * 1000, 3));
    else if (a < 1000)
        snprintf(buf, n, "%s ms", lb_fmt_num(num, sizeof num, ms, 3));
    else
        snprintf(buf, n, "%s s", lb_fmt_num(num, sizeof num, ms / 1000, 3));
    return buf;
}

char *lb_fmt_rate(char *buf, size_t n, double per_s, const char *what)
{
    char num[LB_UNITS_LEN];
    if (not_finite(buf, n, per_s)) return buf;
    if (fabs(per_s) >= 100)
        lb_fmt_count(num, sizeof num, round(per_s));
    else
        lb_fmt_num(num, sizeof num, per_s, 3);
    snprintf(buf, n, "%s%s%s/s", num, what ? " " : "", what ? what : "");
    return buf;
}

/* ------------------------------------------------------------ scanning -- */

/* Length of the decimal at the start of s (0 if none). */
static size_t decimal_prefix(const char *s)
{
    size_t i = 0;
    if (s[i] == '-') i++;
    size_t digits = i;
    while (s[i] >= '0' && s[i] <= '9') i++;
    if (i == digits) return 0; /* a number starts with a digit: "0.5", not ".5" */
    if (s[i] == '.') {
        size_t frac = ++i;
        while (s[i] >= '0' && s[i] <= '9') i++;
        if (i == frac) return 0;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        size_t e = i++;
        if (s[i] == '+' || s[i] == '-') i++;
        size_t exp = i;
        while (s[i] >= '0' && s[i] <= '9') i++;
        if (i == exp) i = e; /* "5e" is 5 followed by "e" */
    }
    return i;
}

static bool scan_prefix(const char *text, double *out, const char **rest)
{
    size_t len = decimal_prefix(text);
    if (!len || len > 63) return false;
    char buf[64];
    memcpy(buf, text, len);
    buf[len] = 0;
    double v = strtod(buf, NULL);
    if (!isfinite(v)) return false;
    *out = v;
    *rest = text + len;
    return true;
}

bool lb_scan_decimal(const char *text, double *out)
{
    const char *rest;
    double v;
    if (!scan_prefix(text, &v, &rest) || *rest) return false;
    *out = v;
    return true;
}

bool lb_scan_duration_ms(const char *text, double *out)
{
    const char *unit;
    double v;
    if (!scan_prefix(text, &v, &unit)) return false;
    if (!strcmp(unit, "ms"))
        *out = v;
    else if (!strcmp(unit, "s"))
        *out = v * 1000;
    else if (!strcmp(unit, "m"))
        *out = v * 60000;
    else
        return false;
    return true;
}

char *lb_escape_controls(char *buf, size_t n, const char *text)
{
    size_t o = 0;
    if (!n) return buf;
    for (const unsigned char *p = (const unsigned char *)text; *p && o + 1 < n; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (o + 5 > n) break;
            snprintf(buf + o, n - o, "\\x%02x", *p);
            o += 4;
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o] = 0;
    return buf;
}
