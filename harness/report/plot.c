/*
 * plot.c — turns a validated results document into charts with gnuplot.
 *
 * For every scenario it writes data files (charts/data/<slug>-leaky.dat,
 * -graceful.dat, -latency-leaky.dat, -latency-graceful.dat, -summary.dat), copies the templates
 * from plots/ into charts/plots/ and generates one script, charts/charts.gp, that sets each chart's
 * inputs as gnuplot variables and `load`s the template once for PNG (pngcairo) and once for SVG.
 * One gnuplot process draws every chart of the report.  The charts drawn per scenario are the table
 * lb_charts (report_internal.h): file suffix, alt text, template and size, indexed by
 * lb_chart_kind.
 *
 * Safety and atomicity are gnuplot.c's (gnuplot.h): file names in the
 * script are generated slugs ([A-Za-z0-9_-]) relative to the staging
 * directory; every other string from the results file (scenario names,
 * titles, annotations) reaches the script only through
 * lb_gnuplot_set_string, as a variable the templates print with
 * `noenhanced`; everything is written into charts.tmp.XXXXXX/ inside the
 * output directory, gnuplot runs there with a time and memory limit, and
 * only when it succeeds are the complete images renamed into charts/ (an
 * empty or cut-short one is not, and makes the charts "failed").  If
 * gnuplot is missing, the data and script are still moved into place so
 * that `cd charts && gnuplot charts.gp` works later.
 */
#include "gnuplot.h"
#include "report_internal.h"
#include "core/metric.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const lb_chart_def lb_charts[LB_CHART_KINDS] = {
    [LB_CHART_TASKS] = {"tasks", "Live tasks over time", "tasks.gp", 1000, 500},
    [LB_CHART_RSS] = {"rss", "Resident memory over time", "rss.gp", 1000, 500},
    [LB_CHART_STATES] = {"states", "Tasks by state (stacked)", "states.gp", 1000, 720},
    [LB_CHART_LATENCY] = {"latency", "Latency of completed requests by percentile", "latency.gp",
                          1000, 500},
    [LB_CHART_SUMMARY] = {"summary", "Before/after summary", "summary.gp", 1100, 450},
};

static const char *const templates[] = {"style.gp",  "phases.gp",  "tasks.gp",  "rss.gp",
                                        "states.gp", "latency.gp", "summary.gp"};
#define N_TEMPLATES (sizeof templates / sizeof templates[0])

/* The most rows a chart's data file gets; longer runs are decimated. */
#define MAX_PLOT_ROWS 1000
/* A series with fewer rows than this gets a marker on every sample. */
#define FEW_POINTS 30
#define MB         LB_MIB /* RSS is charted in MiB, as every view prints it (core/units.h) */

enum { LEAKY, GRACEFUL, N_VARIANTS };

static const char *const state_columns[] = {"running",   "send", "recv", "select", "sleep",
                                            "waitgroup", "lock", "join", "io"};
#define N_STATES (sizeof state_columns / sizeof state_columns[0])

/* -------------------------------------------------------- file names -- */

static void scenario_slug(char *buf, size_t n, const json_t *root, size_t i)
{
    const json_t *scenarios = json_object_get(root, "scenarios");
    lb_slug(buf, n, lb_jstr(json_array_get(scenarios, i), "name"));
    /* Two names can map to one slug ("a b", "a_b"): number the later ones. */
    for (size_t j = 0; j < i; j++) {
        char other[64];
        lb_slug(other, sizeof other, lb_jstr(json_array_get(scenarios, j), "name"));
        if (!strcmp(other, buf)) {
            size_t len = strlen(buf);
            snprintf(buf + len, n - len, "-%zu", i + 1);
            break;
        }
    }
}

void lb_chart_base(char *buf, size_t n, const json_t *root, size_t i, lb_chart_kind kind)
{
    char slug[64];
    scenario_slug(slug, sizeof slug, root, i);
    snprintf(buf, n, "%s-%s", slug, lb_charts[kind].suffix);
}

/* ------------------------------------------------------- data files -- */

static double row_num(const json_t *row, int col)
{
    if (col < 0) return NAN;
    const json_t *v = json_array_get(row, (size_t)col);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void put_num(FILE *f, double v)
{
    if (isnan(v))
        fputs(" NaN", f);
    else
        fprintf(f, " %.6g", v);
}

static int phase_index(const char *p)
{
    static const char *const names[] = {"start", "ready", "load", "settle", "shutdown", "exit"};
    for (int i = 0; p && i < 6; i++)
        if (!strcmp(p, names[i])) return i;
    return -1;
}

/* One run's samples: t, phase (0 start .. 5 exit), tasks, RSS MB, the nine states, threads.
 * Runs longer than MAX_PLOT_ROWS keep, per bucket of rows, the row with
 * the most live tasks, so peaks survive decimation. */
static int write_run_dat(lb_gnuplot_stage *s, const char *rel, const json_t *run, int *rows_out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    int c_t = lb_sample_column(run, "t_s"), c_phase = lb_sample_column(run, "phase");
    int c_tasks = lb_sample_column(run, "tasks"), c_rss = lb_sample_column(run, "rss_bytes");
    int c_threads = lb_sample_column(run, "threads"), c_state[N_STATES];
    for (size_t k = 0; k < N_STATES; k++) c_state[k] = lb_sample_column(run, state_columns[k]);
    const json_t *rows = lb_jpath(run, "samples.rows");
    size_t n = json_array_size(rows), bucket = (n + MAX_PLOT_ROWS - 1) / MAX_PLOT_ROWS;
    if (bucket < 1) bucket = 1;
    fprintf(f, "# %s: one row per sample%s\n# t_s phase tasks rss_mib", rel,
            bucket > 1 ? " (decimated: the busiest sample of each bucket)" : "");
    for (size_t k = 0; k < N_STATES; k++) fprintf(f, " %s", state_columns[k]);
    fputs(" threads\n", f);
    int written = 0;
    for (size_t b = 0; b < n; b += bucket) {
        size_t pick = b;
        for (size_t r = b + 1; r < b + bucket && r < n; r++)
            if (row_num(json_array_get(rows, r), c_tasks) >
                row_num(json_array_get(rows, pick), c_tasks))
                pick = r;
        const json_t *row = json_array_get(rows, pick);
        const json_t *ph = c_phase >= 0 ? json_array_get(row, (size_t)c_phase) : NULL;
        fprintf(f, "%.6f %d", row_num(row, c_t), phase_index(json_string_value(ph)));
        put_num(f, row_num(row, c_tasks));
        put_num(f, row_num(row, c_rss) / MB);
        for (size_t k = 0; k < N_STATES; k++) put_num(f, row_num(row, c_state[k]));
        put_num(f, row_num(row, c_threads));
        fputc('\n', f);
        written++;
    }
    *rows_out = written;
    return lb_gnuplot_stage_stream(s, rel, &buf, &len, f);
}

/* Largest finite value of a sample column in a run (NAN if none). */
static double column_max(const json_t *run, const char *name)
{
    int c = lb_sample_column(run, name);
    const json_t *rows = lb_jpath(run, "samples.rows"), *row;
    double best = NAN;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        double v = row_num(row, c);
        if (!isnan(v) && (isnan(best) || v > best)) best = v;
    }
    return best;
}

/* The last sample with a finite value in a column: its time and value.
 * Samples of the "exit" phase are skipped when there are others: by then
 * the child is being reaped and /proc reports it empty (RSS 0). */
static bool column_last(const json_t *run, const char *name, double *t, double *v)
{
    int c = lb_sample_column(run, name), ct = lb_sample_column(run, "t_s");
    int cp = lb_sample_column(run, "phase");
    const json_t *rows = lb_jpath(run, "samples.rows");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = json_array_size(rows); i-- > 0;) {
            const json_t *row = json_array_get(rows, i);
            const char *ph = cp >= 0 ? json_string_value(json_array_get(row, (size_t)cp)) : NULL;
            if (pass == 0 && ph && !strcmp(ph, "exit")) continue;
            if (!isnan(row_num(row, c))) {
                *t = row_num(row, ct);
                *v = row_num(row, c);
                return true;
            }
        }
    }
    return false;
}

/* Log scale when the positive values span two orders of magnitude or
 * more and nothing that would vanish on a log axis is present. */
static bool wants_log(const double *v, size_t n)
{
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        if (v[i] <= 0) return false;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    return hi > 0 && lo < INFINITY && hi / lo >= 100;
}

/* ------------------------------------------------ facts for a chart -- */

/* The first run (graceful preferred: it completes) that knows a phase
 * boundary. */
static double phase_time(const json_t *const run[N_VARIANTS], const char *key)
{
    char path[64];
    snprintf(path, sizeof path, "phases.%s", key);
    double v = run[GRACEFUL] ? lb_jnum_path(run[GRACEFUL], path) : NAN;
    if (isnan(v) && run[LEAKY]) v = lb_jnum_path(run[LEAKY], path);
    return v;
}

/* A guard limit of KIND ("memory", "tasks"): from a guard that fired in
 * any run of the scenario, else the limits a run was given
 * (guard_limits.memory_bytes / .tasks). */
static double guard_limit(const json_t *scenario, const char *kind)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    json_array_foreach(runs, i, run)
    {
        const char *k = lb_jstr_path(run, "guard.kind");
        if (k && !strcmp(k, kind)) {
            double lim = lb_jnum_path(run, "guard.limit");
            if (!isnan(lim)) return lim;
        }
    }
    const char *key = !strcmp(kind, "memory") ? "guard_limits.memory_bytes" : "guard_limits.tasks";
    json_array_foreach(runs, i, run)
    {
        double lim = lb_jnum_path(run, key);
        if (!isnan(lim) && lim > 0) return lim;
    }
    return NAN;
}

/* Emits how a guard limit appears on a time chart: as a line when it is
 * on the chart's scale (log axis, or at most 3x the data), otherwise
 * marked where it is (rss.gp: an arrow at the top edge; tasks.gp: a key
 * entry), so the data is not squashed. */
static void gp_guard(FILE *gp, const char *prefix, double limit, double data_max, bool log_axis,
                     const char *what, const char *value_text)
{
    char name[64], text[160];
    int mode = isnan(limit) ? 0 : (log_axis || !(data_max > 0) || limit <= 3 * data_max) ? 1 : 2;
    snprintf(name, sizeof name, "%s_guard_mode", prefix);
    fprintf(gp, "%s = %d\n", name, mode);
    if (mode == 1)
        snprintf(text, sizeof text, "%s guard limit (%s)", what, value_text);
    else
        snprintf(text, sizeof text, "%s guard limit: %s (far above the data)", what, value_text);
    snprintf(name, sizeof name, "%s_guard_text", prefix);
    lb_gnuplot_set_string(gp, name, mode ? text : "");
}

/* ------------------------------------------------------- the script -- */

static void set_term(FILE *f, bool png, int w, int h)
{
    if (png)
        fprintf(f, "set terminal pngcairo size %d,%d font 'sans,10' noenhanced\n", w, h);
    else
        fprintf(f, "set terminal svg size %d,%d font 'sans,10' noenhanced background '#ffffff'\n",
                w, h);
}

/* One scenario's charts as they are being written. */
typedef struct scenario_plot {
    lb_gnuplot_stage *stage;
    FILE *gp; /* the script */
    const json_t *root, *scenario;
    size_t idx;
    const json_t *run[N_VARIANTS]; /* the first repetition of each variant, or NULL */
    char slug[64];
    int rows[N_VARIANTS]; /* rows in each variant's data file */
    double tasks_guard, mem_guard;
    int charts; /* charts asked for so far */
} scenario_plot;

/* Asks for chart KIND: both terminals, the template of the kind. */
static void emit_chart(scenario_plot *p, lb_chart_kind kind)
{
    const lb_chart_def *c = &lb_charts[kind];
    char base[160];
    lb_chart_base(base, sizeof base, p->root, p->idx, kind);
    for (int png = 1; png >= 0; png--) {
        set_term(p->gp, png, c->width, c->height);
        fprintf(p->gp, "set output '%s.%s'\nload 'plots/%s'\n", base, png ? "png" : "svg",
                c->template_file);
    }
    fputs("unset output\n", p->gp);
    p->charts++;
}

/* The heading and each variant's sample data: has_leaky, has_graceful,
 * few_points. */
static int emit_series(scenario_plot *p)
{
    static const char *const dat_var[N_VARIANTS] = {"leaky_dat", "graceful_dat"};
    const char *name = lb_jstr(p->scenario, "name"), *title = lb_jstr(p->scenario, "title");
    char heading[512], rel[160];
    if (title && *title)
        snprintf(heading, sizeof heading, "%s — %s", name, title);
    else
        snprintf(heading, sizeof heading, "%s", name);
    fprintf(p->gp, "\n# ---- scenario %zu: %s\n", p->idx + 1, p->slug);
    lb_gnuplot_set_string(p->gp, "scen", heading);
    lb_gnuplot_set_string(p->gp, "leaky_title", lb_side_label(p->root, LEAKY));
    lb_gnuplot_set_string(p->gp, "graceful_title", lb_side_label(p->root, GRACEFUL));
    lb_gnuplot_set_string(p->gp, "summary_title",
                          lb_jstr_path(p->root, "aa.variant")
                              ? "A/A run, the same twin on both sides"
                              : "Before and after the fix");
    for (int v = 0; v < N_VARIANTS; v++) {
        p->rows[v] = 0;
        rel[0] = 0;
        if (p->run[v] && json_array_size(lb_jpath(p->run[v], "samples.rows"))) {
            snprintf(rel, sizeof rel, "data/%s-%s.dat", p->slug, lb_variants[v]);
            int rc = write_run_dat(p->stage, rel, p->run[v], &p->rows[v]);
            if (rc < 0) return rc;
        }
        lb_gnuplot_set_string(p->gp, dat_var[v], rel);
    }
    /* A time series needs two samples; short ones get a marker per sample. */
    bool few = false;
    for (int v = 0; v < N_VARIANTS; v++) few |= p->rows[v] >= 2 && p->rows[v] < FEW_POINTS;
    fprintf(p->gp, "has_leaky = %d\nhas_graceful = %d\nfew_points = %d\n", p->rows[LEAKY] >= 2,
            p->rows[GRACEFUL] >= 2, few);
    return 0;
}

/* Phases: shade from the start of load to the last exit. */
static void emit_phases(scenario_plot *p)
{
    double t_exit = NAN;
    for (int v = 0; v < N_VARIANTS; v++) {
        if (!p->run[v]) continue;
        double e = lb_jnum_path(p->run[v], "phases.exit_s"), t, last;
        if (isnan(e) && column_last(p->run[v], "t_s", &t, &last)) e = last;
        if (!isnan(e) && (isnan(t_exit) || e > t_exit)) t_exit = e;
    }
    lb_gnuplot_set_number(p->gp, "t_load0", phase_time(p->run, "load_start_s"));
    lb_gnuplot_set_number(p->gp, "t_load1", phase_time(p->run, "load_end_s"));
    lb_gnuplot_set_number(p->gp, "t_settle1", phase_time(p->run, "settle_end_s"));
    lb_gnuplot_set_number(p->gp, "t_shut0", phase_time(p->run, "shutdown_start_s"));
    lb_gnuplot_set_number(p->gp, "t_exit", t_exit);
}

/* Annotations on the leaky curve: the guard that killed it, or what it
 * left behind (a killed run left nothing: its tasks died with it). */
static void emit_leaky_notes(scenario_plot *p)
{
    const json_t *leaky = p->run[LEAKY];
    const char *kind = leaky ? lb_jstr_path(leaky, "guard.kind") : NULL;
    double kill_t = leaky ? lb_jnum_path(leaky, "guard.at_s") : NAN;
    bool killed = kind && !isnan(kill_t);
    char text[256], a[64], b[96];
    if (killed) {
        lb_fmt_guard_value(a, sizeof a, kind, lb_jnum_path(leaky, "guard.value"));
        lb_fmt_num(b, sizeof b, kill_t, 3);
        snprintf(text, sizeof text, "killed by %s guard at %s s (%s)", kind, b, a);
        fprintf(p->gp, "has_kill = 1\n");
        lb_gnuplot_set_number(p->gp, "kill_t", kill_t);
        lb_gnuplot_set_string(p->gp, "kill_text", text);
    } else {
        fprintf(p->gp, "has_kill = 0\nkill_t = NaN\nkill_text = ''\n");
    }
    double end_t, end_tasks, end_rss_t, end_rss;
    if (!p->rows[LEAKY] || killed || !column_last(leaky, "tasks", &end_t, &end_tasks)) {
        fprintf(p->gp, "has_end_note = 0\nend_x = NaN\nend_y_tasks = NaN\nend_text_tasks = ''\n"
                       "end_y_rss = NaN\nend_text_rss = ''\n");
        return;
    }
    double leaked = lb_jnum_path(leaky, "metrics.leaked_tasks");
    if (isnan(leaked)) leaked = end_tasks;
    snprintf(text, sizeof text, "%s tasks left behind", lb_fmt_count(a, sizeof a, leaked));
    fprintf(p->gp, "has_end_note = %d\n", leaked > 0);
    lb_gnuplot_set_number(p->gp, "end_x", end_t);
    lb_gnuplot_set_number(p->gp, "end_y_tasks", end_tasks);
    lb_gnuplot_set_string(p->gp, "end_text_tasks", text);
    if (!column_last(leaky, "rss_bytes", &end_rss_t, &end_rss)) end_rss = NAN;
    snprintf(text, sizeof text, "%s still resident", lb_fmt_bytes(a, sizeof a, end_rss));
    lb_gnuplot_set_number(p->gp, "end_y_rss", end_rss / MB);
    lb_gnuplot_set_string(p->gp, "end_text_rss", isnan(end_rss) ? "" : text);
}

/* Guard limits and scales: live tasks on a log axis where the twins differ
 * by orders of magnitude; RSS always linear (on a log axis a linear leak
 * looks as if it levelled off); a guard far above the data is marked at
 * the chart's edge (RSS) or in the key (tasks), never drawn to scale. */
static void emit_scales(scenario_plot *p)
{
    double peaks[N_VARIANTS], rss[N_VARIANTS];
    for (int v = 0; v < N_VARIANTS; v++) {
        peaks[v] = p->rows[v] ? column_max(p->run[v], "tasks") : NAN;
        rss[v] = p->rows[v] ? column_max(p->run[v], "rss_bytes") : NAN;
    }
    p->tasks_guard = guard_limit(p->scenario, "tasks");
    p->mem_guard = guard_limit(p->scenario, "memory");
    lb_gnuplot_set_number(p->gp, "tasks_guard", p->tasks_guard);
    lb_gnuplot_set_number(p->gp, "mem_guard_mb", p->mem_guard / MB);
    bool tasks_log = wants_log(peaks, N_VARIANTS), rss_log = false;
    double peak = fmax(peaks[LEAKY], peaks[GRACEFUL]);
    fprintf(p->gp, "tasks_log = %d\nbig_counts = %d\nrss_log = %d\n", tasks_log,
            peak >= 10000 || p->tasks_guard >= 10000, rss_log);
    char a[64], b[96];
    lb_fmt_count(a, sizeof a, p->tasks_guard);
    snprintf(b, sizeof b, "%s tasks", a);
    gp_guard(p->gp, "tasks", p->tasks_guard, peak, tasks_log, "task", b);
    lb_fmt_bytes(a, sizeof a, p->mem_guard);
    gp_guard(p->gp, "mem", p->mem_guard, fmax(rss[LEAKY], rss[GRACEFUL]), rss_log, "memory", a);
}

/* The time charts: live tasks, RSS and (when any state ever occurs) the
 * stacked task states, whose `active` lists the state numbers (1..9) that
 * are ever non-zero. */
static void emit_time_charts(scenario_plot *p)
{
    char active[32] = "";
    for (size_t k = 0; k < N_STATES; k++) {
        double most = 0;
        for (int v = 0; v < N_VARIANTS; v++) {
            double m = p->run[v] ? column_max(p->run[v], state_columns[k]) : NAN;
            if (m > most) most = m;
        }
        if (most > 0)
            snprintf(active + strlen(active), sizeof active - strlen(active), "%s%zu",
                     active[0] ? " " : "", k + 1);
    }
    lb_gnuplot_set_string(p->gp, "active", active);
    if (p->rows[LEAKY] < 2 && p->rows[GRACEFUL] < 2) return;
    emit_chart(p, LB_CHART_TASKS);
    emit_chart(p, LB_CHART_RSS);
    if (active[0]) emit_chart(p, LB_CHART_STATES);
}

/* One variant's latency curve: its data file (empty of rows when it has
 * no completed request) and its key title, "leaky (before fix):
 * completed 45 % · timed out 55 %".  Returns the curve's last tail_x
 * (NaN: nothing to draw) through *x_end, or -errno. */
static int emit_latency_variant(scenario_plot *p, int v, const lb_latency_curve *c, double *x_end)
{
    static const char *const dat_var[N_VARIANTS] = {"lat_leaky_dat", "lat_graceful_dat"};
    static const char *const key_var[N_VARIANTS] = {"lat_leaky_key", "lat_graceful_key"};
    char *buf = NULL, rel[160], split[96], key[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    *x_end = c->have_histogram ? lb_latency_curve_write(f, c) : NAN;
    snprintf(rel, sizeof rel, "data/%s-latency-%s.dat", p->slug, lb_variants[v]);
    int rc = lb_gnuplot_stage_stream(p->stage, rel, &buf, &len, f);
    if (rc < 0) return rc;
    lb_latency_split_text(split, sizeof split, c);
    if (!c->runs)
        snprintf(key, sizeof key, "%s: not run", lb_side_label(p->root, v));
    else if (!c->have_histogram)
        snprintf(key, sizeof key, "%s: %s (no completed-only latency)", lb_side_label(p->root, v),
                 split);
    else
        snprintf(key, sizeof key, "%s: %s%s", lb_side_label(p->root, v), split,
                 isnan(*x_end) ? " (none completed)" : "");
    lb_gnuplot_set_string(p->gp, dat_var[v], rel);
    lb_gnuplot_set_string(p->gp, key_var[v], key);
    return 0;
}

/* The latency chart: the completed requests' latency by percentile
 * (latency_curve.c) of each variant, the client timeout as a line, and
 * the completed / timed-out split in the key.  A results file written
 * before runs recorded completed requests apart has no curve to show:
 * the chart says so, with the split, instead of plotting every request at
 * its deadline.  Drawn when either variant submitted a request. */
static int emit_latency_chart(scenario_plot *p)
{
    lb_latency_curve c[N_VARIANTS];
    double x_end[N_VARIANTS] = {NAN, NAN};
    int rc = 0;
    bool any = false, missing = true;
    for (int v = 0; v < N_VARIANTS; v++) {
        rc = lb_latency_curve_of(p->scenario, lb_variants[v], &c[v]);
        if (rc) {
            if (v) lb_latency_curve_free(&c[0]);
            return rc;
        }
    }
    for (int v = 0; v < N_VARIANTS && !rc; v++) {
        any |= c[v].submitted > 0;
        missing &= !c[v].have_histogram;
        rc = emit_latency_variant(p, v, &c[v], &x_end[v]);
    }
    for (int v = 0; v < N_VARIANTS; v++) lb_latency_curve_free(&c[v]);
    if (rc < 0 || !any) return rc;
    /* The x axis ends at the next power of ten past the longest curve. */
    double reach = fmax(x_end[LEAKY], x_end[GRACEFUL]); /* fmax skips NaN */
    double xmax = reach > 10 ? pow(10, ceil(log10(reach) - 1e-9)) : 10;
    double timeout = lb_jnum_path(p->scenario, "spec.timeout_ms");
    char t[LB_UNITS_LEN], text[96];
    snprintf(text, sizeof text, "client timeout %s", lb_fmt_ms(t, sizeof t, timeout));
    fprintf(p->gp, "lat_leaky = %d\nlat_graceful = %d\nlat_xmax = %.6g\n", !isnan(x_end[LEAKY]),
            !isnan(x_end[GRACEFUL]), xmax);
    lb_gnuplot_set_number(p->gp, "lat_timeout", timeout);
    lb_gnuplot_set_string(p->gp, "lat_timeout_text", isnan(timeout) ? "" : text);
    fprintf(p->gp, "lat_missing = %d\n", missing);
    emit_chart(p, LB_CHART_LATENCY);
    return 0;
}

/* The label over one bar of the summary chart: our own digits and units.
 * UNJUDGED: why the variant's recovery cannot be held against it
 * (lb_recovery_unjudged), or NULL. */
static void summary_label(char *label, size_t n, const json_t *run, int panel, double val,
                          const char *unjudged)
{
    int recovered = run ? lb_jbool_path(run, "metrics.recovered") : 0;
    if (!run)
        snprintf(label, n, "not run");
    else if (panel == 2 && isnan(val) && unjudged) {
        /* "n/a:\nthe load generator\nfell behind": the reason on two
         * lines, split at its middle space (a data-file "\n" breaks the
         * label; the reasons are ours, without quotes). */
        const char *mid = unjudged + strlen(unjudged) / 2, *cut = strchr(mid, ' ');
        if (!cut) cut = unjudged + strlen(unjudged);
        snprintf(label, n, "n/a:\\n%.*s%s%s", (int)(cut - unjudged), unjudged, *cut ? "\\n" : "",
                 *cut ? cut + 1 : "");
    } else if (panel == 0)
        lb_fmt_count(label, n, val);
    else if (panel == 1)
        lb_fmt_bytes(label, n, val * MB);
    else if (isnan(val) && recovered < 0)
        snprintf(label, n, "never:\\nrestart\\nrequired"); /* lines in the bar */
    else if (isnan(val))
        snprintf(label, n, "n/a");
    else
        lb_fmt_ms(label, n, val);
}

/* How the second side's value compares with the first's, for the panel's
 * title: "22× fewer after the fix", or for an A/A run (aa: the same twin
 * on both sides) "1.47× slower on B than on A" (less: the word when the
 * second is lower, more: when it is higher); "" when either is not a
 * positive number. */
static void improvement_text(char *buf, size_t n, double first, double second, const char *less,
                             const char *more, bool aa)
{
    char f[LB_UNITS_LEN];
    buf[0] = 0;
    if (!(first > 0) || !(second > 0)) return;
    double ratio = first / second;
    const char *after = aa ? "on B than on A" : "after the fix";
    if (ratio >= 1 / 1.05 && ratio <= 1.05)
        snprintf(buf, n, "about the same %s", aa ? "on A and B" : "after the fix");
    else if (ratio > 1)
        snprintf(buf, n, "%s× %s %s", lb_fmt_num(f, sizeof f, ratio, 3), less, after);
    else
        snprintf(buf, n, "%s× %s %s", lb_fmt_num(f, sizeof f, 1 / ratio, 3), more, after);
}

/* The before/after summary: peak tasks, peak RSS and recovery time of
 * both variants as three panels of linear bars (a log axis would shrink
 * the difference the chart is there to show), each titled with the
 * factor between the twins.  A variant that never recovered gets a
 * full-height hatched bar in the recovery panel, not an empty slot that
 * reads as "no time at all". */
static int emit_summary_chart(scenario_plot *p)
{
    enum { P_TASKS, P_RSS, P_RECOVERY, N_PANELS };
    double val[N_PANELS][N_VARIANTS];
    bool never[N_VARIANTS];
    const char *unjudged[N_VARIANTS];
    for (int v = 0; v < N_VARIANTS; v++) {
        val[P_TASKS][v] = lb_scenario_metric(p->scenario, lb_variants[v], "peak_tasks");
        val[P_RSS][v] = lb_scenario_metric(p->scenario, lb_variants[v], "peak_rss_bytes") / MB;
        val[P_RECOVERY][v] = lb_scenario_metric(p->scenario, lb_variants[v], "recovery_ms");
        /* Not when the table says n/a: the generator fell behind, the run
         * was interrupted, nothing read the live tasks. */
        unjudged[v] = lb_recovery_unjudged(p->scenario, v);
        never[v] = p->run[v] && isnan(val[P_RECOVERY][v]) &&
                   lb_jbool_path(p->run[v], "metrics.recovered") < 0 && !unjudged[v];
    }
    /* The recovery panel's top: room above the tallest finite bar, or 1
     * when no variant recovered; a "never" bar reaches it. */
    double rec_top = fmax(val[P_RECOVERY][LEAKY], val[P_RECOVERY][GRACEFUL]); /* fmax skips NaN */
    rec_top = rec_top > 0 ? rec_top * 1.15 : 1;
    char *buf = NULL, rel[160];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    fprintf(f, "# before/after summary, median over repetitions\n"
               "# x variant linetype tasks label_y label rss_mib label_y label recovery_ms "
               "label_y label never_bar\n");
    for (int v = 0; v < N_VARIANTS; v++) {
        /* "\n" in a quoted data-file string is a line break in the tic
         * label: "leaky\n(before fix)", "A\n(graceful)" (no quotes in it). */
        const char *side = lb_side_label(p->root, v), *space = strchr(side, ' ');
        fprintf(f, "%d \"%.*s\\n%s\" %d", v, (int)(space - side), side, space + 1, v + 1);
        for (int panel = 0; panel < N_PANELS; panel++) {
            double mine = val[panel][v], other = val[panel][1 - v];
            char label[96];
            summary_label(label, sizeof label, p->run[v], panel, mine, unjudged[v]);
            put_num(f, mine);
            /* label height: on the bar; mid-height on a "never" bar */
            put_num(f, !isnan(mine)                      ? mine
                       : panel == P_RECOVERY && never[v] ? rec_top / 2
                       : !isnan(other)                   ? other / 2
                                                         : 1);
            fprintf(f, " \"%s\"", label);
        }
        put_num(f, never[v] ? rec_top : NAN);
        fputc('\n', f);
    }
    snprintf(rel, sizeof rel, "data/%s-summary.dat", p->slug);
    int rc = lb_gnuplot_stage_stream(p->stage, rel, &buf, &len, f);
    bool any = false;
    for (int v = 0; v < N_VARIANTS; v++) any |= !isnan(val[P_TASKS][v]) || !isnan(val[P_RSS][v]);
    if (rc < 0 || !any) return rc;
    lb_gnuplot_set_string(p->gp, "sum_dat", rel);
    char note[96];
    bool aa = lb_jstr_path(p->root, "aa.variant") != NULL; /* the same twin on both sides */
    improvement_text(note, sizeof note, val[P_TASKS][LEAKY], val[P_TASKS][GRACEFUL], "fewer",
                     "more", aa);
    lb_gnuplot_set_string(p->gp, "sum_note_tasks", note);
    improvement_text(note, sizeof note, val[P_RSS][LEAKY], val[P_RSS][GRACEFUL], "less memory",
                     "more memory", aa);
    lb_gnuplot_set_string(p->gp, "sum_note_rss", note);
    if (never[LEAKY] && !never[GRACEFUL] && !isnan(val[P_RECOVERY][GRACEFUL]))
        snprintf(note, sizeof note, aa ? "only B recovers" : "only the fixed twin recovers");
    else
        improvement_text(note, sizeof note, val[P_RECOVERY][LEAKY], val[P_RECOVERY][GRACEFUL],
                         "faster", "slower", aa);
    lb_gnuplot_set_string(p->gp, "sum_note_rec", note);
    fprintf(p->gp, "sum_rec_never = %d\nsum_rec_top = %.6g\n", never[LEAKY] || never[GRACEFUL],
            rec_top);
    emit_chart(p, LB_CHART_SUMMARY);
    return 0;
}

/* Writes one scenario's data files and its part of the script.  Returns
 * the number of charts it asks for, or -errno. */
static int plot_scenario(lb_gnuplot_stage *stage, FILE *gp, const json_t *root, size_t idx)
{
    scenario_plot p = {.stage = stage, .gp = gp, .root = root, .idx = idx};
    p.scenario = json_array_get(json_object_get(root, "scenarios"), idx);
    for (int v = 0; v < N_VARIANTS; v++) p.run[v] = lb_scenario_run(p.scenario, lb_variants[v]);
    scenario_slug(p.slug, sizeof p.slug, root, idx);
    int rc = emit_series(&p);
    if (rc < 0) return rc;
    emit_phases(&p);
    emit_leaky_notes(&p);
    emit_scales(&p);
    emit_time_charts(&p);
    if ((rc = emit_latency_chart(&p)) < 0) return rc;
    if ((rc = emit_summary_chart(&p)) < 0) return rc;
    return p.charts;
}

/* -------------------------------------------------------- templates -- */

/* --------------------------------------------------------------- main -- */

/* Writes the templates, every scenario's data and charts.gp into the
 * staging area, and records the images gnuplot is to draw.  Returns the
 * number of charts asked for, or -errno. */
static int stage_inputs(lb_gnuplot_stage *s, const json_t *root, const char *templates_dir)
{
    int rc = lb_gnuplot_stage_mkdir(s, "data");
    if (!rc) rc = lb_gnuplot_stage_mkdir(s, "plots");
    if (!rc) rc = lb_gnuplot_stage_templates(s, templates_dir, templates, N_TEMPLATES);
    if (rc) return rc;
    char *script = NULL;
    size_t script_len = 0;
    FILE *gp = open_memstream(&script, &script_len);
    if (!gp) return -ENOMEM;
    fprintf(gp, "# charts.gp — generated by leakbench from results.json: draws every chart\n"
                "# of this report in one gnuplot process.  Run it from this directory:\n"
                "#   gnuplot charts.gp\n"
                "# Each chart sets its inputs as variables and loads a template from\n"
                "# plots/.  Text from the results file appears only in single-quoted\n"
                "# strings, where gnuplot substitutes nothing.\n"
                "set encoding utf8\n");
    const json_t *scenarios = json_object_get(root, "scenarios");
    int charts = 0;
    for (size_t i = 0; i < json_array_size(scenarios) && rc >= 0; i++) {
        rc = plot_scenario(s, gp, root, i);
        if (rc > 0) charts += rc;
    }
    int close_rc = lb_gnuplot_stage_stream(s, "charts.gp", &script, &script_len, gp);
    if (rc < 0) return rc;
    if (close_rc) return close_rc;
    /* The images gnuplot will write (a chart without data is not drawn). */
    for (size_t i = 0; i < json_array_size(scenarios); i++)
        for (lb_chart_kind k = 0; k < LB_CHART_KINDS; k++)
            for (int png = 0; png < 2; png++) {
                char base[160], rel[200];
                lb_chart_base(base, sizeof base, root, i, k);
                snprintf(rel, sizeof rel, "%s.%s", base, png ? "png" : "svg");
                if ((rc = lb_gnuplot_stage_expect(s, rel)) < 0) return rc;
            }
    return charts;
}

/* lb_gnuplot_stage_finish, noting a failure to move files into place as
 * charts not written whole. */
static int finish(lb_gnuplot_stage *s, const char *charts_dir, lb_gnuplot_keep keep, int *moved,
                  bool *unwritten)
{
    int rc = lb_gnuplot_stage_finish(s, charts_dir, keep, moved);
    if (rc) *unwritten = true;
    return rc;
}

/* Draws the CHARTS staged charts and moves them into CHARTS_DIR: the
 * outcome, with a message when charts are missing; *unwritten when
 * images came out incomplete or could not be moved (not when gnuplot
 * itself failed). */
static int draw(lb_gnuplot_stage *s, int charts, const char *charts_dir, int timeout_s,
                lb_charts_outcome *outcome, bool *unwritten, char *msg, size_t msglen)
{
    char why[1024] = "";
    int rc = lb_gnuplot_run(s->dir, "charts.gp", timeout_s, why, sizeof why);
    if (rc == -ENOENT) {
        *outcome = LB_CHARTS_NO_GNUPLOT;
        snprintf(msg, msglen, "gnuplot could not be started (%s): charts skipped", why);
        return finish(s, charts_dir, LB_GNUPLOT_KEEP_INPUTS, NULL, unwritten);
    }
    if (rc) {
        *outcome = LB_CHARTS_FAILED;
        snprintf(msg, msglen, "charts not drawn: %s", why);
        finish(s, charts_dir, LB_GNUPLOT_KEEP_INPUTS, NULL, unwritten);
        return rc;
    }
    int expected = 2 * charts, moved = 0; /* a PNG and an SVG per chart drawn */
    rc = finish(s, charts_dir, LB_GNUPLOT_KEEP_ALL, &moved, unwritten);
    *outcome = rc || moved < expected ? LB_CHARTS_FAILED : LB_CHARTS_RENDERED;
    if (rc) {
        snprintf(msg, msglen, "could not move charts into %s: %s", charts_dir, strerror(-rc));
    } else if (moved < expected) {
        /* gnuplot exits 0 when a full disk cuts its images short. */
        snprintf(msg, msglen,
                 "charts not drawn completely: %d of %d images came out empty or cut short (is "
                 "the disk full?); they were not moved into %s",
                 expected - moved, expected, charts_dir);
        *unwritten = true;
        rc = -EIO;
    }
    return rc;
}

int lb_plot_render(const json_t *root, const char *out_dir, bool run_gnuplot_now, int timeout_s,
                   lb_charts_outcome *outcome, int *n_charts, bool *unwritten, char *msg,
                   size_t msglen)
{
    lb_gnuplot_stage s;
    char charts_dir[4200], tdir[4096];
    *n_charts = 0;
    *unwritten = false;
    msg[0] = 0;
    *outcome = LB_CHARTS_FAILED;
    snprintf(charts_dir, sizeof charts_dir, "%s/charts", out_dir);
    int rc = lb_gnuplot_templates_dir(tdir, sizeof tdir);
    if (rc < 0) {
        snprintf(msg, msglen,
                 "gnuplot templates (plots/NAME.gp) not found beside the leakbench binary or in "
                 "./plots; set LEAKBENCH_PLOTS_DIR");
        return rc;
    }
    if ((rc = lb_gnuplot_stage_open(&s, out_dir, "charts")) < 0) {
        snprintf(msg, msglen, "could not create a staging directory in %s: %s", out_dir,
                 strerror(-rc));
        *unwritten = true;
        return rc;
    }
    int charts = stage_inputs(&s, root, tdir);
    if (charts < 0) {
        lb_gnuplot_stage_finish(&s, charts_dir, LB_GNUPLOT_KEEP_NOTHING, NULL);
        *unwritten = true;
        snprintf(msg, msglen, "could not write chart data: %s", strerror(-charts));
        return charts;
    }
    if (!run_gnuplot_now) {
        *outcome = LB_CHARTS_NOT_REQUESTED;
        snprintf(msg, msglen,
                 "charts not drawn (--no-charts); `gnuplot charts.gp` in charts/ draws them");
        return finish(&s, charts_dir, LB_GNUPLOT_KEEP_INPUTS, NULL, unwritten);
    }
    if (!lb_on_path("gnuplot")) {
        *outcome = LB_CHARTS_NO_GNUPLOT;
        snprintf(msg, msglen,
                 "gnuplot is not on PATH: charts skipped (install gnuplot, e.g. the Debian "
                 "package gnuplot-nox, then run `leakbench report` again, or run `gnuplot "
                 "charts.gp` in charts/)");
        return finish(&s, charts_dir, LB_GNUPLOT_KEEP_INPUTS, NULL, unwritten);
    }
    rc = draw(&s, charts, charts_dir, timeout_s, outcome, unwritten, msg, msglen);
    if (*outcome == LB_CHARTS_RENDERED) *n_charts = charts;
    return rc;
}
