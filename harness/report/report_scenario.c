/*
 * report_scenario.c — what leakbench says about one scenario, written once
 * for every view: the before/after table, the request accounting and the
 * leak report (report_internal.h, "scenario content").
 *
 * Each function reads one scenario object of the results document (the
 * json_t tree results.json holds) and writes through the document
 * interface, so the terminal (report_text.c), report.md (report_md.c) and
 * report.html (report_html.c) get the same rows and the same cells from
 * the same code; only the back-end decides how a table or a list looks.
 *
 * The before/after table: every cell is the median over the variant's
 * repetitions (the summary in results.json), followed by " [min..max]"
 * when the repetitions differ.  The six headline rows (peak tasks, memory
 * with its trend, recovery, leaked tasks, shutdown, guard) are what the
 * terminal shows; the report adds the detail rows (threads, throughput,
 * latency, CPU).  Labels come from measurements: "(controlled)" when every
 * repetition got back to its idle baseline, "(unbounded: +N tasks/s)"
 * when none did and tasks kept joining under load, the memory trend is
 * the metrics' rising/stable verdict over all repetitions.
 */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CELL 512

static const char *const variants[2] = {"leaky", "graceful"};

typedef char *(*fmt_fn)(char *, size_t, double);

/* ------------------------------------------------------- helpers -- */

void lb_recovered_counts(const json_t *scenario, const char *variant, int *yes, int *total)
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

char *lb_fmt_guard_value(char *buf, size_t n, const char *kind, double value)
{
    char c[LB_UNITS_LEN];
    if (kind && !strcmp(kind, "memory"))
        lb_fmt_bytes(buf, n, value);
    else if (kind && !strcmp(kind, "tasks"))
        snprintf(buf, n, "%s tasks", lb_fmt_count(c, sizeof c, value));
    else
        lb_fmt_ms(buf, n, value); /* wall: ms */
    return buf;
}

void lb_guard_note(char *buf, size_t n, const json_t *run)
{
    buf[0] = 0;
    const char *kind = run ? lb_jstr_path(run, "guard.kind") : NULL;
    if (!kind) return;
    char t[LB_UNITS_LEN], v[LB_UNITS_LEN];
    snprintf(buf, n, "killed by the %s guard at %s, %s", kind,
             lb_fmt_ms(t, sizeof t, lb_jnum_path(run, "guard.at_s") * 1000),
             lb_fmt_guard_value(v, sizeof v, kind, lb_jnum_path(run, "guard.value")));
}

/* Appends " [lo..hi]" when the variant's repetitions of metric differ. */
static void append_range(char *cell, const json_t *scenario, const char *variant,
                         const char *metric, fmt_fn fmt, double scale)
{
    const json_t *m = lb_jpath(lb_jpath(scenario, "summary"), variant);
    m = json_is_object(m) ? json_object_get(m, metric) : NULL;
    double count = lb_jnum(m, "n"), lo = lb_jnum(m, "min"), hi = lb_jnum(m, "max");
    if (isnan(count) || count < 2 || isnan(lo) || isnan(hi) || lo == hi) return;
    char a[LB_UNITS_LEN], b[LB_UNITS_LEN];
    size_t len = strlen(cell);
    snprintf(cell + len, CELL - len, " [%s..%s]", fmt(a, sizeof a, lo * scale),
             fmt(b, sizeof b, hi * scale));
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

/* True if a guard of this kind killed any run of the variant. */
static bool killed_by(const json_t *scenario, const char *variant, const char *kind)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    json_array_foreach(runs, i, run)
    {
        const char *k = lb_jstr_path(run, "guard.kind");
        if (!strcmp(lb_jstr(run, "variant"), variant) && k && !strcmp(k, kind)) return true;
    }
    return false;
}

/* The first run of the variant a guard killed, or NULL; *kills counts them. */
static const json_t *first_guard_kill(const json_t *scenario, const char *variant, int *kills)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run, *first = NULL;
    size_t i;
    *kills = 0;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variant) || !lb_jstr_path(run, "guard.kind")) continue;
        if (!first) first = run;
        (*kills)++;
    }
    return first;
}

static int runs_with_status(const json_t *scenario, const char *variant, const char *status)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    int n = 0;
    json_array_foreach(runs, i, run) n +=
        !strcmp(lb_jstr(run, "variant"), variant) && !strcmp(lb_jstr(run, "status"), status);
    return n;
}

/* The runs of the variant whose load generator fell behind its schedule
 * (run/load_schedule.h); *first is the first of them. */
static int behind_runs(const json_t *scenario, const char *variant, const json_t **first)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    int n = 0;
    *first = NULL;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variant) || lb_jbool_path(run, "load.behind") <= 0)
            continue;
        if (!n++) *first = run;
    }
    return n;
}

static bool fell_behind(const json_t *scenario, int v)
{
    const json_t *first;
    return behind_runs(scenario, variants[v], &first) > 0;
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

/* -------------------------------------------------- before / after -- */

/* lb_task_noun (report_internal.h): goroutines for a target pair read by
 * the go_pprof probe, OS threads under the threads probe, else tasks. */
const char *lb_task_noun(const json_t *scenario)
{
    const char *kind = lb_jstr_path(lb_scenario_run(scenario, variants[0]), "target.probe.kind");
    if (!kind) kind = lb_jstr_path(lb_scenario_run(scenario, variants[1]), "target.probe.kind");
    if (kind && !strcmp(kind, "go_pprof")) return "goroutines";
    if (kind && !strcmp(kind, "threads")) return "threads";
    return "tasks";
}

/* label ("Peak tasks") with its last word "tasks" in the scenario's noun. */
static const char *task_label(char *buf, size_t n, const char *label, const json_t *scenario)
{
    size_t len = strlen(label);
    if (len < 5 || strcmp(label + len - 5, "tasks")) return label;
    snprintf(buf, n, "%.*s%s", (int)(len - 5), label, lb_task_noun(scenario));
    return buf;
}

/* One cell of the before/after table for one variant. */
typedef void (*cell_fn)(char *cell, const json_t *scenario, int v);

bool lb_no_task_reading(const json_t *scenario, int v)
{
    return isnan(lb_scenario_metric(scenario, variants[v], "peak_tasks"));
}

static void cell_peak_tasks(char *cell, const json_t *scenario, int v)
{
    const json_t *run = lb_scenario_run(scenario, variants[v]);
    char a[LB_UNITS_LEN], b[LB_UNITS_LEN];
    int yes, total;
    if (lb_no_task_reading(scenario, v) && !killed_by(scenario, variants[v], "tasks")) {
        snprintf(cell, CELL, "n/a (no live-task reading)");
        return;
    }
    lb_recovered_counts(scenario, variants[v], &yes, &total);
    lb_fmt_count(a, sizeof a, lb_scenario_metric(scenario, variants[v], "peak_tasks"));
    /* Growth while loaded: the leak groups' own rate if the run has one,
     * else the slope of live tasks over the load phase (the run's
     * metrics.task_slope_per_s, Theil-Sen like the RSS slope). */
    double growth = leak_growth(run);
    if (!(growth > 0)) growth = lb_jnum_path(run, "metrics.task_slope_per_s");
    if (killed_by(scenario, variants[v], "tasks"))
        snprintf(cell, CELL, "≥ %s (killed by the tasks guard)", a);
    else if (total && yes < total && fell_behind(scenario, v))
        snprintf(cell, CELL, "%s (load generator behind)", a); /* not the pipeline's verdict */
    else if (total && yes == total)
        snprintf(cell, CELL, "%s (controlled)", a);
    else if (total && yes == 0 && growth > 0)
        snprintf(cell, CELL, "%s (unbounded: +%s)", a,
                 lb_fmt_rate(b, sizeof b, growth, lb_task_noun(scenario)));
    else if (total && yes == 0)
        snprintf(cell, CELL, "%s (not back to baseline)", a);
    else if (total)
        snprintf(cell, CELL, "%s (%d of %d repetitions back to baseline)", a, yes, total);
    else
        snprintf(cell, CELL, "%s", a);
    append_range(cell, scenario, variants[v], "peak_tasks", lb_fmt_count, 1);
}

static void cell_memory(char *cell, const json_t *scenario, int v)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    bool rising = false, stable = false;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variants[v])) continue;
        const char *trend = lb_jstr_path(run, "metrics.rss_trend");
        rising |= trend && !strcmp(trend, "rising");
        stable |= trend && !strcmp(trend, "stable");
    }
    char a[LB_UNITS_LEN];
    lb_fmt_bytes(a, sizeof a, lb_scenario_metric(scenario, variants[v], "peak_rss_bytes"));
    const char *trend = rising && stable ? "mixed"
                        : rising         ? "rising"
                        : stable         ? "stable"
                                         : "trend n/a";
    if (killed_by(scenario, variants[v], "memory"))
        snprintf(cell, CELL, "≥ %s (killed by the memory guard)", a);
    else
        snprintf(cell, CELL, "%s (%s)", a, trend);
    append_range(cell, scenario, variants[v], "peak_rss_bytes", lb_fmt_bytes, 1);
}

const char *lb_recovery_unjudged(const json_t *scenario, int v)
{
    int yes, total, kills;
    lb_recovered_counts(scenario, variants[v], &yes, &total);
    if (!total) return NULL;
    if (lb_no_task_reading(scenario, v)) return "no live-task reading";
    if (yes) return NULL;
    const json_t *killer = first_guard_kill(scenario, variants[v], &kills);
    const char *kind = killer ? lb_jstr_path(killer, "guard.kind") : NULL;
    if (runs_with_status(scenario, variants[v], "interrupted")) return "the run was interrupted";
    /* A memory or tasks guard is the pipeline's doing; a wall guard behind
     * a generator that could not keep up is the generator's. */
    if (fell_behind(scenario, v) && (!kind || !strcmp(kind, "wall")))
        return "the load generator fell behind";
    return NULL;
}

static void cell_recovery(char *cell, const json_t *scenario, int v)
{
    int yes, total, kills;
    char a[LB_UNITS_LEN];
    const char *unjudged = lb_recovery_unjudged(scenario, v);
    lb_recovered_counts(scenario, variants[v], &yes, &total);
    if (!total) {
        snprintf(cell, CELL, "n/a");
    } else if (unjudged) {
        snprintf(cell, CELL, "n/a (%s)", unjudged);
    } else if (yes == 0) {
        const json_t *run = lb_scenario_run(scenario, variants[v]), *killer;
        double settle =
            lb_jnum_path(run, "phases.settle_end_s") - lb_jnum_path(run, "phases.load_end_s");
        killer = first_guard_kill(scenario, variants[v], &kills);
        const char *kind = killer ? lb_jstr_path(killer, "guard.kind") : NULL;
        if (killer)
            snprintf(cell, CELL, "restart required (killed by the %s guard)", kind);
        else if (!isnan(settle))
            snprintf(cell, CELL, "restart required (not at baseline %s after load)",
                     lb_fmt_ms(a, sizeof a, settle * 1000));
        else
            snprintf(cell, CELL, "restart required");
    } else {
        lb_fmt_ms(a, sizeof a, lb_scenario_metric(scenario, variants[v], "recovery_ms"));
        if (yes < total)
            snprintf(cell, CELL, "%s (%d of %d repetitions recovered)", a, yes, total);
        else
            snprintf(cell, CELL, "%s", a);
        append_range(cell, scenario, variants[v], "recovery_ms", lb_fmt_ms, 1);
    }
}

static void cell_leaked(char *cell, const json_t *scenario, int v)
{
    lb_fmt_count(cell, CELL, lb_scenario_metric(scenario, variants[v], "leaked_tasks"));
    append_range(cell, scenario, variants[v], "leaked_tasks", lb_fmt_count, 1);
}

static void cell_shutdown(char *cell, const json_t *scenario, int v)
{
    double ms = lb_scenario_metric(scenario, variants[v], "shutdown_ms");
    const json_t *run = lb_scenario_run(scenario, variants[v]);
    const char *outcome = lb_jstr_path(run, "target.shutdown.outcome");
    if (isnan(ms) && outcome && !strcmp(outcome, "killed after the grace")) {
        char a[LB_UNITS_LEN]; /* an external target that ignored its signal */
        snprintf(cell, CELL, "killed after the %s grace",
                 lb_fmt_ms(a, sizeof a, lb_jnum_path(run, "target.shutdown.grace_ms")));
        return;
    }
    if (isnan(ms) && lb_scenario_metric(scenario, variants[v], "leaked_tasks") > 0) {
        snprintf(cell, CELL, "tasks left running");
        return;
    }
    lb_fmt_ms(cell, CELL, ms);
    append_range(cell, scenario, variants[v], "shutdown_ms", lb_fmt_ms, 1);
}

static void cell_guard(char *cell, const json_t *scenario, int v)
{
    int kills;
    const json_t *run = first_guard_kill(scenario, variants[v], &kills);
    if (!run) {
        int crashed = runs_with_status(scenario, variants[v], "crashed");
        int failed = runs_with_status(scenario, variants[v], "target_failed");
        if (failed)
            snprintf(cell, CELL, "none fired; the target failed in %d run%s", failed,
                     failed == 1 ? "" : "s");
        else if (crashed)
            snprintf(cell, CELL, "none fired; %d run%s crashed", crashed, crashed == 1 ? "" : "s");
        else
            snprintf(cell, CELL, "none fired");
        return;
    }
    const char *kind = lb_jstr_path(run, "guard.kind");
    char at[LB_UNITS_LEN], value[LB_UNITS_LEN], limit[LB_UNITS_LEN];
    snprintf(cell, CELL, "%s limit at %s (%s > %s)%s", kind,
             lb_fmt_ms(at, sizeof at, lb_jnum_path(run, "guard.at_s") * 1000),
             lb_fmt_guard_value(value, sizeof value, kind, lb_jnum_path(run, "guard.value")),
             lb_fmt_guard_value(limit, sizeof limit, kind, lb_jnum_path(run, "guard.limit")),
             kills > 1 ? " and more" : "");
}

/* A detail row: the metric's median in its unit, "n/a" if not measured. */
typedef struct detail_row {
    const char *label, *metric;
    fmt_fn fmt;
    double scale; /* to the unit fmt takes */
    const char *suffix;
} detail_row;

static const detail_row details[] = {
    {"Peak OS threads", "peak_threads", lb_fmt_count, 1, ""},
    {"Throughput (completed)", "throughput_rps", lb_fmt_count, 1, " req/s"},
    /* Completed requests first: every request's percentiles sit at the
     * client timeout once most time out (they end at their deadline). */
    {"Latency p50, completed", "latency_completed_p50_ms", lb_fmt_ms, 1, ""},
    {"Latency p99, completed", "latency_completed_p99_ms", lb_fmt_ms, 1, ""},
    {"Latency p50, all requests", "latency_p50_ms", lb_fmt_ms, 1, ""},
    {"Latency p99, all requests", "latency_p99_ms", lb_fmt_ms, 1, ""},
    {"CPU time (user)", "cpu_user_s", lb_fmt_ms, 1000, ""},
    {"CPU time (system)", "cpu_sys_s", lb_fmt_ms, 1000, ""},
};

static bool cell_detail(char *cell, const json_t *scenario, int v, const detail_row *r)
{
    double val = lb_scenario_metric(scenario, variants[v], r->metric) * r->scale;
    if (!strcmp(r->metric, "throughput_rps")) val = round(val);
    r->fmt(cell, CELL, val);
    if (!isnan(val)) strncat(cell, r->suffix, CELL - strlen(cell) - 1);
    if (!isnan(val)) append_range(cell, scenario, variants[v], r->metric, r->fmt, r->scale);
    return !isnan(val);
}

static void row(lb_doc *d, const char *label, char cell[2][CELL])
{
    const char *cells[3] = {label, cell[0], cell[1]};
    d->ops->table_row(d, cells);
}

static const struct {
    const char *label;
    cell_fn fn;
} headline[] = {{"Peak tasks", cell_peak_tasks},  {"Memory (RSS)", cell_memory},
                {"Recovery time", cell_recovery}, {"Leaked tasks", cell_leaked},
                {"Shutdown", cell_shutdown},      {"Guard", cell_guard}};

/* "Medians of 5 repetitions ..." when there is more than one. */
static void repetitions_note(lb_doc *d, const json_t *scenario)
{
    int reps = lb_scenario_reps(scenario, variants[0]), g = lb_scenario_reps(scenario, variants[1]);
    if (g > reps) reps = g;
    if (reps < 2) return;
    char text[128];
    snprintf(text, sizeof text, "Medians of %d repetitions; [min..max] where they differ.", reps);
    d->ops->para(d, text);
}

/* Says so when the load generator could not keep the schedule in some
 * of the variant's runs: those runs measured the generator. */
static void behind_note(lb_doc *d, const json_t *scenario, int v)
{
    const json_t *run;
    int n = behind_runs(scenario, variants[v], &run);
    if (!n) return;
    char text[CELL], sub[LB_UNITS_LEN], sch[LB_UNITS_LEN], p99[LB_UNITS_LEN];
    snprintf(text, sizeof text,
             "The load generator could not keep the schedule in %d of %d %s run%s (the first: "
             "%s of %s arrivals submitted, %.1f%% within %.0f ms of their time, lateness p99 "
             "%s): %s figures measure the generator, not the pipeline.",
             n, lb_scenario_reps(scenario, variants[v]), variants[v], n == 1 ? "" : "s",
             lb_fmt_count(sub, sizeof sub, lb_jnum_path(run, "load.submitted")),
             lb_fmt_count(sch, sizeof sch, lb_jnum_path(run, "load.scheduled")),
             lb_jnum_path(run, "load.on_time_ratio") * 100, lb_jnum_path(run, "load.late_after_ms"),
             lb_fmt_ms(p99, sizeof p99, lb_jnum_path(run, "load.lateness_ms.p99")),
             n == 1 ? "its" : "their");
    d->ops->warning(d, text);
}

void lb_view_before_after(lb_doc *d, const json_t *scenario, bool details_too)
{
    static const char *const before_after[3] = {"Metric", "Before fix (leaky)",
                                                "After fix (graceful)"};
    const char *const aa[3] = {"Metric", lb_side_label(d->root, 0), lb_side_label(d->root, 1)};
    const char *const *head = lb_jstr_path(d->root, "aa.variant") ? aa : before_after;
    static const lb_align align[3] = {LB_LEFT, LB_LEFT, LB_LEFT};
    bool ran[2] = {lb_scenario_run(scenario, variants[0]) != NULL,
                   lb_scenario_run(scenario, variants[1]) != NULL};
    /* A target that failed in every run measured nothing: said so, not
     * "restart required" or "not back to baseline". */
    bool failed[2];
    for (int v = 0; v < 2; v++)
        failed[v] = ran[v] && runs_with_status(scenario, variants[v], "target_failed") ==
                                  lb_scenario_reps(scenario, variants[v]);
    char cell[2][CELL];
    repetitions_note(d, scenario);
    d->ops->table_begin(d, 3, head, align);
    for (size_t r = 0; r < sizeof headline / sizeof headline[0]; r++) {
        for (int v = 0; v < 2; v++)
            if (failed[v] && headline[r].fn != cell_guard)
                snprintf(cell[v], CELL, "n/a (the target failed)");
            else if (ran[v])
                headline[r].fn(cell[v], scenario, v);
            else
                snprintf(cell[v], CELL, "not run");
        char label[64];
        row(d, task_label(label, sizeof label, headline[r].label, scenario), cell);
    }
    for (size_t r = 0; details_too && r < sizeof details / sizeof details[0]; r++) {
        bool any = false;
        for (int v = 0; v < 2; v++)
            if (ran[v])
                any |= cell_detail(cell[v], scenario, v, &details[r]);
            else
                snprintf(cell[v], CELL, "not run");
        if (any) row(d, details[r].label, cell);
    }
    d->ops->table_end(d);
    for (int v = 0; v < 2; v++) behind_note(d, scenario, v);
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
#define N_ACC        (sizeof acc_cols / sizeof acc_cols[0])
#define ACC_MAX_COLS (N_ACC + 2)

/* Which columns to show, and the header; returns the column count. */
static int accounting_columns(const json_t *runs, bool show[N_ACC], const char **head,
                              lb_align *align)
{
    const json_t *run;
    size_t i;
    int n = 0;
    head[n] = "Run";
    align[n++] = LB_LEFT;
    for (size_t k = 0; k < N_ACC; k++) {
        show[k] = !acc_cols[k].optional;
        json_array_foreach(runs, i, run)
        {
            char path[64];
            snprintf(path, sizeof path, "accounting.%s", acc_cols[k].key);
            if (lb_jnum_path(run, path) > 0) show[k] = true;
        }
        if (!show[k]) continue;
        head[n] = acc_cols[k].head;
        align[n++] = LB_RIGHT;
    }
    head[n] = "Balanced";
    align[n++] = LB_LEFT;
    return n;
}

/* "yes", "NO: 3 unanswered", or why the run's counts are incomplete. */
static void balanced_cell(char *cell, size_t n, const json_t *run)
{
    const char *status = lb_jstr(run, "status"), *error = lb_jstr(run, "error");
    char a[LB_UNITS_LEN];
    int balanced = lb_jbool_path(run, "accounting.balanced");
    double unanswered = lb_jnum_path(run, "accounting.unanswered");
    if (status && strcmp(status, "completed"))
        snprintf(cell, n, "incomplete: %s%s%s", status, error ? ", " : "", error ? error : "");
    else if (balanced > 0)
        snprintf(cell, n, "yes");
    else if (balanced < 0 && !isnan(unanswered))
        snprintf(cell, n, "NO: %s unanswered", lb_fmt_count(a, sizeof a, unanswered));
    else
        snprintf(cell, n, balanced < 0 ? "NO" : "n/a");
}

void lb_view_accounting(lb_doc *d, const json_t *scenario)
{
    const json_t *runs = json_object_get(scenario, "runs"), *run;
    size_t i;
    bool show[N_ACC];
    const char *head[ACC_MAX_COLS];
    lb_align align[ACC_MAX_COLS];
    int n = accounting_columns(runs, show, head, align);
    d->ops->para(d, "Each request ends one way: submitted = completed + timed out + "
                    "failed + rejected + cancelled.");
    d->ops->table_begin(d, n, head, align);
    for (int v = 0; v < 2; v++) {
        json_array_foreach(runs, i, run)
        {
            if (strcmp(lb_jstr(run, "variant"), variants[v])) continue;
            char cells[ACC_MAX_COLS][CELL];
            const char *ptr[ACC_MAX_COLS];
            int c = 0;
            snprintf(cells[c++], CELL, "%s rep %lld", variants[v],
                     (long long)json_integer_value(json_object_get(run, "rep")));
            const json_t *acc = json_object_get(run, "accounting");
            for (size_t k = 0; k < N_ACC; k++)
                if (show[k]) lb_fmt_count(cells[c++], CELL, lb_jnum(acc, acc_cols[k].key));
            balanced_cell(cells[c++], CELL, run);
            for (int k = 0; k < c; k++) ptr[k] = cells[k];
            d->ops->table_row(d, ptr);
        }
    }
    d->ops->table_end(d);
}

/* ----------------------------------------------------- leak report -- */

/* "#1 870 × send in leaky_worker (scenarios/timeout_leak.c:42)" */
static void group_heading(lb_doc *d, size_t i, const json_t *g)
{
    char text[1024], count[LB_UNITS_LEN], site[512];
    lb_fmt_count(count, sizeof count, lb_jnum(g, "count"));
    const char *op = lb_jstr(g, "op");
    if (!op || !strcmp(op, "mixed"))
        snprintf(text, sizeof text, "#%zu %s tasks in smaller groups", i + 1, count);
    else if (json_is_object(json_object_get(g, "site")))
        snprintf(text, sizeof text, "#%zu %s × %s in %s", i + 1, count, op,
                 site_text(site, sizeof site, json_object_get(g, "site")));
    else
        snprintf(text, sizeof text, "#%zu %s × %s", i + 1, count, op);
    d->ops->heading(d, 4, text, NULL);
}

static void group_channel(lb_doc *d, const json_t *chan)
{
    if (!json_is_object(chan)) return;
    char text[512], cap[LB_UNITS_LEN], len[LB_UNITS_LEN], s[LB_UNITS_LEN], r[LB_UNITS_LEN];
    double senders = lb_jnum(chan, "send_waiters"), receivers = lb_jnum(chan, "recv_waiters");
    snprintf(
        text, sizeof text, "capacity %s, length %s, %s, %s waiting sender%s, %s waiting receiver%s",
        lb_fmt_count(cap, sizeof cap, lb_jnum(chan, "cap")),
        lb_fmt_count(len, sizeof len, lb_jnum(chan, "len")),
        lb_jbool_path(chan, "closed") > 0 ? "closed" : "open", lb_fmt_count(s, sizeof s, senders),
        senders == 1 ? "" : "s", lb_fmt_count(r, sizeof r, receivers), receivers == 1 ? "" : "s");
    d->ops->field(d, "Channel", text);
}

/* Every field of one group: who spawned it, growth, ages, memory held,
 * channel state, escape, hint and an example. */
static void group_fields(lb_doc *d, const json_t *g)
{
    char text[1024], a[LB_UNITS_LEN], b[LB_UNITS_LEN], c[LB_UNITS_LEN], site[512];
    const char *role = lb_jstr(g, "role");
    const json_t *spawn = json_object_get(g, "spawn_site");
    if (json_is_object(spawn))
        snprintf(text, sizeof text, "%s%s%s", role ? role : "", role ? " at " : "",
                 site_text(site, sizeof site, spawn));
    else
        snprintf(text, sizeof text, "%s", role ? role : "unknown");
    d->ops->field(d, "Spawned by", text);
    double growth = lb_jnum(g, "growth_per_s");
    if (!isnan(growth)) d->ops->field(d, "Growth", lb_fmt_rate(a, sizeof a, growth, "tasks"));
    const json_t *age = json_object_get(g, "age_ms");
    snprintf(text, sizeof text, "oldest %s, median %s, p99 %s",
             lb_fmt_ms(a, sizeof a, lb_jnum(age, "oldest")),
             lb_fmt_ms(b, sizeof b, lb_jnum(age, "median")),
             lb_fmt_ms(c, sizeof c, lb_jnum(age, "p99")));
    d->ops->field(d, "Blocked for", text);
    d->ops->field(d, "Memory held", lb_fmt_bytes(a, sizeof a, lb_jnum(g, "held_bytes")));
    group_channel(d, json_object_get(g, "chan"));
    int canc = lb_jbool_path(g, "cancellable");
    d->ops->field(d, "Escape",
                  canc > 0   ? "had a cancel case"
                  : canc < 0 ? "none (blocks forever)"
                             : "n/a");
    if (lb_jstr(g, "hint")) d->ops->field(d, "Hint", lb_jstr(g, "hint"));
    double task = lb_jnum_path(g, "example.task_id"), more = lb_jnum(g, "more_like_it");
    if (!isnan(task)) {
        snprintf(text, sizeof text, "task %.0f, blocked %s; %s more like it", task,
                 lb_fmt_ms(a, sizeof a, lb_jnum_path(g, "example.age_ms")),
                 lb_fmt_count(b, sizeof b, isnan(more) ? 0 : more));
        d->ops->field(d, "Example", text);
    }
    d->ops->fields_end(d);
}

/* "leaky, repetition 0: 873 tasks still blocked at the end, in 2 groups
 * by blocking site (3 not in the snapshot)." */
static void leak_summary(lb_doc *d, const json_t *scenario, int v, const json_t *run)
{
    char line[512], total[LB_UNITS_LEN], missing[LB_UNITS_LEN], where[128] = "";
    size_t ng = json_array_size(lb_jpath(run, "leaks.groups"));
    double n_total = lb_jnum_path(run, "leaks.total"), grouped = lb_jnum_path(run, "leaks.grouped");
    if (ng)
        snprintf(where, sizeof where, ", in %zu group%s by blocking site", ng, ng == 1 ? "" : "s");
    else
        snprintf(where, sizeof where, " (the run recorded no per-site groups)");
    if (grouped < n_total) {
        size_t len = strlen(where);
        snprintf(where + len, sizeof where - len, " (%s not in the snapshot)",
                 lb_fmt_count(missing, sizeof missing, n_total - grouped));
    }
    const char *noun = lb_task_noun(scenario);
    snprintf(line, sizeof line, "%s, repetition %lld%s: %s %.*s still blocked at the end%s.",
             variants[v], (long long)json_integer_value(json_object_get(run, "rep")),
             lb_scenario_reps(scenario, variants[v]) > 1 ? " (the first)" : "",
             lb_fmt_count(total, sizeof total, n_total), (int)strlen(noun) - (n_total == 1 ? 1 : 0),
             noun, where);
    d->ops->para(d, line);
}

/* "2 more groups with 5 tasks (all in results.json)." */
static void groups_left_out(lb_doc *d, const json_t *groups, size_t shown)
{
    size_t ng = json_array_size(groups);
    if (shown >= ng) return;
    double rest = 0;
    for (size_t i = shown; i < ng; i++) rest += lb_jnum(json_array_get(groups, i), "count");
    char line[256], a[LB_UNITS_LEN];
    snprintf(line, sizeof line, "... %zu more group%s with %s task%s (all in results.json).",
             ng - shown, ng - shown == 1 ? "" : "s", lb_fmt_count(a, sizeof a, rest),
             rest == 1 ? "" : "s");
    d->ops->para(d, line);
}

void lb_view_leak_report(lb_doc *d, const json_t *scenario, int max_groups)
{
    bool any = false;
    for (int v = 0; v < 2; v++) {
        const json_t *run = lb_scenario_run(scenario, variants[v]);
        const json_t *groups = run ? lb_jpath(run, "leaks.groups") : NULL;
        if (!run || (!json_array_size(groups) && !(lb_jnum_path(run, "leaks.total") > 0))) continue;
        any = true;
        leak_summary(d, scenario, v, run);
        size_t shown = json_array_size(groups);
        if (max_groups > 0 && shown > (size_t)max_groups) shown = (size_t)max_groups;
        for (size_t i = 0; i < shown; i++) {
            const json_t *g = json_array_get(groups, i);
            group_heading(d, i, g);
            const char *op = lb_jstr(g, "op");
            if (op && strcmp(op, "mixed")) group_fields(d, g);
        }
        groups_left_out(d, groups, shown);
    }
    if (!any) d->ops->para(d, "No task was left blocked at the end of any run.");
}
