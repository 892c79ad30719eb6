/*
 * promtext.c — the text exposition format, scanned line by line.
 *
 * How it works: every line is parsed whole (name, label set, value,
 * optional timestamp) whether or not it is the metric asked for, so
 * garbage anywhere is reported.  A label set is parsed into at most
 * MAX_LABELS (name, unescaped value) pairs; the selector is parsed with
 * the same code, and a sample matches when its name is the metric's and
 * each selector pair is among its labels.
 */
#include "promtext.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 32
#define MAX_TEXT   256

typedef struct label {
    char name[MAX_TEXT];
    char value[MAX_TEXT];
} label;

typedef struct label_set {
    int n;
    label l[MAX_LABELS];
} label_set;

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* A metric or label name at *p; false if none.  Copied (truncated) to out. */
static bool scan_name(const char **p, const char *end, char *out, size_t cap)
{
    const char *s = *p;
    if (s >= end || !name_start(*s)) return false;
    while (s < end && name_char(*s)) s++;
    size_t n = (size_t)(s - *p) < cap - 1 ? (size_t)(s - *p) : cap - 1;
    memcpy(out, *p, n);
    out[n] = 0;
    *p = s;
    return true;
}

/* 'name="value",...' up to `close` (or end when close is 0). */
static const char *scan_labels(const char **p, const char *end, char close, label_set *set)
{
    const char *s = *p;
    set->n = 0;
    while (s < end && *s != close) {
        label tmp, *l = set->n < MAX_LABELS ? &set->l[set->n] : &tmp;
        if (!scan_name(&s, end, l->name, sizeof l->name)) {
            *p = s;
            return "expected a label name";
        }
        if (s >= end || *s != '=') {
            *p = s;
            return "expected '=' after the label name";
        }
        s++;
        if (s >= end || *s != '"') {
            *p = s;
            return "expected '\"' to open the label value";
        }
        s++;
        size_t o = 0;
        for (;;) {
            if (s >= end) {
                *p = s;
                return "unterminated label value";
            }
            char c = *s++;
            if (c == '"') break;
            if (c == '\\') {
                if (s >= end || (*s != '\\' && *s != '"' && *s != 'n')) {
                    *p = s;
                    return "bad escape in a label value (\\\\, \\\" or \\n)";
                }
                c = *s == 'n' ? '\n' : *s;
                s++;
            }
            if (o < sizeof l->value - 1) l->value[o++] = c;
        }
        l->value[o] = 0;
        if (set->n < MAX_LABELS) set->n++;
        if (s < end && *s == ',') s++;
        while (s < end && *s == ' ') s++;
    }
    *p = s;
    return NULL;
}

static bool labels_include(const label_set *have, const label_set *want)
{
    for (int i = 0; i < want->n; i++) {
        bool found = false;
        for (int j = 0; j < have->n && !found; j++)
            found = strcmp(have->l[j].name, want->l[i].name) == 0 &&
                    strcmp(have->l[j].value, want->l[i].value) == 0;
        if (!found) return false;
    }
    return true;
}

/* VALUE: a float, NaN, +Inf, -Inf. */
static bool scan_value(const char **p, const char *end, double *v)
{
    char buf[64];
    size_t n = 0;
    const char *s = *p;
    while (s < end && *s != ' ' && *s != '\t' && n < sizeof buf - 1) buf[n++] = *s++;
    buf[n] = 0;
    if (!n || (s < end && *s != ' ' && *s != '\t')) return false;
    if (!strcmp(buf, "NaN"))
        *v = NAN;
    else if (!strcmp(buf, "+Inf") || !strcmp(buf, "Inf"))
        *v = INFINITY;
    else if (!strcmp(buf, "-Inf"))
        *v = -INFINITY;
    else {
        char *stop;
        *v = strtod(buf, &stop);
        if (*stop || !strpbrk(buf, "0123456789")) return false;
    }
    *p = s;
    return true;
}

static int fail(char *err, size_t errn, int line, int col, const char *what)
{
    snprintf(err, errn, "line %d:%d: %s", line, col, what);
    return -EBADMSG;
}

int lb_prom_read(const char *text, size_t n, const char *name, const char *labels, double *value,
                 char *err, size_t errn)
{
    static __thread label_set want, have; /* large: kept off the stack */
    want.n = 0;
    if (labels && *labels) {
        const char *s = labels, *end = labels + strlen(labels);
        const char *why = scan_labels(&s, end, 0, &want);
        if (why) {
            snprintf(err, errn, "label selector '%s', column %d: %s", labels, (int)(s - labels) + 1,
                     why);
            return -EBADMSG;
        }
    }
    double sum = 0;
    bool found = false;
    const char *p = text, *end = text + n;
    for (int lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *s = p;
        if (le > s && le[-1] == '\r') le--;
        const char *line = p;
        p = nl ? nl + 1 : end;
        while (s < le && (*s == ' ' || *s == '\t')) s++;
        if (s == le || *s == '#') continue;
        char metric[MAX_TEXT];
        if (!scan_name(&s, le, metric, sizeof metric))
            return fail(err, errn, lineno, (int)(s - line) + 1, "expected a metric name");
        have.n = 0;
        if (s < le && *s == '{') {
            s++;
            const char *why = scan_labels(&s, le, '}', &have);
            if (why) return fail(err, errn, lineno, (int)(s - line) + 1, why);
            if (s >= le) return fail(err, errn, lineno, (int)(s - line) + 1, "expected '}'");
            s++;
        }
        if (s >= le || (*s != ' ' && *s != '\t'))
            return fail(err, errn, lineno, (int)(s - line) + 1,
                        "expected a blank before the value");
        while (s < le && (*s == ' ' || *s == '\t')) s++;
        double v;
        if (!scan_value(&s, le, &v))
            return fail(err, errn, lineno, (int)(s - line) + 1,
                        "expected a value (a number, NaN, +Inf or -Inf)");
        while (s < le && (*s == ' ' || *s == '\t')) s++;
        if (s < le) {
            const char *ts = s;
            while (s < le && (*s == '-' || (*s >= '0' && *s <= '9'))) s++;
            while (s < le && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
            if (s < le || ts == s)
                return fail(err, errn, lineno, (int)(ts - line) + 1,
                            "expected the end of the line or a timestamp in ms");
        }
        if (strcmp(metric, name) == 0 && labels_include(&have, &want)) {
            sum += v;
            found = true;
        }
    }
    if (!found) {
        snprintf(err, errn, "no sample of %s%s%s%s", name, want.n ? "{" : "", want.n ? labels : "",
                 want.n ? "}" : "");
        return -ENOENT;
    }
    *value = sum;
    return 0;
}
