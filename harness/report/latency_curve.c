/*
 * latency_curve.c — the latency chart's data: the completed requests of
 * one variant as a percentile curve, HdrHistogram style (report_internal.h).
 *
 * A timed-out request is recorded at its deadline, so the percentiles of
 * every request (metrics.latency_ms) sit at the client timeout as soon as
 * more than half of them time out.  Runs therefore also write the
 * histogram of the completed requests alone (metrics.latency_completed_ms,
 * the non-empty buckets as [lo_ms, hi_ms, count]); this file merges it
 * over the variant's repetitions (bucket by bucket: every run uses the same
 * bucket layout, run/histogram.h) and sums their accounting, for the
 * completed / timed-out split the chart's key shows.
 *
 * The curve is the histogram's quantile function, drawn as steps: bucket
 * i holds the requests from percentile P(i-1) to P(i) (its cumulative
 * share), all at the bucket's value — the midpoint of [lo, hi) clamped to
 * the largest latency recorded, exactly as lb_hist_quantile_us computes
 * the percentiles results.json reports.  The x axis is HdrHistogram's
 * "1/(1-p)" (1 at p = 0, 10 at 90 %, 100 at 99 %, ...) on a log scale, so
 * the tail gets as much room as the body.  The last step ends at
 * 1 - 1/N, the highest percentile N requests resolve.
 */
#include "report_internal.h"

#include "core/jsonutil.h"
#include "run/results_load.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bucket {
    double lo_ms, hi_ms, count;
} bucket;

static int by_lo(const void *a, const void *b)
{
    double x = ((const bucket *)a)->lo_ms, y = ((const bucket *)b)->lo_ms;
    return (x > y) - (x < y);
}

/* Appends a run's buckets to c (grown as needed). */
static int add_buckets(lb_latency_curve *c, size_t *cap, const json_t *buckets)
{
    size_t i;
    const json_t *b;
    json_array_foreach(buckets, i, b)
    {
        if (c->n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            bucket *grown = realloc(c->buckets, ncap * sizeof *grown);
            if (!grown) return -ENOMEM;
            c->buckets = grown;
            *cap = ncap;
        }
        c->buckets[c->n++] = (bucket){json_number_value(json_array_get(b, 0)),
                                      json_number_value(json_array_get(b, 1)),
                                      json_number_value(json_array_get(b, 2))};
    }
    return 0;
}

/* Sorts the buckets and merges those with the same lower bound. */
static void merge_buckets(lb_latency_curve *c)
{
    if (!c->n) return;
    qsort(c->buckets, c->n, sizeof *c->buckets, by_lo);
    size_t out = 0;
    for (size_t i = 1; i < c->n; i++) {
        if (c->buckets[i].lo_ms == c->buckets[out].lo_ms)
            c->buckets[out].count += c->buckets[i].count;
        else
            c->buckets[++out] = c->buckets[i];
    }
    c->n = out + 1;
}

static double number_or_zero(const json_t *obj, const char *dotted)
{
    double v = lb_jnum_path(obj, dotted);
    return isnan(v) ? 0 : v;
}

int lb_latency_curve_of(const json_t *scenario, const char *variant, lb_latency_curve *c)
{
    memset(c, 0, sizeof *c);
    c->max_ms = NAN;
    c->have_histogram = true;
    size_t cap = 0, i;
    const json_t *run;
    json_array_foreach(json_object_get(scenario, "runs"), i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variant)) continue;
        c->runs++;
        c->submitted += number_or_zero(run, "accounting.submitted");
        c->completed += number_or_zero(run, "accounting.completed");
        c->timed_out += number_or_zero(run, "accounting.timed_out");
        static const char *const others[] = {"accounting.failed", "accounting.rejected",
                                             "accounting.cancelled", "accounting.unanswered"};
        for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
            c->other += number_or_zero(run, others[k]);
        const json_t *h = lb_jpath(run, "metrics.latency_completed_ms");
        if (!json_is_object(h)) {
            c->have_histogram = false;
            continue;
        }
        double max = lb_jnum(h, "max");
        if (!isnan(max) && (isnan(c->max_ms) || max > c->max_ms)) c->max_ms = max;
        if (add_buckets(c, &cap, json_object_get(h, "buckets"))) {
            lb_latency_curve_free(c);
            return -ENOMEM;
        }
    }
    c->have_histogram = c->have_histogram && c->runs > 0;
    merge_buckets(c);
    for (size_t k = 0; k < c->n; k++) c->count += c->buckets[k].count;
    return 0;
}

void lb_latency_curve_free(lb_latency_curve *c)
{
    free(c->buckets);
    c->buckets = NULL;
    c->n = 0;
}

/* The value lb_hist_quantile_us gives a bucket: its one value when it is
 * 1 us wide, else the midpoint of [lo, hi) in whole microseconds, at
 * most the largest latency recorded. */
static double bucket_value_ms(const bucket *b, double max_ms)
{
    double lo_us = round(b->lo_ms * 1000), hi_us = round(b->hi_ms * 1000);
    if (hi_us - lo_us <= 1) return lo_us / 1000;
    double mid = (lo_us + hi_us - 1) / 2 / 1000;
    return !isnan(max_ms) && mid > max_ms ? max_ms : mid;
}

static double tail_x(double p)
{
    return 1 / (1 - p);
}

double lb_latency_curve_write(FILE *f, const lb_latency_curve *c)
{
    fprintf(f,
            "# latency of completed requests by percentile, %d repetition(s) merged\n"
            "# percentile_pct tail_x=1/(1-p) latency_ms   (drawn with steps: each row's "
            "latency holds from its percentile to the next row's)\n",
            c->runs);
    if (!(c->count > 0)) return NAN;
    double seen = 0, value = NAN;
    for (size_t i = 0; i < c->n; i++) {
        if (!(c->buckets[i].count > 0)) continue;
        double p = seen / c->count;
        value = bucket_value_ms(&c->buckets[i], c->max_ms);
        fprintf(f, "%.6g %.6g %.6g\n", 100 * p, tail_x(p), value);
        seen += c->buckets[i].count;
    }
    double p_end = c->count >= 2 ? 1 - 1 / c->count : 0.5;
    fprintf(f, "%.6g %.6g %.6g\n", 100 * p_end, tail_x(p_end), value);
    return tail_x(p_end);
}

/* "45 %", with "<1 %" and ">99 %" for shares that would round to 0 or
 * 100 (or to 1 or 99, from either side) without being so. */
static void share_text(char *buf, size_t n, double part, double whole)
{
    double pct = 100 * part / whole;
    if (part > 0 && pct < 1)
        snprintf(buf, n, "<1 %%");
    else if (part < whole && pct > 99)
        snprintf(buf, n, ">99 %%");
    else
        snprintf(buf, n, "%.0f %%", pct);
}

char *lb_latency_split_text(char *buf, size_t n, const lb_latency_curve *c)
{
    char a[16], b[16], o[16];
    if (!(c->submitted > 0)) {
        snprintf(buf, n, "no requests");
        return buf;
    }
    share_text(a, sizeof a, c->completed, c->submitted);
    share_text(b, sizeof b, c->timed_out, c->submitted);
    int len = snprintf(buf, n, "completed %s · timed out %s", a, b);
    if (c->other > 0 && len >= 0 && (size_t)len < n) {
        share_text(o, sizeof o, c->other, c->submitted);
        snprintf(buf + len, n - (size_t)len, " · other %s", o);
    }
    return buf;
}
