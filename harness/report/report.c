/*
 * report.c — what a leakbench report says, and the order things happen in
 * when one is rendered (report.h).
 *
 * lb_report_render: load and validate results.json (nothing is written
 * if that fails), create the output directory, draw the charts (plot.c),
 * then build report.md and report.html in memory through the document
 * interface and write each with temp file + rename.
 *
 * lb_report_write_doc is the content, written once for both formats:
 * a header with the run's status, an overview table when there are
 * several scenarios, thresholds, then per scenario its description, the
 * before/after table in the shape of the seed incident write-up (peak
 * tasks, memory with its trend, recovery time, then more rows), the
 * charts, the request accounting, the leak report grouped by blocking
 * site, and finally the environment.  Every number comes from the
 * results file; a metric that was not measured prints as "n/a".
 */
#include "report_internal.h"
#include "core/outfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CELL 512
#define NOTE 192

static const char *const variants[2] = {"leaky", "graceful"};
static const char *const variant_heads[2] = {"Before fix (leaky)", "After fix (graceful)"};

/* --------------------------------------------------------- helpers -- */

/* "median of 3, 4,990–5,030" when there are repetitions, else "". */
static void spread_note(char *buf, size_t n, const json_t *scenario, const char *variant,
                        const char *metric, char *(*fmt)(char *, size_t, double))
{
    buf[0] = 0;
    const json_t *m = lb_jpath(lb_jpath(scenario, "summary"), variant);
    m = json_is_object(m) ? json_object_get(m, metric) : NULL;
    double count = lb_jnum(m, "n"), lo = lb_jnum(m, "min"), hi = lb_jnum(m, "max");
    if (isnan(count) || count < 2) return;
    char a[64], b[64];
    if (!isnan(lo) && !isnan(hi) && lo != hi)
        snprintf(buf, n, "median of %.0f, range %s to %s", count, fmt(a, sizeof a, lo),
                 fmt(b, sizeof b, hi));
    else
        snprintf(buf, n, "median of %.0f", count);
}

static char *fmt_bytes_cb(char *b, size_t n, double v)
{
    return lb_fmt_bytes(b, n, v);
}
static char *fmt_count_cb(char *b, size_t n, double v)
{
    return lb_fmt_count(b, n, v);
}
static char *fmt_ms_cb(char *b, size_t n, double v)
{
    return lb_fmt_ms(b, n, v);
}

/* How many repetitions recovered: *yes of *total (runs with a verdict). */
static void recovered_counts(const json_t *scenario, const char *variant, int *yes, int *total)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    *yes = *total = 0;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variant)) continue;
        int r = lb_jbool_path(run, "metrics.recovered");
        if (r) (*total)++;
        if (r > 0) (*yes)++;
    }
}

/* The sum of growth_per_s over a run's leak groups; NAN if none known. */
static double leak_growth(const json_t *run)
{
    const json_t *groups = lb_jpath(run, "leaks.groups"), *g;
    size_t i;
    double sum = NAN;
    json_array_foreach(groups, i, g)
    {
        double v = lb_jnum(g, "growth_per_s");
        if (!isnan(v)) sum = isnan(sum) ? v : sum + v;
    }
    return sum;
}

static void guard_note(char *buf, size_t n, const json_t *run, const char *want_kind)
{
    buf[0] = 0;
    const char *kind = run ? lb_jstr_path(run, "guard.kind") : NULL;
    if (!kind || (want_kind && strcmp(kind, want_kind))) return;
    char t[32], v[64], c[64];
    double value = lb_jnum_path(run, "guard.value");
    if (!strcmp(kind, "memory"))
        lb_fmt_bytes(v, sizeof v, value);
    else if (!strcmp(kind, "tasks"))
        snprintf(v, sizeof v, "%s tasks", lb_fmt_count(c, sizeof c, value));
    else
        lb_fmt_ms(v, sizeof v, value); /* wall: ms */
    /* Asked about one kind, the caller's row already shows the value. */
    snprintf(buf, n, "killed by the %s guard at %s s%s%s", kind,
             lb_fmt_num(t, sizeof t, lb_jnum_path(run, "guard.at_s"), 3), want_kind ? "" : ", ",
             want_kind ? "" : v);
}

static const char *site_text(char *buf, size_t n, const json_t *site)
{
    const char *file = lb_jstr(site, "file"), *func = lb_jstr(site, "func");
    double line = lb_jnum(site, "line");
    if (!file && !func) {
        snprintf(buf, n, "unknown");
    } else if (isnan(line)) {
        snprintf(buf, n, "%s%s%s%s", func ? func : "", func && file ? " (" : "", file ? file : "",
                 func && file ? ")" : "");
    } else {
        snprintf(buf, n, "%s%s%s:%.0f%s", func ? func : "", func ? " (" : "", file ? file : "?",
                 line, func ? ")" : "");
    }
    return buf;
}

static void row(lb_doc *d, const char *a, const char *b, const char *c)
{
    const char *cells[3] = {a, b, c};
    d->ops->table_row(d, cells);
}

/* -------------------------------------------------- before / after -- */

/* A variant without any run (an interrupted suite) says so in every row. */
static void before_after_row(lb_doc *d, const json_t *scenario, const char *label, char *a, char *b)
{
    if (!lb_scenario_run(scenario, "leaky")) snprintf(a, CELL, "not run");
    if (!lb_scenario_run(scenario, "graceful")) snprintf(b, CELL, "not run");
    row(d, label, a, b);
}

static void before_after(lb_doc *d, const json_t *scenario)
{
    const json_t *runs[2] = {lb_scenario_run(scenario, "leaky"),
                             lb_scenario_run(scenario, "graceful")};
    char cell[2][CELL], a[96], b[CELL], note[NOTE];
    const char *head[3] = {"Metric", variant_heads[0], variant_heads[1]};
    const lb_align align[3] = {LB_LEFT, LB_RIGHT, LB_RIGHT};
    d->ops->table_begin(d, 3, head, align);

    /* Peak tasks, qualified by what happened to them. */
    for (int v = 0; v < 2; v++) {
        double peak = lb_scenario_metric(scenario, variants[v], "peak_tasks");
        int yes, total;
        recovered_counts(scenario, variants[v], &yes, &total);
        guard_note(note, sizeof note, runs[v], "tasks");
        /* Growth while loaded: the leak groups' own rate if the run has
         * one, else the slope of live tasks over the load phase. */
        double growth = runs[v] ? leak_growth(runs[v]) : NAN;
        if (runs[v] && !(growth > 0)) growth = lb_load_slope(runs[v]);
        lb_fmt_count(a, sizeof a, peak);
        if (note[0]) {
            snprintf(cell[v], CELL, "≥ %s (%s)", a, note);
        } else if (total && yes == total) {
            snprintf(cell[v], CELL, "%s (controlled)", a);
        } else if (total && yes == 0 && !isnan(growth) && growth > 0) {
            snprintf(cell[v], CELL, "%s (unbounded: +%s tasks/s under load)", a,
                     lb_fmt_count(b, sizeof b, round(growth)));
        } else if (total && yes == 0) {
            snprintf(cell[v], CELL, "%s (not back to baseline)", a);
        } else if (total) {
            snprintf(cell[v], CELL, "%s (%d of %d repetitions back to baseline)", a, yes, total);
        } else {
            snprintf(cell[v], CELL, "%s", a);
        }
        spread_note(note, sizeof note, scenario, variants[v], "peak_tasks", fmt_count_cb);
        if (note[0]) snprintf(cell[v] + strlen(cell[v]), CELL - strlen(cell[v]), "; %s", note);
    }
    before_after_row(d, scenario, "Peak tasks", cell[0], cell[1]);

    /* Memory: peak RSS and its trend. */
    for (int v = 0; v < 2; v++) {
        double peak = lb_scenario_metric(scenario, variants[v], "peak_rss_bytes");
        const char *trend = runs[v] ? lb_jstr_path(runs[v], "metrics.rss_trend") : NULL;
        guard_note(note, sizeof note, runs[v], "memory");
        lb_fmt_bytes(a, sizeof a, peak);
        if (note[0])
            snprintf(cell[v], CELL, "≥ %s (%s)", a, note);
        else if (trend)
            snprintf(cell[v], CELL, "%s (%s)", a, trend);
        else
            snprintf(cell[v], CELL, "%s", a);
        spread_note(note, sizeof note, scenario, variants[v], "peak_rss_bytes", fmt_bytes_cb);
        if (note[0]) snprintf(cell[v] + strlen(cell[v]), CELL - strlen(cell[v]), "; %s", note);
    }
    before_after_row(d, scenario, "Memory (RSS)", cell[0], cell[1]);

    /* Recovery: end of load until live tasks are back at the baseline. */
    double settle = NAN;
    if (runs[1] || runs[0]) {
        const json_t *r = runs[1] ? runs[1] : runs[0];
        settle = lb_jnum_path(r, "phases.settle_end_s") - lb_jnum_path(r, "phases.load_end_s");
    }
    for (int v = 0; v < 2; v++) {
        int yes, total;
        recovered_counts(scenario, variants[v], &yes, &total);
        double ms = lb_scenario_metric(scenario, variants[v], "recovery_ms");
        const char *status = runs[v] ? lb_jstr(runs[v], "status") : NULL;
        if (!total) {
            snprintf(cell[v], CELL, "n/a");
        } else if (yes == 0) {
            guard_note(note, sizeof note, runs[v], NULL);
            if (status && !strcmp(status, "interrupted"))
                snprintf(cell[v], CELL, "n/a (the run was interrupted)");
            else if (note[0])
                snprintf(cell[v], CELL, "restart required (%s)", note);
            else if (!isnan(settle))
                snprintf(cell[v], CELL, "restart required (not back to baseline %s after load)",
                         lb_fmt_ms(a, sizeof a, settle * 1000));
            else
                snprintf(cell[v], CELL, "restart required (never back to baseline)");
        } else {
            lb_fmt_ms(a, sizeof a, ms);
            if (yes < total)
                snprintf(cell[v], CELL, "%s (%d of %d repetitions recovered)", a, yes, total);
            else
                snprintf(cell[v], CELL, "%s", a);
            spread_note(note, sizeof note, scenario, variants[v], "recovery_ms", fmt_ms_cb);
            if (note[0]) snprintf(cell[v] + strlen(cell[v]), CELL - strlen(cell[v]), "; %s", note);
        }
    }
    before_after_row(d, scenario, "Recovery time", cell[0], cell[1]);

    /* More rows, same rules. */
    static const struct {
        const char *label, *metric;
        char *(*fmt)(char *, size_t, double);
        const char *unit;
    } more[] = {{"Tasks left at shutdown (leaked)", "leaked_tasks", fmt_count_cb, ""},
                {"Shutdown time", "shutdown_ms", fmt_ms_cb, ""},
                {"Peak OS threads", "peak_threads", fmt_count_cb, ""},
                {"Throughput (completed)", "throughput_rps", fmt_count_cb, " req/s"},
                {"Latency p50", "latency_p50_ms", fmt_ms_cb, ""},
                {"Latency p99", "latency_p99_ms", fmt_ms_cb, ""},
                {"CPU time (user)", "cpu_user_s", fmt_ms_cb, ""},
                {"CPU time (system)", "cpu_sys_s", fmt_ms_cb, ""}};
    for (size_t m = 0; m < sizeof more / sizeof more[0]; m++) {
        bool any = false;
        for (int v = 0; v < 2; v++) {
            double val = lb_scenario_metric(scenario, variants[v], more[m].metric);
            if (!strncmp(more[m].metric, "cpu_", 4)) val *= 1000; /* seconds -> ms */
            if (!strcmp(more[m].metric, "throughput_rps") && !isnan(val)) val = round(val);
            any |= !isnan(val);
            more[m].fmt(a, sizeof a, val);
            snprintf(cell[v], CELL, "%s%s", a, isnan(val) ? "" : more[m].unit);
            double left = lb_scenario_metric(scenario, variants[v], "leaked_tasks");
            if (!strcmp(more[m].metric, "shutdown_ms") && isnan(val) && left > 0)
                snprintf(cell[v], CELL, "never: %s tasks stayed blocked",
                         lb_fmt_count(a, sizeof a, left));
        }
        if (any) before_after_row(d, scenario, more[m].label, cell[0], cell[1]);
    }
    d->ops->table_end(d);
}

/* ------------------------------------------------------ accounting -- */

/* Columns of the accounting table: the five outcomes every request ends
 * in, then counters a run may add (shown only when one is non-zero). */
static const struct {
    const char *key, *head;
    bool optional;
} acc_cols[] = {{"submitted", "Submitted", false},  {"completed", "Completed", false},
                {"timed_out", "Timed out", false},  {"failed", "Failed", false},
                {"rejected", "Rejected", false},    {"cancelled", "Cancelled", false},
                {"unanswered", "Unanswered", true}, {"spawn_failures", "Spawn failures", true}};
#define N_ACC (sizeof acc_cols / sizeof acc_cols[0])

static void accounting(lb_doc *d, const json_t *scenario)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    bool show[N_ACC];
    for (size_t k = 0; k < N_ACC; k++) {
        show[k] = !acc_cols[k].optional;
        json_array_foreach(runs, i, run)
        {
            char path[64];
            snprintf(path, sizeof path, "accounting.%s", acc_cols[k].key);
            if (lb_jnum_path(run, path) > 0) show[k] = true;
        }
    }
    const char *head[N_ACC + 3];
    lb_align align[N_ACC + 3];
    int n = 0;
    head[n] = "Run";
    align[n++] = LB_LEFT;
    for (size_t k = 0; k < N_ACC; k++)
        if (show[k]) {
            head[n] = acc_cols[k].head;
            align[n++] = LB_RIGHT;
        }
    head[n] = "Leaked tasks";
    align[n++] = LB_RIGHT;
    head[n] = "Balanced";
    align[n++] = LB_LEFT;
    d->ops->table_begin(d, n, head, align);
    for (int v = 0; v < 2; v++) {
        json_array_foreach(runs, i, run)
        {
            if (strcmp(lb_jstr(run, "variant"), variants[v])) continue;
            char cells[N_ACC + 3][64];
            const char *ptr[N_ACC + 3];
            int c = 0;
            snprintf(cells[c++], 64, "%s rep %lld", lb_jstr(run, "variant"),
                     (long long)json_integer_value(json_object_get(run, "rep")));
            const json_t *acc = json_object_get(run, "accounting");
            for (size_t k = 0; k < N_ACC; k++)
                if (show[k]) lb_fmt_count(cells[c++], 64, lb_jnum(acc, acc_cols[k].key));
            lb_fmt_count(cells[c++], 64, lb_jnum_path(run, "metrics.leaked_tasks"));
            int balanced = lb_jbool_path(run, "accounting.balanced");
            snprintf(cells[c++], 64, "%s", balanced > 0 ? "yes" : balanced < 0 ? "NO" : "n/a");
            for (int k = 0; k < c; k++) ptr[k] = cells[k];
            d->ops->table_row(d, ptr);
        }
    }
    d->ops->table_end(d);
}

/* ----------------------------------------------------- leak report -- */

static void leak_report(lb_doc *d, const json_t *scenario)
{
    bool any = false;
    for (int v = 0; v < 2; v++) {
        const json_t *run = lb_scenario_run(scenario, variants[v]);
        const json_t *groups = run ? lb_jpath(run, "leaks.groups") : NULL;
        double total = run ? lb_jnum_path(run, "leaks.total") : NAN;
        char line[512], a[64], b[64], c[64];
        if (!run || (!json_array_size(groups) && !(total > 0))) continue;
        any = true;
        int reps = lb_scenario_reps(scenario, variants[v]);
        size_t ng = json_array_size(groups);
        char where[64];
        if (ng)
            snprintf(where, sizeof where, ", in %zu group%s by blocking site", ng,
                     ng == 1 ? "" : "s");
        else
            snprintf(where, sizeof where, " (the run recorded no per-site groups)");
        snprintf(line, sizeof line, "%s, repetition %lld%s: %s tasks still blocked at the end%s.",
                 variants[v], (long long)json_integer_value(json_object_get(run, "rep")),
                 reps > 1 ? " (the first)" : "", lb_fmt_count(a, sizeof a, total), where);
        d->ops->para(d, line);
        if (!json_array_size(groups)) continue;
        const char *head[9] = {"Group",
                               "Blocked in",
                               "At",
                               "Spawned by",
                               "Tasks",
                               "Growth",
                               "Age oldest / median / p99",
                               "Escape",
                               "Held"};
        const lb_align align[9] = {LB_RIGHT, LB_LEFT,  LB_LEFT, LB_LEFT, LB_RIGHT,
                                   LB_RIGHT, LB_RIGHT, LB_LEFT, LB_RIGHT};
        d->ops->table_begin(d, 9, head, align);
        const json_t *g;
        size_t i;
        json_array_foreach(groups, i, g)
        {
            char cells[9][CELL];
            const char *ptr[9];
            snprintf(cells[0], CELL, "%zu", i + 1);
            const json_t *chan = json_object_get(g, "chan");
            if (json_is_object(chan)) {
                int closed = lb_jbool_path(chan, "closed");
                snprintf(cells[1], CELL,
                         "%s (channel cap %s, len %s%s, %s senders / %s receivers waiting)",
                         lb_jstr(g, "op"), lb_fmt_count(a, sizeof a, lb_jnum(chan, "cap")),
                         lb_fmt_count(b, sizeof b, lb_jnum(chan, "len")),
                         closed > 0 ? ", closed" : "",
                         lb_fmt_count(c, sizeof c, lb_jnum(chan, "send_waiters")),
                         lb_fmt_count(line, sizeof line, lb_jnum(chan, "recv_waiters")));
            } else {
                snprintf(cells[1], CELL, "%s", lb_jstr(g, "op"));
            }
            site_text(cells[2], CELL, json_object_get(g, "site"));
            const char *role = lb_jstr(g, "role");
            const json_t *spawn = json_object_get(g, "spawn_site");
            if (json_is_object(spawn))
                snprintf(cells[3], CELL, "%s%s%s", role ? role : "", role ? " at " : "",
                         site_text(line, sizeof line, spawn));
            else
                snprintf(cells[3], CELL, "%s", role ? role : "unknown");
            lb_fmt_count(cells[4], CELL, lb_jnum(g, "count"));
            double growth = lb_jnum(g, "growth_per_s");
            if (isnan(growth))
                snprintf(cells[5], CELL, "n/a");
            else
                snprintf(cells[5], CELL, "%s/s", lb_fmt_num(a, sizeof a, growth, 3));
            const json_t *age = json_object_get(g, "age_ms");
            snprintf(cells[6], CELL, "%s / %s / %s", lb_fmt_ms(a, sizeof a, lb_jnum(age, "oldest")),
                     lb_fmt_ms(b, sizeof b, lb_jnum(age, "median")),
                     lb_fmt_ms(c, sizeof c, lb_jnum(age, "p99")));
            int canc = lb_jbool_path(g, "cancellable");
            snprintf(cells[7], CELL, "%s",
                     canc > 0   ? "had a cancel case"
                     : canc < 0 ? "none (blocks forever)"
                                : "n/a");
            lb_fmt_bytes(cells[8], CELL, lb_jnum(g, "held_bytes"));
            for (int k = 0; k < 9; k++) ptr[k] = cells[k];
            d->ops->table_row(d, ptr);
        }
        d->ops->table_end(d);
        json_array_foreach(groups, i, g)
        {
            const char *hint = lb_jstr(g, "hint");
            double task = lb_jnum_path(g, "example.task_id");
            double more = lb_jnum(g, "more_like_it");
            char label[32], text[1024];
            snprintf(label, sizeof label, "Group %zu", i + 1);
            size_t o = 0;
            text[0] = 0;
            if (!isnan(task))
                o += snprintf(text + o, sizeof text - o, "e.g. task %.0f, blocked for %s", task,
                              lb_fmt_ms(a, sizeof a, lb_jnum_path(g, "example.age_ms")));
            if (!isnan(more) && o < sizeof text)
                o += snprintf(text + o, sizeof text - o, "%s%s more like it", o ? ", and " : "",
                              lb_fmt_count(b, sizeof b, more));
            if (hint && o < sizeof text)
                snprintf(text + o, sizeof text - o, "%s%s", o ? ". " : "", hint);
            if (text[0]) d->ops->field(d, label, text);
        }
        d->ops->fields_end(d);
    }
    if (!any) d->ops->para(d, "No task was left blocked at the end of any run.");
}

/* ------------------------------------------------------- the whole -- */

static bool chart_exists(lb_doc *d, const char *base)
{
    char path[4600];
    struct stat st;
    snprintf(path, sizeof path, "%s/charts/%s.png", d->out_dir, base);
    if (stat(path, &st) != 0) return false;
    snprintf(path, sizeof path, "%s/charts/%s.svg", d->out_dir, base);
    return stat(path, &st) == 0;
}

static void chart(lb_doc *d, const json_t *root, size_t i, int kind, const lb_chart_info *ci)
{
    char base[160];
    if (ci->outcome != LB_CHARTS_RENDERED) return;
    lb_chart_base(base, sizeof base, root, i, kind);
    if (chart_exists(d, base)) d->ops->chart(d, base, lb_chart_alt[kind]);
}

static void overview(lb_doc *d, const json_t *scenarios)
{
    const char *head[7] = {"Scenario",           "Peak tasks (leaky)", "Peak tasks (graceful)",
                           "RSS (leaky)",        "RSS (graceful)",     "Recovery (leaky)",
                           "Recovery (graceful)"};
    const lb_align align[7] = {LB_LEFT, LB_RIGHT, LB_RIGHT, LB_RIGHT, LB_RIGHT, LB_RIGHT, LB_RIGHT};
    d->ops->heading(d, 2, "Overview", "overview");
    d->ops->table_begin(d, 7, head, align);
    const json_t *s;
    size_t i;
    json_array_foreach(scenarios, i, s)
    {
        char c[7][96];
        const char *ptr[7];
        snprintf(c[0], 96, "%s", lb_jstr(s, "name"));
        for (int v = 0; v < 2; v++) {
            lb_fmt_count(c[1 + v], 96, lb_scenario_metric(s, variants[v], "peak_tasks"));
            lb_fmt_bytes(c[3 + v], 96, lb_scenario_metric(s, variants[v], "peak_rss_bytes"));
            int yes, total;
            recovered_counts(s, variants[v], &yes, &total);
            if (total && !yes)
                snprintf(c[5 + v], 96, "restart required");
            else
                lb_fmt_ms(c[5 + v], 96, lb_scenario_metric(s, variants[v], "recovery_ms"));
        }
        for (int k = 0; k < 7; k++) ptr[k] = c[k];
        d->ops->table_row(d, ptr);
    }
    d->ops->table_end(d);
}

static void thresholds(lb_doc *d, const json_t *list)
{
    const char *head[5] = {"Scenario", "Metric", "Rule", "Measured", "Verdict"};
    const lb_align align[5] = {LB_LEFT, LB_LEFT, LB_LEFT, LB_RIGHT, LB_LEFT};
    d->ops->heading(d, 2, "Thresholds", "thresholds");
    d->ops->table_begin(d, 5, head, align);
    const json_t *t;
    size_t i;
    json_array_foreach(list, i, t)
    {
        char value[64];
        const char *verdict = lb_jstr(t, "verdict");
        const char *cells[5] = {lb_jstr(t, "scenario") ? lb_jstr(t, "scenario") : "(all)",
                                lb_jstr(t, "metric"), lb_jstr(t, "expr") ? lb_jstr(t, "expr") : "",
                                lb_fmt_num(value, sizeof value, lb_jnum(t, "value"), 4),
                                !strcmp(verdict, "pass") ? "pass" : "FAIL"};
        d->ops->table_row(d, cells);
    }
    d->ops->table_end(d);
}

static void environment(lb_doc *d, const json_t *root)
{
    char buf[512], a[64], b[64];
    const json_t *host = json_object_get(root, "host");
    d->ops->heading(d, 2, "Environment", "environment");
    snprintf(buf, sizeof buf, "%s %s (git %s)",
             lb_jstr_path(root, "tool.name") ? lb_jstr_path(root, "tool.name") : "leakbench",
             lb_jstr_path(root, "tool.version") ? lb_jstr_path(root, "tool.version") : "?",
             lb_jstr_path(root, "tool.git_revision") ? lb_jstr_path(root, "tool.git_revision")
                                                     : "unknown");
    d->ops->field(d, "Tool", buf);
    const json_t *cmd = json_object_get(root, "command");
    if (json_array_size(cmd)) {
        size_t o = 0;
        const json_t *arg;
        size_t i;
        buf[0] = 0;
        json_array_foreach(cmd, i, arg) if (o < sizeof buf) o +=
            snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", json_string_value(arg));
        d->ops->field(d, "Command", buf);
    }
    if (lb_jstr_path(root, "spec.path")) d->ops->field(d, "Spec", lb_jstr_path(root, "spec.path"));
    if (lb_jstr(root, "started_at")) d->ops->field(d, "Started", lb_jstr(root, "started_at"));
    if (lb_jstr(root, "finished_at")) d->ops->field(d, "Finished", lb_jstr(root, "finished_at"));
    if (json_is_object(host)) {
        if (lb_jstr(host, "kernel")) d->ops->field(d, "Kernel", lb_jstr(host, "kernel"));
        snprintf(buf, sizeof buf, "%s, %s CPUs",
                 lb_jstr(host, "cpu_model") ? lb_jstr(host, "cpu_model") : "unknown CPU",
                 lb_fmt_count(a, sizeof a, lb_jnum(host, "cpus")));
        d->ops->field(d, "CPU", buf);
        snprintf(buf, sizeof buf, "%s total, %s available at start",
                 lb_fmt_bytes(a, sizeof a, lb_jnum(host, "mem_total_bytes")),
                 lb_fmt_bytes(b, sizeof b, lb_jnum(host, "mem_available_bytes")));
        d->ops->field(d, "Memory", buf);
        if (lb_jstr(host, "compiler")) d->ops->field(d, "Compiler", lb_jstr(host, "compiler"));
        if (!isnan(lb_jnum(host, "pid_max")))
            d->ops->field(d, "pid_max", lb_fmt_count(a, sizeof a, lb_jnum(host, "pid_max")));
    }
    d->ops->fields_end(d);
}

static void scenario_section(lb_doc *d, const json_t *root, size_t i, const lb_chart_info *ci)
{
    const json_t *s = json_array_get(json_object_get(root, "scenarios"), i);
    const char *name = lb_jstr(s, "name"), *title = lb_jstr(s, "title");
    char buf[1024], a[64], anchor[80];
    if (title && *title)
        snprintf(buf, sizeof buf, "%s: %s", name, title);
    else
        snprintf(buf, sizeof buf, "%s", name);
    lb_slug(anchor, sizeof anchor, name);
    d->ops->heading(d, 2, buf, anchor);

    if (!isnan(lb_jnum(s, "pattern")))
        d->ops->field(d, "Leak pattern", lb_fmt_count(a, sizeof a, lb_jnum(s, "pattern")));
    static const struct {
        const char *key, *label;
    } text_fields[] = {{"description", "What leaks"},
                       {"trigger", "Trigger"},
                       {"fix", "The fix"},
                       {"source", "Source"},
                       {"scheduler", "Scheduler"}};
    for (size_t k = 0; k < sizeof text_fields / sizeof text_fields[0]; k++)
        if (lb_jstr(s, text_fields[k].key))
            d->ops->field(d, text_fields[k].label, lb_jstr(s, text_fields[k].key));
    for (int v = 0; v < 2; v++) {
        const json_t *runs = json_object_get(s, "runs"), *run;
        size_t r, o = 0;
        buf[0] = 0;
        json_array_foreach(runs, r, run)
        {
            if (strcmp(lb_jstr(run, "variant"), variants[v]) || o >= sizeof buf) continue;
            char note[NOTE];
            guard_note(note, sizeof note, run, NULL);
            o += snprintf(buf + o, sizeof buf - o, "%srep %lld %s%s%s%s", o ? ", " : "",
                          (long long)json_integer_value(json_object_get(run, "rep")),
                          lb_jstr(run, "status"), note[0] ? " (" : "", note, note[0] ? ")" : "");
        }
        if (buf[0]) d->ops->field(d, v ? "Graceful runs" : "Leaky runs", buf);
    }
    const json_t *first = lb_scenario_run(s, "leaky");
    if (!first) first = lb_scenario_run(s, "graceful");
    const json_t *sampler = first ? json_object_get(first, "sampler") : NULL;
    if (json_is_object(sampler)) {
        char every[32], count[32], med[32], max[32];
        snprintf(buf, sizeof buf,
                 "every %s from outside the child (%s samples in the first run%s); lateness "
                 "median %s, max %s",
                 lb_fmt_ms(every, sizeof every, lb_jnum(sampler, "interval_ms")),
                 lb_fmt_count(count, sizeof count, lb_jnum(sampler, "samples")),
                 lb_jbool_path(sampler, "decimated") > 0 ? ", decimated for storage" : "",
                 lb_fmt_ms(med, sizeof med, lb_jnum_path(sampler, "lateness_ms.median")),
                 lb_fmt_ms(max, sizeof max, lb_jnum_path(sampler, "lateness_ms.max")));
        d->ops->field(d, "Sampling", buf);
    }
    d->ops->fields_end(d);

    d->ops->heading(d, 3, "Before and after", NULL);
    before_after(d, s);
    chart(d, root, i, 4, ci);
    d->ops->heading(d, 3, "Over time", NULL);
    if (ci->outcome == LB_CHARTS_RENDERED) {
        d->ops->para(d, "First repetition of each variant.  Shaded: load, settle and shutdown "
                        "phases.");
        for (int k = 0; k < 3; k++) chart(d, root, i, k, ci);
    } else {
        d->ops->para(d, "Charts were not drawn for this report (see the note at the top).");
    }
    chart(d, root, i, 3, ci);
    d->ops->heading(d, 3, "Request accounting", NULL);
    accounting(d, s);
    d->ops->heading(d, 3, "Leak report", NULL);
    leak_report(d, s);
}

void lb_report_write_doc(lb_doc *d, const json_t *root, const lb_chart_info *ci)
{
    const json_t *scenarios = json_object_get(root, "scenarios");
    d->ops->begin(d, "leakbench report");
    const char *status = lb_jstr(root, "status");
    if (status && !strcmp(status, "interrupted"))
        d->ops->warning(d, "This run was interrupted: its results are partial.");
    if (ci->outcome != LB_CHARTS_RENDERED && ci->message && ci->message[0])
        d->ops->warning(d, ci->message);

    size_t n = json_array_size(scenarios);
    char buf[256];
    snprintf(buf, sizeof buf,
             "Leaky and graceful twins of %zu concurrent pipeline%s under the same load: live "
             "tasks and resident memory over time, what is left behind when the load stops, and "
             "how fast each returns to rest.",
             n, n == 1 ? "" : "s");
    d->ops->para(d, buf);
    if (n > 1) overview(d, scenarios);
    const json_t *th = json_object_get(root, "thresholds");
    if (json_array_size(th)) thresholds(d, th);
    for (size_t i = 0; i < n; i++) scenario_section(d, root, i, ci);
    if (n == 0) d->ops->para(d, "The results file lists no scenarios.");
    environment(d, root);
    d->ops->end(d);
}

/* ------------------------------------------------------- rendering -- */

static int write_doc(const lb_doc_ops *ops, const char *out_dir, const char *name,
                     const json_t *root, const lb_chart_info *ci)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    lb_doc d = {.ops = ops, .out = f, .out_dir = out_dir};
    lb_report_write_doc(&d, root, ci);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    int rc = d.err ? d.err : lb_write_atomic(path, buf, len, err, sizeof err);
    free(buf);
    return rc;
}

int lb_report_render(const char *results_path, const char *out_dir, const lb_report_opts *opts,
                     lb_report_result *res)
{
    memset(res, 0, sizeof *res);
    json_t *root = NULL;
    int rc = lb_report_load_results(results_path, &root, res->message, sizeof res->message);
    if (rc) {
        res->input_error = true;
        return rc == -ENOMEM ? rc : -EINVAL;
    }
    if ((rc = lb_mkdir_p(out_dir)) < 0) {
        snprintf(res->message, sizeof res->message, "%s: cannot create directory: %s", out_dir,
                 strerror(-rc));
        json_decref(root);
        return rc;
    }
    bool charts = opts ? opts->charts : true;
    int timeout = opts ? opts->gnuplot_timeout_s : 0;
    char why[1024] = "";
    int plot_rc = lb_plot_render(root, out_dir, charts, timeout, &res->charts, &res->n_charts, why,
                                 sizeof why);
    lb_chart_info ci = {.outcome = res->charts, .message = why};
    rc = write_doc(&lb_doc_markdown, out_dir, "report.md", root, &ci);
    if (!rc) rc = write_doc(&lb_doc_html, out_dir, "report.html", root, &ci);
    json_decref(root);
    if (rc) {
        snprintf(res->message, sizeof res->message, "%s: cannot write the report: %s", out_dir,
                 strerror(-rc));
        return rc;
    }
    if (why[0]) snprintf(res->message, sizeof res->message, "%s", why);
    /* A failure that left charts out is an error once the report exists. */
    if (plot_rc && res->charts == LB_CHARTS_FAILED) return plot_rc;
    return 0;
}
