/*
 * report_summary.c — the CI job-summary form of the report (`leakbench
 * report --summary FILE`, report.h): Markdown without images, since
 * report.md's relative chart paths do not resolve in
 * $GITHUB_STEP_SUMMARY.
 *
 * Its first line is the run's status (report_verdict.c), then the
 * verdict table, the thresholds, and per scenario a Unicode sparkline of
 * live tasks over the first repetition of each side, drawn from the
 * stored samples ("samples"."rows", column "tasks") on one scale shared
 * by both sides (0 to the larger peak), so a flat graceful line next to a
 * climbing leaky one reads as what it is.  The content goes through the
 * Markdown back-end like report.md, so both say the same thing.
 */
#include "report_internal.h"
#include "core/outfile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Characters of a sparkline in the summary. */
#define SPARK_WIDTH 48

static const char *const variants[2] = {"leaky", "graceful"};

char *lb_sparkline(char *buf, size_t n, const double *values, size_t count, int width, double lo,
                   double hi)
{
    static const char *const bars[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    size_t o = 0;
    if (n) buf[0] = 0;
    if (!count || width <= 0 || n < 4) return buf;
    if (isnan(lo) || isnan(hi)) {
        double mn = INFINITY, mx = -INFINITY;
        for (size_t i = 0; i < count; i++) {
            if (isnan(values[i])) continue;
            if (values[i] < mn) mn = values[i];
            if (values[i] > mx) mx = values[i];
        }
        if (isnan(lo)) lo = mn;
        if (isnan(hi)) hi = mx;
    }
    size_t slices = count < (size_t)width ? count : (size_t)width;
    for (size_t s = 0; s < slices; s++) {
        size_t from = s * count / slices, to = (s + 1) * count / slices;
        double top = NAN;
        for (size_t i = from; i < to; i++)
            if (!isnan(values[i]) && (isnan(top) || values[i] > top)) top = values[i];
        const char *c = " ";
        if (!isnan(top)) {
            int level = 0;
            if (hi > lo) level = (int)floor((top - lo) / (hi - lo) * 8);
            c = bars[level < 0 ? 0 : level > 7 ? 7 : level];
        }
        size_t len = strlen(c);
        if (o + len + 1 > n) break;
        memcpy(buf + o, c, len);
        o += len;
        buf[o] = 0;
    }
    return buf;
}

/* The live-task column of RUN's stored samples: a malloc'd array (NULL
 * with *count 0 if the run has none). */
static double *task_series(const json_t *run, size_t *count)
{
    const json_t *samples = json_object_get(run, "samples"), *col;
    const json_t *rows = json_object_get(samples, "rows");
    size_t i, idx = (size_t)-1;
    *count = 0;
    json_array_foreach(json_object_get(samples, "columns"), i, col)
    {
        if (json_is_string(col) && !strcmp(json_string_value(col), "tasks")) idx = i;
    }
    size_t nrows = json_array_size(rows);
    if (idx == (size_t)-1 || !nrows) return NULL;
    double *v = malloc(nrows * sizeof *v);
    if (!v) return NULL;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const json_t *x = json_array_get(row, idx);
        v[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    *count = nrows;
    return v;
}

static void scenario_sparklines(lb_doc *d, const json_t *root, const json_t *s)
{
    double *series[2];
    size_t count[2];
    double top = 0;
    for (int v = 0; v < 2; v++) {
        series[v] = task_series(lb_scenario_run(s, variants[v]), &count[v]);
        for (size_t i = 0; i < count[v]; i++)
            if (series[v][i] > top) top = series[v][i];
    }
    const char *noun = lb_task_noun(s);
    char head1[64], scale[128], a[LB_UNITS_LEN];
    snprintf(head1, sizeof head1, "Live %s over the run", noun);
    const char *head[4] = {"Side", head1, "Peak", "Samples"};
    const lb_align align[4] = {LB_LEFT, LB_LEFT, LB_RIGHT, LB_RIGHT};
    d->ops->heading(d, 3, lb_jstr(s, "name"), NULL);
    d->ops->table_begin(d, 4, head, align);
    for (int v = 0; v < 2; v++) {
        char line[SPARK_WIDTH * 4 + 4], peak[LB_UNITS_LEN], n[LB_UNITS_LEN];
        lb_sparkline(line, sizeof line, series[v], count[v], SPARK_WIDTH, 0, top);
        lb_fmt_count(peak, sizeof peak, lb_scenario_metric(s, variants[v], "peak_tasks"));
        lb_fmt_count(n, sizeof n, (double)count[v]);
        const char *cells[4] = {lb_side_label(root, v), count[v] ? line : "no samples", peak, n};
        d->ops->table_row(d, cells);
        free(series[v]);
    }
    d->ops->table_end(d);
    snprintf(scale, sizeof scale,
             "First repetition of each side, one scale for both: ▁ is 0, █ is %s %s.",
             lb_fmt_count(a, sizeof a, top), noun);
    d->ops->para(d, scale);
}

void lb_report_write_summary_doc(lb_doc *d, const json_t *root)
{
    const json_t *scenarios = json_object_get(root, "scenarios"), *s;
    size_t i;
    lb_view_verdicts(d, root); /* the status line first */
    const json_t *th = json_object_get(root, "thresholds");
    if (json_array_size(th)) lb_view_thresholds(d, th);
    if (json_array_size(scenarios)) d->ops->heading(d, 2, "Over the run", NULL);
    json_array_foreach(scenarios, i, s) scenario_sparklines(d, root, s);
    d->ops->para(d, "Charts, the before/after table, the request accounting and the leak report: "
                    "report.html and report.md in the run directory (leakbench report).");
}

int lb_report_summary_write(const json_t *doc, const char *path, lb_report_result *res)
{
    char *buf = NULL;
    size_t len = 0;
    memset(res, 0, sizeof *res);
    res->charts = LB_CHARTS_NOT_REQUESTED;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    lb_doc d = {.ops = &lb_doc_markdown, .out = f, .out_dir = ".", .root = doc};
    lb_report_write_summary_doc(&d, doc);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    int rc = d.err;
    if (!rc && !strcmp(path, "-")) {
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) rc = -EIO;
        if (rc) snprintf(res->message, sizeof res->message, "stdout: cannot write the summary");
    } else if (!rc) {
        char err[512];
        rc = lb_write_atomic(path, buf, len, err, sizeof err);
        if (rc) snprintf(res->message, sizeof res->message, "%s", err);
    }
    free(buf);
    return rc;
}

int lb_report_summary_file(const char *results_path, const char *path, lb_report_result *res)
{
    json_t *doc = NULL;
    int rc = lb_report_load(results_path, &doc, res);
    if (rc) return rc;
    rc = lb_report_summary_write(doc, path, res);
    json_decref(doc);
    return rc;
}
