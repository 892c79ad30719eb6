/*
 * history.c — history lines (one JSON object per run, appended), their
 * loading, and exports to Bencher's BMF and github-action-benchmark's
 * custom JSON (see history.h).
 */
#include "history.h"
#include "core/metric.h"
#include "core/outfile.h"
#include "report/gnuplot.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

json_t *lb_history_entry(const json_t *results)
{
    const json_t *tool = json_object_get(results, "tool");
    /* The commit under test (results "commit", ci/shard.h) when the run
     * knew it, else the commit leakbench itself was built from. */
    const char *commit = json_string_value(json_object_get(results, "commit"));
    if (!commit) commit = json_string_value(json_object_get(tool, "git_revision"));
    const char *version = json_string_value(json_object_get(tool, "version"));
    const char *date = json_string_value(json_object_get(results, "finished_at"));
    if (!date) date = json_string_value(json_object_get(results, "started_at"));
    const char *spec = json_string_value(json_object_get(json_object_get(results, "spec"), "path"));
    const char *status = json_string_value(json_object_get(results, "status"));
    json_t *metrics = json_object();
    json_t *entry = json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:o}", "schema",
                              "leakbench-history", "schema_version", 1, "commit",
                              commit ? commit : "unknown", "version", version ? version : "unknown",
                              "date", date, "spec", spec, "status", status, "metrics", metrics);
    if (!entry) return NULL;
    const json_t *scenarios = json_object_get(results, "scenarios");
    for (size_t si = 0; si < json_array_size(scenarios); si++) {
        const json_t *s = json_array_get(scenarios, si);
        const char *name = json_string_value(json_object_get(s, "name"));
        if (!name) continue;
        json_t *per_scenario = json_object();
        if (!per_scenario || json_object_set_new(metrics, name, per_scenario)) goto nomem;
        for (size_t vi = 0; vi < 2; vi++) {
            json_t *per_variant = json_object();
            if (!per_variant || json_object_set_new(per_scenario, lb_variants[vi], per_variant))
                goto nomem;
            for (size_t mi = 0; mi < lb_metric_count(); mi++) {
                const lb_metric_def *m = lb_metric_at(mi);
                lb_metric_values v;
                if (lb_metric_collect(s, lb_variants[vi], m, &v)) goto nomem;
                if (v.present)
                    json_object_set_new(per_variant, m->name,
                                        v.has_median ? json_real(v.median) : json_null());
                lb_metric_values_free(&v);
            }
        }
    }
    /* The bounds the run was judged against, so the trend chart can draw
     * them: {"scenario", "metric", "expr", "bound"} per threshold with a
     * numeric bound. */
    json_t *bounds = json_array();
    if (!bounds || json_object_set_new(entry, "thresholds", bounds)) goto nomem;
    const json_t *th;
    size_t ti;
    json_array_foreach(json_object_get(results, "thresholds"), ti, th)
    {
        const char *scenario = json_string_value(json_object_get(th, "scenario"));
        const char *metric = json_string_value(json_object_get(th, "metric"));
        const char *expr = json_string_value(json_object_get(th, "expr"));
        const json_t *bound = json_object_get(th, "bound");
        if (!scenario || !metric || !json_is_number(bound)) continue;
        json_t *b = json_pack("{s:s, s:s, s:s?, s:f}", "scenario", scenario, "metric", metric,
                              "expr", expr, "bound", json_number_value(bound));
        if (!b || json_array_append_new(bounds, b)) goto nomem;
    }
    return entry;
nomem:
    json_decref(entry);
    return NULL;
}

int lb_history_append(const char *path, const json_t *results, char *err, size_t errlen)
{
    json_t *entry = lb_history_entry(results);
    char *line = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    json_decref(entry);
    if (!line) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    size_t len = strlen(line);
    char *buf = malloc(len + 2);
    if (!buf) {
        free(line);
        return -ENOMEM;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    buf[len + 1] = 0;
    free(line);
    int rc = lb_mkdir_parent(path);
    /* Written through whatever the user named (a symlink is followed, a
     * device or FIFO written in place); O_NONBLOCK so that a FIFO with no
     * reader fails at once instead of blocking the run. */
    int fd = rc ? -1 : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0666);
    if (fd < 0) {
        int e = rc ? -rc : errno;
        snprintf(err, errlen, "%s: cannot open for appending: %s", path,
                 e == ENXIO ? "a FIFO with no reader" : strerror(e));
        free(buf);
        return -e;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    /* One write(2) of the whole line: O_APPEND puts it at the end in one
     * piece even when two runs append at the same time. */
    ssize_t w = write(fd, buf, len + 1);
    int e = w == (ssize_t)(len + 1) ? 0 : w < 0 ? errno : EIO;
    if (!e && regular && fsync(fd) < 0) e = errno; /* devices and FIFOs have nothing to sync */
    if (close(fd) < 0 && !e) e = errno;
    free(buf);
    if (e) {
        snprintf(err, errlen, "%s: append failed: %s", path, strerror(e));
        return -e;
    }
    return 0;
}

/* True (with err set) when an entry names a metric by the name an older
 * leakbench used: its values would silently go missing under the new name. */
static bool renamed_metric_in(const json_t *entry, const char *path, int lineno, char *err,
                              size_t errlen)
{
    const char *scenario, *variant, *name;
    json_t *per_scenario, *per_variant, *value;
    json_object_foreach(json_object_get(entry, "metrics"), scenario, per_scenario)
    {
        json_object_foreach(per_scenario, variant, per_variant)
        {
            json_object_foreach(per_variant, name, value)
            {
                char note[160];
                if (!lb_metric_rename_note(name, strlen(name), note, sizeof note)) continue;
                snprintf(err, errlen,
                         "%s:%d: metrics.%s.%s.%s: %s; rename it in the file, e.g. sed -i "
                         "'s/_rss_mb\"/_rss_mib\"/g; s/rss_slope_mb_per_s/rss_slope_mib_per_s/g'",
                         path, lineno, scenario, variant, name, note);
                return true;
            }
        }
    }
    return false;
}

int lb_history_each(const char *path, lb_history_fn fn, void *ctx, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || S_ISDIR(st.st_mode)) {
        int e = !f ? errno : S_ISDIR(st.st_mode) ? EISDIR : errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        if (f) fclose(f);
        return e == EISDIR ? -EISDIR : -EINVAL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n == 0 || strspn(line, " \t\r\n") == (size_t)n) continue;
        json_error_t jerr;
        json_t *entry = json_loads(line, 0, &jerr);
        const json_t *version = json_object_get(entry, "schema_version");
        if (!entry) {
            snprintf(err, errlen, "%s:%d:%d: %s", path, lineno, jerr.column, jerr.text);
            rc = -EINVAL;
        } else if (!json_is_object(entry) || !json_is_string(json_object_get(entry, "schema")) ||
                   strcmp(json_string_value(json_object_get(entry, "schema")),
                          "leakbench-history") ||
                   !json_is_object(json_object_get(entry, "metrics"))) {
            snprintf(err, errlen,
                     "%s:%d: not a leakbench history line (expected an object with \"schema\": "
                     "\"leakbench-history\" and \"metrics\")",
                     path, lineno);
            rc = -EINVAL;
        } else if (renamed_metric_in(entry, path, lineno, err, errlen)) {
            rc = -EINVAL;
        } else if (version && !(json_is_integer(version) && json_integer_value(version) == 1)) {
            snprintf(err, errlen,
                     "%s:%d: schema_version: this leakbench reads history lines of "
                     "schema_version 1",
                     path, lineno);
            rc = -EINVAL;
        } else {
            rc = fn(entry, lineno, ctx);
        }
        json_decref(entry);
    }
    int read_error = !rc && ferror(f) ? errno : 0;
    free(line);
    fclose(f);
    if (read_error) {
        snprintf(err, errlen, "%s: %s", path, strerror(read_error));
        return -read_error;
    }
    return rc;
}

/* ------------------------------------------------------------ trend -- */

/* A short, safe label for a commit: hex digits only, at most 10. */
static void short_commit(const char *commit, char *buf, size_t len)
{
    size_t n = 0;
    for (; commit && commit[n] && n < 10 && n + 1 < len; n++) {
        if (!isxdigit((unsigned char)commit[n])) break;
        buf[n] = commit[n];
    }
    if (n == 0)
        snprintf(buf, len, "unknown");
    else
        buf[n] = 0;
}

/* Seconds since the epoch of a history date ("2026-12-01T14:02:09Z",
 * UTC, as run writes it), or NaN when it is missing or not in that form. */
static double date_seconds(const char *date)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = date ? strptime(date, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end || (*end && strcmp(end, "Z"))) return NAN;
    return (double)timegm(&tm);
}

/* The first threshold of ENTRY on this trend's metric in scenario NAME
 * (series K) becomes P's bound there, and its expression the series'
 * (the newest run's wins: thresholds change as a project tightens them). */
static void threshold_of(lb_history_trend *t, const json_t *entry, const char *name, int k,
                         lb_history_point *p)
{
    char ref[128];
    snprintf(ref, sizeof ref, "%s.%s", t->variant, t->metric);
    const json_t *th;
    size_t i;
    json_array_foreach(json_object_get(entry, "thresholds"), i, th)
    {
        const char *scenario = json_string_value(json_object_get(th, "scenario"));
        const char *metric = json_string_value(json_object_get(th, "metric"));
        const json_t *bound = json_object_get(th, "bound");
        if (!scenario || !metric || strcmp(scenario, name) || strcmp(metric, ref) ||
            !json_is_number(bound))
            continue;
        p->bound[k] = json_number_value(bound);
        const char *expr = json_string_value(json_object_get(th, "expr"));
        snprintf(t->bound_expr[k], sizeof t->bound_expr[k], "%s", expr ? expr : "");
        return;
    }
}

/* The series of scenario NAME, added if new; -1 past the maximum. */
static int series_index(lb_history_trend *t, const char *name)
{
    for (size_t k = 0; k < t->n_series; k++)
        if (!strcmp(t->series[k], name)) return (int)k;
    if (t->n_series == LB_HISTORY_MAX_SERIES) return -1;
    t->series[t->n_series] = strdup(name);
    return t->series[t->n_series] ? (int)t->n_series++ : -1;
}

/* Fills P from ENTRY; -EINVAL (err set by the caller) when a metric is
 * neither a number nor null. */
static int point_of(lb_history_trend *t, const json_t *entry, lb_history_point *p,
                    const char **bad_scenario)
{
    memset(p, 0, sizeof *p);
    p->run = t->runs;
    short_commit(json_string_value(json_object_get(entry, "commit")), p->commit, sizeof p->commit);
    const char *date = json_string_value(json_object_get(entry, "date"));
    snprintf(p->date, sizeof p->date, "%s", date ? date : "-");
    p->date_s = date_seconds(date);
    for (size_t k = 0; k < LB_HISTORY_MAX_SERIES; k++) p->bound[k] = NAN;
    const char *name;
    json_t *variants;
    json_object_foreach(json_object_get(entry, "metrics"), name, variants)
    {
        if (t->only && strcmp(t->only, name)) continue;
        int k = series_index(t, name);
        if (k < 0) continue;
        const json_t *v = json_object_get(json_object_get(variants, t->variant), t->metric);
        if (json_is_number(v)) {
            p->cell[k] = LB_CELL_NUMBER;
            p->value[k] = json_number_value(v);
        } else if (json_is_null(v)) {
            p->cell[k] = LB_CELL_NULL;
        } else if (v) {
            *bad_scenario = name;
            return -EINVAL;
        }
        threshold_of(t, entry, name, k, p);
    }
    return 0;
}

/* Keeps every other point when the points are full, doubling the stride. */
static void thin(lb_history_trend *t)
{
    size_t kept = 0;
    t->stride *= 2;
    for (size_t i = 0; i < t->n_points; i++)
        if ((t->points[i].run - 1) % t->stride == 0) t->points[kept++] = t->points[i];
    t->n_points = kept;
}

typedef struct trend_scan {
    lb_history_trend *t;
    const char *path;
    char *err;
    size_t errlen;
    lb_history_point newest; /* the last run read, kept even when thinned out */
} trend_scan;

static int trend_line(const json_t *entry, int line, void *ctx)
{
    trend_scan *scan = ctx;
    lb_history_trend *t = scan->t;
    const char *bad = NULL;
    t->runs++;
    if (point_of(t, entry, &scan->newest, &bad)) {
        snprintf(scan->err, scan->errlen, "%s:%d: metrics.%s.%s.%s: expected a number or null",
                 scan->path, line, bad, t->variant, t->metric);
        return -EINVAL;
    }
    json_decref(t->latest);
    t->latest = json_incref((json_t *)entry); /* outlives the scan's reference */
    if ((t->runs - 1) % t->stride) return 0;
    if (t->n_points == LB_HISTORY_MAX_POINTS) thin(t);
    if ((t->runs - 1) % t->stride == 0) t->points[t->n_points++] = scan->newest;
    return 0;
}

int lb_history_trend_load(lb_history_trend *t, const char *path, const char *variant,
                          const char *metric, const char *only, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->variant = variant;
    t->metric = metric;
    t->only = only;
    t->stride = 1;
    t->points = malloc((LB_HISTORY_MAX_POINTS + 1) * sizeof *t->points);
    trend_scan scan = {.t = t, .path = path, .err = err, .errlen = errlen};
    if (!t->points) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    int rc = lb_history_each(path, trend_line, &scan, err, errlen);
    if (rc == -ENOMEM) snprintf(err, errlen, "%s: out of memory", path);
    if (rc) return rc;
    if (t->runs == 0) {
        snprintf(err, errlen, "%s: no runs recorded yet", path);
        return -EINVAL;
    }
    if (t->n_series == 0) {
        snprintf(err, errlen, "%s: no scenario %s in any entry", path, only ? only : "at all");
        return -EINVAL;
    }
    if (t->points[t->n_points - 1].run != t->runs) t->points[t->n_points++] = scan.newest;
    return 0;
}

void lb_history_trend_free(lb_history_trend *t)
{
    for (size_t k = 0; k < t->n_series; k++) free(t->series[k]);
    free(t->points);
    json_decref(t->latest);
    memset(t, 0, sizeof *t);
}

size_t lb_history_trend_values(const lb_history_trend *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_points; i++)
        for (size_t k = 0; k < t->n_series; k++) n += t->points[i].cell[k] == LB_CELL_NUMBER;
    return n;
}

json_t *lb_history_bmf(const json_t *entry)
{
    json_t *bmf = json_object();
    const char *scenario;
    const json_t *variants;
    json_object_foreach(json_object_get(entry, "metrics"), scenario, variants)
    {
        for (size_t vi = 0; vi < 2; vi++) {
            const json_t *values = json_object_get(variants, lb_variants[vi]);
            json_t *bench = json_object();
            char name[300];
            snprintf(name, sizeof name, "%s/%s", scenario, lb_variants[vi]);
            const char *metric;
            const json_t *v;
            json_object_foreach((json_t *)values, metric, v)
            {
                if (json_is_number(v))
                    json_object_set_new(bench, metric,
                                        json_pack("{s:f}", "value", json_number_value(v)));
            }
            if (json_object_size(bench))
                json_object_set_new(bmf, name, bench);
            else
                json_decref(bench);
        }
    }
    return bmf;
}

json_t *lb_history_action_benchmark(const json_t *entry, int bigger_is_better)
{
    json_t *list = json_array();
    const char *commit = json_string_value(json_object_get(entry, "commit"));
    const char *date = json_string_value(json_object_get(entry, "date"));
    const char *scenario;
    const json_t *variants;
    json_object_foreach(json_object_get(entry, "metrics"), scenario, variants)
    {
        for (size_t vi = 0; vi < 2; vi++) {
            const json_t *values = json_object_get(variants, lb_variants[vi]);
            for (size_t mi = 0; mi < lb_metric_count(); mi++) {
                const lb_metric_def *m = lb_metric_at(mi);
                if (!m->compared ||
                    m->better != (bigger_is_better ? LB_BETTER_HIGHER : LB_BETTER_LOWER))
                    continue;
                const json_t *v = json_object_get(values, m->name);
                if (!json_is_number(v)) continue;
                char name[300], extra[200];
                snprintf(name, sizeof name, "%s/%s %s", scenario, lb_variants[vi], m->name);
                snprintf(extra, sizeof extra, "commit %s, %s", commit ? commit : "unknown",
                         date ? date : "no date");
                json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:s}", "name", name, "unit",
                                                      m->unit, "value", json_number_value(v),
                                                      "extra", extra));
            }
        }
    }
    return list;
}

/* ------------------------------------------------------------ chart -- */

/* Whether the chart's x axis can be the runs' dates: every point has
 * one, they never go backwards, and they span some time. */
static bool dated(const lb_history_trend *t)
{
    for (size_t i = 0; i < t->n_points; i++)
        if (isnan(t->points[i].date_s) || (i && t->points[i].date_s < t->points[i - 1].date_s))
            return false;
    return t->n_points && t->points[t->n_points - 1].date_s > t->points[0].date_s;
}

/* The x of point I on the chart: its date, or its run number. */
static double point_x(const lb_history_trend *t, size_t i, bool by_date)
{
    return by_date ? t->points[i].date_s : (double)t->points[i].run;
}

/* trend.dat: "RUN COMMIT DATE_S LABEL VALUE... BOUND..." per point, '?'
 * where a value, a threshold or the date is missing; LABEL is the run's
 * tic label on a short chart, "MM-DD HH:MM" and the commit on two lines
 * (commits are hex digits or "unknown", the date is ours: no quotes). */
static int stage_trend_dat(lb_gnuplot_stage *stage, const lb_history_trend *t, bool by_date)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    fprintf(f, "# %s.%s per run%s\n# run commit date_s label", t->variant, t->metric,
            t->stride > 1 ? " (thinned: a long history keeps every stride-th run and the newest)"
                          : "");
    for (size_t k = 0; k < t->n_series; k++) fprintf(f, " series%zu", k + 1);
    for (size_t k = 0; k < t->n_series; k++) fprintf(f, " threshold%zu", k + 1);
    fputc('\n', f);
    for (size_t i = 0; i < t->n_points; i++) {
        const lb_history_point *p = &t->points[i];
        char when[32] = "";
        if (by_date) {
            time_t secs = (time_t)p->date_s;
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(when, sizeof when, "%m-%d %H:%M\\n", &tm);
        }
        fprintf(f, "%zu %s ", p->run, p->commit);
        if (isnan(p->date_s))
            fputs("?", f);
        else
            fprintf(f, "%.0f", p->date_s);
        fprintf(f, " \"%s%s\"", when, p->commit);
        for (size_t k = 0; k < t->n_series; k++)
            if (p->cell[k] == LB_CELL_NUMBER)
                fprintf(f, " %.17g", p->value[k]);
            else
                fputs(" ?", f);
        for (size_t k = 0; k < t->n_series; k++)
            if (isnan(p->bound[k]))
                fputs(" ?", f);
            else
                fprintf(f, " %.17g", p->bound[k]);
        fputc('\n', f);
    }
    return lb_gnuplot_stage_stream(stage, "trend.dat", &buf, &len, f);
}

int lb_history_detect(lb_history_trend *t)
{
    double *x = malloc((t->n_points ? t->n_points : 1) * sizeof *x);
    size_t *at = malloc((t->n_points ? t->n_points : 1) * sizeof *at);
    if (!x || !at) {
        free(x);
        free(at);
        return -ENOMEM;
    }
    lb_changepoint_opts opts = LB_CHANGEPOINT_DEFAULTS;
    int rc = 0;
    for (size_t k = 0; k < t->n_series && !rc; k++) {
        size_t n = 0;
        for (size_t i = 0; i < t->n_points; i++)
            if (t->points[i].cell[k] == LB_CELL_NUMBER) {
                x[n] = t->points[i].value[k];
                at[n++] = i;
            }
        lb_changepoint_result *r = &t->changes[k];
        rc = lb_changepoints(x, n, &opts, r);
        /* Indices into the series' numbers become indices into points[]. */
        for (size_t j = 0; !rc && j < r->n_points; j++) r->points[j].index = at[r->points[j].index];
    }
    free(x);
    free(at);
    t->detected = rc == 0;
    return rc;
}

json_t *lb_history_changes_json(const lb_history_trend *t)
{
    json_t *series = json_object();
    for (size_t k = 0; k < t->n_series; k++) {
        const lb_changepoint_result *r = &t->changes[k];
        json_t *steps = json_array();
        for (size_t j = 0; j < r->n_points; j++) {
            const lb_changepoint *c = &r->points[j];
            const lb_history_point *p = &t->points[c->index];
            json_array_append_new(
                steps,
                json_pack("{s:I, s:s, s:f, s:f, s:o, s:f}", "run", (json_int_t)p->run, "commit",
                          p->commit, "before", c->before, "after", c->after, "change",
                          isfinite(c->change) ? json_real(c->change) : json_null(), "p", c->p));
        }
        json_object_set_new(
            series, t->series[k],
            json_pack("{s:o, s:o}", "steps", steps, "drift_per_run",
                      r->drift ? json_real(r->drift_per_point * (double)t->stride) : json_null()));
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "variant", t->variant, "metric", t->metric, "method",
                     "binary segmentation: two-median L1 split, Bonferroni-corrected Mann-Whitney "
                     "U at 0.05, >= 5% change, a step must fit at most half a line's residuals "
                     "nearby; drift by Mann-Kendall and Theil-Sen",
                     "series", series);
}

/* The change points for trend.gp: step_xK between the last run at the
 * old level and the first at the new one, step_textK the change. */
static void emit_changes(FILE *f, const lb_history_trend *t, bool by_date)
{
    size_t n = 0;
    for (size_t k = 0; t->detected && k < t->n_series; k++)
        for (size_t j = 0; j < t->changes[k].n_points; j++) {
            const lb_changepoint *c = &t->changes[k].points[j];
            double x = c->index > 0
                           ? (point_x(t, c->index - 1, by_date) + point_x(t, c->index, by_date)) / 2
                           : point_x(t, c->index, by_date);
            char text[96], name[48];
            if (isfinite(c->change))
                snprintf(text, sizeof text, "step %+.0f%%", c->change * 100);
            else
                snprintf(text, sizeof text, "step from 0");
            n++;
            snprintf(name, sizeof name, "step_x%zu", n);
            fprintf(f, "%s = %.1f\n", name, x);
            snprintf(name, sizeof name, "step_text%zu", n);
            lb_gnuplot_set_string(f, name, text);
        }
    fprintf(f, "n_steps = %zu\n", n);
}

/* The templates the chart is drawn with (plots/, shared with the report). */
static const char *const trend_templates[] = {"style.gp", "trend.gp"};

/* trend.gp: the chart's inputs as variables (every string through
 * lb_gnuplot_set_string), then the template plots/trend.gp loaded once
 * per terminal, in one process.  A series without a number is left out of
 * the plot (gnuplot refuses a plot where no series has a point). */
static int stage_trend_gp(lb_gnuplot_stage *stage, const lb_history_trend *t, const char *ylabel,
                          bool by_date)
{
    char *buf = NULL, title[256], name[32], text[160];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    snprintf(title, sizeof title, "%s.%s over %zu runs", t->variant, t->metric, t->runs);
    fputs("# leakbench history chart, generated from trend.dat: `gnuplot trend.gp` here\n"
          "set encoding utf8\n",
          f);
    lb_gnuplot_set_string(f, "title_text", title);
    lb_gnuplot_set_string(f, "ylabel_text", ylabel);
    fprintf(f, "n_series = %zu\n", t->n_series);
    for (size_t k = 0; k < t->n_series; k++) {
        bool any = false, bound = false;
        for (size_t i = 0; i < t->n_points; i++) {
            any |= t->points[i].cell[k] == LB_CELL_NUMBER;
            bound |= !isnan(t->points[i].bound[k]);
        }
        snprintf(name, sizeof name, "series%zu", k + 1);
        lb_gnuplot_set_string(f, name, t->series[k]);
        snprintf(text, sizeof text, "%s: threshold %s", t->series[k],
                 t->bound_expr[k][0] ? t->bound_expr[k] : "");
        snprintf(name, sizeof name, "bound%zu_text", k + 1);
        lb_gnuplot_set_string(f, name, bound ? text : "");
        fprintf(f, "has_series%zu = %d\nhas_bound%zu = %d\n", k + 1, any, k + 1, bound);
    }
    double span = t->n_points ? t->points[t->n_points - 1].date_s - t->points[0].date_s : 0;
    /* A tic per run, labelled with its date and commit, while they fit. */
    fprintf(f, "by_date = %d\nspan_s = %.0f\ntic_labels = %d\nmarks = %d\ny_from_zero = %d\n",
            by_date, by_date ? span : 0, t->n_points <= 16, t->n_points <= 60,
            !strstr(t->metric, "slope"));
    emit_changes(f, t, by_date);
    const char *terms[2][2] = {
        {"pngcairo size 1000,560 font 'sans,10' noenhanced", "trend.png"},
        {"svg size 1000,560 font 'sans,10' noenhanced background '#ffffff'", "trend.svg"}};
    for (int term = 0; term < 2; term++)
        fprintf(f, "set terminal %s\nset output '%s'\nload 'plots/trend.gp'\nset output\n",
                terms[term][0], terms[term][1]);
    return lb_gnuplot_stage_stream(stage, "trend.gp", &buf, &len, f);
}

int lb_history_plot(const lb_history_trend *t, const char *dir, const char *ylabel,
                    lb_history_chart *chart, char *msg, size_t msglen)
{
    lb_gnuplot_stage stage;
    msg[0] = 0;
    *chart = LB_HISTORY_CHART_FAILED;
    int rc = lb_gnuplot_stage_open(&stage, dir, "trend");
    if (rc) {
        snprintf(msg, msglen, "%s: cannot create a staging directory: %s", dir, strerror(-rc));
        return rc;
    }
    bool nothing = lb_history_trend_values(t) == 0, by_date = dated(t);
    char templates_dir[4096];
    rc = stage_trend_dat(&stage, t, by_date);
    bool templates = lb_gnuplot_templates_dir(templates_dir, sizeof templates_dir) == 0;
    if (!templates) nothing = true; /* no chart: the data and the message below */
    if (!rc && !nothing) rc = lb_gnuplot_stage_mkdir(&stage, "plots");
    if (!rc && !nothing)
        rc = lb_gnuplot_stage_templates(&stage, templates_dir, trend_templates,
                                        sizeof trend_templates / sizeof trend_templates[0]);
    if (!rc && !nothing) rc = stage_trend_gp(&stage, t, ylabel, by_date);
    if (!rc) rc = lb_gnuplot_stage_expect(&stage, "trend.png");
    if (!rc) rc = lb_gnuplot_stage_expect(&stage, "trend.svg");
    if (rc) {
        lb_gnuplot_stage_finish(&stage, dir, LB_GNUPLOT_KEEP_NOTHING, NULL);
        snprintf(msg, msglen, "%s: cannot write the chart data: %s", dir, strerror(-rc));
        return rc;
    }
    if (!templates && lb_history_trend_values(t)) {
        *chart = LB_HISTORY_CHART_FAILED;
        snprintf(msg, msglen,
                 "gnuplot templates (plots/style.gp, trend.gp) not found beside the leakbench "
                 "binary or in ./plots (set LEAKBENCH_PLOTS_DIR); chart skipped");
        return lb_gnuplot_stage_finish(&stage, dir, LB_GNUPLOT_KEEP_INPUTS, NULL);
    }
    if (nothing) {
        *chart = LB_HISTORY_CHART_NOTHING;
        snprintf(msg, msglen,
                 "nothing to plot: %s.%s is null or missing in every run; trend.png and "
                 "trend.svg left as they were",
                 t->variant, t->metric);
        return lb_gnuplot_stage_finish(&stage, dir, LB_GNUPLOT_KEEP_INPUTS, NULL);
    }
    char why[1024];
    int drawn = 0;
    rc = lb_gnuplot_run(stage.dir, "trend.gp", 0, why, sizeof why);
    if (rc) {
        *chart = rc == -ENOENT ? LB_HISTORY_CHART_NO_GNUPLOT : LB_HISTORY_CHART_FAILED;
        snprintf(msg, msglen, "%s; chart skipped",
                 rc == -ENOENT ? "gnuplot not found on PATH (apt-get install gnuplot-nox)" : why);
        return lb_gnuplot_stage_finish(&stage, dir, LB_GNUPLOT_KEEP_INPUTS, NULL);
    }
    rc = lb_gnuplot_stage_finish(&stage, dir, LB_GNUPLOT_KEEP_ALL, &drawn);
    if (rc) {
        snprintf(msg, msglen, "%s: cannot move the chart into place: %s", dir, strerror(-rc));
        return rc;
    }
    *chart = drawn == 2 ? LB_HISTORY_CHART_DRAWN : LB_HISTORY_CHART_FAILED;
    if (drawn != 2) snprintf(msg, msglen, "gnuplot wrote an empty image; chart skipped");
    return 0;
}
