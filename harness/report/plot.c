/*
 * plot.c — turns a validated results document into charts with gnuplot.
 *
 * For every scenario it writes data files (charts/data/<slug>-leaky.dat,
 * -graceful.dat, -latency.dat, -summary.dat), copies the templates from
 * plots/ into charts/plots/ and generates one script, charts/charts.gp,
 * that sets each chart's inputs as gnuplot variables and `load`s the
 * template once for PNG (pngcairo) and once for SVG.  One gnuplot process
 * draws every chart of the report.
 *
 * Safety: gnuplot is started with fork + execvp (no shell), in the staging
 * directory, with `-d` (no init files) and the script as its argument.
 * File names in the script are generated slugs ([A-Za-z0-9_-]) relative
 * to that directory; every other string from the results file (scenario
 * names, titles, annotations) reaches the script only as an escaped
 * single-quoted literal (lb_escape_gnuplot), where gnuplot does no
 * backquote, @macro or ! substitution; the templates print them with
 * `noenhanced`.
 *
 * Atomicity: everything is written into charts.tmp.XXXXXX/ inside the
 * output directory; gnuplot runs there; only when it succeeds are the
 * files renamed into charts/.  If gnuplot is missing, the data and script
 * are still moved into place so that `cd charts && gnuplot charts.gp`
 * works later.  The staging directory is always removed.
 */
#include "report_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const lb_chart_suffix[LB_CHART_KINDS] = {"tasks", "rss", "states", "latency",
                                                     "summary"};
const char *const lb_chart_alt[LB_CHART_KINDS] = {
    "Live tasks over time", "Resident memory over time", "Tasks by state (stacked)",
    "Request latency percentiles", "Before/after summary"};

static const char *const templates[] = {"style.gp",  "phases.gp",  "tasks.gp",  "rss.gp",
                                        "states.gp", "latency.gp", "summary.gp"};
#define N_TEMPLATES (sizeof templates / sizeof templates[0])

/* The most rows a chart's data file gets; longer runs are decimated. */
#define MAX_PLOT_ROWS 1000
#define MB            LB_MIB /* RSS is charted in MiB, as every view prints it (core/units.h) */

static const char *const state_columns[] = {"running", "send",      "recv", "select",
                                            "sleep",   "waitgroup", "lock", "join"};

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

void lb_chart_base(char *buf, size_t n, const json_t *root, size_t i, int kind)
{
    char slug[64];
    scenario_slug(slug, sizeof slug, root, i);
    snprintf(buf, n, "%s-%s", slug, lb_chart_suffix[kind]);
}

/* ------------------------------------------------------ staging area -- */

/* The files written into the staging directory, relative to it, so they
 * can be moved into charts/ or removed. */
typedef struct staged {
    char dir[4096];
    char **files;
    size_t n, cap;
} staged;

/* Records REL as belonging to the staging area (written now or later by
 * gnuplot). */
static int stage_name(staged *s, const char *rel)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **files = realloc(s->files, cap * sizeof *files);
        if (!files) return -ENOMEM;
        s->files = files;
        s->cap = cap;
    }
    s->files[s->n] = strdup(rel);
    if (!s->files[s->n]) return -ENOMEM;
    s->n++;
    return 0;
}

static int stage_file(staged *s, const char *rel, const char *data, size_t len)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/%s", s->dir, rel);
    FILE *f = fopen(path, "w");
    if (!f) return -errno;
    size_t w = fwrite(data, 1, len, f);
    int rc = (w == len) ? 0 : -EIO;
    if (fclose(f) != 0 && !rc) rc = -errno;
    int name_rc = stage_name(s, rel);
    return rc ? rc : name_rc;
}

/* Closes the memory stream F (which fills *buf and *len) and stages its
 * contents as REL. */
static int stage_stream(staged *s, const char *rel, char **buf, size_t *len, FILE *f)
{
    int rc = fclose(f) == 0 ? stage_file(s, rel, *buf, *len) : -ENOMEM;
    free(*buf);
    *buf = NULL;
    return rc;
}

/* Moves the staged files whose names pass KEEP into DEST (creating
 * DEST/data and DEST/plots), then removes the staging directory and
 * whatever was not kept.  A recorded name that was never written (an
 * image of a chart without data) is skipped. */
static int stage_finish(staged *s, const char *dest, bool (*keep)(const char *rel))
{
    int rc = 0;
    if (keep) {
        const char *subdirs[] = {"", "/data", "/plots"};
        for (size_t i = 0; i < 3 && !rc; i++) {
            char d[4200];
            snprintf(d, sizeof d, "%s%s", dest, subdirs[i]);
            if (mkdir(d, 0755) < 0 && errno != EEXIST) rc = -errno;
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        char from[4600], to[4600];
        snprintf(from, sizeof from, "%s/%s", s->dir, s->files[i]);
        snprintf(to, sizeof to, "%s/%s", dest, s->files[i]);
        if (!rc && keep && keep(s->files[i])) {
            if (rename(from, to) < 0 && errno != ENOENT) rc = -errno;
        }
        unlink(from); /* no-op once renamed */
        free(s->files[i]);
    }
    free(s->files);
    s->files = NULL;
    s->n = s->cap = 0;
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/data", s->dir);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/plots", s->dir);
    rmdir(sub);
    rmdir(s->dir);
    return rc;
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

/* One run's samples: t, phase (0 start .. 5 exit), tasks, RSS MB, the eight states, threads.
 * Runs longer than MAX_PLOT_ROWS keep, per bucket of rows, the row with
 * the most live tasks, so peaks survive decimation. */
static int write_run_dat(staged *s, const char *rel, const json_t *run, int *rows_out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    int c_t = lb_sample_column(run, "t_s"), c_phase = lb_sample_column(run, "phase");
    int c_tasks = lb_sample_column(run, "tasks"), c_rss = lb_sample_column(run, "rss_bytes");
    int c_threads = lb_sample_column(run, "threads"), c_state[8];
    for (int k = 0; k < 8; k++) c_state[k] = lb_sample_column(run, state_columns[k]);
    const json_t *rows = lb_jpath(run, "samples.rows");
    size_t n = json_array_size(rows), bucket = (n + MAX_PLOT_ROWS - 1) / MAX_PLOT_ROWS;
    if (bucket < 1) bucket = 1;
    fprintf(f, "# %s: one row per sample%s\n# t_s phase tasks rss_mib", rel,
            bucket > 1 ? " (decimated: the busiest sample of each bucket)" : "");
    for (int k = 0; k < 8; k++) fprintf(f, " %s", state_columns[k]);
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
        for (int k = 0; k < 8; k++) put_num(f, row_num(row, c_state[k]));
        put_num(f, row_num(row, c_threads));
        fputc('\n', f);
        written++;
    }
    *rows_out = written;
    return stage_stream(s, rel, &buf, &len, f);
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

/* ------------------------------------------------------- the script -- */

static void gp_num(FILE *f, const char *name, double v)
{
    if (isnan(v))
        fprintf(f, "%s = NaN\n", name);
    else
        fprintf(f, "%s = %.9g\n", name, v);
}

static void gp_str(FILE *f, const char *name, const char *v)
{
    fprintf(f, "%s = ", name);
    lb_escape_gnuplot(f, v);
    fputc('\n', f);
}

/* The first run (graceful preferred: it completes) that knows a phase
 * boundary. */
static double phase_time(const json_t *leaky, const json_t *graceful, const char *key)
{
    char path[64];
    snprintf(path, sizeof path, "phases.%s", key);
    double v = graceful ? lb_jnum_path(graceful, path) : NAN;
    if (isnan(v) && leaky) v = lb_jnum_path(leaky, path);
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
 * on the chart's scale (log axis, or at most 3x the data), otherwise only
 * as a key entry saying where it is, so the data is not squashed. */
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
    gp_str(gp, name, mode ? text : "");
}

/* Least-squares slope of live tasks over time during the load phase
 * (tasks/s), or NAN with fewer than three load samples. */
double lb_load_slope(const json_t *run)
{
    int ct = lb_sample_column(run, "t_s"), cp = lb_sample_column(run, "phase");
    int cn = lb_sample_column(run, "tasks");
    const json_t *rows = lb_jpath(run, "samples.rows"), *row;
    double n = 0, st = 0, sy = 0, stt = 0, sty = 0;
    size_t i;
    if (ct < 0 || cp < 0 || cn < 0) return NAN;
    json_array_foreach(rows, i, row)
    {
        const char *ph = json_string_value(json_array_get(row, (size_t)cp));
        double t = row_num(row, ct), y = row_num(row, cn);
        if (!ph || strcmp(ph, "load") || isnan(t) || isnan(y)) continue;
        n++;
        st += t;
        sy += y;
        stt += t * t;
        sty += t * y;
    }
    double den = n * stt - st * st;
    return n >= 3 && den > 0 ? (n * sty - st * sy) / den : NAN;
}

static void set_term(FILE *f, bool png, int w, int h)
{
    if (png)
        fprintf(f, "set terminal pngcairo size %d,%d font 'sans,10' noenhanced\n", w, h);
    else
        fprintf(f, "set terminal svg size %d,%d font 'sans,10' noenhanced background '#ffffff'\n",
                w, h);
}

static void emit_chart(FILE *f, const char *base, const char *tmpl, int w, int h)
{
    for (int png = 1; png >= 0; png--) {
        set_term(f, png, w, h);
        fprintf(f, "set output '%s.%s'\nload 'plots/%s'\n", base, png ? "png" : "svg", tmpl);
    }
    fputs("unset output\n", f);
}

/* Writes one scenario's data files and its part of the script.  Returns
 * the number of charts it asks for, or -errno. */
static int plot_scenario(staged *s, FILE *gp, const json_t *root, size_t idx)
{
    const json_t *scenario = json_array_get(json_object_get(root, "scenarios"), idx);
    const json_t *leaky = lb_scenario_run(scenario, "leaky");
    const json_t *graceful = lb_scenario_run(scenario, "graceful");
    char slug[64], rel[160], base[160];
    scenario_slug(slug, sizeof slug, root, idx);
    int rc, charts = 0, rows_leaky = 0, rows_graceful = 0;

    const char *name = lb_jstr(scenario, "name"), *title = lb_jstr(scenario, "title");
    char heading[512];
    if (title && *title)
        snprintf(heading, sizeof heading, "%s — %s", name, title);
    else
        snprintf(heading, sizeof heading, "%s", name);
    fprintf(gp, "\n# ---- scenario %zu: %s\n", idx + 1, slug);
    gp_str(gp, "scen", heading);

    if (leaky && json_array_size(lb_jpath(leaky, "samples.rows"))) {
        snprintf(rel, sizeof rel, "data/%s-leaky.dat", slug);
        if ((rc = write_run_dat(s, rel, leaky, &rows_leaky)) < 0) return rc;
        gp_str(gp, "leaky_dat", rel);
    } else {
        gp_str(gp, "leaky_dat", "");
    }
    if (graceful && json_array_size(lb_jpath(graceful, "samples.rows"))) {
        snprintf(rel, sizeof rel, "data/%s-graceful.dat", slug);
        if ((rc = write_run_dat(s, rel, graceful, &rows_graceful)) < 0) return rc;
        gp_str(gp, "graceful_dat", rel);
    } else {
        gp_str(gp, "graceful_dat", "");
    }
    /* A time series needs two samples; fewer than 30 get point markers. */
    bool series_leaky = rows_leaky >= 2, series_graceful = rows_graceful >= 2;
    fprintf(gp, "has_leaky = %d\nhas_graceful = %d\n", series_leaky, series_graceful);
    fprintf(gp, "few_points = %d\n",
            (series_leaky && rows_leaky < 30) || (series_graceful && rows_graceful < 30));

    /* Phases: shade from the start of load to the last exit. */
    double t_exit = NAN;
    const json_t *runs[2] = {leaky, graceful};
    for (int r = 0; r < 2; r++) {
        if (!runs[r]) continue;
        double e = lb_jnum_path(runs[r], "phases.exit_s"), t, v;
        if (isnan(e) && column_last(runs[r], "t_s", &t, &v)) e = v;
        if (!isnan(e) && (isnan(t_exit) || e > t_exit)) t_exit = e;
    }
    gp_num(gp, "t_load0", phase_time(leaky, graceful, "load_start_s"));
    gp_num(gp, "t_load1", phase_time(leaky, graceful, "load_end_s"));
    gp_num(gp, "t_settle1", phase_time(leaky, graceful, "settle_end_s"));
    gp_num(gp, "t_shut0", phase_time(leaky, graceful, "shutdown_start_s"));
    gp_num(gp, "t_exit", t_exit);

    /* Guards. */
    double tasks_guard = guard_limit(scenario, "tasks");
    double mem_guard = guard_limit(scenario, "memory");
    gp_num(gp, "tasks_guard", tasks_guard);
    gp_num(gp, "mem_guard_mb", mem_guard / MB);

    /* Annotations on the leaky curve: a guard kill, and what was left. */
    const char *kind = leaky ? lb_jstr_path(leaky, "guard.kind") : NULL;
    double kill_t = leaky ? lb_jnum_path(leaky, "guard.at_s") : NAN;
    char text[256], a[64], b[96];
    if (kind && !isnan(kill_t)) {
        double value = lb_jnum_path(leaky, "guard.value");
        if (!strcmp(kind, "memory"))
            lb_fmt_bytes(a, sizeof a, value);
        else if (!strcmp(kind, "tasks"))
            snprintf(a, sizeof a, "%s tasks", lb_fmt_count(b, sizeof b, value));
        else
            lb_fmt_ms(a, sizeof a, value); /* wall: ms */
        lb_fmt_num(b, sizeof b, kill_t, 3);
        snprintf(text, sizeof text, "killed by %s guard at %s s (%s)", kind, b, a);
        fprintf(gp, "has_kill = 1\n");
        gp_num(gp, "kill_t", kill_t);
        gp_str(gp, "kill_text", text);
    } else {
        fprintf(gp, "has_kill = 0\nkill_t = NaN\nkill_text = ''\n");
    }
    double end_t, end_tasks, end_rss_t, end_rss;
    /* A run the guard killed left nothing behind: its tasks died with it. */
    if (rows_leaky && !(kind && !isnan(kill_t)) &&
        column_last(leaky, "tasks", &end_t, &end_tasks)) {
        double leaked = lb_jnum_path(leaky, "metrics.leaked_tasks");
        if (isnan(leaked)) leaked = end_tasks;
        snprintf(text, sizeof text, "%s tasks left behind", lb_fmt_count(a, sizeof a, leaked));
        fprintf(gp, "has_end_note = %d\n", leaked > 0);
        gp_num(gp, "end_x", end_t);
        gp_num(gp, "end_y_tasks", end_tasks);
        gp_str(gp, "end_text_tasks", text);
        if (!column_last(leaky, "rss_bytes", &end_rss_t, &end_rss)) end_rss = NAN;
        snprintf(text, sizeof text, "%s still resident", lb_fmt_bytes(a, sizeof a, end_rss));
        gp_num(gp, "end_y_rss", end_rss / MB);
        gp_str(gp, "end_text_rss", isnan(end_rss) ? "" : text);
    } else {
        fprintf(gp, "has_end_note = 0\nend_x = NaN\nend_y_tasks = NaN\nend_text_tasks = ''\n"
                    "end_y_rss = NaN\nend_text_rss = ''\n");
    }

    /* Scales: log where the twins differ by orders of magnitude. */
    double peaks[2] = {rows_leaky ? column_max(leaky, "tasks") : NAN,
                       rows_graceful ? column_max(graceful, "tasks") : NAN};
    bool tasks_log = wants_log(peaks, 2);
    fprintf(gp, "tasks_log = %d\nbig_counts = %d\n", tasks_log,
            fmax(peaks[0], peaks[1]) >= 10000 || tasks_guard >= 10000);
    double rss[2] = {rows_leaky ? column_max(leaky, "rss_bytes") : NAN,
                     rows_graceful ? column_max(graceful, "rss_bytes") : NAN};
    bool rss_log = wants_log(rss, 2);
    fprintf(gp, "rss_log = %d\n", rss_log);
    lb_fmt_count(a, sizeof a, tasks_guard);
    snprintf(b, sizeof b, "%s tasks", a);
    gp_guard(gp, "tasks", tasks_guard, fmax(peaks[0], peaks[1]), tasks_log, "task", b);
    lb_fmt_bytes(a, sizeof a, mem_guard);
    gp_guard(gp, "mem", mem_guard, fmax(rss[0], rss[1]), rss_log, "memory", a);

    /* The task states that ever occur, for the stacked chart. */
    char active[32] = "";
    for (int k = 0; k < 8; k++) {
        double most = 0;
        for (int r = 0; r < 2; r++) {
            double m = runs[r] ? column_max(runs[r], state_columns[k]) : NAN;
            if (m > most) most = m;
        }
        if (most > 0)
            snprintf(active + strlen(active), sizeof active - strlen(active), "%s%d",
                     active[0] ? " " : "", k + 1);
    }
    bool have_states = active[0] != 0;
    gp_str(gp, "active", active);
    if (series_leaky || series_graceful) {
        for (int kind_i = 0; kind_i < 3; kind_i++) {
            if (kind_i == 2 && !have_states) continue;
            lb_chart_base(base, sizeof base, root, idx, kind_i);
            static const char *const tmpl[] = {"tasks.gp", "rss.gp", "states.gp"};
            emit_chart(gp, base, tmpl[kind_i], 1000, kind_i == 2 ? 720 : 500);
            charts++;
        }
    }

    /* Latency percentiles. */
    static const struct {
        const char *label, *metric;
    } pct[] = {{"p50", "latency_p50_ms"},
               {"p90", "latency_p90_ms"},
               {"p99", "latency_p99_ms"},
               {"p99.9", "latency_p999_ms"},
               {"max", "latency_max_ms"}};
    double lat[10];
    int finite = 0, finite_v[2] = {0, 0};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    fprintf(f, "# request latency (ms), median over repetitions\n# percentile leaky graceful\n");
    for (int p = 0; p < 5; p++) {
        lat[2 * p] = lb_scenario_metric(scenario, "leaky", pct[p].metric);
        lat[2 * p + 1] = lb_scenario_metric(scenario, "graceful", pct[p].metric);
        fprintf(f, "%s", pct[p].label);
        put_num(f, lat[2 * p]);
        put_num(f, lat[2 * p + 1]);
        fputc('\n', f);
        finite_v[0] += !isnan(lat[2 * p]);
        finite_v[1] += !isnan(lat[2 * p + 1]);
        finite += !isnan(lat[2 * p]) + !isnan(lat[2 * p + 1]);
    }
    snprintf(rel, sizeof rel, "data/%s-latency.dat", slug);
    if ((rc = stage_stream(s, rel, &buf, &len, f)) < 0) return rc;
    if (finite) {
        gp_str(gp, "lat_dat", rel);
        fprintf(gp, "lat_log = %d\nlat_leaky = %d\nlat_graceful = %d\n", wants_log(lat, 10),
                finite_v[0] > 0, finite_v[1] > 0);
        lb_chart_base(base, sizeof base, root, idx, 3);
        emit_chart(gp, base, "latency.gp", 900, 500);
        charts++;
    }

    /* The before/after summary. */
    buf = NULL;
    len = 0;
    f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    fprintf(f, "# before/after summary, median over repetitions\n"
               "# x variant linetype tasks label_y label rss_mib label_y label recovery_ms "
               "label_y label\n");
    const char *variants[2] = {"leaky", "graceful"};
    double v_tasks[2], v_rss[2], v_rec[2];
    for (int v = 0; v < 2; v++) {
        v_tasks[v] = lb_scenario_metric(scenario, variants[v], "peak_tasks");
        v_rss[v] = lb_scenario_metric(scenario, variants[v], "peak_rss_bytes") / MB;
        v_rec[v] = lb_scenario_metric(scenario, variants[v], "recovery_ms");
    }
    for (int v = 0; v < 2; v++) {
        double *vals[3] = {v_tasks, v_rss, v_rec};
        /* "\n" in a quoted data-file string is a line break in the tic label. */
        fprintf(f, "%d \"%s\" %d", v, v ? "graceful\\n(after fix)" : "leaky\\n(before fix)", v + 1);
        for (int p = 0; p < 3; p++) {
            double val = vals[p][v], other = vals[p][1 - v];
            double label_y = !isnan(val) ? val : !isnan(other) ? other / 2 : 1;
            char label[64];
            const json_t *run = runs[v];
            int recovered = run ? lb_jbool_path(run, "metrics.recovered") : 0;
            if (!run)
                snprintf(label, sizeof label, "not run");
            else if (p == 0)
                lb_fmt_count(label, sizeof label, val);
            else if (p == 1)
                lb_fmt_bytes(label, sizeof label, val * MB);
            else if (isnan(val) && recovered < 0)
                snprintf(label, sizeof label, "never: restart required");
            else if (isnan(val))
                snprintf(label, sizeof label, "n/a");
            else
                lb_fmt_ms(label, sizeof label, val);
            put_num(f, val);
            put_num(f, label_y);
            fprintf(f, " \"%s\"", label); /* our own digits and units only */
        }
        fputc('\n', f);
    }
    snprintf(rel, sizeof rel, "data/%s-summary.dat", slug);
    if ((rc = stage_stream(s, rel, &buf, &len, f)) < 0) return rc;
    bool any = !isnan(v_tasks[0]) || !isnan(v_tasks[1]) || !isnan(v_rss[0]) || !isnan(v_rss[1]);
    if (any) {
        gp_str(gp, "sum_dat", rel);
        fprintf(gp, "sum_tasks_log = %d\nsum_rss_log = %d\nsum_rec_log = %d\n",
                wants_log(v_tasks, 2), wants_log(v_rss, 2), wants_log(v_rec, 2));
        lb_chart_base(base, sizeof base, root, idx, 4);
        emit_chart(gp, base, "summary.gp", 1100, 450);
        charts++;
    }
    return charts;
}

/* -------------------------------------------------------- templates -- */

static bool has_templates(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/tasks.gp", dir);
    return access(p, R_OK) == 0;
}

int lb_plot_templates_dir(char *buf, size_t n)
{
    const char *env = getenv("LEAKBENCH_PLOTS_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return has_templates(buf) ? 0 : -ENOENT;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const up[] = {"/plots", "/../plots", "/../../plots", "/../../../plots"};
        for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
            snprintf(buf, n, "%s%s", exe, up[i]);
            if (has_templates(buf)) return 0;
        }
    }
    snprintf(buf, n, "plots");
    return has_templates(buf) ? 0 : -ENOENT;
}

static int stage_templates(staged *s, const char *from)
{
    for (size_t i = 0; i < N_TEMPLATES; i++) {
        char path[4200], rel[64];
        snprintf(path, sizeof path, "%s/%s", from, templates[i]);
        FILE *f = fopen(path, "r");
        if (!f) return -errno;
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m) {
            fclose(f);
            return -ENOMEM;
        }
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
        int err = ferror(f);
        fclose(f);
        if (err) {
            fclose(m);
            free(buf);
            return -EIO;
        }
        snprintf(rel, sizeof rel, "plots/%s", templates[i]);
        int rc = stage_stream(s, rel, &buf, &len, m);
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ gnuplot -- */

bool lb_on_path(const char *name)
{
    const char *path = getenv("PATH");
    char def[256];
    if (!path) {
        size_t n = confstr(_CS_PATH, def, sizeof def);
        path = (n > 0 && n <= sizeof def) ? def : "/bin:/usr/bin";
    }
    while (path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        char full[4200];
        if (len == 0)
            snprintf(full, sizeof full, "./%s", name);
        else
            snprintf(full, sizeof full, "%.*s/%s", (int)len, path, name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0) return true;
        path = colon ? colon + 1 : NULL;
    }
    return false;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs `gnuplot -d SCRIPT` in DIR without a shell.  Returns 0 when it
 * exited 0, -ENOENT if it could not be executed because it is missing,
 * -ETIMEDOUT if it ran past TIMEOUT_S (it is killed), other -errno, or
 * -ECHILD when it failed; msg then holds the end of its error output. */
static int run_gnuplot(const char *dir, const char *script, int timeout_s, char *msg, size_t msglen)
{
    int errp[2], execp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) return -errno;
    if (pipe2(execp, O_CLOEXEC) < 0) {
        int e = errno;
        close(errp[0]);
        close(errp[1]);
        return -e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(errp[0]);
        close(errp[1]);
        close(execp[0]);
        close(execp[1]);
        return -e;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here on. */
        int e = 0;
        int devnull = open("/dev/null", O_RDWR);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(errp[1], 2) < 0 ||
            chdir(dir) < 0) {
            e = errno;
        } else {
            char *const argv[] = {"gnuplot", "-d", (char *)script, NULL};
            execvp("gnuplot", argv);
            e = errno;
        }
        ssize_t ignored = write(execp[1], &e, sizeof e);
        (void)ignored;
        _exit(127);
    }
    close(errp[1]);
    close(execp[1]);
    int child_errno = 0;
    ssize_t got;
    do got = read(execp[0], &child_errno, sizeof child_errno);
    while (got < 0 && errno == EINTR);
    close(execp[0]);

    /* Collect stderr (keeping its end) until EOF or the deadline. */
    char tail[2048];
    size_t tail_len = 0;
    double deadline = now_s() + (timeout_s > 0 ? timeout_s : 120);
    bool timed_out = false;
    for (;;) {
        int left_ms = (int)((deadline - now_s()) * 1000);
        if (left_ms <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {.fd = errp[0], .events = POLLIN};
        int r = poll(&p, 1, left_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char chunk[1024];
        ssize_t n = read(errp[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        /* chunk is smaller than tail: drop the oldest bytes to make room. */
        if (tail_len + (size_t)n >= sizeof tail) {
            size_t drop = tail_len + (size_t)n - (sizeof tail - 1);
            memmove(tail, tail + drop, tail_len - drop);
            tail_len -= drop;
        }
        memcpy(tail + tail_len, chunk, (size_t)n);
        tail_len += (size_t)n;
    }
    close(errp[0]);
    tail[tail_len] = 0;
    if (timed_out) kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -errno;
    if (got == (ssize_t)sizeof child_errno) {
        snprintf(msg, msglen, "cannot run gnuplot: %s", strerror(child_errno));
        return child_errno == ENOENT ? -ENOENT : -child_errno;
    }
    if (timed_out) {
        snprintf(msg, msglen, "gnuplot did not finish within %d s and was killed",
                 timeout_s > 0 ? timeout_s : 120);
        return -ETIMEDOUT;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    /* Keep the last few lines of what gnuplot said. */
    const char *start = tail;
    int lines = 0;
    for (const char *p = tail + tail_len; p > tail; p--)
        if (p[-1] == '\n' && ++lines > 6) {
            start = p;
            break;
        }
    if (WIFEXITED(status))
        snprintf(msg, msglen, "gnuplot exited with status %d: %.700s", WEXITSTATUS(status), start);
    else
        snprintf(msg, msglen, "gnuplot was killed by signal %d: %.700s", WTERMSIG(status), start);
    return -ECHILD;
}

/* --------------------------------------------------------------- main -- */

static bool keep_everything(const char *rel)
{
    (void)rel;
    return true;
}

static bool keep_inputs_only(const char *rel)
{
    return !strncmp(rel, "data/", 5) || !strncmp(rel, "plots/", 6) || !strcmp(rel, "charts.gp");
}

int lb_plot_render(const json_t *root, const char *out_dir, bool run_gnuplot_now, int timeout_s,
                   lb_charts_outcome *outcome, int *n_charts, char *msg, size_t msglen)
{
    staged s = {0};
    char charts_dir[4200], tdir[4096];
    int rc, charts = 0;
    *n_charts = 0;
    msg[0] = 0;
    snprintf(charts_dir, sizeof charts_dir, "%s/charts", out_dir);
    if ((rc = lb_plot_templates_dir(tdir, sizeof tdir)) < 0) {
        snprintf(msg, msglen,
                 "gnuplot templates (plots/NAME.gp) not found beside the leakbench binary or in "
                 "./plots; set LEAKBENCH_PLOTS_DIR");
        *outcome = LB_CHARTS_FAILED;
        return rc;
    }
    if (snprintf(s.dir, sizeof s.dir, "%s/charts.tmp.XXXXXX", out_dir) >= (int)sizeof s.dir)
        return -ENAMETOOLONG;
    if (!mkdtemp(s.dir)) return -errno;
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/data", s.dir);
    if (mkdir(sub, 0755) < 0) rc = -errno;
    snprintf(sub, sizeof sub, "%s/plots", s.dir);
    if (!rc && mkdir(sub, 0755) < 0) rc = -errno;
    if (!rc) rc = stage_templates(&s, tdir);

    char *script = NULL;
    size_t script_len = 0;
    FILE *gp = rc ? NULL : open_memstream(&script, &script_len);
    if (!rc && !gp) rc = -ENOMEM;
    if (!rc) {
        fprintf(gp, "# charts.gp — generated by leakbench from results.json: draws every chart\n"
                    "# of this report in one gnuplot process.  Run it from this directory:\n"
                    "#   gnuplot charts.gp\n"
                    "# Each chart sets its inputs as variables and loads a template from\n"
                    "# plots/.  Text from the results file appears only in single-quoted\n"
                    "# strings, where gnuplot substitutes nothing.\n"
                    "set encoding utf8\n");
        const json_t *scenarios = json_object_get(root, "scenarios");
        for (size_t i = 0; i < json_array_size(scenarios) && rc >= 0; i++) {
            rc = plot_scenario(&s, gp, root, i);
            if (rc > 0) charts += rc;
        }
        if (rc > 0) rc = 0;
        int close_rc = stage_stream(&s, "charts.gp", &script, &script_len, gp);
        if (!rc) rc = close_rc;
    }
    if (rc) {
        stage_finish(&s, charts_dir, NULL);
        *outcome = LB_CHARTS_FAILED;
        snprintf(msg, msglen, "could not write chart data: %s", strerror(-rc));
        return rc;
    }

    if (!run_gnuplot_now) {
        *outcome = LB_CHARTS_NOT_REQUESTED;
        snprintf(msg, msglen,
                 "charts not drawn (--no-charts); `gnuplot charts.gp` in charts/ draws them");
        return stage_finish(&s, charts_dir, keep_inputs_only);
    }
    if (!lb_on_path("gnuplot")) {
        *outcome = LB_CHARTS_NO_GNUPLOT;
        snprintf(msg, msglen,
                 "gnuplot is not on PATH: charts skipped (install gnuplot, e.g. the Debian "
                 "package gnuplot-nox, then run `leakbench report` again, or run `gnuplot "
                 "charts.gp` in charts/)");
        return stage_finish(&s, charts_dir, keep_inputs_only);
    }
    /* Record the images gnuplot will write so they are moved or removed. */
    const json_t *scenarios = json_object_get(root, "scenarios");
    for (size_t i = 0; i < json_array_size(scenarios) && !rc; i++)
        for (int k = 0; k < LB_CHART_KINDS && !rc; k++)
            for (int png = 0; png < 2 && !rc; png++) {
                char base[160], rel[200];
                lb_chart_base(base, sizeof base, root, i, k);
                snprintf(rel, sizeof rel, "%s.%s", base, png ? "png" : "svg");
                rc = stage_name(&s, rel);
            }
    if (rc) {
        stage_finish(&s, charts_dir, NULL);
        *outcome = LB_CHARTS_FAILED;
        return rc;
    }
    char why[1024] = "";
    rc = run_gnuplot(s.dir, "charts.gp", timeout_s, why, sizeof why);
    if (rc == -ENOENT) {
        *outcome = LB_CHARTS_NO_GNUPLOT;
        snprintf(msg, msglen, "gnuplot could not be started (%s): charts skipped", why);
        return stage_finish(&s, charts_dir, keep_inputs_only);
    }
    if (rc) {
        *outcome = LB_CHARTS_FAILED;
        snprintf(msg, msglen, "charts not drawn: %s", why);
        stage_finish(&s, charts_dir, keep_inputs_only);
        return rc;
    }
    /* Keep only images that exist (a chart with no data is not drawn). */
    rc = stage_finish(&s, charts_dir, keep_everything);
    *outcome = rc ? LB_CHARTS_FAILED : LB_CHARTS_RENDERED;
    *n_charts = charts;
    if (rc) snprintf(msg, msglen, "could not move charts into %s: %s", charts_dir, strerror(-rc));
    return rc;
}
